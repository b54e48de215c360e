//! The routes layer: one module per resource, each with the table of its
//! routes ([`Route`]: method, path, handler), over the domain ([`crate::auth`],
//! [`crate::enrollment`], [`crate::fulfillment`]). [`app`] merges the tables
//! and adds the layers every request passes through: it is the whole API as
//! a tower service of its state, callable by tests without a socket.
//!
//! A handler states what it needs in its signature ([`extract`]): the
//! access level of the session, the client's address, the JSON body.

pub mod account;
pub mod answers;
pub mod cookies;
pub mod enrollment;
pub mod extract;
pub mod factors;
pub mod fulfillment;
pub mod health;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod sessions;
pub mod table;

pub use table::Route;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderName, StatusCode};
use tower::ServiceBuilder;
use tower_http::ServiceBuilderExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::MakeRequestUuid;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::http::{MAX_BODY_BYTES, security_headers};
use crate::metrics;
use crate::state::AppState;

/// Every route the API serves, resource by resource.
pub fn table() -> Vec<Route> {
    [
        health::routes(),
        login::routes(),
        passkeys::routes(),
        account::routes(),
        factors::routes(),
        password::routes(),
        sessions::routes(),
        enrollment::routes(),
        fulfillment::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The header carrying each request's id, echoed on the answer and logged.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API: routes, then (innermost first) the body limit, the request
/// timeout, errors as JSON, the security headers, metrics by matched route,
/// the trace span and the request id.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let router = table()
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `(method, path)` pairs of the document's `paths:` section: a path
    /// is a key indented by two spaces, its operations keys indented by four.
    fn documented(yaml: &str) -> BTreeSet<(String, String)> {
        const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
        let mut found = BTreeSet::new();
        let mut in_paths = false;
        let mut path: Option<String> = None;
        for line in yaml.lines() {
            if !line.starts_with(' ') && !line.trim().is_empty() {
                in_paths = line.trim_end() == "paths:";
                continue;
            }
            if !in_paths {
                continue;
            }
            if let Some(key) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
                path = Some(format!("/{key}"));
            } else if let Some(key) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
                && let (Some(path), true) = (&path, METHODS.contains(&key))
            {
                found.insert((key.to_uppercase(), path.clone()));
            }
        }
        found
    }

    #[test]
    fn the_document_describes_every_route_served_and_no_other() {
        let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("auth-api/openapi.yaml");
        let documented = documented(&yaml);
        let served: BTreeSet<(String, String)> = table()
            .iter()
            .map(|route| (route.method.to_string(), route.path.to_string()))
            .collect();
        assert_eq!(
            served.len(),
            table().len(),
            "a method and path served twice"
        );
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "served but not in openapi.yaml: {undocumented:?}; \
             in openapi.yaml but not served: {unserved:?}"
        );
        // The reader itself: it must see the routes every version had.
        for (method, path) in [("GET", "/healthz"), ("POST", "/api/login")] {
            assert!(documented.contains(&(method.into(), path.into())));
        }
        assert!(documented.len() >= 20, "{documented:?}");
    }

    #[test]
    fn the_reader_takes_paths_and_methods_only() {
        let yaml = "openapi: 3.0.3\ncomponents:\n  /not-a-path:\n    get:\n\
                    paths:\n  /a:\n    get:\n      summary: x\n    parameters:\n  /b/{id}:\n    post:\n\
                    tags:\n  /c:\n    get:\n";
        let found = documented(yaml);
        let expected: BTreeSet<(String, String)> = [("GET", "/a"), ("POST", "/b/{id}")]
            .into_iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(found, expected);
    }
}
