//! Faults the auth-api must survive, each on the real binary under load and
//! each bounded in time: its database restarted (on a private Postgres
//! cluster this test may stop), and SIGTERM while requests are in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::process_support::*;
use load_harness::postgres::PrivateCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use whatever_test_db::TestDatabase;

/// The API's bound on any request, set for these tests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The API's bound on a wait for a pooled connection.
const DB_WAIT: Duration = Duration::from_millis(1000);
/// How long the API keeps serving after SIGTERM, set for these tests.
const DRAIN: Duration = Duration::from_secs(2);

/// One request of the load: when it was sent (from the start of the run),
/// how long it took, and the status (or the transport error).
#[derive(Debug, Clone)]
struct Sample {
    sent: Duration,
    latency: Duration,
    outcome: Result<(u16, String, Vec<u8>), String>,
}

/// `clients` loops of `GET /api/me/enrollment` until `stop` is set.
fn enrollment_load(
    url: String,
    token: String,
    clients: usize,
    started: Instant,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Sample>> {
    tokio::spawn(async move {
        // A transport timeout well past the API's own bound, so a hang shows
        // as a long latency instead of stalling the test.
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT + Duration::from_secs(5))
            .build()
            .unwrap();
        let loops = (0..clients).map(|_| {
            let (client, url, token, stop) =
                (client.clone(), url.clone(), token.clone(), stop.clone());
            async move {
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let outcome = match client.get(&url).bearer_auth(&token).send().await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let content_type = resp
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            match resp.bytes().await {
                                Ok(body) => Ok((status, content_type, body.to_vec())),
                                Err(e) => Err(format!("reading the body: {e}")),
                            }
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    samples.push(Sample {
                        sent: sent - started,
                        latency: sent.elapsed(),
                        outcome,
                    });
                    // A pause keeps the two cores for the server.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                samples
            }
        });
        let mut all: Vec<Sample> = futures::future::join_all(loops)
            .await
            .into_iter()
            .flatten()
            .collect();
        all.sort_by_key(|s| s.sent);
        all
    })
}

fn status_of(sample: &Sample) -> Option<u16> {
    sample.outcome.as_ref().ok().map(|(s, _, _)| *s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_fails_fast_with_503_and_recovers_without_restarting_the_api()
{
    tokio::time::timeout(Duration::from_secs(150), restart_under_load())
        .await
        .expect("the whole scenario finishes within 150 s");
}

async fn restart_under_load() {
    let cluster = tokio::task::spawn_blocking(|| {
        let cluster = PrivateCluster::start().expect("a private Postgres cluster");
        cluster.create_database("whatever").unwrap();
        cluster
    })
    .await
    .unwrap();
    let cluster = Arc::new(cluster);
    let url = cluster.url("whatever");
    let timeout_ms = REQUEST_TIMEOUT.as_millis().to_string();
    let wait_ms = DB_WAIT.as_millis().to_string();
    let mut api = ApiProcess::start(
        binary(),
        &[
            ("DATABASE_URL", &url),
            ("REQUEST_TIMEOUT_MS", &timeout_ms),
            ("DB_WAIT_MS", &wait_ms),
        ],
    )
    .expect("the auth-api starts on the private cluster");
    let pid = api.pid();
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.psql("whatever", &member_sql(0)).unwrap())
            .await
            .unwrap();
    }
    let client = reqwest::Client::new();
    let token = sign_in(&client, &api, USERNAME).await;

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let load = enrollment_load(
        api.url("/api/me/enrollment"),
        token.clone(),
        6,
        started,
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let down_from = started.elapsed();
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop().unwrap())
            .await
            .unwrap();
    }
    let down = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let ready_while_down = load_harness::process::http_status(
        api.port(),
        "/readyz",
        REQUEST_TIMEOUT + Duration::from_secs(1),
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let up_from = started.elapsed();
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.start_again().unwrap())
            .await
            .unwrap();
    }
    let up = started.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    let samples = load.await.unwrap();
    let ready_after =
        load_harness::process::http_status(api.port(), "/readyz", Duration::from_secs(5));

    let summary = |from: Duration, to: Duration| -> String {
        let mut counts = std::collections::BTreeMap::new();
        for s in samples.iter().filter(|s| s.sent >= from && s.sent < to) {
            let key = match &s.outcome {
                Ok((status, _, _)) => status.to_string(),
                Err(e) => format!("error: {e}"),
            };
            *counts.entry(key).or_insert(0) += 1;
        }
        format!("{counts:?}")
    };
    eprintln!(
        "before: {}; stopping: {}; down: {}; starting: {}; after: {}",
        summary(Duration::ZERO, down_from),
        summary(down_from, down),
        summary(down, up_from),
        summary(up_from, up),
        summary(up, Duration::MAX)
    );

    assert!(api.is_running(), "the API process is still the one started");
    assert_eq!(api.pid(), pid);

    // Before the outage every request worked.
    let before: Vec<_> = samples.iter().filter(|s| s.sent < down_from).collect();
    assert!(before.len() >= 10, "load ran before the outage");
    assert!(
        before.iter().all(|s| status_of(s) == Some(200)),
        "before the outage: {}",
        summary(Duration::ZERO, down_from)
    );

    // Whatever happened, every request answered, within the API's bound,
    // with 200 or a JSON 503: never a 500, never a hang or a dropped
    // connection.
    for s in &samples {
        let (status, content_type, body) = s
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("request sent at {:?} got no answer: {e}", s.sent));
        assert!(
            *status == 200 || *status == 503,
            "request sent at {:?} answered {status}: {}",
            s.sent,
            String::from_utf8_lossy(body)
        );
        if *status == 503 {
            assert_error_shape(*status, content_type, body);
        }
        assert!(
            s.latency <= REQUEST_TIMEOUT + Duration::from_millis(500),
            "request sent at {:?} took {:?}, past the {REQUEST_TIMEOUT:?} bound",
            s.sent,
            s.latency
        );
    }

    // While the database was down: 503s, and fast ones.
    let outage: Vec<_> = samples
        .iter()
        .filter(|s| s.sent >= down && s.sent + s.latency < up_from)
        .collect();
    assert!(outage.len() >= 5, "load ran during the outage");
    assert!(
        outage.iter().all(|s| status_of(s) == Some(503)),
        "during the outage: {}",
        summary(down, up_from)
    );
    let mut latencies: Vec<_> = outage.iter().map(|s| s.latency).collect();
    latencies.sort();
    assert!(
        latencies[latencies.len() / 2] <= DB_WAIT + Duration::from_millis(250),
        "half the outage's requests failed within the pool's wait bound: {latencies:?}"
    );
    assert_eq!(
        ready_while_down,
        Some(503),
        "/readyz while the database is down"
    );

    // Once the database is back, the same process serves again within a
    // few seconds, and then keeps serving.
    let recovered_by = up + Duration::from_secs(3);
    let after: Vec<_> = samples.iter().filter(|s| s.sent >= recovered_by).collect();
    assert!(after.len() >= 10, "load ran after the recovery");
    assert!(
        after.iter().all(|s| status_of(s) == Some(200)),
        "from 3 s after the database came back: {}",
        summary(recovered_by, Duration::MAX)
    );
    assert_eq!(ready_after, Some(200), "/readyz after the database is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_turns_readyz_503_drains_then_refuses_and_finishes_in_flight_requests() {
    tokio::time::timeout(Duration::from_secs(90), sigterm_under_load())
        .await
        .expect("the whole scenario finishes within 90 s");
}

