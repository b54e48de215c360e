//! Attacks on "mail me this", each performed against the real server over
//! HTTP with a fresh Postgres database: mail-bombing from one IPv6 /64 or at
//! one recipient, another client's idempotency key, a redirecting upstream,
//! a plain-HTTP upstream; and the retention that keeps finished requests
//! from piling up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_api::client_addr::ClientAddrConfig;
use auth_api::fulfillment::{FulfillmentSettings, spawn_for};
use fake_fulfillment::FakeFulfillment;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use whatever_test_app::TestApp;

const PLAN: &str = "S5601-012-0";
const PATIENCE: Duration = Duration::from_secs(20);

/// A server behind the load balancer, as in production: the client is read
/// from `X-Forwarded-For` (the viewer, then the CloudFront edge).
async fn app(settings: FulfillmentSettings) -> TestApp {
    let app = TestApp::start_with(|config| {
        config.fulfillment = settings;
        config.client_addr = ClientAddrConfig {
            trust_forwarded_for: true,
            trusted_proxy_hops: 1,
        };
    })
    .await;
    app.sql()
        .await
        .execute(
            "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                               avg_copay_amount, annual_deductible)
             VALUES ($1, 'Basic Rx', 'Acme Health', 'active', 12.50, 5.00, 100.00)",
            &[&PLAN],
        )
        .await
        .unwrap();
    app
}

fn no_worker() -> FulfillmentSettings {
    FulfillmentSettings {
        worker_enabled: false,
        ..FulfillmentSettings::for_tests()
    }
}

fn mail(name: &str, address: &str) -> Value {
    json!({"plan_id": PLAN, "name": name, "address": address,
           "city": "Boston", "state": "MA", "zip": "02134"})
}

/// Posts `body` as the viewer `ip`, with an optional idempotency key.
async fn post_from(
    app: &TestApp,
    ip: &str,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app
        .client
        .post(app.url("/api/fulfillment"))
        .header("x-forwarded-for", format!("{ip}, 130.176.0.9"))
        .json(body);
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap(), headers)
}

async fn queued(app: &TestApp) -> i64 {
    app.sql()
        .await
        .query_one("SELECT count(*) FROM fulfillment_request", &[])
        .await
        .unwrap()
        .get(0)
}

async fn status_of(app: &TestApp, id: &str) -> (StatusCode, Value) {
    let resp = app.anonymous().get(&format!("/api/fulfillment/{id}")).await;
    (resp.status(), resp.json().await.unwrap())
}

