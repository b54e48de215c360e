//! The route table without a socket: what the framework answers on its own
//! (no route, wrong method, wrong body) keeps the error contract, every
//! answer carries a request id, and metrics are labelled by route template.

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use whatever_test_app::*;

async fn call(app: &TestApp, req: Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let resp = auth_api::routes::app(app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (parts.status, parts.headers, json)
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn the_frameworks_own_answers_keep_the_error_contract() {
    let app = TestApp::start().await;
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (
            Request::get("/api/nope").body(Body::empty()).unwrap(),
            404,
            "not_found",
        ),
        (
            Request::get("/api/fulfillment/a/b")
                .body(Body::empty())
                .unwrap(),
            404,
            "not_found",
        ),
        (
            Request::put("/api/login").body(Body::empty()).unwrap(),
            405,
            "method_not_allowed",
        ),
        (
            Request::post("/api/fulfillment/0b5a2a9e-0000-4000-8000-000000000000")
                .body(Body::empty())
                .unwrap(),
            405,
            "method_not_allowed",
        ),
        (
            post("/api/login", "application/json", "{"),
            400,
            "invalid_json",
        ),
        (
            post("/api/fulfillment", "text/plain", "{}"),
            415,
            "unsupported_media_type",
        ),
        (
            post(
                "/api/fulfillment",
                "application/json",
                "x".repeat(17 * 1024),
            ),
            413,
            "payload_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (got, headers, body) = call(&app, req).await;
        assert_eq!(got.as_u16(), status, "{what}: {body}");
        assert_eq!(body["error"]["code"], code, "{what}");
        assert!(body["error"]["message"].is_string(), "{what}");
        assert_eq!(headers["cache-control"], "no-store", "{what}");
        assert!(
            headers.get("x-request-id").is_some(),
            "{what}: no request id"
        );
        if status == 405 {
            assert!(headers.get("allow").is_some(), "{what}: 405 without Allow");
        }
    }
}

#[tokio::test]
async fn allow_names_the_methods_each_route_has() {
    let app = TestApp::start().await;
    for (path, allowed) in [
        ("/api/login", "POST"),
        ("/api/logout", "POST"),
        ("/api/me/enrollment", "GET"),
        ("/api/fulfillment", "POST"),
        ("/api/accounts", "POST"),
        ("/api/accounts/verify-email", "POST"),
        ("/api/login/second-factor", "POST"),
        ("/api/me/account", "GET"),
        ("/api/me/totp", "POST"),
        ("/api/me/totp/confirm", "POST"),
        ("/api/me/totp/remove", "POST"),
        ("/api/me/recovery-codes", "POST"),
        (
            "/api/me/sessions/00000000-0000-4000-8000-000000000000/end",
            "POST",
        ),
    ] {
        let req = Request::delete(path).body(Body::empty()).unwrap();
        let (status, headers, _) = call(&app, req).await;
        assert_eq!(status, 405, "{path}");
        let allow = headers["allow"].to_str().unwrap();
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{path}: {allow}"
        );
    }
}
