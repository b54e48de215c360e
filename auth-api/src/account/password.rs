//! Forgotten, reset and changed passwords, and the password typed again to
//! confirm a change to the account.
//!
//! - `POST /api/password/forgot`: always the same answer; an account with
//!   that address gets a single-use reset link (one hour) by mail.
//! - `POST /api/password/reset`: the link's token and a new password; every
//!   session of the account ends.
//! - `POST /api/me/password`: the current password and a new one; every
//!   other session ends, this one goes on.
//! - [`check_current`]: the one check of a signed-in person's current
//!   password, for every change that asks for it.
//!
//! The owner is told by mail of every change or reset.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::State;
use http::{StatusCode, header};
use serde::Deserialize;
use whatever_database::rules::password as rule;

use super::token::{self, Purpose};
use super::{limits, messages};
use crate::ApiError;
use crate::audit::{self, Event};
use crate::auth::password::Verdict;
use crate::auth::session::{self, SignedIn};
use crate::auth::throttle;
use crate::client_addr::ClientIp;
use crate::http::{JsonBody, Resp, json_response};
use crate::state::AppState;

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
/// same either way. Limited per address and per client like account creation.
pub async fn forgot(
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
    let db = state.pool.get().await?;
    let found = db
        .query_opt(
            r#"SELECT username, email FROM "user" WHERE lower(email) = $1 ORDER BY username LIMIT 1"#,
            &[&email],
        )
        .await?;
    if let Some(row) = found {
        let (username, to): (String, String) = (row.get(0), row.get(1));
        let token = token::issue(&**db, &username, Purpose::ResetPassword, RESET_TTL).await?;
        audit::record(
            &**db,
            Event::PasswordResetRequested,
            Some(&username),
            Some(client),
            serde_json::json!({}),
        )
        .await?;
        let site = &state.config.mail.site_url;
        state.send_mail(to, messages::password_reset(site, &token));
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({"status": "check_email", "message": FORGOT_MESSAGE}),
    ))
}

/// The body of `POST /api/password/reset`.
#[derive(Deserialize)]
pub struct Reset {
    token: String,
    password: String,
}

/// Sets a new password with a reset link's token and ends every session.
pub async fn reset(
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
            &[&token::digest(&token)],
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
        return Err(token::INVALID);
    };
    drop(db);
    let (username, email): (String, Option<String>) = (row.get(0), row.get(1));
    check_new(&password, &username, email.as_deref(), "password")?;
    let hash = state.passwords.hash(rule::normalize(&password)).await?;
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    if token::consume(&*tx, &token, Purpose::ResetPassword).await? != Some(username.clone()) {
        return Err(token::INVALID);
    }
    tx.execute(
        r#"UPDATE "user" SET password = $1 WHERE username = $2"#,
        &[&hash, &username],
    )
    .await?;
    let ended = session::revoke_all(&*tx, &username, None).await?;
    audit::record(
        &*tx,
        Event::PasswordReset,
        Some(&username),
        Some(client),
        serde_json::json!({"sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    notify_changed(&state, email, client);
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "status": "password_reset",
            "message": "Your password is changed, and every session is signed out. Sign in with your new password."
        }),
    ))
}

/// The body of `POST /api/me/password`.
#[derive(Deserialize)]
pub struct Change {
    current_password: String,
    new_password: String,
}

/// Changes the password of the signed-in account, given the current one;
/// every other session ends.
pub async fn change(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
    JsonBody(body): JsonBody<Change>,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    drop(db);
    let username = session.claims.sub.clone();
    let typed = body.current_password;
    let Some(Current { stored, email }) =
        check_current(&state, &username, typed, client, "change_password").await?
    else {
        return Err(ApiError::InvalidFields(vec![(
            "current_password",
            "That is not your current password.".into(),
        )]));
    };
    check_new(
        &body.new_password,
        &username,
        email.as_deref(),
        "new_password",
    )?;
    let hash = state
        .passwords
        .hash(rule::normalize(&body.new_password))
        .await?;
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
    audit::record(
        &*tx,
        Event::PasswordChanged,
        Some(&username),
        Some(client),
        serde_json::json!({"sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    notify_changed(&state, email, client);
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"status": "password_changed", "sessions_ended": ended}),
    );
    if let Some(fresh) = session.refreshed {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}

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

/// Whether `typed` is the current password of `username`, who is signed in
/// and confirms a change to the account (`purpose`, for the audit log):
/// `None` when it is not. The one check of a password typed again: held
/// back and counted by the sign-in limits like a sign-in from `client`
/// (429 once throttled), so a stolen session cannot guess the password
/// faster than a stranger could; a wrong one is audited.
pub async fn check_current(
    state: &AppState,
    username: &str,
    typed: String,
    client: IpAddr,
    purpose: &'static str,
) -> Result<Option<Current>, ApiError> {
    let pseudonyms = &state.config.pseudonyms;
    let attempt = throttle::reserve(
        &state.personal,
        &state.config.auth,
        pseudonyms,
        username,
        client,
    )
    .await?;
    let row = state
        .personal
        .get()
        .await?
        .query_one(
            r#"SELECT password, email FROM "user" WHERE username = $1"#,
            &[&username],
        )
        .await?;
    let (stored, email): (String, Option<String>) = (row.get(0), row.get(1));
    // No pooled connection is held during the slow hash.
    let verdict = state
        .passwords
        .verify_typed(typed, Some(stored.clone()))
        .await?;
    let right = verdict != Verdict::Rejected;
    throttle::settle(&state.personal, attempt, right).await?;
    if right {
        return Ok(Some(Current { stored, email }));
    }
    audit::record(
        &**state.personal.get().await?,
        Event::PasswordCheckFailed,
        Some(username),
        Some(client),
        serde_json::json!({"for": purpose}),
    )
    .await?;
    tracing::info!(user = %pseudonyms.log_tag(username), %client, purpose, "current password refused");
    Ok(None)
}

/// The password rule, with the account's own context, naming `field`.
fn check_new(
    password: &str,
    username: &str,
    email: Option<&str>,
    field: &'static str,
) -> Result<(), ApiError> {
    let mut context = vec![username];
    context.extend(email);
    rule::check(password, &context)
        .map_err(|refusal| ApiError::InvalidFields(vec![(field, refusal.to_string())]))
}

fn notify_changed(state: &AppState, email: Option<String>, client: IpAddr) {
    if let Some(email) = email {
        let site = &state.config.mail.site_url;
        state.send_mail(email, messages::password_changed(site));
    }
    tracing::info!(%client, "password changed");
}
