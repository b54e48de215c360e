//! "Mail me this": `POST /api/fulfillment` and
//! `GET /api/fulfillment/{request_id}`. Delivery is the domain's
//! ([`crate::fulfillment`]).

use axum::extract::{Path, State};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::extract::{ClientIp, JsonBody};
use super::table::{Route, get, post};
use crate::error::ApiError;
use crate::fulfillment::rate_limit;
use crate::fulfillment::request::{MailRequest, invalid};
use crate::fulfillment::store::{self, Enqueued};
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The fulfillment routes.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/fulfillment", submit),
        get("/api/fulfillment/{request_id}", status),
    ]
}

/// A request's id and status.
#[derive(Serialize)]
struct RequestStatus<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    request_id: Uuid,
    status: &'a str,
}

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

/// Validates, rate-limits and queues a request; never waits on the upstream.
/// The body is read and parsed before any connection is taken, so a slow
/// client holds nothing shared.
async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Resp, ApiError> {
    let settings = &state.config.fulfillment;
    let pseudonyms = &state.config.pseudonyms;
    let key = idempotency_key(&headers)?;
    let mut client = state.pool.get().await?;
    // Counted before the body is validated, so malformed floods are limited too.
    rate_limit::check(
        &**client,
        pseudonyms,
        ip,
        settings.rate_limit,
        settings.rate_window,
    )
    .await?;
    let request = MailRequest::from_json(&body)?;
    if !store::plan_is_active(&**client, &request.plan_id).await? {
        return Err(invalid(
            "plan_id",
            format!("plan_id {:?} is not an active plan", request.plan_id),
        ));
    }
    match store::enqueue(
        &mut client,
        pseudonyms,
        &request,
        key.as_deref(),
        ip,
        settings,
    )
    .await?
    {
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
async fn status(State(state): State<AppState>, Path(id): Path<String>) -> Result<Resp, ApiError> {
    let Ok(request_id) = Uuid::try_parse(&id) else {
        return Err(ApiError::NotFound);
    };
    let client = state.pool.get().await?;
    let Some(found) = store::status(&**client, request_id).await? else {
        return Err(ApiError::NotFound);
    };
    let body = RequestStatus {
        reason: found.reason,
        request_id,
        status: &found.status,
    };
    Ok(json_response(StatusCode::OK, &body))
}

fn accepted(request_id: Uuid, status: &str, replayed: bool) -> Resp {
    let mut resp = json_response(
        StatusCode::ACCEPTED,
        &RequestStatus {
            reason: None,
            request_id,
            status,
        },
    );
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// The `Idempotency-Key` header, if sent, once checked. Only its pseudonym
/// is stored ([`store::enqueue`]), so the table cannot be used to learn
/// other clients' keys.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
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
    Ok(Some(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key(&h).unwrap(), None);
        h.insert("idempotency-key", "order-1".parse().unwrap());
        assert_eq!(idempotency_key(&h).unwrap().as_deref(), Some("order-1"));
        h.insert("idempotency-key", "has space".parse().unwrap());
        let err = idempotency_key(&h).unwrap_err();
        assert!(matches!(
            err,
            ApiError::InvalidField {
                field: "Idempotency-Key",
                ..
            }
        ));
    }
}
