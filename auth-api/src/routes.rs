//! The route table: the whole API as one function of its state, callable by
//! tests without a socket.

use http::{Method, Request};

use crate::http::{Resp, add_security_headers};
use crate::state::AppState;
use crate::{ApiError, fulfillment, health};

/// Answers one request. Any body type works, so tests can pass a `Full`.
pub async fn handle<B>(state: AppState, req: Request<B>) -> Resp
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let timeout = state.config.request_timeout;
    let mut resp = match tokio::time::timeout(timeout, route(state, req)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::Unavailable("request timed out".into()).into_response(),
    };
    add_security_headers(&mut resp);
    resp
}

async fn route<B>(state: AppState, req: Request<B>) -> Result<Resp, ApiError>
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
        (_, "/healthz" | "/readyz") => Err(ApiError::MethodNotAllowed),
        (_, p) if fulfillment::owns(p) => fulfillment::route(&state, req).await,
        _ => Err(ApiError::NotFound),
    }
}
