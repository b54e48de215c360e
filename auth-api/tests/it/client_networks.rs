//! Every per-client limit counts a client's network, not its address: an
//! IPv6 client rotating through the addresses of its /64 (which it may use
//! freely) gets no more tries than one address. Each test sends from
//! several addresses of one /64, as the load balancer reports them in
//! `X-Forwarded-For`, and is held back where one address would be.

use std::time::Duration;

use auth_api::config::{Config, Limit};
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// Behind the load balancer: the client address is the viewer entry of
/// `X-Forwarded-For`.
fn behind_balancer(c: &mut Config) {
    c.client_addr.trust_forwarded_for = true;
}

fn limit(max: u32, secs: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(secs),
    }
}

/// The `n`th address of the /64 2001:db8:5:6::/64, each in another
/// interface id, as a client rotating through its allocation would use.
fn address(n: u32) -> String {
    in_network(6, n)
}

/// The `n`th address of the /64 2001:db8:5:`net`::/64.
fn in_network(net: u32, n: u32) -> String {
    format!("2001:db8:5:{net:x}:{n:x}:{:x}::1", n * 7 + 1)
}

/// `POST path` with `body`, as seen from client address `ip`.
async fn post_from(app: &TestApp, ip: &str, path: &str, body: &Value) -> u16 {
    app.anonymous()
        .from_ip(ip)
        .post(path, body)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn password_spraying_from_one_slash_64_is_one_client() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.auth.throttle.per_client = limit(3, 60);
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let body = json!({"username": format!("user{n}"), "password": "spray-1234567"});
        statuses.push(post_from(&app, &address(n), "/api/login", &body).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // Another network is another client.
    let body = json!({"username": "user9", "password": "spray-1234567"});
    assert_eq!(
        post_from(&app, "2001:db8:5:7::1", "/api/login", &body).await,
        401
    );
}

#[tokio::test]
async fn guessing_one_account_from_one_slash_64_is_one_pair() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.auth.throttle.per_user_client = limit(3, 900);
    })
    .await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let body = json!({"username": "ada", "password": format!("guess-{n}")});
        statuses.push(post_from(&app, &address(n), "/api/login", &body).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

#[tokio::test]
async fn account_creation_and_forgot_password_count_one_slash_64_once() {
    let app = TestApp::start_with(|c| {
        behind_balancer(c);
        c.accounts.per_client = limit(3, 3600);
    })
    .await;
    let mut created = Vec::new();
    let mut forgot = Vec::new();
    for n in 0..5 {
        // Other facts each time: only the per-client limit can hold these.
        let body = json!({
            "last_name": format!("Nobody{n}"),
            "birth_date": "1950-03-04",
            "zip_code": "02134",
            "ssn_last4": "0000",
            "username": format!("nobody{n}"),
            "email": format!("nobody{n}@example.org"),
            "password": "orchid lantern basin thirty",
        });
        created.push(post_from(&app, &address(n), "/api/accounts", &body).await);
        let body = json!({"email": format!("someone{n}@example.org")});
        // From another /64: the two routes share the per-client count.
        forgot.push(post_from(&app, &in_network(9, n), "/api/password/forgot", &body).await);
    }
    assert!(
        created[..3].iter().all(|s| *s != 429) && created[3..] == [429, 429],
        "{created:?}"
    );
    assert!(
        forgot[..3].iter().all(|s| *s == 202) && forgot[3..] == [429, 429],
        "{forgot:?}"
    );
}
