//! Small HTTP helpers shared by every route: JSON out, the body limit, and
//! the security headers every response carries. JSON in is read by the
//! routes layer's extractors ([`crate::routes::extract`]).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde::Serialize;

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
