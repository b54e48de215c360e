//! Fulfillment brokering end to end: the real server on a socket, a fresh
//! Postgres database per test, and the fake Fulfillment API over real HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_api::client_addr::ClientAddrConfig;
use auth_api::config::Config;
use auth_api::fulfillment::{FulfillmentSettings, Worker};
use fake_fulfillment::{FakeFulfillment, Mode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whatever_test_app::{Client, TestApp};
use whatever_test_db::TestDatabase;

const ACTIVE_PLAN: &str = "S5601-012-0";
const INACTIVE_PLAN: &str = "S5601-099-0";
const PATIENCE: Duration = Duration::from_secs(20);
/// However slow the machine, no answer takes this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The server with `settings`, and its worker unless they disable it.
async fn start(db: &Arc<TestDatabase>, settings: FulfillmentSettings) -> TestApp {
    TestApp::start_on(db.clone(), |c| c.fulfillment = settings)
        .await
        .with_worker()
}

fn settings_for(fake: &FakeFulfillment) -> FulfillmentSettings {
    FulfillmentSettings {
        url: Some(fake.url()),
        ..FulfillmentSettings::for_tests()
    }
}

fn no_worker() -> FulfillmentSettings {
    FulfillmentSettings {
        worker_enabled: false,
        ..FulfillmentSettings::for_tests()
    }
}

async fn database() -> Arc<TestDatabase> {
    let db = Arc::new(TestDatabase::new().await.expect("test database"));
    let client = db.connect().await.unwrap();
    client
        .execute(
            "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                               avg_copay_amount, annual_deductible)
             VALUES ($1, 'Basic Rx', 'Acme Health', 'active', 12.50, 5.00, 100.00),
                    ($2, 'Old Rx', 'Acme Health', 'inactive', 9.00, 4.00, 50.00)",
            &[&ACTIVE_PLAN, &INACTIVE_PLAN],
        )
        .await
        .unwrap();
    db
}

fn body(n: usize) -> Value {
    json!({"plan_id": ACTIVE_PLAN, "name": format!("Zoë Tester {n}"),
           "address": "1 Main St <Apt 2> & Co", "city": "Boston", "state": "MA", "zip": "02134"})
}

/// Posts a request; returns the status, the JSON answer and the headers.
async fn post(
    client: &Client,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = client
        .request(Method::POST, "/api/fulfillment")
        .timeout(REQUEST_TIMEOUT)
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req.send().await.expect("post");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.json().await.expect("json answer"), headers)
}

/// Posts a valid request and returns its id.
async fn submit(client: &Client, n: usize) -> String {
    let (status, answer, _) = post(client, &body(n), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "queued");
    answer["request_id"].as_str().unwrap().to_string()
}

