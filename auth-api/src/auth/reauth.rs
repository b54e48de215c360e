//! Re-authentication: the password typed again to confirm a change to the
//! account, checked one way for every change that asks for it.

use std::net::IpAddr;

use deadpool_postgres::Pool;

use super::password::{Passwords, Verdict};
use super::throttle;
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
