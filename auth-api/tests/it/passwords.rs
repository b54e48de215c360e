//! Forgotten, reset and changed passwords and the sessions they end: the
//! same answer whether or not an address has an account, a mailed link that
//! works once, old sessions refused after a reset, a change that needs the
//! current password and keeps only the session that made it, wrong current
//! passwords held back by the sign-in limits, and one session ended from
//! another (never someone else's).

use crate::maildev::Maildev;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

#[tokio::test]
async fn a_reset_by_mail_works_once_and_ends_every_session() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    // As the API's own database role: every grant these steps need is there.
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    // Reset links go to verified addresses only (tests/account_mail.rs).
    verify_address(&app.sql().await, "ada").await;
    let first = app.token("ada", "pw-ada-1234").await;
    let second = app.token("ada", "pw-ada-1234").await;

    // Known and unknown addresses get the same answer; only the known one a mail.
    let known = app
        .anonymous()
        .post_json("/api/password/forgot", &json!({"email": "ADA@example.com"}))
        .await;
    let unknown = app
        .anonymous()
        .post_json(
            "/api/password/forgot",
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, 202);
    let link = mail.wait_for("ada@example.com", 1).await;
    assert_eq!(link[0].subject, "Reset your whatever.gov password");
    assert!(
        link[0].text.contains("/account/reset/#token="),
        "{}",
        link[0].text
    );
    let token = link[0].token();
    assert!(
        mail.messages()
            .await
            .iter()
            .all(|m| !m.to.contains(&"nobody@example.com".to_string())),
        "no mail to an unknown address"
    );

    // A weak password is refused and leaves the link working.
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": "password1"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "password");
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": "quilt harbor seventy ember"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Both sessions are over; the old password is; the new one works.
    assert_eq!(
        app.user(&first).get("/api/me/enrollment").await.status(),
        401
    );
    assert_eq!(
        app.user(&second).get("/api/me/enrollment").await.status(),
        401
    );
    assert_eq!(app.login("ada", "pw-ada-1234").await.status(), 401);
    let fresh = app.token("ada", "quilt harbor seventy ember").await;
    assert_eq!(
        app.user(&fresh).get("/api/me/enrollment").await.status(),
        200
    );
    // The link works once.
    let (status, _) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": "another fine long phrase"}),
        )
        .await;
    assert_eq!(status, 401);
    let told = mail.wait_for("ada@example.com", 2).await;
    assert_eq!(told[1].subject, "Your whatever.gov password was changed");
    assert_eq!(
        app.audit_kinds("ada").await,
        [
            "sign_in_succeeded",
            "sign_in_succeeded",
            "password_reset_requested",
            "password_reset",
            "sign_in_failed",
            "sign_in_succeeded"
        ]
    );
}

