//! `POST /api/login` and `POST /api/logout`.

use http::{Request, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::password::Verdict;
use super::{session, throttle};
use crate::ApiError;
use crate::client_addr::PeerAddr;
use crate::http::{Resp, json_response, read_json};
use crate::state::AppState;

/// The one message for an unknown user and a wrong password alike.
const BAD_CREDENTIALS: ApiError = ApiError::Unauthorized("The username or password is incorrect.");

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse<'a> {
    username: &'a str,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// Checks the password and opens a session.
pub async fn login<B>(state: &AppState, req: Request<B>) -> Result<Resp, ApiError>
where
    B: hyper::body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let auth = &state.config.auth;
    let client = state
        .config
        .client_addr
        .client_ip(req.headers(), req.extensions().get::<PeerAddr>().copied());
    let LoginRequest { username, password } = read_json(req).await?;

    // Counted before the hash, so concurrent guesses cannot outrun the limits.
    let attempt = throttle::reserve(&state.pool, auth, &username, client).await?;
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

/// Revokes the request's session and clears the cookie. The cookie is
/// cleared even when the token is no longer valid, so the browser is never
/// left holding a dead one.
pub async fn logout<B>(state: &AppState, req: Request<B>) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let db = state.pool.get().await?;
    let outcome = session::authenticate(&**db, &auth.keys, &auth.session, req.headers()).await;
    let mut resp = match outcome {
        Ok(session) => {
            session::revoke(&**db, &auth.session, &session.claims).await?;
            tracing::info!(session = %session.claims.sid, "signed out");
            json_response(StatusCode::OK, &serde_json::json!({"status": "signed_out"}))
        }
        Err(error) => error.into_response(),
    };
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::clearing_cookie());
    Ok(resp)
}
