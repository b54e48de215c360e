//! What a handler states in its signature: who is asking (the access level
//! of their session, their address) and the JSON body. Every check an
//! access level stands for is made here, once, before the handler runs.
//!
//! | extractor | lets in |
//! | --- | --- |
//! | [`SignedIn`] | a full session, not revoked |
//! | [`SettingUp`] | a full session, or a setup-only one of an account with no second factor yet; not revoked |
//! | [`SignedInUnconfirmed`] | a full session, whose revocation the route's own statement checks |
//!
//! A token's signature is checked before any connection is taken, so a
//! flood of forged tokens costs CPU, never the pool; revocation is then one
//! primary-key lookup on the personal pool, whose connection goes back
//! before the body is read.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts};
use http::request::Parts;
use http::{Request, header};
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;

use super::cookies;
use crate::auth::factors;
use crate::auth::session::{self, IssuedToken, Session, UNAUTHORIZED};
use crate::client_addr::PeerAddr;
use crate::error::ApiError;
use crate::http::MAX_BODY_BYTES;
use crate::state::AppState;

/// The request's session, its token verified; revocation not checked yet.
fn verified(parts: &Parts, state: &AppState) -> Result<Session, ApiError> {
    let auth = &state.config.auth;
    let token = cookies::session_token(&parts.headers).ok_or(UNAUTHORIZED)?;
    session::verify(&auth.keys, &auth.session, token)
}

/// Checks revocation with its own lookup on the personal pool.
async fn confirmed(session: Session, state: &AppState) -> Result<Session, ApiError> {
    let db = state.personal.get().await?;
    session::confirm(&**db, session).await
}

/// A full session: not revoked, and not one that may only set up a second
/// factor (that one gets 403 `second_factor_required`).
#[derive(Debug)]
pub struct SignedIn(pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = verified(parts, state)?;
        session::require_full(&session)?;
        confirmed(session, state).await.map(Self)
    }
}

/// A session that is not revoked, full or setup-only: for what an account
/// that must add its first second factor needs on the way (the setup
/// routes, and the account the setup page reads). A setup-only session
/// passes only while its account has no factor
/// ([`session::require_setup_open`]).
#[derive(Debug)]
pub struct SettingUp(pub Session);

impl FromRequestParts<AppState> for SettingUp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = verified(parts, state)?;
        if session::require_full(&session).is_ok() {
            return confirmed(session, state).await.map(Self);
        }
        let db = state.personal.get().await?;
        let session = session::confirm(&**db, session).await?;
        let has_factor = factors::of(&**db, &session.claims.sub).await?.any();
        session::require_setup_open(&session, has_factor)?;
        Ok(Self(session))
    }
}

/// A full session whose revocation is checked by the route's own statement
/// (with [`session::revoked_sql`], the rule's one SQL), for a hot path that
/// must stay one round trip.
#[derive(Debug)]
pub struct SignedInUnconfirmed(Session);

impl SignedInUnconfirmed {
    /// The username the token was issued to.
    pub fn username(&self) -> &str {
        &self.0.claims.sub
    }

    /// The session id, as [`session::revoked_sql`]'s parameter.
    pub fn session_param(&self) -> String {
        self.0.session_param()
    }

    /// The refreshed token to send back if the route succeeds.
    pub fn refreshed(&self) -> Option<&IssuedToken> {
        self.0.refreshed.as_ref()
    }
}

impl FromRequestParts<AppState> for SignedInUnconfirmed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = verified(parts, state)?;
        session::require_full(&session)?;
        Ok(Self(session))
    }
}

/// The client address of a request (see [`crate::client_addr::client_ip`]):
/// what every per-client limit takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<PeerAddr>().copied();
        Ok(Self(
            state.config.client_addr.client_ip(&parts.headers, peer),
        ))
    }
}

/// A JSON request body of at most [`MAX_BODY_BYTES`], read and decoded in
/// full before the handler runs: a handler taking it holds nothing scarce
/// (no pooled connection, no permit) while a slow client sends its body.
/// Each way the body can be wrong is a clear 4xx.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, _state: &S) -> Result<Self, ApiError> {
        read_json(req).await.map(JsonBody)
    }
}

/// A JSON body a route may also be called without: a request with no
/// `Content-Type` and nothing in its body is `None`; anything else is read
/// as [`JsonBody`] reads it, with the same 4xx answers.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, _state: &S) -> Result<Self, ApiError> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return read_json(req).await.map(|body| Self(Some(body)));
        }
        let sent = Limited::new(req.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
            .map(|body| !body.to_bytes().is_empty())
            .unwrap_or(true);
        if sent {
            return Err(ApiError::UnsupportedMediaType);
        }
        Ok(Self(None))
    }
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`] and decodes it.
async fn read_json<T: DeserializeOwned>(req: Request<Body>) -> Result<T, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared_too_big = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| len > MAX_BODY_BYTES);
    if declared_too_big {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            // The body-limit layer and this reader share one limit; either
            // may be the one that notices.
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
                || std::error::Error::source(&*e).is_some_and(|s| {
                    s.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                });
            if too_big {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("bad_body", "the request body could not be read")
            }
        })?
        .to_bytes();
    let not_for_route = |e: serde_json::Error| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON for this route: {e}"),
        )
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(not_for_route)?;
    if let Some(path) = control_character_at(&value, "") {
        return Err(ApiError::ControlCharacter { path });
    }
    serde_json::from_value(value).map_err(not_for_route)
}

/// Where in a JSON body a string (or a key) holds a control character
/// (Unicode category Cc: U+0000 to U+001F, U+007F to U+009F), as a path like
/// `name` or `items[2].name`; `None` if nowhere. The one input rule every
/// body passes before any route sees it: no field of this API is text with
/// line breaks or tabs, and a NUL is refused by Postgres (an error, not a
/// value), so such characters are only ever a mistake or an attack.
pub fn control_character_at(value: &serde_json::Value, path: &str) -> Option<String> {
    let bad = |s: &str| s.chars().any(char::is_control);
    match value {
        serde_json::Value::String(s) => bad(s).then(|| path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| control_character_at(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let parent = if path.is_empty() {
                String::new()
            } else {
                format!("{path}.")
            };
            if bad(key) {
                // Named without the character itself.
                return Some(format!("{parent}<key>"));
            }
            control_character_at(item, &format!("{parent}{key}"))
        }),
        _ => None,
    }
}
