//! The second factor at sign-in, and what the settings page shows of it.
//! Setting up, replacing and removing an authenticator app is in
//! [`super::authenticator`], recovery codes in [`super::recovery_codes`].
//!
//! A right password for an account with an authenticator opens no session:
//! it starts a *pending sign-in* ([`start_pending`]), a random token in a
//! cookie of its own, good for five minutes and five tries at the second
//! step and nothing else. The second step ([`second_step`]) takes a code
//! from the app or one recovery code, and only then opens the session.
//!
//! A code is accepted once: the newest step accepted is stored, and a code
//! is accepted only for a later step (RFC 6238 section 5.2). A recovery code
//! is used up in the statement that accepts it.

use std::sync::LazyLock;

use axum::extract::State;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use tokio_postgres::GenericClient;

use super::factors::{self, Factors};
use super::session::{self, SignedIn};
use super::totp;
use crate::ApiError;
use crate::account::{messages, token};
use crate::audit::{self, Event};
use crate::client_addr::ClientIp;
use crate::http::{JsonBody, Resp, json_response};
use crate::state::AppState;

/// The cookie of a pending sign-in.
pub const PENDING_COOKIE: &str = "__Host-whatever_pending";

/// How long a pending sign-in lasts, in seconds.
pub const PENDING_SECS: i64 = 300;

/// How many codes a pending sign-in may try.
pub const PENDING_TRIES: i32 = 5;

/// A pending sign-in that is absent, expired or out of tries.
const SIGN_IN_AGAIN: ApiError =
    ApiError::Unauthorized("Your sign-in timed out. Please sign in again with your password.");

/// A code that is wrong, or was used already.
const WRONG_CODE: ApiError = ApiError::Unauthorized(
    "That code is not right. Enter the current code from your authenticator app, or a recovery code.",
);

fn pending_cookie(token: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{PENDING_COOKIE}={token}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=Strict"
    ))
    .expect("a token is a valid header value")
}

/// Starts a pending sign-in for `username`, whose password step is still
/// counted as the failed login `attempt` (see
/// [`throttle::Attempt::id`](super::throttle::Attempt::id)), and returns
/// its `Set-Cookie`.
pub async fn start_pending(
    db: &impl GenericClient,
    username: &str,
    attempt: i64,
) -> Result<HeaderValue, ApiError> {
    let token = token::generate()?;
    db.execute(
        "INSERT INTO pending_sign_in (token_hash, username, expires_at, login_attempt)
         VALUES ($1, $2, now() + $3::float8 * interval '1 second', $4)",
        &[
            &token::digest(&token),
            &username,
            &(PENDING_SECS as f64),
            &attempt,
        ],
    )
    .await?;
    Ok(pending_cookie(&token, PENDING_SECS))
}

fn pending_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == PENDING_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The body of `POST /api/login/second-factor`: one of the two.
#[derive(Deserialize)]
pub struct SecondStep {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// Checks the second factor of a pending sign-in and opens the session.
pub async fn second_step(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SecondStep>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let pending = pending_token(&headers).ok_or(SIGN_IN_AGAIN)?;
    let db = state.pool.get().await?;
    let found: Option<(String, Option<i64>)> = db
        .query_opt(
            "UPDATE pending_sign_in SET attempts = attempts + 1
              WHERE token_hash = $1 AND expires_at > now() AND attempts < $2
          RETURNING username, login_attempt",
            &[&token::digest(pending), &PENDING_TRIES],
        )
        .await?
        .map(|row| (row.get(0), row.get(1)));
    let Some((username, attempt)) = found else {
        let mut resp = SIGN_IN_AGAIN.response();
        resp.headers_mut()
            .insert(header::SET_COOKIE, pending_cookie("", 0));
        return Ok(resp);
    };
    let user = state.config.pseudonyms.log_tag(&username);
    let accepted = match (&body.code, &body.recovery_code) {
        (Some(code), None) => totp_accepted(&**db, &username, code).await?,
        (None, Some(code)) => recovery_accepted(&state, &**db, &username, code, client).await?,
        _ => {
            return Err(ApiError::bad_request(
                "one_code",
                "send either `code` or `recovery_code`",
            ));
        }
    };
    if !accepted {
        super::throttle::second_factor_failed(&**db, &state.config.pseudonyms, &username, client)
            .await?;
        let method = if body.code.is_some() {
            "totp"
        } else {
            "recovery_code"
        };
        audit::record(
            &**db,
            Event::SecondFactorFailed,
            Some(&username),
            Some(client),
            serde_json::json!({"method": method}),
        )
        .await?;
        tracing::info!(%user, %client, method, "second factor refused");
        return Err(WRONG_CODE);
    }
    db.execute(
        "DELETE FROM pending_sign_in WHERE token_hash = $1",
        &[&token::digest(pending)],
    )
    .await?;
    super::throttle::second_factor_succeeded(
        &**db,
        &state.config.pseudonyms,
        &username,
        client,
        attempt,
    )
    .await?;
    let issued = session::open(&auth.keys, &auth.session, &username)?;
    session::record(&**db, &auth.session, &issued.claims, client).await?;
    audit::record(
        &**db,
        Event::SignInSucceeded,
        Some(&username),
        Some(client),
        serde_json::json!({"session": issued.claims.sid, "second_factor": true}),
    )
    .await?;
    tracing::info!(%user, session = %issued.claims.sid, "signed in with a second factor");
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"username": username, "expires_at": issued.expires_at()}),
    );
    let headers = resp.headers_mut();
    headers.append(header::SET_COOKIE, issued.cookie());
    headers.append(header::SET_COOKIE, pending_cookie("", 0));
    Ok(resp)
}

/// Whether `code` is right for the account's authenticator now, for a
/// step later than any accepted before (which it then becomes).
async fn totp_accepted(
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
/// then no longer is); the owner is told by mail.
async fn recovery_accepted(
    state: &AppState,
    db: &impl GenericClient,
    username: &str,
    code: &str,
    client: std::net::IpAddr,
) -> Result<bool, ApiError> {
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
        return Ok(false);
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
    if let Some(email) = email {
        let site = &state.config.mail.site_url;
        state.send_mail(email, messages::recovery_code_used(site, left));
    }
    Ok(true)
}

/// What the settings page shows of an account: its address, unused
/// recovery codes and second factors.
static ACCOUNT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT u.email,
                  (SELECT count(*) FROM recovery_code r
                    WHERE r.username = u.username AND r.used_at IS NULL),
                  {}
             FROM "user" u WHERE u.username = $1"#,
        factors::columns("u.username")
    )
});

/// `GET /api/me/account`: what the settings page shows about the account.
/// `second_factor.totp_removable` says whether the app may be removed
/// (not when it is the last factor of an account that must keep one).
pub async fn account(State(state): State<AppState>, signed_in: SignedIn) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let username = &session.claims.sub;
    let row = db
        .query_opt(&*ACCOUNT_SQL, &[username])
        .await?
        .ok_or(session::UNAUTHORIZED)?;
    let (email, left): (Option<String>, i64) = (row.get(0), row.get(1));
    let factors = Factors::from_row(&row, 2);
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({
            "username": username,
            "email": email,
            "setup_only": session.claims.setup_only,
            "second_factor": {
                "totp": factors.totp,
                "totp_removable": factors.totp && factors.may_remove_one(),
                "recovery_codes_left": left,
            },
        }),
    );
    if let Some(fresh) = session.refreshed {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}
