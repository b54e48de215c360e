//! Usernames compare without regard to case, and a password that is an
//! account's only factor is 15 characters or more: signing in as `DEMO01`
//! reaches `demo01`, every spelling counts against one throttle, no second
//! spelling of a name can be created, and an account with no second factor
//! cannot change or reset to a short password.

use std::time::Duration;

use auth_api::config::Limit;
use serde_json::json;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

#[tokio::test]
async fn any_spelling_of_a_username_signs_in_to_the_one_account() {
    let app = TestApp::start().await;
    insert_user(&app.sql().await, "demo01", "pw-demo-1234", None).await;
    for typed in ["demo01", "DEMO01", "Demo01"] {
        let resp = app.login(typed, "pw-demo-1234").await;
        assert_eq!(resp.status(), 200, "{typed}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["username"], "demo01", "the account's own spelling");
    }
    assert_eq!(app.login("DEMO01", "wrong-password").await.status(), 401);
}

#[tokio::test]
async fn every_spelling_counts_against_one_throttle() {
    let app = TestApp::start_with(|c| {
        c.auth.throttle.per_user_client = Limit {
            max: 3,
            window: Duration::from_secs(900),
        }
    })
    .await;
    insert_user(&app.sql().await, "demo01", "pw-demo-1234", None).await;
    // Three wrong guesses, each under another spelling ...
    for typed in ["DEMO01", "Demo01", "dEMO01"] {
        assert_eq!(app.login(typed, "wrong-password").await.status(), 401);
    }
    // ... and the account's own spelling is held back: no spelling buys a
    // fresh allowance.
    assert_eq!(app.login("demo01", "wrong-password").await.status(), 429);
}

#[tokio::test]
async fn a_second_spelling_of_a_taken_username_is_not_created() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    let sql = app.sql().await;
    insert_user(&sql, "zoe.obrien", "pw-zoe-12345", None).await;
    insert_beneficiary(&sql, 1, SSN).await;
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/accounts",
            &json!({
                "last_name": "O'Brien",
                "birth_date": "1950-03-04",
                "zip_code": "02134",
                "ssn_last4": "1120",
                "username": "Zoe.OBrien",
                "email": "zoe@example.org",
                "password": "orchid lantern basin thirty",
            }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let reason: String = sql
        .query_one(
            "SELECT detail->>'reason' FROM security_event WHERE kind = 'account_not_created'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason, "username_taken");
    let users: i64 = sql
        .query_one(r#"SELECT count(*) FROM "user""#, &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
}

#[tokio::test]
async fn accounts_that_shared_a_name_before_keep_their_own_spelling() {
    let app = TestApp::start().await;
    let sql = app.sql().await;
    // Two older accounts that differ only in case, as migration V28 found
    // and marked them: `demo01` keeps the name, `Demo01` is marked.
    sql.batch_execute("DROP INDEX user_username_key_idx")
        .await
        .unwrap();
    insert_user(&sql, "demo01", "pw-lower-1234", None).await;
    insert_user(&sql, "Demo01", "pw-upper-1234", None).await;
    sql.batch_execute(include_str!("../../../migrations/V28__username_case.sql"))
        .await
        .unwrap();
    let signed_in_as = |typed: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let resp = app.login(typed, password).await;
            assert_eq!(resp.status(), 200, "{typed}");
            resp.json::<serde_json::Value>().await.unwrap()["username"].clone()
        }
    };
    assert_eq!(signed_in_as("Demo01", "pw-upper-1234").await, "Demo01");
    assert_eq!(signed_in_as("demo01", "pw-lower-1234").await, "demo01");
    // Any other spelling is the name's keeper.
    assert_eq!(signed_in_as("DEMO01", "pw-lower-1234").await, "demo01");
    assert_eq!(app.login("DEMO01", "pw-upper-1234").await.status(), 401);
}

#[tokio::test]
async fn a_password_that_is_the_only_factor_needs_15_characters() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    let sql = app.sql().await;
    // ada is an older account with no second factor.
    user_with_beneficiary(&sql, "ada", "pw-ada-1234", 1).await;
    let ada = app.sign_in("ada", "pw-ada-1234").await;
    // 13 unrelated characters: enough beside a second factor, not alone.
    let short = "plum ox 7 jar";
    let (status, body) = ada
        .post_json(
            "/api/me/password",
            &json!({"current_password": "pw-ada-1234", "new_password": short}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "new_password");
    let message = body["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("at least 15 characters"), "{message}");
    let token = "reset-token-for-this-test-only-0123456789abcdef";
    sql.execute(
        "INSERT INTO account_token (token_hash, username, purpose, expires_at)
         VALUES ($1, 'ada', 'reset_password', now() + interval '1 hour')",
        &[&auth_api::auth::links::digest(token)],
    )
    .await
    .unwrap();
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": short}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "password");

    // An account that must keep a second factor (made through the API)
    // may choose the short one: the factor is its other half.
    user_with_beneficiary(&sql, "bea", "pw-bea-1234", 2).await;
    sql.execute(
        "INSERT INTO account (username, beneficiary_id, email_verified_at) VALUES ('bea', 2, now())",
        &[],
    )
    .await
    .unwrap();
    let token = "another-reset-token-for-this-test-0123456789ab";
    sql.execute(
        "INSERT INTO account_token (token_hash, username, purpose, expires_at)
         VALUES ($1, 'bea', 'reset_password', now() + interval '1 hour')",
        &[&auth_api::auth::links::digest(token)],
    )
    .await
    .unwrap();
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": short}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
