//! What every request meets: limits, JSON errors, no HTTP Basic, security
//! headers, routing, metrics.

use serde_json::Value;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

#[tokio::test]
async fn malformed_json_is_a_clear_400() {
    let app = TestApp::start().await;
    let resp = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/json")
        .body(r#"{"username": "ada", "password": "#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let missing = app
        .client
        .post(app.url("/api/login"))
        .json(&serde_json::json!({"username": "ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{body}"
    );

    let form = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=ada&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
}

#[tokio::test]
async fn a_17_kib_body_is_refused_with_413() {
    let app = TestApp::start().await;
    let big = format!(
        r#"{{"username":"ada","password":"{}"}}"#,
        "x".repeat(17 * 1024)
    );
    let resp = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn http_basic_gets_the_same_401_as_nothing_and_no_challenge() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let basic = app
        .client
        .get(app.url("/api/me/enrollment"))
        .basic_auth("ada", Some("pw-ada-1234"))
        .send()
        .await
        .unwrap();
    let nothing = app.anonymous().get("/api/me/enrollment").await;
    assert_eq!(basic.status(), 401);
    assert_eq!(nothing.status(), 401);
    assert!(basic.headers().get("www-authenticate").is_none());
    assert!(nothing.headers().get("www-authenticate").is_none());
    assert_eq!(basic.text().await.unwrap(), nothing.text().await.unwrap());
}

#[tokio::test]
async fn unknown_routes_are_json_404_and_wrong_methods_405() {
    let app = TestApp::start().await;
    for path in ["/api/nope", "/api/me", "/nothing"] {
        let resp = app.anonymous().get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    for (method, path) in [
        (reqwest::Method::GET, "/api/login"),
        (reqwest::Method::DELETE, "/api/me/enrollment"),
        (reqwest::Method::GET, "/api/logout"),
    ] {
        let resp = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{path}");
        assert!(
            resp.headers().get("allow").is_some(),
            "{path} 405 without Allow"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::start().await;
    for resp in [
        app.anonymous().get("/healthz").await,
        app.anonymous().get("/api/nope").await,
        app.login("x", "y").await,
    ] {
        let h = resp.headers();
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h.get("strict-transport-security").is_some());
    }
}

#[tokio::test]
async fn metrics_are_served_on_the_admin_port_only() {
    // The metrics recorder is process-wide: nothing else may record here.
    if !whatever_test_app::in_own_process("hardening::metrics_are_served_on_the_admin_port_only") {
        return;
    }
    let app = TestApp::start().await;
    assert_eq!(app.login("x", "y").await.status(), 401);
    assert_eq!(app.anonymous().get("/metrics").await.status(), 404);

    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_addr = admin.local_addr().unwrap();
    let task = tokio::spawn(auth_api::metrics::serve_admin(admin));
    let text = app
        .client
        .get(format!("http://{admin_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    task.abort();
    assert!(
        text.contains(r#"http_requests_total{route="/api/login",method="POST",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{route=\"/api/login\""),
        "{text}"
    );
}
