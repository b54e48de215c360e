//! Small HTTP helpers shared by every route: JSON in, JSON out, limits, and
//! the security headers every response carries.

use axum::body::Body;
use axum::extract::FromRequest;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Serialize, de::DeserializeOwned};

use crate::ApiError;

/// Every response body is a complete JSON document.
pub type Resp = Response<Full<Bytes>>;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Serializes `value` as the body of a response with `status`.
pub fn json_response(status: StatusCode, value: &impl Serialize) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
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
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON for this route: {e}"),
        )
    })
}

/// The headers every answer carries. Everything the API says is personal
/// or transient, so nothing may be cached anywhere.
pub const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
];

/// [`SECURITY_HEADERS`] as values, for the layer that sets them.
pub fn security_headers() -> impl Iterator<Item = (HeaderName, HeaderValue)> {
    SECURITY_HEADERS
        .into_iter()
        .map(|(name, value)| (name, HeaderValue::from_static(value)))
}
