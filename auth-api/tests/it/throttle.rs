//! Failed logins are throttled in Postgres, per username and address, per
//! account, and per address; the throttle lifts when the window passes.

use std::time::Duration;

use auth_api::config::Limit;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

fn limit(max: u32, secs: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(secs),
    }
}

#[tokio::test]
async fn throttling_kicks_in_and_lifts() {
    let app = TestApp::start_with(|c| c.auth.throttle.per_user_client = limit(3, 2)).await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;

    for _ in 0..3 {
        assert_eq!(app.login("ada", "wrong").await.status(), 401);
    }
    let throttled = app.login("ada", "pw-ada-1234").await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    let retry: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = throttled.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.login("ada", "pw-ada-1234").await.status(),
        200,
        "the throttle lifts"
    );
    // Success resets the account's count.
    for _ in 0..3 {
        assert_eq!(app.login("ada", "wrong").await.status(), 401);
    }
    assert_eq!(app.login("ada", "wrong").await.status(), 429);
}

#[tokio::test]
async fn unknown_usernames_are_throttled_like_real_ones() {
    let app = TestApp::start_with(|c| c.auth.throttle.per_user_client = limit(2, 60)).await;
    for _ in 0..2 {
        assert_eq!(app.login("ghost", "x").await.status(), 401);
    }
    assert_eq!(app.login("ghost", "x").await.status(), 429);
}

#[tokio::test]
async fn one_address_spraying_many_usernames_is_throttled() {
    let app = TestApp::start_with(|c| c.auth.throttle.per_client = limit(4, 60)).await;
    for i in 0..4 {
        assert_eq!(app.login(&format!("user{i}"), "x").await.status(), 401);
    }
    assert_eq!(app.login("user99", "x").await.status(), 429);
}

#[tokio::test]
async fn the_account_limit_holds_across_addresses_and_replicas() {
    let app = TestApp::start_with(|c| {
        c.auth.throttle.per_account = limit(3, 60);
        c.client_addr.trust_forwarded_for = true;
    })
    .await;
    let replica = app
        .replica(|c| {
            c.auth.throttle.per_account = limit(3, 60);
            c.client_addr.trust_forwarded_for = true;
        })
        .await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let from = |server: &TestApp, ip: &str| {
        server
            .client
            .post(server.url("/api/login"))
            // viewer, then the CloudFront edge our ALB recorded
            .header("x-forwarded-for", format!("{ip}, 130.176.0.1"))
            .json(&serde_json::json!({"username": "ada", "password": "wrong"}))
    };
    assert_eq!(
        from(&app, "203.0.113.1").send().await.unwrap().status(),
        401
    );
    assert_eq!(
        from(&replica, "203.0.113.2").send().await.unwrap().status(),
        401
    );
    assert_eq!(
        from(&app, "203.0.113.3").send().await.unwrap().status(),
        401
    );
    assert_eq!(
        from(&replica, "203.0.113.4").send().await.unwrap().status(),
        429
    );

    let stored: Vec<String> = db
        .query(
            "SELECT host(client_addr) FROM login_failure ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]);
    let plain: i64 = db
        .query_one(
            "SELECT count(*) FROM login_failure WHERE account = convert_to('ada', 'UTF8')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(plain, 0, "usernames are stored hashed");
}