async fn wait_for(app: &TestApp, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, answer) = status_of(app, id).await;
        if answer["status"] == want {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never became {want}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn rotating_addresses_within_one_ipv6_64_hits_the_network_cap() {
    let app = app(FulfillmentSettings {
        rate_limit: 3,
        ..no_worker()
    })
    .await;
    // A new address of the same /64 for every request, a new recipient too.
    for n in 1..=3 {
        let ip = format!("2001:db8:5:7:{n:x}::{n:x}");
        let (status, answer, _) =
            post_from(&app, &ip, &mail(&format!("Person {n}"), "1 Main St"), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{ip}: {answer}");
    }
    let (status, answer, headers) = post_from(
        &app,
        "2001:db8:5:7:ffff:ffff:ffff:fffe",
        &mail("Person 4", "1 Main St"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"]["code"], "too_many_requests");
    assert!((1..=600).contains(&retry_after(&headers)));
    // The neighbouring /64 is another subscriber; IPv4 counts per address.
    for ip in ["2001:db8:5:8::1", "203.0.113.7"] {
        let (status, _, _) = post_from(&app, ip, &mail("Person 5", "1 Main St"), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{ip}");
    }
    assert_eq!(queued(&app).await, 5);
}

#[tokio::test]
async fn one_recipient_from_many_networks_hits_the_recipient_cap() {
    let app = app(FulfillmentSettings {
        recipient_limit: 2,
        ..no_worker()
    })
    .await;
    let (status, first, _) = post_from(
        &app,
        "198.51.100.1",
        &mail("Zoë O'Brien", "1 Main Street, Apt. 2"),
        Some("first"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Replaying an accepted request costs the recipient nothing.
    let (status, again, headers) = post_from(
        &app,
        "198.51.100.1",
        &mail("Zoë O'Brien", "1 Main Street, Apt. 2"),
        Some("first"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again["request_id"], first["request_id"]);
    assert_eq!(headers["idempotent-replayed"], "true");
    // The same person written another way, from another network.
    let (status, answer, _) = post_from(
        &app,
        "2001:db8:9::1",
        &mail("ZOE OBRIEN", "1 MAIN ST #2"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    // A third network, a third spelling: over the cap.
    let (status, answer, headers) = post_from(
        &app,
        "203.0.113.50",
        &mail("Ms. Zoe O’Brien", "1 Main St. Unit 2"),
        Some("third"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!((1..=86_400).contains(&retry_after(&headers)));
    // Someone else at another address is not affected.
    let (status, _, _) =
        post_from(&app, "203.0.113.50", &mail("Ann Lee", "12 Elm Ave"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(queued(&app).await, 3, "the refused request queued nothing");
    let keys: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM fulfillment_idempotency", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(keys, 1, "a refused request keeps no idempotency key");
}

#[tokio::test]
async fn another_clients_idempotency_key_neither_replays_nor_blocks() {
    let app = app(no_worker()).await;
    let victim = mail("Zoë O'Brien", "1 Main St");
    let (status, first, _) = post_from(&app, "203.0.113.7", &victim, Some("order-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Same key, same body, another network: not the victim's request.
    let (status, stolen, headers) = post_from(&app, "198.51.100.9", &victim, Some("order-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{stolen}");
    assert_ne!(stolen["request_id"], first["request_id"]);
    assert!(headers.get("idempotent-replayed").is_none());
    // Same key, another body, a third network: no 409 telling the key is in use.
    let (status, other, _) = post_from(
        &app,
        "2001:db8:77::1",
        &mail("Mallory", "9 Elm St"),
        Some("order-1"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{other}");
    assert_ne!(other["request_id"], first["request_id"]);

    // The owner's own retry still replays, from another address of its network.
    let (status, replay, headers) = post_from(&app, "203.0.113.7", &victim, Some("order-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(replay["request_id"], first["request_id"]);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(queued(&app).await, 3);
}

#[tokio::test]
async fn finished_requests_are_purged_after_the_retention_and_fresh_ones_kept() {
    let fake = FakeFulfillment::start().await.unwrap();
    let settings = FulfillmentSettings {
        url: Some(fake.url()),
        ..FulfillmentSettings::for_tests()
    };
    let app = app(settings).await;
    let worker = spawn_for(&app.state).unwrap().expect("a worker");
    let (_, old, _) = post_from(
        &app,
        "203.0.113.7",
        &mail("Old One", "1 Main St"),
        Some("k1"),
    )
    .await;
    let (_, fresh, _) = post_from(&app, "203.0.113.7", &mail("New One", "2 Main St"), None).await;
    let (old, fresh) = (
        old["request_id"].as_str().unwrap(),
        fresh["request_id"].as_str().unwrap(),
    );
    wait_for(&app, old, "sent").await;
    wait_for(&app, fresh, "sent").await;
    worker.stop().await;

    // One finished 31 days ago, the other 29 days ago; both past the
    // default 30-day retention only in the first case.
    let sql = app.sql().await;
    for (id, days) in [(old, 31), (fresh, 29)] {
        sql.execute(
            "UPDATE fulfillment_request SET finished_at = now() - make_interval(days => $2)
              WHERE request_id = $1::text::uuid",
            &[&id, &days],
        )
        .await
        .unwrap();
    }
    // A request that never reached any upstream, older than the delivery
    // limit: it expires, with its address erased.
    let (_, stuck, _) = post_from(&app, "203.0.113.8", &mail("Stuck", "3 Main St"), None).await;
    let stuck = stuck["request_id"].as_str().unwrap();
    sql.execute(
        "UPDATE fulfillment_request SET created_at = now() - interval '2 hours'
          WHERE request_id = $1::text::uuid",
        &[&stuck],
    )
    .await
    .unwrap();

    // The next worker's housekeeping (a replica starting, or the minute
    // passing) purges; this one has no upstream at all.
    let idle = app
        .replica(|config| {
            config.fulfillment = FulfillmentSettings {
                url: None,
                max_age: Duration::from_secs(3600),
                ..FulfillmentSettings::for_tests()
            }
        })
        .await;
    let worker = spawn_for(&idle.state).unwrap().expect("a worker");
    let deadline = Instant::now() + PATIENCE;
    while status_of(&app, old).await.0 != StatusCode::NOT_FOUND {
        assert!(
            Instant::now() < deadline,
            "the old request was never purged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = wait_for(&app, stuck, "failed").await;
    assert_eq!(answer["reason"], "not delivered in time; please ask again");
    worker.stop().await;

    assert_eq!(status_of(&app, fresh).await.1["status"], "sent");
    let row = sql
        .query_one(
            "SELECT (SELECT count(*) FROM fulfillment_idempotency),
                    (SELECT payload IS NULL FROM fulfillment_request
                      WHERE request_id = $1::text::uuid)",
            &[&stuck],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        0,
        "the purged request's key went with it"
    );
    assert!(row.get::<_, bool>(1), "an expired request keeps no address");
    assert_eq!(queued(&app).await, 2);
    assert!(whatever_test_app::logs().contains("finished fulfillment requests purged"));
}

/// A plain TCP server answering every request with a redirect to
/// `location`, counting the requests it got.
async fn redirector(location: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            let location = location.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as the client sends at once.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\n\
                     content-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn a_redirecting_upstream_gets_no_repost_and_the_request_fails() {
    // Where the redirect points: a server that records every call.
    let elsewhere = FakeFulfillment::start().await.unwrap();
    let (addr, hits) = redirector(format!("{}/requests", elsewhere.url())).await;
    let app = app(FulfillmentSettings {
        url: Some(format!("http://{addr}")),
        ..FulfillmentSettings::for_tests()
    })
    .await;
    let worker = spawn_for(&app.state).unwrap().expect("a worker");
    let (_, answer, _) = post_from(&app, "203.0.113.7", &mail("Zoë", "1 Main St"), None).await;
    let id = answer["request_id"].as_str().unwrap().to_string();
    let answer = wait_for(&app, &id, "failed").await;
    assert_eq!(
        answer["reason"],
        "the Fulfillment API redirected the request (HTTP 307); redirects are not followed"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.stop().await;
    assert_eq!(hits.load(Ordering::SeqCst), 1, "posted once, not retried");
    assert!(
        elsewhere.received().is_empty(),
        "the name and address went where the redirect pointed: {:?}",
        elsewhere.received()
    );
    let logs = whatever_test_app::logs();
    assert!(
        logs.contains("answered with a redirect; not followed"),
        "{logs}"
    );
    assert!(!logs.contains("Main St"), "the address is never logged");
}

#[tokio::test]
async fn a_plain_http_upstream_is_refused_at_start_unless_allowed() {
    let run = |allow: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_auth-api"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FULFILLMENT_URL", "http://fulfillment.example.gov")
            // Nothing listens there: a configuration that passes fails later,
            // connecting, with another message.
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
            .env("RUN_MIGRATIONS", "true")
            .env("DB_WAIT_MS", "100");
        if let Some(allow) = allow {
            cmd.env("FULFILLMENT_ALLOW_HTTP", allow);
        }
        let out = cmd.output().expect("auth-api binary");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for refused in [run(None), run(Some("false"))] {
        assert!(
            refused.contains("FULFILLMENT_URL: \"http://fulfillment.example.gov\" is not https"),
            "{refused}"
        );
        assert!(refused.contains("FULFILLMENT_ALLOW_HTTP=true"), "{refused}");
    }
    let allowed = run(Some("true"));
    assert!(!allowed.contains("is not https"), "{allowed}");
    assert!(allowed.contains("cannot connect to Postgres"), "{allowed}");
}
