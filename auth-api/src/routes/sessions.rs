//! The sessions a person can see and end: the list, ending one of them,
//! and "sign out everywhere".
//!
//! A session that is not the person's own, no longer active, or named by
//! something that is not a session id at all gets one and the same 404:
//! nobody learns anything about other people's sessions. Each takes a full
//! session: one that may only set up a second factor cannot end the
//! owner's.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::{StatusCode, header};
use serde::Serialize;
use uuid::Uuid;

use super::answers::SessionsEnded;
use super::cookies;
use super::extract::{ClientIp, SignedIn};
use super::table::{Route, get, post};
use crate::audit::{self, Event};
use crate::auth::session;
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The session routes.
pub fn routes() -> Vec<Route> {
    vec![
        get("/api/me/sessions", sessions),
        post("/api/me/sessions/end-all", end_all),
        post("/api/me/sessions/{id}/end", end_one),
    ]
}

/// The sessions of an account.
#[derive(Serialize)]
struct Sessions {
    sessions: Vec<Listed>,
}

/// One session as the settings page lists it.
#[derive(Serialize)]
struct Listed {
    client_addr: Option<String>,
    current: bool,
    id: String,
    started_at: DateTime<Utc>,
}

/// One session ended, and whether it was this one.
#[derive(Serialize)]
struct Ended {
    current: bool,
    status: &'static str,
}

/// `GET /api/me/sessions`: the account's sessions that may still be valid.
async fn sessions(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
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
    let sessions = rows
        .iter()
        .map(|row| {
            let id: String = row.get(0);
            Listed {
                client_addr: row.get(2),
                current: id == current,
                id,
                started_at: row.get(1),
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Sessions { sessions }))
}

/// `POST /api/me/sessions/end-all`: signs out everywhere, this session too.
async fn end_all(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
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
        &SessionsEnded {
            sessions_ended: ended,
            status: "signed_out",
        },
    );
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookies::clear_session());
    Ok(resp)
}

/// `POST /api/me/sessions/{id}/end`: ends one of the person's own active
/// sessions. Ending the current one signs this browser out, as logout does.
async fn end_one(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
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
    let resp = json_response(
        StatusCode::OK,
        &Ended {
            current,
            status: "session_ended",
        },
    );
    if !current {
        return Ok(cookies::refreshed(resp, session.refreshed.as_ref()));
    }
    let mut resp = resp;
    let headers = resp.headers_mut();
    headers.insert(header::SET_COOKIE, cookies::clear_session());
    headers.insert("clear-site-data", cookies::CLEAR_SITE_DATA);
    Ok(resp)
}
