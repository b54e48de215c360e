//! Judging a new password's strength, attacked: passwords crafted to cost
//! the checker the most, sent many at once, leave the rest of the API
//! answering; every refused password counts against the client's limit,
//! at account creation as at a reset or a change.

use std::time::{Duration, Instant};

use auth_api::config::Limit;
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// The l33t symbols of `zxcvbn`'s table, which make it try every
/// combination of the letters they may stand for over every substring: 100
/// of them took 1.5 s of CPU each before the checker was bounded.
fn costliest_password() -> String {
    "4@8({[<3691!|70$5+%2".chars().cycle().take(100).collect()
}

/// A creation request for the beneficiary [`insert_beneficiary`] writes,
/// with `password`.
fn create_body(password: &str) -> Value {
    json!({
        "last_name": "O'Brien",
        "birth_date": "1950-03-04",
        "zip_code": "02134",
        "ssn_last4": "1120",
        "username": "zoe.obrien",
        "email": "zoe@example.org",
        "password": password,
    })
}

#[tokio::test]
async fn costly_passwords_sent_at_once_leave_healthz_answering() {
    // This test's runtime has one thread, which also serves the API: work
    // done on it instead of the blocking pool stalls every answer. Limits
    // high enough that every request reaches the checker.
    let app = TestApp::start_with(|c| {
        let plenty = Limit {
            max: 100,
            window: Duration::from_secs(3600),
        };
        c.accounts.per_client = plenty;
        c.accounts.per_facts = plenty;
    })
    .await;
    insert_beneficiary(&app.sql().await, 1, SSN).await;
    let flood: Vec<_> = (0..8)
        .map(|_| {
            let client = app.anonymous();
            let body = create_body(&costliest_password());
            tokio::spawn(async move { client.post_json("/api/accounts", &body).await })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let resp = app.anonymous().get("/healthz").await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(resp.status(), 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for request in flood {
        let (status, body) = request.await.unwrap();
        // Judged (refused or accepted), or turned away while the checker
        // was busy; never a timeout or an error of ours.
        assert!([202, 422, 503].contains(&status), "{status} {body}");
    }
    println!("slowest /healthz during the flood: {slowest:?}");
    assert!(slowest < Duration::from_secs(1), "{slowest:?}");
}

#[tokio::test]
async fn refused_passwords_count_against_the_client_at_creation() {
    let app = TestApp::start_with(|c| {
        c.accounts.per_client = Limit {
            max: 3,
            window: Duration::from_secs(3600),
        }
    })
    .await;
    insert_beneficiary(&app.sql().await, 1, SSN).await;
    for _ in 0..3 {
        let (status, body) = app
            .anonymous()
            .post_json("/api/accounts", &create_body("password1234"))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["fields"][0]["field"], "password");
    }
    let resp = app
        .anonymous()
        .post("/api/accounts", &create_body("orchid lantern basin thirty"))
        .await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn refused_passwords_count_against_the_client_at_a_change_and_a_reset() {
    let app = TestApp::start_with(|c| {
        c.mail.smtp_url = "smtp://127.0.0.1:9".into();
        c.accounts.per_client = Limit {
            max: 4,
            window: Duration::from_secs(3600),
        }
    })
    .await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let ada = app.sign_in("ada", "pw-ada-1234").await;
    for _ in 0..2 {
        let (status, body) = ada
            .post_json(
                "/api/me/password",
                &json!({"current_password": "pw-ada-1234", "new_password": "password12345678"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }
    // A reset link of ada's, as the mail would carry it.
    let token = "reset-token-for-this-test-only-0123456789abcdef";
    app.sql()
        .await
        .execute(
            "INSERT INTO account_token (token_hash, username, purpose, expires_at)
             VALUES ($1, 'ada', 'reset_password', now() + interval '1 hour')",
            &[&auth_api::auth::links::digest(token)],
        )
        .await
        .unwrap();
    for _ in 0..2 {
        let (status, body) = app
            .anonymous()
            .post_json(
                "/api/password/reset",
                &json!({"token": token, "password": "qwertyuiop123456"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }
    // Four refusals from this address: a good password is held back too.
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": token, "password": "quilt harbor seventy ember"}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
}
