//! Forgotten, reset and changed passwords.
//!
//! - `POST /api/password/forgot`: always the same answer, given before
//!   anything about the address is looked up; an account with that
//!   address gets a single-use reset link (one hour) by mail when its
//!   address is verified or it has a second factor.
//! - `POST /api/password/reset`: the link's token and a new password; every
//!   session of the account ends, with its other reset links and pending
//!   sign-ins. The answer lists the account's second factors, which a
//!   reset leaves in place (a mailbox alone must not remove them): the
//!   owner signs in and removes any they do not recognise.
//! - `POST /api/me/password`: the current password and a new one; every
//!   other session ends, this one goes on.
//!
//! The password typed again to confirm a change is checked by
//! [`crate::auth::reauth`].
//!
//! The owner is told by mail, at the account's verified address, of every
//! change or reset.
//!
//! A new password is judged in the rule's two steps: length and context
//! first, then, once the attempt is counted (per account and per client,
//! like account creation), its strength on the blocking pool. So every
//! refused password counts, and none costs the request threads anything.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::State;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use whatever_database::rules::password::{self as rule, Guards};

use super::answers::{SessionsEnded, Told};
use super::cookies;
use super::extract::{ClientIp, JsonBody, SignedIn};
use super::table::{Route, post};
use crate::audit::{self, Event};
use crate::auth::factors::{self, Factors};
use crate::auth::links::{self, Purpose};
use crate::auth::passkey::{self, Listed};
use crate::auth::reauth::Current;
use crate::auth::session;
use crate::auth::{limits, messages};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The password routes.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/password/forgot", forgot),
        post("/api/password/reset", reset),
        post("/api/me/password", change),
    ]
}

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(3600);

/// The one answer to every well-formed forgot-password request.
pub const FORGOT_MESSAGE: &str = "If an account uses that email address, we sent it a link \
     to choose a new password. The link works for one hour.";

/// The body of `POST /api/password/forgot`.
#[derive(Deserialize)]
pub struct Forgot {
    email: String,
}

/// Mails a reset link to the account that uses `email`, if any; answers the
/// same either way. Limited per address and per client like account
/// creation. The answer goes first: what a known address costs (reading the
/// account, issuing the link, the audit row, the mail) happens after it, on
/// a task of its own, so an answer's timing does not tell whether an
/// account uses the address; before it, every request does the same work.
async fn forgot(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(Forgot { email }): JsonBody<Forgot>,
) -> Result<Resp, ApiError> {
    let email = email.trim().to_lowercase();
    if email.parse::<lettre::Address>().is_err() {
        return Err(ApiError::InvalidFields(vec![(
            "email",
            "Enter an email address, like name@example.com.".into(),
        )]));
    }
    let key = state
        .config
        .pseudonyms
        .account(&format!("forgot\u{0}{email}"));
    limits::reserve(&state.pool, &state.config.accounts, &key, client).await?;
    let later = state.clone();
    tokio::spawn(async move {
        if let Err(error) = send_reset_link(&later, &email, client).await {
            tracing::warn!(%error, "password reset link not sent");
        }
    });
    Ok(json_response(
        StatusCode::ACCEPTED,
        &Told {
            message: FORGOT_MESSAGE,
            status: "check_email",
        },
    ))
}

/// The account that uses an address, and what it needs before a reset link
/// goes there: the address was verified, or the account has a second
/// factor (a link to an address that is not the owner's then still does not
/// open the account). An address nobody verified (accounts from before
/// self-service accounts) gets a message saying how to verify it instead.
static RESET_TARGET_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT u.username, u.email, verified_email(u.username) IS NOT NULL, {}
             FROM "user" u WHERE lower(u.email) = $1 ORDER BY u.username LIMIT 1"#,
        factors::columns("u.username")
    )
});

