//! Attacks on the login throttle: concurrent guesses racing the limit,
//! guessing from many addresses, and trying to lock the owner out. The
//! number of guesses that reached the password hash is read from the
//! hashing itself ([`Passwords::checks`]), not from the throttle.
//!
//! [`Passwords::checks`]: auth_api::auth::password::Passwords::checks

use std::time::Duration;

use auth_api::config::{Config, Limit};
use futures::future::join_all;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

fn limit(max: u32, secs: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(secs),
    }
}

/// Behind the load balancer, and patient with the small test pool and the
/// two hashing permits, so that 200 requests at once are answered by the
/// throttle, not by timeouts.
fn behind_balancer(c: &mut Config) {
    c.client_addr.trust_forwarded_for = true;
    c.db_wait = Duration::from_secs(60);
    c.request_timeout = Duration::from_secs(120);
}

/// `POST /api/login` as seen from client address `ip`.
async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str) -> u16 {
    let body = serde_json::json!({"username": username, "password": password});
    app.anonymous()
        .from_ip(ip)
        .post("/api/login", &body)
        .await
        .status()
        .as_u16()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn two_hundred_concurrent_guesses_from_one_address_reach_the_hash_five_times() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.auth.throttle.per_user_client = limit(5, 900);
    })
    .await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let before = app.state.passwords.checks();

    let app = &app;
    let statuses =
        join_all((0..200).map(|i| async move {
            login_from(app, "203.0.113.9", "ada", &format!("guess{i}")).await
        }))
        .await;

    let hashed = app.state.passwords.checks() - before;
    assert_eq!(hashed, 5, "guesses that reached the hash");
    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 195, "{statuses:?}");
}

#[tokio::test]
async fn guessing_from_two_hundred_addresses_stays_within_the_account_limit() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.auth.throttle.per_account = limit(20, 86_400);
    })
    .await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let before = app.state.passwords.checks();

    let addresses: Vec<String> = (0..200)
        .map(|i| format!("198.18.{}.{}", i / 100, i % 100 + 1))
        .collect();
    let statuses = join_all(
        addresses
            .iter()
            .map(|ip| login_from(&app, ip, "ada", "not-her-password")),
    )
    .await;

    let hashed = app.state.passwords.checks() - before;
    assert_eq!(hashed, 20, "guesses that reached the hash");
    assert_eq!(count(&statuses, 401), 20, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 180, "{statuses:?}");
    // The failures written down are exactly the guesses that were hashed.
    let recorded: i64 = db
        .query_one("SELECT count(*) FROM login_failure", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 20);
}

#[tokio::test]
async fn the_owner_signs_in_from_their_own_address_during_an_attack() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.auth.throttle.per_account = limit(10, 86_400);
    })
    .await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let home = "192.0.2.10";
    assert_eq!(login_from(&app, home, "ada", "pw-ada-1234").await, 200);

    // 50 guesses from 50 other addresses: the account limit stops them.
    let mut attack = Vec::new();
    for i in 1..=50 {
        attack.push(login_from(&app, &format!("203.0.113.{i}"), "ada", "guess").await);
    }
    assert_eq!(count(&attack, 401), 10, "{attack:?}");
    assert_eq!(count(&attack, 429), 40, "{attack:?}");

    // The owner, at home, is not held by the attack: a typo is just a typo,
    // and the right password signs in.
    assert_eq!(login_from(&app, home, "ada", "pw-ada-123").await, 401);
    assert_eq!(login_from(&app, home, "ada", "pw-ada-1234").await, 200);

    // Her sign-in reset the account's count (NIST: consecutive failures),
    // and the limit still holds for addresses she never used.
    for i in 51..=60 {
        assert_eq!(
            login_from(&app, &format!("203.0.113.{i}"), "ada", "guess").await,
            401
        );
    }
    assert_eq!(login_from(&app, "203.0.113.61", "ada", "guess").await, 429);
}

#[tokio::test]
async fn one_address_waits_longer_after_every_failure_past_the_free_ones() {
    let app = TestApp::start_with(|c| c.auth.throttle.per_user_client = limit(2, 60)).await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let retry_after = |resp: reqwest::Response| -> u64 {
        assert_eq!(resp.status(), 429);
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    // Time passing, without waiting for it.
    let age_failures = |secs: i32| {
        let db = &db;
        async move {
            db.execute(
                "UPDATE login_failure SET failed_at = failed_at - $1::int * interval '1 second'",
                &[&secs],
            )
            .await
            .unwrap();
        }
    };

    for _ in 0..2 {
        assert_eq!(app.login("ada", "wrong").await.status(), 401);
    }
    // Past the free ones: 60 s after the last failure, then 120 s, then 240 s.
    for wait in [60, 120, 240] {
        let retry = retry_after(app.login("ada", "pw-ada-1234").await);
        assert!(
            retry <= wait && retry + 5 >= wait,
            "Retry-After {retry}, expected {wait}"
        );
        age_failures(wait as i32 + 1).await;
        if wait < 240 {
            assert_eq!(app.login("ada", "wrong").await.status(), 401);
        }
    }
    assert_eq!(app.login("ada", "pw-ada-1234").await.status(), 200);
}
