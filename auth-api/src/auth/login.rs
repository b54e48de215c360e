//! `POST /api/login` and `POST /api/logout`.

use std::sync::LazyLock;

use axum::extract::State;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::factors::{self, Factors};
use super::password::Verdict;
use super::second_factor;
use super::session::{self, SignedIn};
use super::throttle;
use crate::ApiError;
use crate::account::messages;
use crate::account::token::{self, Purpose};
use crate::audit::{self, Event};
use crate::client_addr::ClientIp;
use crate::http::{JsonBody, Resp, json_response};
use crate::state::AppState;

/// The one message for an unknown user and a wrong password alike.
const BAD_CREDENTIALS: ApiError = ApiError::Unauthorized("The username or password is incorrect.");

/// The body of `POST /api/login`.
#[derive(Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse<'a> {
    username: &'a str,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// `setup_required`: an account that must add a second factor and has
    /// none; the session may do nothing else. `setup_suggested`: an account
    /// from before second factors, asked to add one.
    #[serde(skip_serializing_if = "Option::is_none")]
    second_factor: Option<&'static str>,
}

/// What signing in needs to know of an account, in one round trip: its
/// hash, whether it still has to verify its address, its address, and its
/// second factors.
static ACCOUNT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT u.password, a.username IS NOT NULL AND a.email_verified_at IS NULL, u.email,
                  {}
             FROM "user" u LEFT JOIN account a ON a.username = u.username
            WHERE u.username = $1"#,
        factors::columns("u.username")
    )
});

/// What an account must do before it may sign in.
const UNVERIFIED: &str = "Confirm your email address first: open the link in the message we \
     just sent you, then sign in again.";

