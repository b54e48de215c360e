//! Re-authentication: the password typed again to confirm a change to the
//! account, checked one way for every change that asks for it; for a
//! change to the account's factors, the rule checked before the password
//! and again under the factors' lock ([`Reauth::confirm_change`]); and for
//! adding a factor to an account that has one, a recent sign-in or the
//! password ([`Reauth::confirm_addition`]), so that a session found open
//! on a shared computer, or a stolen cookie, cannot add a way in of its
//! own.

use std::net::IpAddr;
use std::time::Duration;

use deadpool_postgres::{Object, Pool, Transaction};

use super::factors::{self, Change};
use super::password::{Passwords, Verdict};
use super::throttle;
use super::token::Claims;
use crate::audit::{self, Event};
use crate::config::AuthConfig;
use crate::error::ApiError;
use crate::pseudonym::Pseudonyms;

/// The answer to a wrong current password where a change asks for it in a
/// `password` field.
pub const WRONG_PASSWORD: ApiError = ApiError::Forbidden {
    code: "wrong_password",
    message: "That is not your current password. Type the password you sign in with.",
};

/// How recent a sign-in (a password and a second factor, or a passkey) must
/// be for its session to add a factor to an account that has one without
/// typing the password again.
pub const RECENT: Duration = Duration::from_secs(5 * 60);

/// The answer to adding a factor to an account that has one, from a
/// session signed in longer ago than [`RECENT`] and without the password.
pub const REAUTHENTICATE: ApiError = ApiError::Forbidden {
    code: "reauthentication_required",
    message: "To add another way to sign in, enter your current password, or sign in again.",
};

/// Whether the session whose claims are `claims` was signed in within
/// [`RECENT`].
pub fn signed_in_recently(claims: &Claims) -> bool {
    let age = chrono::Utc::now().timestamp() - claims.auth_time;
    age <= RECENT.as_secs() as i64
}

/// The account a right password was checked for: its stored hash (for a
/// compare-and-set) and its address (for the notice).
#[derive(Debug)]
pub struct Current {
    /// The hash `typed` matched.
    pub stored: String,
    /// Where the owner is told of the change.
    pub email: Option<String>,
}

/// What checking a signed-in person's current password needs.
#[derive(Clone, Copy)]
pub struct Reauth<'a> {
    /// The pool the check and its throttling use.
    pub pool: &'a Pool,
    /// The sign-in limits the check counts against.
    pub auth: &'a AuthConfig,
    /// Keys the throttle's and the log's pseudonyms.
    pub pseudonyms: &'a Pseudonyms,
    /// Password hashing.
    pub passwords: &'a Passwords,
}

impl Reauth<'_> {
    /// Whether `typed` is the current password of `username`, who is signed in
    /// and confirms a change to the account (`purpose`, for the audit log):
    /// `None` when it is not. The one check of a password typed again: held
    /// back and counted by the sign-in limits like a sign-in from `client`
    /// (429 once throttled), so a stolen session cannot guess the password
    /// faster than a stranger could; a wrong one is audited.
    pub async fn check_current(
        &self,
        username: &str,
        typed: String,
        client: IpAddr,
        purpose: &'static str,
    ) -> Result<Option<Current>, ApiError> {
        let pseudonyms = self.pseudonyms;
        let attempt = throttle::reserve(self.pool, self.auth, pseudonyms, username, client).await?;
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                r#"SELECT password, email FROM "user" WHERE username = $1"#,
                &[&username],
            )
            .await?;
        let (stored, email): (String, Option<String>) = (row.get(0), row.get(1));
        // No pooled connection is held during the slow hash.
        let verdict = self
            .passwords
            .verify_typed(typed, Some(stored.clone()))
            .await?;
        let right = verdict != Verdict::Rejected;
        throttle::settle(self.pool, attempt, right).await?;
        if right {
            return Ok(Some(Current { stored, email }));
        }
        audit::record(
            &**self.pool.get().await?,
            Event::PasswordCheckFailed,
            Some(username),
            Some(client),
            serde_json::json!({"for": purpose}),
        )
        .await?;
        tracing::info!(user = %pseudonyms.log_tag(username), %client, purpose, "current password refused");
        Ok(None)
    }
}

impl Reauth<'_> {
    /// Confirms `change` to the factors of `username`, who typed `typed` as
    /// their password: the change's rule is checked first (a refused change
    /// costs no password try), then the password ([`WRONG_PASSWORD`] when
    /// it is not theirs). The change itself is made in
    /// [`ConfirmedChange::transaction`], which checks the rule again.
    pub async fn confirm_change(
        &self,
        username: &str,
        typed: String,
        client: IpAddr,
        change: Change,
    ) -> Result<ConfirmedChange, ApiError> {
        change.allowed(&**self.pool.get().await?, username).await?;
        // No pooled connection is held during the slow hash.
        let Some(Current { email, .. }) = self
            .check_current(username, typed, client, change.purpose())
            .await?
        else {
            return Err(WRONG_PASSWORD);
        };
        Ok(ConfirmedChange {
            db: self.pool.get().await?,
            username: username.to_string(),
            change,
            email,
        })
    }
}

impl Reauth<'_> {
    /// Confirms that the session `claims` may add a factor (`purpose`, for
    /// the audit log) to its account: always when the account has none;
    /// otherwise when it signed in within [`RECENT`], or with its current
    /// password `typed` ([`WRONG_PASSWORD`] when it is not;
    /// [`REAUTHENTICATE`] when neither was given).
    pub async fn confirm_addition(
        &self,
        claims: &Claims,
        typed: Option<String>,
        client: IpAddr,
        purpose: &'static str,
    ) -> Result<(), ApiError> {
        let username = claims.sub.as_str();
        if !factors::of(&**self.pool.get().await?, username)
            .await?
            .any()
        {
            return Ok(());
        }
        if let Some(typed) = typed {
            return match self.check_current(username, typed, client, purpose).await? {
                Some(_) => Ok(()),
                None => Err(WRONG_PASSWORD),
            };
        }
        if signed_in_recently(claims) {
            return Ok(());
        }
        Err(REAUTHENTICATE)
    }
}

/// A change to an account's factors that the password confirmed.
pub struct ConfirmedChange {
    db: Object,
    username: String,
    change: Change,
    /// Where the owner is told of the change.
    pub email: Option<String>,
}

impl ConfirmedChange {
    /// The transaction to make the change in: the account's factors are
    /// locked, and the change's rule held once more, so two changes at
    /// once cannot both pass it.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, ApiError> {
        let tx = self.db.transaction().await?;
        factors::lock(&*tx, &self.username).await?;
        self.change.allowed(&*tx, &self.username).await?;
        Ok(tx)
    }
}
