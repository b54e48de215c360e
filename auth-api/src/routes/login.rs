//! Signing in and out: `POST /api/login` (the password), `POST
//! /api/login/second-factor` (a code after it) and `POST /api/logout`.
//! Signing in with a passkey is in [`super::passkeys`].

use std::sync::LazyLock;

use axum::extract::State;
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::answers::Status;
use super::cookies;
use super::extract::{ClientIp, JsonBody, SettingUp};
use super::table::{Route, post};
use crate::audit::{self, Event};
use crate::auth::factors::{self, Factors};
use crate::auth::links::{self, Purpose};
use crate::auth::password::Verdict;
use crate::auth::session::{self, IssuedToken, Way};
use crate::auth::{self, messages, second_factor, throttle};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The routes of signing in and out.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/login", login),
        post("/api/login/second-factor", second_step),
        post("/api/logout", logout),
    ]
}

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
    expires_at: DateTime<Utc>,
    /// `setup_required`: an account that must add a second factor and has
    /// none; the session may do nothing else. `setup_suggested`: an account
    /// from before second factors, asked to add one.
    #[serde(skip_serializing_if = "Option::is_none")]
    second_factor: Option<&'static str>,
}

/// What signing in needs to know of an account, in one round trip: its
/// hash, whether it still has to verify its address, its address, its
/// second factors, and its username as stored (found as
/// [`auth::BY_TYPED_NAME`] says).
static ACCOUNT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT u.password, a.username IS NOT NULL AND a.email_verified_at IS NULL, u.email,
                  {}, u.username
             FROM "user" u LEFT JOIN account a ON a.username = u.username
            {}"#,
        factors::columns("u.username"),
        auth::BY_TYPED_NAME,
    )
});

/// What an account must do before it may sign in.
const UNVERIFIED: &str = "Confirm your email address first: open the link in the message we \
     just sent you, then sign in again.";

/// Checks the password and opens a session. The body is read in full
/// before a connection is taken.
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(LoginRequest { username, password }): JsonBody<LoginRequest>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;

    // Counted before the hash, so concurrent guesses cannot outrun the limits.
    let attempt = reserve(&state, &username, client).await?;
    let user = attempt.tag().to_string();
    let db = state.pool.get().await?;
    // An account created through the API signs in once its address is
    // verified; one made before that was possible counts as verified.
    let found = db.query_opt(&*ACCOUNT_SQL, &[&username]).await?;
    let stored: Option<String> = found.as_ref().map(|row| row.get(0));
    let unverified = found.as_ref().is_some_and(|row| row.get::<_, bool>(1));
    let email: Option<String> = found.as_ref().and_then(|row| row.get(2));
    let factors = found.as_ref().map(|row| Factors::from_row(row, 3));
    // From here on, the account's own spelling of its name.
    let username: String = found.as_ref().map_or(username, |row| row.get(6));
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
        let token = links::issue(&**db, &username, Purpose::VerifyEmail, ttl).await?;
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
        let pending = second_factor::start_pending(&**db, &username, attempt_id).await?;
        tracing::info!(%user, "password accepted, second factor next");
        let factors = factors.unwrap_or_default();
        let methods: Vec<&str> = [
            (factors.totp, "totp"),
            (factors.passkeys > 0, "passkey"),
            (true, "recovery_code"),
        ]
        .into_iter()
        .filter_map(|(has, method)| has.then_some(method))
        .collect();
        let mut resp = json_response(
            StatusCode::OK,
            &SecondFactorNext {
                methods,
                status: "second_factor_required",
            },
        );
        let cookie = cookies::pending(&pending, second_factor::PENDING_SECS);
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
        return Ok(resp);
    }
    // An account created here must add its second factor before anything
    // else; one from before is asked to, and may go on without.
    let issued = session::start(
        &**db,
        &auth.keys,
        &auth.session,
        &username,
        self_service,
        client,
        Way::Password,
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
        .insert(header::SET_COOKIE, cookies::session(&issued));
    Ok(resp)
}

/// Reserves one sign-in attempt of `username` from `client` with the login
/// throttle; a throttled one is audited (one row per hour, network and
/// account: see [`audit::record`]) and answered 429.
async fn reserve(
    state: &AppState,
    username: &str,
    client: std::net::IpAddr,
) -> Result<throttle::Attempt, ApiError> {
    let auth = &state.config.auth;
    let pseudonyms = &state.config.pseudonyms;
    match throttle::reserve(&state.pool, auth, pseudonyms, username, client).await {
        Err(error @ (ApiError::TooManyRequests { .. } | ApiError::SignInHeld { .. })) => {
            let db = state.pool.get().await?;
            let detail = serde_json::json!({"account": pseudonyms.log_tag(username)});
            audit::record(&**db, Event::SignInThrottled, None, Some(client), detail).await?;
            if matches!(error, ApiError::SignInHeld { .. }) {
                super::account::unlock::offer_later(state, username, client);
            }
            Err(error)
        }
        other => other,
    }
}

