//! Does a stalled Fulfillment API slow the rest of the API down?
//!
//! Runs the real server (its own runtime, with its delivery worker) on a
//! fresh database twice: once with a healthy upstream, once with one that
//! never answers, each time with a backlog of queued requests. Meanwhile a
//! load generator hits `BENCH_PATH` (default `/readyz`, a database round
//! trip) with `BENCH_CONCURRENCY` clients (default 16) for `BENCH_SECONDS`
//! (default 5) and prints p50/p99 latency and throughput for both runs.
//!
//! `cargo bench -p auth-api --bench fulfillment_isolation`

use std::time::{Duration, Instant};

use auth_api::config::Config;
use auth_api::fulfillment::{FulfillmentSettings, spawn_for};
use auth_api::state::AppState;
use fake_fulfillment::{FakeFulfillment, Mode};
use whatever_database::test_db::TestDatabase;

const BACKLOG: i64 = 500;

struct Figures {
    p50: Duration,
    p99: Duration,
    per_second: f64,
    errors: usize,
}

fn main() -> anyhow::Result<()> {
    let path = std::env::var("BENCH_PATH").unwrap_or_else(|_| "/readyz".into());
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let healthy = load.block_on(scenario(Mode::Succeed, &path, concurrency, seconds))?;
    let hanging = load.block_on(scenario(Mode::Hang, &path, concurrency, seconds))?;
    println!("GET {path}, {concurrency} clients, {seconds} s each, backlog {BACKLOG} queued");
    for (name, f) in [
        ("upstream healthy", &healthy),
        ("upstream hanging", &hanging),
    ] {
        println!(
            "{name:>17}: p50 {:>7.2} ms  p99 {:>7.2} ms  {:>7.0} req/s  {} errors",
            ms(f.p50),
            ms(f.p99),
            f.per_second,
            f.errors
        );
    }
    let p50_ratio = ms(hanging.p50) / ms(healthy.p50);
    let p99_ratio = ms(hanging.p99) / ms(healthy.p99);
    let verdict = if p50_ratio <= 1.2 && p99_ratio <= 1.2 && hanging.errors == 0 {
        "within 20%"
    } else {
        "NOT within 20%"
    };
    println!("hanging/healthy: p50 x{p50_ratio:.2}, p99 x{p99_ratio:.2} ({verdict})");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One run: fresh database with a backlog, upstream in `mode`, then load.
async fn scenario(
    mode: Mode,
    path: &str,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<Figures> {
    let db = TestDatabase::new().await?;
    let client = db.connect().await?;
    client
        .batch_execute(&format!(
            "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                               avg_copay_amount, annual_deductible)
             VALUES ('S5601-012-0', 'Basic Rx', 'Acme', 'active', 12.50, 5.00, 100.00);
             INSERT INTO fulfillment_request (request_id, plan_id, payload)
             SELECT gen_random_uuid(), 'S5601-012-0',
                    jsonb_build_object('plan_id', 'S5601-012-0', 'name', 'Bench ' || n,
                                       'address', '1 Main St', 'city', 'Boston',
                                       'state', 'MA', 'zip', '02134')
               FROM generate_series(1, {BACKLOG}) n;"
        ))
        .await?;
    let fake = FakeFulfillment::start().await?;
    fake.set_mode(mode);

    // The server gets a runtime of its own, as in production, so the load
    // generator's scheduling does not blur its latencies.
    let mut config = Config::for_tests(db.config().clone());
    config.database.pool_size = 16;
    config.fulfillment = FulfillmentSettings {
        url: Some(fake.url()),
        ..FulfillmentSettings::from_env()?
    };
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let state = AppState::new(config)?;
            let worker = spawn_for(&state)?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let _ = addr_tx.send(listener.local_addr()?);
            auth_api::server::serve(listener, state, async {
                let _ = stop_rx.await;
            })
            .await;
            if let Some(worker) = worker {
                worker.stop().await;
            }
            anyhow::Ok(())
        })
    });
    let url = format!("http://{}{path}", addr_rx.await?);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(concurrency)
        .build()?;

    // Warm up (connections, pool), and let the worker start on the backlog.
    hammer(&http, &url, concurrency, Duration::from_secs(1)).await;
    let started = Instant::now();
    let (mut latencies, errors) =
        hammer(&http, &url, concurrency, Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    tokio::task::spawn_blocking(move || server.join())
        .await?
        .map_err(|_| anyhow::anyhow!("server thread panicked"))??;

    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok(Figures {
        p50: at(0.50),
        p99: at(0.99),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        errors,
    })
}

/// `concurrency` clients in closed loops for `length`; latencies of the
/// successful requests and a count of the others.
async fn hammer(
    http: &reqwest::Client,
    url: &str,
    concurrency: usize,
    length: Duration,
) -> (Vec<Duration>, usize) {
    let deadline = Instant::now() + length;
    let clients = (0..concurrency).map(|_| async move {
        let mut latencies = Vec::new();
        let mut errors = 0;
        while Instant::now() < deadline {
            let started = Instant::now();
            match http.get(url).send().await {
                Ok(resp) if resp.status().is_success() => {
                    let _ = resp.bytes().await;
                    latencies.push(started.elapsed());
                }
                _ => errors += 1,
            }
        }
        (latencies, errors)
    });
    let results = futures::future::join_all(clients).await;
    let errors = results.iter().map(|r| r.1).sum();
    (results.into_iter().flat_map(|r| r.0).collect(), errors)
}
