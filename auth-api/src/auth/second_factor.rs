//! The second factor at sign-in. Setting up, replacing and removing a
//! factor is in the routes layer; which factors an account has is
//! [`super::factors`], recovery codes [`super::recovery_codes`].
//!
//! A right password for an account with a second factor opens no session:
//! it starts a *pending sign-in* ([`start_pending`]), a random token in a
//! cookie of its own, good for five minutes and five tries at the second
//! step and nothing else. The second step takes a code from the app
//! ([`totp_accepted`]) or one recovery code ([`recovery_accepted`]), and
//! only then opens the session.
//!
//! A code is accepted once: the newest step accepted is stored, and a code
//! is accepted only for a later step (RFC 6238 section 5.2). A recovery code
//! is used up in the statement that accepts it.

use std::net::IpAddr;

use tokio_postgres::GenericClient;

use super::{links, totp};
use crate::audit::{self, Event};
use crate::error::ApiError;

/// How long a pending sign-in lasts, in seconds.
pub const PENDING_SECS: i64 = 300;

/// How many codes a pending sign-in may try.
pub const PENDING_TRIES: i32 = 5;

/// Starts a pending sign-in for `username`, whose password step is still
/// counted as the failed login `attempt` (see
/// [`throttle::Attempt::id`](super::throttle::Attempt::id)), and returns
/// its token, good for [`PENDING_SECS`]. Any older pending sign-in of the
/// account ends.
pub async fn start_pending(
    db: &impl GenericClient,
    username: &str,
    attempt: i64,
) -> Result<String, ApiError> {
    let token = links::generate()?;
    db.execute(
        "INSERT INTO pending_sign_in (token_hash, username, expires_at, login_attempt)
         VALUES ($1, $2, now() + $3::float8 * interval '1 second', $4)
         ON CONFLICT (username) DO UPDATE
            SET token_hash = EXCLUDED.token_hash, created_at = now(),
                expires_at = EXCLUDED.expires_at, attempts = 0,
                login_attempt = EXCLUDED.login_attempt",
        &[
            &links::digest(&token),
            &username,
            &(PENDING_SECS as f64),
            &attempt,
        ],
    )
    .await?;
    Ok(token)
}

/// Counts one try of the pending sign-in `token`: its username and the
/// password step's reservation, or `None` when it is unknown, expired or
/// out of tries.
pub async fn try_pending(
    db: &impl GenericClient,
    token: &str,
) -> Result<Option<(String, Option<i64>)>, ApiError> {
    Ok(db
        .query_opt(
            "UPDATE pending_sign_in SET attempts = attempts + 1
              WHERE token_hash = $1 AND expires_at > now() AND attempts < $2
          RETURNING username, login_attempt",
            &[&links::digest(token), &PENDING_TRIES],
        )
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

/// Ends the pending sign-in `token`: its second step succeeded.
pub async fn end_pending(db: &impl GenericClient, token: &str) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM pending_sign_in WHERE token_hash = $1",
        &[&links::digest(token)],
    )
    .await?;
    Ok(())
}

/// Ends the pending sign-in `token`, when it is `username`'s: a passkey
/// finished it instead of a code. Returns the password step's reservation,
/// for the throttle to take back.
pub async fn finish_pending(
    db: &impl GenericClient,
    token: Option<&str>,
    username: &str,
) -> Result<Option<i64>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    Ok(db
        .query_opt(
            "DELETE FROM pending_sign_in WHERE token_hash = $1 AND username = $2
          RETURNING login_attempt",
            &[&links::digest(token), &username],
        )
        .await?
        .and_then(|row| row.get(0)))
}

/// A recovery code accepted: how many are left, and where to tell the owner.
#[derive(Debug)]
pub struct RecoveryCodeUsed {
    /// Unused codes left.
    pub left: i64,
    /// The account's address.
    pub email: Option<String>,
}

/// Whether `code` is right for the account's authenticator now, for a
/// step later than any accepted before (which it then becomes).
pub async fn totp_accepted(
    db: &impl GenericClient,
    username: &str,
    code: &str,
) -> Result<bool, ApiError> {
    let Some(row) = db
        .query_opt(
            "SELECT secret FROM totp_factor WHERE username = $1 AND confirmed_at IS NOT NULL",
            &[&username],
        )
        .await?
    else {
        return Ok(false);
    };
    let secret: Vec<u8> = row.get(0);
    let Some(step) = totp::check(&totp::totp(&secret, username)?, code, totp::now()) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    // The replay guard: one statement, so two requests with one code cannot
    // both pass.
    let moved = db
        .execute(
            "UPDATE totp_factor SET last_step = $2 WHERE username = $1 AND last_step < $2",
            &[&username, &step],
        )
        .await?;
    Ok(moved == 1)
}

/// Whether `code` is one of the account's unused recovery codes (which it
/// then no longer is, audited); the caller tells the owner by mail.
pub async fn recovery_accepted(
    db: &impl GenericClient,
    username: &str,
    code: &str,
    client: IpAddr,
) -> Result<Option<RecoveryCodeUsed>, ApiError> {
    let row = db
        .query_opt(
            r#"WITH used AS (
                   UPDATE recovery_code SET used_at = now()
                    WHERE username = $1 AND code_hash = $2 AND used_at IS NULL
                RETURNING 1
               )
               SELECT (SELECT count(*) FROM recovery_code
                        WHERE username = $1 AND used_at IS NULL) - 1,
                      (SELECT email FROM "user" WHERE username = $1)
                 FROM used"#,
            &[&username, &totp::recovery_digest(code)],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let left: i64 = row.get(0);
    let email: Option<String> = row.get(1);
    audit::record(
        db,
        Event::RecoveryCodeUsed,
        Some(username),
        Some(client),
        serde_json::json!({"left": left}),
    )
    .await?;
    Ok(Some(RecoveryCodeUsed { left, email }))
}
