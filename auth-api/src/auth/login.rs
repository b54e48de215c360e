//! `POST /api/login` and `POST /api/logout`.

use axum::extract::State;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::password::Verdict;
use super::session::{self, SignedIn};
use super::throttle;
use crate::ApiError;
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
}

/// Checks the password and opens a session. The body is read in full
/// before a connection is taken.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(LoginRequest { username, password }): JsonBody<LoginRequest>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;

    // Counted before the hash, so concurrent guesses cannot outrun the limits.
    let attempt = throttle::reserve(
        &state.pool,
        auth,
        &state.config.pseudonyms,
        &username,
        client,
    )
    .await?;
    let user = attempt.tag().to_string();
    let db = state.pool.get().await?;
    let stored: Option<String> = db
        .query_opt(
            r#"SELECT password FROM "user" WHERE username = $1"#,
            &[&username],
        )
        .await?
        .map(|row| row.get(0));
    // Hold no pooled connection during the slow hash.
    drop(db);
    let verdict = state.passwords.verify(password, stored.clone()).await?;

    let signed_in = verdict != Verdict::Rejected;
    throttle::settle(&state.pool, attempt, signed_in).await?;
    if !signed_in {
        tracing::info!(%user, %client, "login failed");
        return Err(BAD_CREDENTIALS);
    }
    let db = state.pool.get().await?;
    if let (Verdict::AcceptedRehash(new_hash), Some(old_hash)) = (&verdict, &stored) {
        // Compare-and-set: a concurrent password change wins over the upgrade.
        db.execute(
            r#"UPDATE "user" SET password = $1 WHERE username = $2 AND password = $3"#,
            &[new_hash, &username, old_hash],
        )
        .await?;
        tracing::info!(%user, "password hash upgraded to argon2id");
    }
    let issued = session::open(&auth.keys, &auth.session, &username)?;
    tracing::info!(%user, session = %issued.claims.sid, "signed in");
    let mut resp = json_response(
        StatusCode::OK,
        &LoginResponse {
            username: &username,
            expires_at: issued.expires_at(),
        },
    );
    resp.headers_mut()
        .insert(header::SET_COOKIE, issued.cookie());
    Ok(resp)
}

/// What logout tells the browser to forget besides the cookie: whatever
/// the pages kept in storage about the signed-in person.
const CLEAR_SITE_DATA: HeaderValue = HeaderValue::from_static(r#""cookies", "storage""#);

/// Revokes the request's session and clears the cookie and the site's
/// storage. Both are cleared even when the token is no longer valid, so the
/// browser is never left holding a dead one.
pub async fn logout(
    State(state): State<AppState>,
    signed_in: Result<SignedIn, ApiError>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let outcome = match signed_in {
        Ok(signed_in) => {
            let db = state.personal.get().await?;
            match signed_in.confirm(&**db).await {
                Ok(session) => {
                    session::revoke(&**db, &auth.session, &session.claims).await?;
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