async fn sigterm_under_load() {
    let db = TestDatabase::new().await.unwrap();
    db.connect()
        .await
        .unwrap()
        .batch_execute(&member_sql(0))
        .await
        .unwrap();
    let url = db.url();
    let drain = DRAIN.as_millis().to_string();
    let mut api = ApiProcess::start(
        binary(),
        &[
            ("DATABASE_URL", url.as_str()),
            ("SHUTDOWN_DRAIN_MS", drain.as_str()),
        ],
    )
    .expect("the auth-api starts");
    let port = api.port();
    let client = reqwest::Client::new();
    let token = sign_in(&client, &api, USERNAME).await;

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let load = enrollment_load(
        api.url("/api/me/enrollment"),
        token.clone(),
        4,
        started,
        stop.clone(),
    );

    // A slow request in flight: a login whose body is only half sent.
    let body = serde_json::json!({"username": USERNAME, "password": PASSWORD}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    slow.write_all(
        format!(
            "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let term_at = started.elapsed();
    api.terminate().unwrap();
    let signalled = Instant::now();

    // The load balancer's health check sees 503 at once, over a new
    // connection: the process is still accepting.
    let mut readyz_503_after = None;
    while signalled.elapsed() < Duration::from_millis(1000) {
        let status = tokio::task::spawn_blocking(move || {
            load_harness::process::http_status(port, "/readyz", Duration::from_millis(500))
        })
        .await
        .unwrap();
        if status == Some(503) {
            readyz_503_after = Some(signalled.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        readyz_503_after.is_some(),
        "/readyz did not answer 503 within 1 s of SIGTERM (drain {DRAIN:?})"
    );

    // New requests on new connections are still served while draining.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let during = fresh
        .get(api.url("/api/me/enrollment"))
        .bearer_auth(&token)
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(
        during.as_ref().ok(),
        Some(&200),
        "a new request during the drain: {during:?}"
    );

    // After the drain, new connections are refused...
    tokio::time::sleep_until((signalled + DRAIN + Duration::from_millis(600)).into()).await;
    let refused = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "a new connection {:?} after SIGTERM was not refused: {refused:?}",
        signalled.elapsed()
    );

    // ...while the request in flight since before the signal completes.
    tokio::time::sleep_until((signalled + DRAIN + Duration::from_millis(1000)).into()).await;
    slow.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("the slow request is answered")
        .expect("reading the slow request's answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the request in flight at SIGTERM: {answer}"
    );

    let status = tokio::task::spawn_blocking(move || {
        let status = api.wait_for_exit(Duration::from_secs(15));
        (status, api)
    })
    .await
    .unwrap()
    .0
    .expect("the API exits once its requests are done");
    assert!(status.success(), "exit status {status}");

    stop.store(true, Ordering::Relaxed);
    let samples = load.await.unwrap();
    let drained_by = term_at + DRAIN - Duration::from_millis(300);
    let before: Vec<_> = samples.iter().filter(|s| s.sent < drained_by).collect();
    assert!(before.len() >= 10, "load ran before and during the drain");
    for s in before {
        assert_eq!(
            status_of(s),
            Some(200),
            "request sent at {:?} (SIGTERM at {term_at:?}): {:?}",
            s.sent,
            s.outcome
                .as_ref()
                .map(|(st, _, b)| (st, String::from_utf8_lossy(b)))
        );
    }
    for s in &samples {
        if let Some(status) = status_of(s) {
            assert!(
                status < 500,
                "request sent at {:?} answered {status}",
                s.sent
            );
        }
    }
}