/// The work of a forgot-password request after its answer.
async fn send_reset_link(state: &AppState, email: &str, client: IpAddr) -> Result<(), ApiError> {
    let db = state.pool.get().await?;
    let Some(row) = db.query_opt(&*RESET_TARGET_SQL, &[&email]).await? else {
        return Ok(());
    };
    let (username, to, verified): (String, String, bool) = (row.get(0), row.get(1), row.get(2));
    let site = &state.config.mail.site_url;
    if !(verified || Factors::from_row(&row, 3).any()) {
        audit::record(
            &**db,
            Event::PasswordResetWithheld,
            Some(&username),
            Some(client),
            serde_json::json!({}),
        )
        .await?;
        state.send_mail(to, messages::reset_needs_verified_address(site));
        return Ok(());
    }
    let token = links::issue(&**db, &username, Purpose::ResetPassword, RESET_TTL).await?;
    audit::record(
        &**db,
        Event::PasswordResetRequested,
        Some(&username),
        Some(client),
        serde_json::json!({}),
    )
    .await?;
    state.send_mail(to, messages::password_reset(site, &token));
    Ok(())
}

/// The body of `POST /api/password/reset`.
#[derive(Deserialize)]
pub struct Reset {
    token: String,
    password: String,
}

/// Sets a new password with a reset link's token and ends every session.
async fn reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(Reset { token, password }): JsonBody<Reset>,
) -> Result<Resp, ApiError> {
    // Who the token is for, without using it up: a refused password leaves
    // the link working.
    let db = state.pool.get().await?;
    let row = db
        .query_opt(
            r#"SELECT t.username, u.email FROM account_token t JOIN "user" u USING (username)
                WHERE t.token_hash = $1 AND t.purpose = 'reset_password'
                  AND t.used_at IS NULL AND t.expires_at > now()"#,
            &[&links::digest(&token)],
        )
        .await?;
    let Some(row) = row else {
        audit::record(
            &**db,
            Event::TokenRefused,
            None,
            Some(client),
            serde_json::json!({"purpose": "reset_password"}),
        )
        .await?;
        return Err(links::INVALID);
    };
    let (username, email): (String, Option<String>) = (row.get(0), row.get(1));
    let guards = guards(factors::of(&**db, &username).await?);
    drop(db);
    let new = NewPassword::precheck(&password, &username, email.as_deref(), guards, "password")?;
    let password = new.judge(&state, client).await?;
    let hash = state.passwords.hash(password).await?;
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    if links::consume(&*tx, &token, Purpose::ResetPassword).await? != Some(username.clone()) {
        return Err(links::INVALID);
    }
    tx.execute(
        r#"UPDATE "user" SET password = $1 WHERE username = $2"#,
        &[&hash, &username],
    )
    .await?;
    let ended = session::revoke_all(&*tx, &username, None).await?;
    session::end_pending_ways_in(&*tx, &username).await?;
    audit::record(
        &*tx,
        Event::PasswordReset,
        Some(&username),
        Some(client),
        serde_json::json!({"sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    notify_changed(&state, &username, client);
    let db = state.pool.get().await?;
    let factors = Remaining {
        passkeys: passkey::list(&**db, &username).await?,
        totp: factors::of(&**db, &username).await?.totp,
    };
    Ok(json_response(
        StatusCode::OK,
        &ResetDone {
            factors,
            message: "Your password is changed, and every session is signed out. \
                      Sign in with your new password. Your other ways to sign in are \
                      below: if you do not recognise one, remove it in your settings.",
            status: "password_reset",
        },
    ))
}

/// The answer to a reset: what happened, and the second factors the
/// account still has.
#[derive(Serialize)]
struct ResetDone {
    factors: Remaining,
    message: &'static str,
    status: &'static str,
}

/// The second factors a reset leaves in place.
#[derive(Serialize)]
struct Remaining {
    passkeys: Vec<Listed>,
    totp: bool,
}

/// The body of `POST /api/me/password`.
#[derive(Deserialize)]
pub struct Change {
    current_password: String,
    new_password: String,
}

/// Changes the password of the signed-in account, given the current one;
/// every other session ends. A full session only: one that may only set
/// up a second factor cannot change it.
async fn change(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
    JsonBody(body): JsonBody<Change>,
) -> Result<Resp, ApiError> {
    let username = session.claims.sub.clone();
    let typed = body.current_password;
    let Some(Current { stored, email }) = state
        .reauth()
        .check_current(&username, typed, client, "change_password")
        .await?
    else {
        return Err(ApiError::InvalidFields(vec![(
            "current_password",
            "That is not your current password.".into(),
        )]));
    };
    let guards = guards(factors::of(&**state.personal.get().await?, &username).await?);
    let new = NewPassword::precheck(
        &body.new_password,
        &username,
        email.as_deref(),
        guards,
        "new_password",
    )?;
    let password = new.judge(&state, client).await?;
    let hash = state.passwords.hash(password).await?;
    let mut db = state.personal.get().await?;
    let tx = db.transaction().await?;
    // Compare-and-set: a concurrent change or reset wins.
    let changed = tx
        .execute(
            r#"UPDATE "user" SET password = $1 WHERE username = $2 AND password = $3"#,
            &[&hash, &username, &stored],
        )
        .await?;
    if changed != 1 {
        return Err(ApiError::Conflict {
            code: "try_again",
            message: "Your password was changed meanwhile. Please sign in again.".into(),
        });
    }
    let ended = session::revoke_all(&*tx, &username, Some(session.claims.sid)).await?;
    session::end_pending_ways_in(&*tx, &username).await?;
    audit::record(
        &*tx,
        Event::PasswordChanged,
        Some(&username),
        Some(client),
        serde_json::json!({"sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    notify_changed(&state, &username, client);
    let resp = json_response(
        StatusCode::OK,
        &SessionsEnded {
            sessions_ended: ended,
            status: "password_changed",
        },
    );
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}

/// What a new password guards on an account with `factors`: it is the
/// only factor of an account that has none and need not add one.
fn guards(factors: Factors) -> Guards {
    if factors.any() || factors.required {
        Guards::WithSecondFactor
    } else {
        Guards::Alone
    }
}

/// A new password that passed the rule's cheap step, with what the costly
/// one needs.
struct NewPassword {
    normalized: String,
    username: String,
    context: Vec<String>,
    field: &'static str,
}

impl NewPassword {
    /// The rule's cheap step (length, the account's own context), naming
    /// `field` when it refuses.
    fn precheck(
        password: &str,
        username: &str,
        email: Option<&str>,
        guards: Guards,
        field: &'static str,
    ) -> Result<Self, ApiError> {
        let mut context = vec![username];
        context.extend(email);
        let normalized = rule::precheck(password, &context, guards)
            .map_err(|refusal| ApiError::InvalidFields(vec![(field, refusal.to_string())]))?;
        Ok(Self {
            normalized,
            username: username.to_string(),
            context: context.into_iter().map(str::to_string).collect(),
            field,
        })
    }

    /// Counts the attempt against the account's and the client's limits
    /// (429 past them), then judges the strength off the request threads;
    /// returns the normalized password to hash.
    async fn judge(self, state: &AppState, client: IpAddr) -> Result<String, ApiError> {
        let key = state
            .config
            .pseudonyms
            .account(&format!("set_password\u{0}{}", self.username));
        limits::reserve(&state.pool, &state.config.accounts, &key, client).await?;
        match state
            .passwords
            .judge(self.normalized.clone(), self.context)
            .await?
        {
            Ok(()) => Ok(self.normalized),
            Err(refusal) => Err(ApiError::InvalidFields(vec![(
                self.field,
                refusal.to_string(),
            )])),
        }
    }
}

fn notify_changed(state: &AppState, username: &str, client: IpAddr) {
    state.notify(
        username,
        messages::password_changed(&state.config.mail.site_url),
    );
    tracing::info!(%client, "password changed");
}
