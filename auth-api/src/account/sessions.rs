//! The sessions a person can see and end: the list, ending one of them,
//! and "sign out everywhere".
//!
//! A session that is not the person's own, no longer active, or named by
//! something that is not a session id at all gets one and the same 404:
//! nobody learns anything about other people's sessions.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use http::{StatusCode, header};
use uuid::Uuid;

use crate::ApiError;
use crate::audit::{self, Event};
use crate::auth::login::CLEAR_SITE_DATA;
use crate::auth::session::{self, SignedIn};
use crate::client_addr::ClientIp;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// `GET /api/me/sessions`: the account's sessions that may still be valid.
pub async fn sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let rows = db
        .query(
            "SELECT s.session_id::text, s.created_at, host(s.client_addr)
               FROM account_session s
              WHERE s.username = $1 AND s.expires_at > now()
                AND NOT EXISTS (SELECT 1 FROM revoked_session r WHERE r.session_id = s.session_id)
              ORDER BY s.created_at DESC",
            &[&session.claims.sub],
        )
        .await?;
    let current = session.claims.sid.to_string();
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let id: String = row.get(0);
            serde_json::json!({
                "current": id == current,
                "id": id,
                "started_at": row.get::<_, chrono::DateTime<chrono::Utc>>(1),
                "client_addr": row.get::<_, Option<String>>(2),
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({"sessions": list}),
    ))
}

/// `POST /api/me/sessions/end-all`: signs out everywhere, this session too.
pub async fn end_all(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let username = &session.claims.sub;
    session::revoke(&**db, &state.config.auth.session, &session.claims).await?;
    let ended = session::revoke_all(&**db, username, None).await?;
    audit::record(
        &**db,
        Event::SessionsEnded,
        Some(username),
        Some(client),
        serde_json::json!({"sessions_ended": ended}),
    )
    .await?;
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"status": "signed_out", "sessions_ended": ended}),
    );
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::clearing_cookie());
    Ok(resp)
}

/// `POST /api/me/sessions/{id}/end`: ends one of the person's own active
/// sessions. Ending the current one signs this browser out, as logout does.
pub async fn end_one(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let Some(id) = id.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok()) else {
        return Err(ApiError::NotFound);
    };
    let username = &session.claims.sub;
    if !session::revoke_one(&**db, username, id).await? {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &**db,
        Event::SessionsEnded,
        Some(username),
        Some(client),
        serde_json::json!({"sessions_ended": 1, "session": id}),
    )
    .await?;
    let current = id == session.claims.sid;
    tracing::info!(session = %id, current, "one session ended");
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"status": "session_ended", "current": current}),
    );
    let headers = resp.headers_mut();
    if current {
        headers.insert(header::SET_COOKIE, session::clearing_cookie());
        headers.insert("clear-site-data", CLEAR_SITE_DATA);
    } else if let Some(fresh) = session.refreshed {
        headers.insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}
