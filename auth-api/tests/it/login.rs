//! Login, logout and sessions through the real server on real Postgres.

use serde_json::Value;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

#[tokio::test]
async fn login_sets_a_locked_down_cookie_and_the_token_works_both_ways() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "correct horse battery", 1).await;

    let resp = app.login("ada", "correct horse battery").await;
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/;",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    // Host-only: no other *.whatever.gov host can set or shadow it.
    assert!(cookie.starts_with("__Host-whatever_session="), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    let token = session_cookie(&resp).unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["username"], "ada");
    let expires: chrono::DateTime<chrono::Utc> =
        body["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - chrono::Utc::now();
    assert!(
        lifetime.num_seconds() > 3500 && lifetime.num_seconds() <= 3600,
        "{lifetime}"
    );

    // Bearer and cookie are both accepted.
    let by_bearer = app
        .client
        .get(app.url("/api/me/enrollment"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_bearer.status(), 200);
    let by_cookie = app
        .client
        .get(app.url("/api/me/enrollment"))
        .header("cookie", format!("__Host-whatever_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "correct horse battery", 1).await;

    let wrong = app.login("ada", "wrong password").await;
    let wrong_status = wrong.status();
    assert!(wrong.headers().get("set-cookie").is_none());
    let wrong_body = wrong.text().await.unwrap();
    let unknown = app.login("nobody", "wrong password").await;
    let unknown_status = unknown.status();
    let unknown_body = unknown.text().await.unwrap();

    assert_eq!(wrong_status, 401);
    assert_eq!(unknown_status, 401);
    assert_eq!(wrong_body, unknown_body);
    assert!(wrong_body.contains("incorrect"), "{wrong_body}");
}

#[tokio::test]
async fn legacy_bcrypt_user_logs_in_once_and_is_rehashed_to_argon2id() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_beneficiary(&db, 7, SSN).await;
    let legacy = bcrypt::hash("old secret", 4).unwrap();
    insert_user_with_hash(&db, "grace", &legacy, Some(7)).await;

    assert_eq!(app.login("grace", "not it").await.status(), 401);
    let stored: String = db
        .query_one(
            r#"SELECT password FROM "user" WHERE username = 'grace'"#,
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, legacy, "a failed login must not touch the hash");

    assert_eq!(app.login("grace", "old secret").await.status(), 200);
    let stored: String = db
        .query_one(
            r#"SELECT password FROM "user" WHERE username = 'grace'"#,
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(
        auth_api::auth::password::verify_blocking("old secret", &stored),
        auth_api::auth::password::Verdict::Accepted
    );
    // And the new hash works through the API too.
    assert_eq!(app.login("grace", "old secret").await.status(), 200);
}

#[tokio::test]
async fn logout_makes_the_token_useless_and_clears_the_cookie() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let token = app.token("ada", "pw-ada-1234").await;
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        200
    );

    let out = app.user(&token).post_empty("/api/logout").await;
    assert_eq!(out.status(), 200);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("__Host-whatever_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(out.headers()["clear-site-data"], r#""cookies", "storage""#);

    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        401
    );
    // Logging out again with the dead token is refused, and still clears.
    let again = app.user(&token).post_empty("/api/logout").await;
    assert_eq!(again.status(), 401);
    assert!(again.headers().get("set-cookie").is_some());
    // Another session of the same user is unaffected.
    let other = app.token("ada", "pw-ada-1234").await;
    assert_eq!(
        app.user(&other).get("/api/me/enrollment").await.status(),
        200
    );
}

#[tokio::test]
async fn a_used_session_is_refreshed_and_logout_kills_every_refreshed_token() {
    let app =
        TestApp::start_with(|c| c.auth.session.refresh_after = std::time::Duration::ZERO).await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let first = app.token("ada", "pw-ada-1234").await;
    // Tokens carry second-resolution times: make the refresh observable.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let resp = app.user(&first).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 200);
    let second = session_cookie(&resp).expect("a refreshed cookie");
    assert_ne!(second, first);
    let keys = &app.state.config.auth.keys;
    let a = auth_api::auth::token::verify(keys, &first).unwrap();
    let b = auth_api::auth::token::verify(keys, &second).unwrap();
    assert_eq!(a.sid, b.sid);
    assert_eq!(a.auth_time, b.auth_time);
    assert!(b.exp > a.exp);
    assert_ne!(a.jti, b.jti);

    let out = app.user(&second).post_empty("/api/logout").await;
    assert_eq!(out.status(), 200);
    assert_eq!(
        app.user(&first).get("/api/me/enrollment").await.status(),
        401
    );
    assert_eq!(
        app.user(&second).get("/api/me/enrollment").await.status(),
        401
    );
}

#[tokio::test]
async fn sessions_end_at_the_absolute_limit() {
    let app = TestApp::start_with(|c| {
        c.auth.session.absolute = std::time::Duration::from_secs(2);
        c.auth.session.refresh_after = std::time::Duration::ZERO;
    })
    .await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let mut token = app.token("ada", "pw-ada-1234").await;
    let claims = auth_api::auth::token::verify(&app.state.config.auth.keys, &token).unwrap();
    assert_eq!(claims.exp, claims.auth_time + 2);
    // Using the session does not extend it past the limit.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = app.user(&token).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 200);
    if let Some(fresh) = session_cookie(&resp) {
        let c = auth_api::auth::token::verify(&app.state.config.auth.keys, &fresh).unwrap();
        assert!(c.exp <= claims.auth_time + 2);
        token = fresh;
    }
    // Past the limit plus the verifier's 5 s leeway.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        401
    );
}