/// The answer to a password accepted with a second factor still to come.
#[derive(Serialize)]
struct SecondFactorNext {
    methods: Vec<&'static str>,
    status: &'static str,
}

/// Revokes the request's session and clears the cookie and the site's
/// storage. Both are cleared even when the token is no longer valid, so the
/// browser is never left holding a dead one. A setup-only session may sign
/// out too.
async fn logout(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Result<SettingUp, ApiError>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let mut resp = match session {
        Ok(SettingUp(session)) => {
            let db = state.personal.get().await?;
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
            tracing::info!(session = %session.claims.sid, "signed out");
            json_response(StatusCode::OK, &Status::new("signed_out"))
        }
        Err(error) => error.response(),
    };
    let headers = resp.headers_mut();
    headers.insert(header::SET_COOKIE, cookies::clear_session());
    headers.insert("clear-site-data", cookies::CLEAR_SITE_DATA);
    Ok(resp)
}

/// A pending sign-in that is absent, expired or out of tries.
const SIGN_IN_AGAIN: ApiError =
    ApiError::Unauthorized("Your sign-in timed out. Please sign in again with your password.");

/// A code that is wrong, or was used already.
const WRONG_CODE: ApiError = ApiError::Unauthorized(
    "That code is not right. Enter the current code from your authenticator app, or a recovery code.",
);

/// The body of `POST /api/login/second-factor`: one of the two.
#[derive(Deserialize)]
pub struct SecondStep {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// `POST /api/login/second-factor`: checks the second factor of a pending
/// sign-in and opens the session.
async fn second_step(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SecondStep>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let pending = cookies::read(&headers, cookies::PENDING).ok_or(SIGN_IN_AGAIN)?;
    let db = state.pool.get().await?;
    let Some((username, attempt)) = second_factor::try_pending(&**db, pending).await? else {
        let mut resp = SIGN_IN_AGAIN.response();
        resp.headers_mut()
            .insert(header::SET_COOKIE, cookies::clear_pending());
        return Ok(resp);
    };
    drop(db);
    // Each code is a login attempt: counted before it is checked and held
    // back by the same limits as a password, so codes cannot be guessed
    // faster than passwords, however many pending sign-ins are opened.
    let code_attempt = reserve(&state, &username, client).await?;
    let db = state.pool.get().await?;
    let user = state.config.pseudonyms.log_tag(&username);
    let accepted = match (&body.code, &body.recovery_code) {
        (Some(code), None) => second_factor::totp_accepted(&**db, &username, code).await?,
        (None, Some(code)) => {
            let used = second_factor::recovery_accepted(&**db, &username, code, client).await?;
            if let Some(second_factor::RecoveryCodeUsed {
                left,
                email: Some(email),
            }) = &used
            {
                let site = &state.config.mail.site_url;
                state.send_mail(email.clone(), messages::recovery_code_used(site, *left));
            }
            used.is_some()
        }
        _ => {
            return Err(ApiError::bad_request(
                "one_code",
                "send either `code` or `recovery_code`",
            ));
        }
    };
    if !accepted {
        // The code's reservation stays counted as a failure.
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
    second_factor::end_pending(&**db, pending).await?;
    throttle::settle(&state.pool, code_attempt, true).await?;
    throttle::second_factor_succeeded(&**db, &state.config.pseudonyms, &username, client, attempt)
        .await?;
    let issued = session::start(
        &**db,
        &auth.keys,
        &auth.session,
        &username,
        false,
        client,
        Way::SecondFactor,
    )
    .await?;
    tracing::info!(%user, session = %issued.claims.sid, "signed in with a second factor");
    Ok(signed_in(&username, &issued))
}

/// The answer to a session opened by a second step or a passkey: who, and
/// until when; the session cookie, and the pending sign-in's cleared (it
/// is done with, whichever way finished it).
pub(super) fn signed_in(username: &str, issued: &IssuedToken) -> Resp {
    let mut resp = json_response(
        StatusCode::OK,
        &SignedInAnswer {
            expires_at: issued.expires_at(),
            username,
        },
    );
    let headers = resp.headers_mut();
    headers.append(header::SET_COOKIE, cookies::session(issued));
    headers.append(header::SET_COOKIE, cookies::clear_pending());
    resp
}

/// Who signed in, and until when their token lasts.
#[derive(Serialize)]
struct SignedInAnswer<'a> {
    expires_at: DateTime<Utc>,
    username: &'a str,
}