async fn get_status(client: &Client, id: &str) -> (StatusCode, Value) {
    let resp = client
        .request(Method::GET, &format!("/api/fulfillment/{id}"))
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

/// Polls a request's status until it is `want`; returns the last answer.
async fn wait_for_status(client: &Client, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (code, answer) = get_status(client, id).await;
        assert_eq!(code, StatusCode::OK, "{answer}");
        if answer["status"] == want {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "request {id} never became {want}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many times each idempotency key reached the fake, answered or not.
fn received_per_key(fake: &FakeFulfillment) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in fake.received() {
        *counts
            .entry(r.idempotency_key.expect("every call carries a key"))
            .or_default() += 1;
    }
    counts
}

async fn outbox_row(db: &TestDatabase, id: &str) -> tokio_postgres::Row {
    db.connect()
        .await
        .unwrap()
        .query_one(
            "SELECT status, attempts, last_error, payload IS NULL AS erased
               FROM fulfillment_request WHERE request_id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
}

async fn outbox_count(db: &TestDatabase) -> i64 {
    db.connect()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM fulfillment_request", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_request_is_delivered_once_with_its_id_as_idempotency_key() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    let server = start(&db, settings_for(&fake)).await;

    let id = submit(&server.anonymous(), 1).await;
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let answer = wait_for_status(&server.anonymous(), &id, "sent").await;
    let keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["request_id", "status"],
        "the status never shows the address"
    );

    let received = fake.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].idempotency_key.as_deref(), Some(id.as_str()));
    let mut expected = body(1);
    expected["state"] = "MA".into();
    assert_eq!(received[0].body, expected);
    assert_eq!(fake.delivery_count(), 1);
    let row = outbox_row(&db, &id).await;
    assert!(
        row.get::<_, bool>("erased"),
        "the address is erased once sent"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_upstream_down_for_a_while_then_back_gets_everything_exactly_once() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Fail { status: 503 });
    let server = start(&db, settings_for(&fake)).await;

    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(submit(&server.anonymous(), n).await);
    }
    assert!(
        fake.wait_for_received(8, PATIENCE).await,
        "retries reach the upstream"
    );
    for id in &ids {
        assert_eq!(
            get_status(&server.anonymous(), id).await.1["status"],
            "queued"
        );
        let row = outbox_row(&db, id).await;
        assert!(!row.get::<_, bool>("erased"), "still needed for the retry");
    }
    let row = outbox_row(&db, &ids[0]).await;
    assert_eq!(
        row.get::<_, Option<String>>("last_error").as_deref(),
        Some("HTTP 503")
    );

    fake.set_mode(Mode::Succeed);
    for id in &ids {
        wait_for_status(&server.anonymous(), id, "sent").await;
    }
    // Settle, then check nothing was delivered twice or retried after success.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 5);
    let mut delivered: Vec<_> = deliveries.into_iter().map(|d| d.idempotency_key).collect();
    delivered.sort();
    ids.sort();
    assert_eq!(delivered, ids);
    let accepted = fake
        .received()
        .iter()
        .filter(|r| r.answered == Some(202))
        .count();
    assert_eq!(accepted, 5, "one successful call per request");
    server.shutdown().await;
}

#[tokio::test]
async fn a_dead_upstream_is_not_hammered() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Fail { status: 500 });
    let settings = FulfillmentSettings {
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(20),
        breaker_failures: 2,
        breaker_pause: Duration::from_millis(1000),
        ..settings_for(&fake)
    };
    let server = start(&db, settings).await;
    for n in 0..3 {
        submit(&server.anonymous(), n).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Without the breaker, three requests retried every ~20 ms would call
    // the upstream a hundred times; with it: a first batch, then one probe
    // per pause.
    let calls = fake.received().len();
    assert!((2..=8).contains(&calls), "{calls} calls to a dead upstream");
    server.shutdown().await;
}

#[tokio::test]
async fn a_hanging_upstream_times_out_and_the_api_stays_fast() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Hang);
    let settings = FulfillmentSettings {
        // Long enough that a request path waiting on the upstream would
        // show in the timings below.
        timeout: Duration::from_millis(2000),
        lease: Duration::from_secs(3),
        ..settings_for(&fake)
    };
    let server = start(&db, settings).await;

    let id = submit(&server.anonymous(), 1).await;
    assert!(fake.wait_for_received(1, PATIENCE).await);
    // While a call hangs upstream, every route answers at once.
    for _ in 0..5 {
        for path in ["/healthz", "/readyz"] {
            let started = Instant::now();
            let resp = server.anonymous().get(path).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            assert!(
                started.elapsed() < Duration::from_millis(800),
                "{path} slow"
            );
        }
        let started = Instant::now();
        let (status, _, _) = post(&server.anonymous(), &body(2), None).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(started.elapsed() < Duration::from_millis(800), "POST slow");
    }

    // The calls time out and are retried, not lost.
    assert!(
        fake.wait_for_received(7, PATIENCE).await,
        "timed-out calls are retried"
    );
    let row = outbox_row(&db, &id).await;
    assert_eq!(row.get::<_, String>("status"), "queued");
    assert!(row.get::<_, i32>("attempts") >= 1);
    let deadline = Instant::now() + PATIENCE;
    while outbox_row(&db, &id)
        .await
        .get::<_, Option<String>>("last_error")
        .is_none()
    {
        assert!(Instant::now() < deadline, "no timeout was recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error: Option<String> = outbox_row(&db, &id).await.get("last_error");
    assert_eq!(error.as_deref(), Some("timed out"));

    fake.set_mode(Mode::Succeed);
    wait_for_status(&server.anonymous(), &id, "sent").await;
    assert!(fake.wait_for_deliveries(6, PATIENCE).await);
    assert_eq!(fake.delivery_count(), 6);
    server.shutdown().await;
}

#[tokio::test]
async fn a_4xx_is_a_permanent_failure_with_its_reason_and_not_retried() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Fail { status: 422 });
    let server = start(&db, settings_for(&fake)).await;

    let id = submit(&server.anonymous(), 1).await;
    let answer = wait_for_status(&server.anonymous(), &id, "failed").await;
    assert_eq!(
        answer["reason"],
        "rejected by the Fulfillment API (HTTP 422): invalid_request"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.received().len(), 1, "a refusal is not retried");
    assert!(outbox_row(&db, &id).await.get::<_, bool>("erased"));
    server.shutdown().await;
}

