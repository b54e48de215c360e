//! The route table: the whole API as one function of its state, callable by
//! tests without a socket.

use std::time::Instant;

use http::{Method, Request};

use crate::auth::login;
use crate::http::{Resp, add_security_headers};
use crate::state::AppState;
use crate::{ApiError, enrollment, fulfillment, health, metrics};

/// Answers one request. Any body type works, so tests can pass a `Full`.
pub async fn handle<B>(state: AppState, req: Request<B>) -> Resp
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let route = metrics::route_label(req.uri().path());
    let method = req.method().clone();
    let timeout = state.config.request_timeout;
    let mut resp = match tokio::time::timeout(timeout, route_request(state, req)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::Unavailable("request timed out".into()).into_response(),
    };
    if resp.status() == http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = allowed_methods(route)
    {
        resp.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    }
    add_security_headers(&mut resp);
    metrics::record_request(route, &method, resp.status(), started.elapsed());
    resp
}

async fn route_request<B>(state: AppState, req: Request<B>) -> Result<Resp, ApiError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    match (method, path.as_str()) {
        (Method::GET, "/healthz") => Ok(health::healthz()),
        (Method::GET, "/readyz") => health::readyz(&state).await,
        (Method::POST, "/api/login") => login::login(&state, req).await,
        (Method::POST, "/api/logout") => login::logout(&state, req).await,
        (Method::GET, "/api/me/enrollment") => enrollment::get(&state, req.headers()).await,
        (_, "/healthz" | "/readyz" | "/api/login" | "/api/logout" | "/api/me/enrollment") => {
            Err(ApiError::MethodNotAllowed)
        }
        (_, p) if fulfillment::owns(p) => fulfillment::route(&state, req).await,
        _ => Err(ApiError::NotFound),
    }
}

/// The `Allow` header a 405 carries (RFC 9110), by route label.
fn allowed_methods(route: &str) -> Option<&'static str> {
    match route {
        "/healthz" | "/readyz" | "/api/me/enrollment" | "/api/fulfillment/{request_id}" => {
            Some("GET")
        }
        "/api/login" | "/api/logout" | "/api/fulfillment" => Some("POST"),
        _ => None,
    }
}