/// Checks the password and opens a session. The body is read in full
/// before a connection is taken.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(LoginRequest { username, password }): JsonBody<LoginRequest>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;

    // Counted before the hash, so concurrent guesses cannot outrun the limits.
    let attempt = match throttle::reserve(
        &state.pool,
        auth,
        &state.config.pseudonyms,
        &username,
        client,
    )
    .await
    {
        Ok(attempt) => attempt,
        Err(error @ ApiError::TooManyRequests { .. }) => {
            let db = state.pool.get().await?;
            let detail = serde_json::json!({"account": state.config.pseudonyms.log_tag(&username)});
            audit::record(&**db, Event::SignInThrottled, None, Some(client), detail).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let user = attempt.tag().to_string();
    let db = state.pool.get().await?;
    // An account created through the API signs in once its address is
    // verified; one made before that was possible counts as verified.
    let found = db.query_opt(&*ACCOUNT_SQL, &[&username]).await?;
    let stored: Option<String> = found.as_ref().map(|row| row.get(0));
    let unverified = found.as_ref().is_some_and(|row| row.get::<_, bool>(1));
    let email: Option<String> = found.as_ref().and_then(|row| row.get(2));
    let factors = found.as_ref().map(|row| Factors::from_row(row, 3));
    let self_service = factors.is_some_and(|f| f.required);
    let has_factor = factors.is_some_and(|f| f.any());
    // Hold no pooled connection during the slow hash.
    drop(db);
    let verdict = state
        .passwords
        .verify_typed(password, stored.clone())
        .await?;

    let signed_in = verdict != Verdict::Rejected;
    let attempt_id = attempt.id();
    // With a second factor to come, the attempt stays counted until the
    // second step succeeds: a stolen password cannot reset the count that
    // holds back guessing the codes.
    throttle::settle(&state.pool, attempt, signed_in && !has_factor).await?;
    let db = state.pool.get().await?;
    let known = stored.as_ref().map(|_| username.as_str());
    if !signed_in {
        tracing::info!(%user, %client, "login failed");
        let detail = serde_json::json!({"account": user});
        audit::record(&**db, Event::SignInFailed, known, Some(client), detail).await?;
        return Err(BAD_CREDENTIALS);
    }
    if let (Verdict::AcceptedRehash(new_hash), Some(old_hash)) = (&verdict, &stored) {
        // Compare-and-set: a concurrent password change wins over the upgrade.
        db.execute(
            r#"UPDATE "user" SET password = $1 WHERE username = $2 AND password = $3"#,
            &[new_hash, &username, old_hash],
        )
        .await?;
        tracing::info!(%user, "password hash upgraded to argon2id");
    }
    if unverified {
        // The right password proves the account is theirs: tell them what
        // is missing, and send a fresh link in case the first one expired.
        let ttl = state.config.accounts.verify_email_ttl;
        let token = token::issue(&**db, &username, Purpose::VerifyEmail, ttl).await?;
        audit::record(
            &**db,
            Event::SignInUnverified,
            known,
            Some(client),
            serde_json::json!({}),
        )
        .await?;
        if let Some(email) = email {
            let hours = ttl.as_secs().div_ceil(3600);
            let site = &state.config.mail.site_url;
            state.send_mail(email, messages::verify_email(site, &token, hours));
        }
        tracing::info!(%user, "sign-in of an unverified account");
        return Err(ApiError::Forbidden {
            code: "email_unverified",
            message: UNVERIFIED,
        });
    }
    if has_factor {
        // The password is half of it: the session opens at the second step.
        let cookie = second_factor::start_pending(&**db, &username, attempt_id).await?;
        tracing::info!(%user, "password accepted, second factor next");
        let mut resp = json_response(
            StatusCode::OK,
            &serde_json::json!({"status": "second_factor_required", "methods": ["totp", "recovery_code"]}),
        );
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
        return Ok(resp);
    }
    // An account created here must add its second factor before anything
    // else; one from before is asked to, and may go on without.
    let issued = session::open_with(&auth.keys, &auth.session, &username, self_service)?;
    session::record(&**db, &auth.session, &issued.claims, client).await?;
    audit::record(
        &**db,
        Event::SignInSucceeded,
        known,
        Some(client),
        serde_json::json!({"session": issued.claims.sid}),
    )
    .await?;
    tracing::info!(%user, session = %issued.claims.sid, "signed in");
    let mut resp = json_response(
        StatusCode::OK,
        &LoginResponse {
            username: &username,
            expires_at: issued.expires_at(),
            second_factor: Some(if self_service {
                "setup_required"
            } else {
                "setup_suggested"
            }),
        },
    );
    resp.headers_mut()
        .insert(header::SET_COOKIE, issued.cookie());
    Ok(resp)
}

/// What logout (and ending the current session from the settings) tells
/// the browser to forget besides the cookie: whatever the pages kept in
/// storage about the signed-in person.
pub const CLEAR_SITE_DATA: HeaderValue = HeaderValue::from_static(r#""cookies", "storage""#);

/// Revokes the request's session and clears the cookie and the site's
/// storage. Both are cleared even when the token is no longer valid, so the
/// browser is never left holding a dead one.
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: Result<SignedIn, ApiError>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let outcome = match signed_in {
        Ok(signed_in) => {
            let db = state.personal.get().await?;
            match signed_in.confirm(&**db).await {
                Ok(session) => {
                    session::revoke(&**db, &auth.session, &session.claims).await?;
                    let detail = serde_json::json!({"session": session.claims.sid});
                    audit::record(
                        &**db,
                        Event::SignedOut,
                        Some(&session.claims.sub),
                        Some(client),
                        detail,
                    )
                    .await?;
                    Ok(session)
                }
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    let mut resp = match outcome {
        Ok(session) => {
            tracing::info!(session = %session.claims.sid, "signed out");
            json_response(StatusCode::OK, &serde_json::json!({"status": "signed_out"}))
        }
        Err(error) => error.response(),
    };
    let headers = resp.headers_mut();
    headers.insert(header::SET_COOKIE, session::clearing_cookie());
    headers.insert("clear-site-data", CLEAR_SITE_DATA);
    Ok(resp)
}