#[tokio::test]
async fn requests_too_old_are_given_up_with_a_reason() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Fail { status: 503 });
    let settings = FulfillmentSettings {
        max_age: Duration::from_millis(800),
        ..settings_for(&fake)
    };
    let server = start(&db, settings).await;
    let id = submit(&server.anonymous(), 1).await;
    let answer = wait_for_status(&server.anonymous(), &id, "failed").await;
    let reason = answer["reason"].as_str().unwrap();
    assert!(reason.starts_with("gave up after "), "{reason}");
    assert!(reason.ends_with("HTTP 503"), "{reason}");
    assert_eq!(fake.delivery_count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn two_workers_racing_on_one_outbox_deliver_each_request_once() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    // Slow enough that both workers are busy at once.
    fake.set_mode(Mode::Slow { delay_ms: 20 });
    let server = start(&db, no_worker()).await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(submit(&server.anonymous(), n).await);
    }

    let settings = FulfillmentSettings {
        concurrency: 4,
        ..settings_for(&fake)
    };
    let mut workers = Vec::new();
    for _ in 0..2 {
        let mut config = db.config().clone();
        config.pool_size = 2;
        let pool = whatever_database::pool::build_pool(&config, Duration::from_secs(2)).unwrap();
        workers.push(Worker::new(pool, settings.clone(), Default::default()).spawn());
    }
    assert!(
        fake.wait_for_deliveries(50, PATIENCE).await,
        "all delivered"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    for worker in workers {
        worker.stop().await;
    }

    let per_key = received_per_key(&fake);
    assert_eq!(per_key.len(), 50);
    assert!(
        per_key.values().all(|&n| n == 1),
        "a request was posted twice: {per_key:?}"
    );
    let sent: i64 = db
        .connect()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM fulfillment_request WHERE status = 'sent'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(sent, 50);
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_accepted_before_a_shutdown_is_delivered_after_restart() {
    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    // First life: accepts, but its worker never gets to run.
    let first = start(&db, no_worker()).await;
    let id = submit(&first.anonymous(), 1).await;
    first.shutdown().await;
    assert_eq!(fake.received().len(), 0);

    let second = start(&db, settings_for(&fake)).await;
    wait_for_status(&second.anonymous(), &id, "sent").await;
    assert_eq!(fake.delivery_count(), 1);
    assert_eq!(fake.deliveries()[0].idempotency_key, id);
    second.shutdown().await;
}

#[tokio::test]
async fn without_an_upstream_requests_wait_in_the_queue() {
    let db = database().await;
    let server = start(&db, FulfillmentSettings::for_tests()).await;
    let id = submit(&server.anonymous(), 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        get_status(&server.anonymous(), &id).await.1["status"],
        "queued"
    );
    assert_eq!(outbox_row(&db, &id).await.get::<_, i32>("attempts"), 0);
    server.shutdown().await;
}

/// The `auth-api` binary, killed with SIGKILL while its worker waits on a
/// hanging upstream: the claim's lease runs out and a fresh process
/// delivers the request, once.
#[tokio::test]
async fn a_process_killed_mid_delivery_loses_nothing() {
    use tokio::io::AsyncBufReadExt;

    let db = database().await;
    let fake = FakeFulfillment::start().await.unwrap();
    fake.set_mode(Mode::Hang);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_auth-api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ADMIN_LISTEN_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("FULFILLMENT_URL", fake.url())
        .env("FULFILLMENT_ALLOW_HTTP", "true")
        .env("FULFILLMENT_TIMEOUT_MS", "3000")
        .env("FULFILLMENT_LEASE_MS", "4000")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("auth-api binary");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["fields"]["message"] == "auth-api listening" {
                return event["fields"]["addr"].as_str().unwrap().to_string();
            }
        }
        panic!("auth-api exited before listening");
    })
    .await
    .expect("auth-api starts");
    let first = Client::to(&format!("http://{addr}"));
    let id = submit(&first, 1).await;
    assert!(
        fake.wait_for_received(1, PATIENCE).await,
        "the worker called upstream"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    assert_eq!(fake.delivery_count(), 0);
    assert_eq!(
        outbox_row(&db, &id).await.get::<_, String>("status"),
        "queued"
    );

    // The dead process's lease (4 s) must run out before anyone retries.
    fake.set_mode(Mode::Succeed);
    let second = start(&db, settings_for(&fake)).await;
    let answer = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            let (_, answer) = get_status(&second.anonymous(), &id).await;
            if answer["status"] == "sent" {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("delivered after the lease expired");
    assert_eq!(answer["status"], "sent");
    assert_eq!(fake.delivery_count(), 1);
    assert_eq!(
        received_per_key(&fake)[&id],
        2,
        "one hung call, one delivery"
    );
    second.shutdown().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_its_request_and_refuses_another_body() {
    let db = database().await;
    let server = start(&db, no_worker()).await;

    let (status, first, _) = post(&server.anonymous(), &body(1), Some("order-7f3a")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, again, headers) = post(&server.anonymous(), &body(1), Some("order-7f3a")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again["request_id"], first["request_id"]);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(outbox_count(&db).await, 1, "a replay creates nothing");

    let (status, conflict, _) = post(&server.anonymous(), &body(2), Some("order-7f3a")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "idempotency_key_reused");
    assert!(
        conflict.get("request_id").is_none() && !conflict.to_string().contains("Tester"),
        "another body learns nothing about the first: {conflict}"
    );

    let (_, other, _) = post(&server.anonymous(), &body(1), Some("order-other")).await;
    assert_ne!(other["request_id"], first["request_id"]);
    assert_eq!(outbox_count(&db).await, 2);

    // Ten concurrent retries of one new key: one request.
    let answers = futures::future::join_all(
        (0..10).map(|_| async { post(&server.anonymous(), &body(3), Some("burst-key")).await }),
    )
    .await;
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|(status, answer, _)| {
            assert_eq!(*status, StatusCode::ACCEPTED, "{answer}");
            answer["request_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(outbox_count(&db).await, 3);

    let stored: Vec<u8> = db
        .connect()
        .await
        .unwrap()
        .query_one("SELECT key_hash FROM fulfillment_idempotency LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored.len(), 32, "only a hash of the key is kept");
    server.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_field_and_queue_nothing() {
    let db = database().await;
    let server = start(&db, no_worker()).await;
    let with = |key: &str, value: Value| {
        let mut b = body(1);
        b[key] = value;
        b
    };
    let cases = [
        (with("zip", json!("2134")), "zip", "zip must be 5 digits"),
        (
            with("zip", json!("02134-1234")),
            "zip",
            "zip must be at most 5 characters",
        ),
        (
            with("state", json!("XX")),
            "state",
            "state must be a two-letter US state or territory code, got \"XX\"",
        ),
        (with("name", json!("  ")), "name", "name must not be empty"),
        (
            with("address", json!("a".repeat(201))),
            "address",
            "address must be at most 200 characters",
        ),
        (
            with("city", json!("Bos\nton")),
            "city",
            "city must not contain control characters",
        ),
        (
            with("plan_id", json!(INACTIVE_PLAN)),
            "plan_id",
            "plan_id \"S5601-099-0\" is not an active plan",
        ),
        (
            with("plan_id", json!("NOPE")),
            "plan_id",
            "plan_id \"NOPE\" is not an active plan",
        ),
        (with("zip", json!(2134)), "zip", "zip must be a string"),
    ];
    for (request, field, message) in cases {
        let (status, answer, _) = post(&server.anonymous(), &request, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(
            answer,
            json!({"error": {"code": "invalid_field", "message": message, "field": field}})
        );
    }
    let mut missing = body(1);
    missing.as_object_mut().unwrap().remove("city");
    let (status, answer, _) = post(&server.anonymous(), &missing, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "city");

    let (status, answer, _) = post(&server.anonymous(), &body(1), Some("with space")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "Idempotency-Key");

    let resp = server
        .anonymous()
        .request(Method::POST, "/api/fulfillment")
        .header("content-type", "application/json")
        .body("{\"plan_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_json");

    assert_eq!(outbox_count(&db).await, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_or_malformed_ids_are_not_found() {
    let db = database().await;
    let server = start(&db, no_worker()).await;
    for id in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
        "1".into(),
    ] {
        let (status, answer) = get_status(&server.anonymous(), &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(answer["error"]["code"], "not_found");
    }
    let resp = server.anonymous().get("/api/fulfillment").await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    server.shutdown().await;
}

#[tokio::test]
async fn the_rate_limit_is_per_client_and_shared_by_replicas() {
    let db = database().await;
    // Behind the load balancer, as in production: the viewer, then the
    // CloudFront edge the ALB recorded. Login throttling reads the same.
    let behind_balancer = |config: &mut Config| {
        config.fulfillment = FulfillmentSettings {
            rate_limit: 3,
            ..no_worker()
        };
        config.client_addr = ClientAddrConfig {
            trust_forwarded_for: true,
            trusted_proxy_hops: 1,
        };
    };
    let a = TestApp::start_on(db.clone(), behind_balancer)
        .await
        .with_worker();
    let b = a.replica(behind_balancer).await.with_worker();
    let from = |server: &TestApp, ip: &str, n: usize| {
        server
            .anonymous()
            .request(Method::POST, "/api/fulfillment")
            .timeout(REQUEST_TIMEOUT)
            // A forged left-most entry must not let a client escape its limit.
            .header(
                "x-forwarded-for",
                format!("10.{n}.0.1, {ip}, 130.176.0.{n}"),
            )
            .json(&body(n))
            .send()
    };
    for (server, n) in [(&a, 0), (&b, 1), (&a, 2)] {
        let resp = from(server, "203.0.113.7", n).await.unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    let resp = from(&b, "203.0.113.7", 3).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "too_many_requests");

    // Another client is unaffected.
    let resp = from(&a, "198.51.100.2", 4).await.unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(outbox_count(&db).await, 4);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn the_outbox_gauges_report_the_backlog() {
    // The metrics recorder is process-wide: nothing else may record here.
    if !whatever_test_app::in_own_process("fulfillment::the_outbox_gauges_report_the_backlog") {
        return;
    }
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("recorder");
    let db = database().await;
    // No upstream: requests wait, the gauges show them waiting.
    let server = start(&db, FulfillmentSettings::for_tests()).await;
    submit(&server.anonymous(), 1).await;
    submit(&server.anonymous(), 2).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = handle.render();
        if text.contains("outbox_queued 2") {
            assert!(text.contains("outbox_oldest_age_seconds"), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gauges never showed 2 queued: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.shutdown().await;
}
