//! `POST /api/fulfillment` and `GET /api/fulfillment/{request_id}`.

use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::rate_limit;
use super::request::{MailRequest, invalid};
use super::store::{self, Enqueued};
use crate::ApiError;
use crate::client_addr::PeerAddr;
use crate::http::{Resp, json_response, read_json};
use crate::state::AppState;

const COLLECTION: &str = "/api/fulfillment";

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

/// Whether `path` belongs to this module.
pub fn owns(path: &str) -> bool {
    path == COLLECTION || path.starts_with("/api/fulfillment/")
}

/// Answers a request for a path [`owns`] accepts.
pub async fn route<B>(state: &AppState, req: Request<B>) -> Result<Resp, ApiError>
where
    B: hyper::body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_string();
    match (req.method(), path.strip_prefix("/api/fulfillment/")) {
        (&Method::POST, None) => submit(state, req).await,
        (&Method::GET, Some(id)) => status(state, id).await,
        (_, None) => Err(ApiError::MethodNotAllowed),
        (_, Some(id)) if !id.is_empty() && !id.contains('/') => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound),
    }
}

/// Validates, rate-limits and queues a request; never waits on the upstream.
async fn submit<B>(state: &AppState, req: Request<B>) -> Result<Resp, ApiError>
where
    B: hyper::body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let settings = &state.config.fulfillment;
    let peer = req.extensions().get::<PeerAddr>().copied();
    let ip = state.config.client_addr.client_ip(req.headers(), peer);
    let key_hash = idempotency_key_hash(req.headers())?;
    let mut client = state.pool.get().await?;
    // Counted before anything else, so malformed floods are limited too.
    rate_limit::check(&**client, ip, settings.rate_limit, settings.rate_window).await?;
    let body: Value = read_json(req).await?;
    let request = MailRequest::from_json(&body)?;
    if !store::plan_is_active(&**client, &request.plan_id).await? {
        return Err(invalid(
            "plan_id",
            format!("plan_id {:?} is not an active plan", request.plan_id),
        ));
    }
    match store::enqueue(&mut client, &request, key_hash.as_deref(), ip, settings).await? {
        Enqueued::New(request_id) => {
            state.fulfillment.notify();
            tracing::info!(%request_id, status = "queued", "fulfillment request accepted");
            Ok(accepted(request_id, "queued", false))
        }
        Enqueued::Replayed(request_id) => {
            let current = store::status(&**client, request_id)
                .await?
                .map_or_else(|| "queued".to_string(), |s| s.status);
            tracing::info!(%request_id, status = %current, "fulfillment request replayed");
            Ok(accepted(request_id, &current, true))
        }
        Enqueued::KeyReused => Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was already used with a different request body; \
                      send a new key for a new request"
                .into(),
        }),
    }
}

/// `GET /api/fulfillment/{request_id}`: the status, never the address.
async fn status(state: &AppState, id: &str) -> Result<Resp, ApiError> {
    let Ok(request_id) = Uuid::try_parse(id) else {
        return Err(ApiError::NotFound);
    };
    let client = state.pool.get().await?;
    let Some(found) = store::status(&**client, request_id).await? else {
        return Err(ApiError::NotFound);
    };
    let mut body = json!({"request_id": request_id, "status": found.status});
    if let Some(reason) = found.reason {
        body["reason"] = reason.into();
    }
    Ok(json_response(StatusCode::OK, &body))
}

fn accepted(request_id: Uuid, status: &str, replayed: bool) -> Resp {
    let mut resp = json_response(
        StatusCode::ACCEPTED,
        &json!({"request_id": request_id, "status": status}),
    );
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// The hash of the `Idempotency-Key` header, if sent. Only the hash is
/// stored, so the table cannot be used to learn other clients' keys.
fn idempotency_key_hash(headers: &HeaderMap) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or_default();
    let printable = key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if key.is_empty() || key.len() > MAX_KEY_LEN || !printable {
        return Err(invalid(
            "Idempotency-Key",
            format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ),
        ));
    }
    let digest = Sha256::digest(format!("fulfillment-idempotency:{key}").as_bytes());
    Ok(Some(digest.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_owned_precisely() {
        assert!(owns("/api/fulfillment"));
        assert!(owns("/api/fulfillment/abc"));
        assert!(!owns("/api/fulfillments"));
        assert!(!owns("/api/me/enrollment"));
    }

    #[test]
    fn keys_are_hashed_and_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key_hash(&h).unwrap(), None);
        h.insert("idempotency-key", "order-1".parse().unwrap());
        let a = idempotency_key_hash(&h).unwrap().unwrap();
        assert_eq!(a.len(), 32);
        assert!(!a.windows(7).any(|w| w == b"order-1"));
        h.insert("idempotency-key", "has space".parse().unwrap());
        let err = idempotency_key_hash(&h).unwrap_err();
        assert!(matches!(
            err,
            ApiError::InvalidField {
                field: "Idempotency-Key",
                ..
            }
        ));
    }
}