#[tokio::test]
async fn a_change_needs_the_current_password_and_ends_the_other_sessions() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let other = app.token("ada", "pw-ada-1234").await;
    let mine = app.token("ada", "pw-ada-1234").await;

    let (status, body) = app
        .user(&mine)
        .post_json(
            "/api/me/password",
            &json!({"current_password": "wrong one", "new_password": "quilt harbor seventy ember"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "current_password");
    assert_eq!(
        app.user(&other).get("/api/me/enrollment").await.status(),
        200,
        "nothing changed"
    );

    let (status, body) = app.user(&mine).post_json("/api/me/password", &json!({"current_password": "pw-ada-1234", "new_password": "quilt harbor seventy ember"}))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions_ended"], 1);
    assert_eq!(
        app.user(&mine).get("/api/me/enrollment").await.status(),
        200,
        "this session goes on"
    );
    assert_eq!(
        app.user(&other).get("/api/me/enrollment").await.status(),
        401,
        "the other one is over"
    );

    // The list shows what is left; "sign out everywhere" ends it.
    let list: Value = app
        .user(&mine)
        .get("/api/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{list}");
    assert_eq!(sessions[0]["current"], true);
    let (status, _) = app
        .user(&mine)
        .post_json("/api/me/sessions/end-all", &json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.user(&mine).get("/api/me/enrollment").await.status(),
        401
    );
    assert_eq!(
        app.audit_kinds("ada").await,
        [
            "sign_in_succeeded",
            "sign_in_succeeded",
            "password_check_failed",
            "password_changed",
            "sessions_ended"
        ]
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_sign_in_limits() {
    let app = TestApp::start_with(|c| {
        c.mail.smtp_url = "smtp://127.0.0.1:9".into();
        // Two free mistakes per account and address, then a wait.
        c.auth.throttle.per_user_client.max = 2;
    })
    .await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let mine = app.token("ada", "pw-ada-1234").await;
    let change = |current: &str| json!({"current_password": current, "new_password": "quilt harbor seventy ember"});
    for _ in 0..2 {
        let (status, _) = app
            .user(&mine)
            .post_json("/api/me/password", &change("guess"))
            .await;
        assert_eq!(status, 422);
    }
    // Held back now, even with the right password, and so is a sign-in.
    let (status, body) = app
        .user(&mine)
        .post_json("/api/me/password", &change("pw-ada-1234"))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(app.login("ada", "pw-ada-1234").await.status(), 429);
    assert_eq!(
        app.audit_kinds("ada").await,
        [
            "sign_in_succeeded",
            "password_check_failed",
            "password_check_failed"
        ]
    );
    let detail: Value = app
        .sql()
        .await
        .query_one(
            "SELECT detail FROM security_event WHERE kind = 'password_check_failed' LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(detail, json!({"for": "change_password"}));
}

/// The session id a token belongs to, read from its payload (`sid`).
fn session_id(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().expect("a sid claim").to_string()
}

async fn end_session(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.user(token)
        .post_empty(&format!("/api/me/sessions/{id}/end"))
        .await
}

#[tokio::test]
async fn ending_one_session_signs_out_that_one_only_and_ending_this_one_clears_the_cookie() {
    // As the API's own database role: every grant these steps need is there.
    let (_owner, app, _login) = TestApp::as_api_role(|_| {}).await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let other = app.token("ada", "pw-ada-1234").await;
    let third = app.token("ada", "pw-ada-1234").await;
    let mine = app.token("ada", "pw-ada-1234").await;

    let resp = end_session(&app, &mine, &session_id(&other)).await;
    assert_eq!(resp.status(), 200);
    assert!(
        session_cookie(&resp).is_none() && resp.headers().get("set-cookie").is_none(),
        "this browser stays signed in"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "session_ended", "current": false}));
    assert_eq!(
        app.user(&other).get("/api/me/enrollment").await.status(),
        401,
        "ended"
    );
    assert_eq!(
        app.user(&mine).get("/api/me/enrollment").await.status(),
        200
    );
    assert_eq!(
        app.user(&third).get("/api/me/enrollment").await.status(),
        200
    );
    assert_eq!(
        end_session(&app, &mine, &session_id(&other)).await.status(),
        404,
        "an ended session is not there to end again"
    );
    let list: Value = app
        .user(&mine)
        .get("/api/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    let mut listed: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    listed.sort();
    let mut expected = [session_id(&mine), session_id(&third)];
    expected.sort();
    assert_eq!(listed, expected);

    // Ending this one is signing out: the cookie and the site's data go.
    let resp = end_session(&app, &mine, &session_id(&mine)).await;
    assert_eq!(resp.status(), 200);
    let cleared = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("__Host-whatever_session=;") && c.contains("Max-Age=0"));
    assert!(cleared, "{:?}", resp.headers());
    assert_eq!(resp.headers()["clear-site-data"], r#""cookies", "storage""#);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["current"], true);
    assert_eq!(
        app.user(&mine).get("/api/me/enrollment").await.status(),
        401
    );
    assert_eq!(
        app.user(&third).get("/api/me/enrollment").await.status(),
        200
    );

    let events = app
        .sql()
        .await
        .query(
            "SELECT detail FROM security_event WHERE kind = 'sessions_ended' ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let details: Vec<Value> = events.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        details,
        [
            json!({"sessions_ended": 1, "session": session_id(&other)}),
            json!({"sessions_ended": 1, "session": session_id(&mine)}),
        ]
    );
}

#[tokio::test]
async fn nobody_ends_someone_else_s_session_and_every_refusal_looks_the_same() {
    let app = TestApp::start().await;
    let sql = app.sql().await;
    user_with_beneficiary(&sql, "ada", "pw-ada-1234", 1).await;
    user_with_beneficiary(&sql, "bob", "pw-bob-56789", 2).await;
    let ada = app.token("ada", "pw-ada-1234").await;
    let bob = app.token("bob", "pw-bob-56789").await;
    let ended = app.token("ada", "pw-ada-1234").await;
    assert_eq!(
        end_session(&app, &ada, &session_id(&ended)).await.status(),
        200
    );

    let mut answers = Vec::new();
    for id in [
        session_id(&bob),
        "00000000-0000-4000-8000-000000000000".to_string(),
        "not-a-session".to_string(),
        "%FF".to_string(),
        session_id(&ended),
    ] {
        let resp = end_session(&app, &ada, &id).await;
        let status = resp.status().as_u16();
        answers.push((status, resp.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 404);
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "one answer for all: {answers:?}"
    );
    assert_eq!(
        app.user(&bob).get("/api/me/enrollment").await.status(),
        200,
        "bob is still in"
    );
    // Without a session, nothing is looked up at all.
    let resp = app
        .client
        .post(app.url(&format!("/api/me/sessions/{}/end", session_id(&bob))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(app.user(&bob).get("/api/me/enrollment").await.status(), 200);
}
