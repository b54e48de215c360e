//! The route table: every route declared once, with the layers every
//! request passes through. [`app`] is the whole API as a tower service of
//! its state, callable by tests without a socket.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::header::CONTENT_TYPE;
use http::{HeaderName, StatusCode};
use tower::ServiceBuilder;
use tower_http::ServiceBuilderExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::MakeRequestUuid;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{authenticator, login, passkey, recovery_codes, second_factor};
use crate::http::{MAX_BODY_BYTES, security_headers};
use crate::state::AppState;
use crate::{ApiError, account, enrollment, fulfillment, health, metrics};

/// The header carrying each request's id, echoed on the answer and logged.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API: routes, then (innermost first) the body limit, the request
/// timeout, errors as JSON, the security headers, metrics by matched route,
/// the trace span and the request id.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/login", post(login::login))
        .route("/api/login/second-factor", post(second_factor::second_step))
        .route("/api/login/passkey/start", post(passkey::sign_in_start))
        .route("/api/login/passkey/finish", post(passkey::sign_in_finish))
        .route("/api/logout", post(login::logout))
        .route("/api/me/account", get(second_factor::account))
        .route("/api/me/totp", post(authenticator::setup))
        .route("/api/me/totp/confirm", post(authenticator::confirm))
        .route("/api/me/totp/remove", post(authenticator::remove))
        .route("/api/me/recovery-codes", post(recovery_codes::regenerate))
        .route(
            "/api/me/passkeys/register/start",
            post(passkey::register_start),
        )
        .route(
            "/api/me/passkeys/register/finish",
            post(passkey::register_finish),
        )
        .route("/api/me/passkeys/{id}/remove", post(passkey::remove))
        .route("/api/me/enrollment", get(enrollment::get))
        .merge(account::routes())
        .merge(fulfillment::routes())
        .fallback(|| async { ApiError::NotFound });
    let mut router = router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(errors_as_json));
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    router
        .layer(middleware::from_fn(metrics::record))
        .layer(
            ServiceBuilder::new()
                .set_request_id(REQUEST_ID, MakeRequestUuid)
                .layer(TraceLayer::new_for_http().make_span_with(span))
                .propagate_request_id(REQUEST_ID),
        )
        .with_state(state)
}

/// The span every request's logs are in: method, matched route, request id.
fn span(req: &Request<Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str());
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), route, request_id = id)
}

/// Gives answers the framework or a layer made on its own (404, 405, 413,
/// a timeout's 503) the `{"error":{...}}` body every other error has,
/// through the one [`ApiError`] mapping. Their headers (`Allow`) stay.
async fn errors_as_json(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(resp.status().is_client_error() || resp.status().is_server_error()) {
        return resp;
    }
    let (mut parts, _) = resp.into_parts();
    let error = ApiError::from_status(parts.status).into_response();
    let (fresh, body) = error.into_parts();
    parts.status = fresh.status;
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts.headers.extend(fresh.headers);
    Response::from_parts(parts, body)
}
