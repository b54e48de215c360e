//! Does a stalled Fulfillment API slow the rest of the API down?
//!
//! Runs the real server (a runtime of its own, with its delivery worker) on
//! a fresh database twice: once with a healthy upstream, once with one that
//! never answers, each time with a backlog of queued requests. Meanwhile
//! `BENCH_CONCURRENCY` clients (default 16) call `GET /api/me/enrollment`
//! for `BENCH_SECONDS` (default 5) as signed-in beneficiaries, and it prints
//! p50/p99 latency and throughput for both runs and their ratio (target:
//! within 20%).
//!
//! `cargo bench --workspace --bench fulfillment_isolation`

use std::time::Duration;

use auth_api::config::Config;
use auth_api::fulfillment::FulfillmentSettings;
use fake_fulfillment::{FakeFulfillment, Mode};
use load_harness::{ApiServer, Figures, closed_loop, env_or, ms};
use whatever_test_db::TestDatabase;

const BACKLOG: i64 = 500;
const USERS: i64 = 200;

fn main() -> anyhow::Result<()> {
    let concurrency = env_or("BENCH_CONCURRENCY", 16) as usize;
    let seconds = env_or("BENCH_SECONDS", 5);
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let healthy = load.block_on(scenario(Mode::Succeed, concurrency, seconds))?;
    let hanging = load.block_on(scenario(Mode::Hang, concurrency, seconds))?;
    println!(
        "GET /api/me/enrollment, {concurrency} clients, {seconds} s each, backlog {BACKLOG} queued"
    );
    println!("upstream healthy: {}", healthy.line());
    println!("upstream hanging: {}", hanging.line());
    let p50_ratio = ms(hanging.quantile(0.5)) / ms(healthy.quantile(0.5));
    let p99_ratio = ms(hanging.quantile(0.99)) / ms(healthy.quantile(0.99));
    let verdict = if p50_ratio <= 1.2 && p99_ratio <= 1.2 && hanging.errors == 0 {
        "within 20%"
    } else {
        "NOT within 20%"
    };
    println!("hanging/healthy: p50 x{p50_ratio:.2}, p99 x{p99_ratio:.2} ({verdict})");
    Ok(())
}

/// One run: fresh database with enrolled users and a backlog, upstream in
/// `mode`, then load.
async fn scenario(mode: Mode, concurrency: usize, seconds: u64) -> anyhow::Result<Figures> {
    let db = TestDatabase::new().await?;
    let client = db.connect().await?;
    client
        .batch_execute(&format!(
            "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                               avg_copay_amount, annual_deductible)
             VALUES ('S5601-012-0', 'Basic Rx', 'Acme', 'active', 12.50, 5.00, 100.00);
             INSERT INTO plan_feature (plan_id, feature_key, feature_value)
             SELECT 'S5601-012-0', 'feature_' || k, 'value ' || k FROM generate_series(1, 15) k;
             INSERT INTO beneficiary (beneficiary_id, fname, lname, ssn, state, zip_code)
             SELECT n, 'Bench', 'User ' || n, '000-00-' || lpad(n::text, 4, '0'), 'MA', '02134'
               FROM generate_series(1, {USERS}) n;
             INSERT INTO beneficiary_to_plan (beneficiary_id, plan_id, start_date)
             SELECT n, 'S5601-012-0', DATE '2024-01-01' FROM generate_series(1, {USERS}) n;
             INSERT INTO \"user\" (username, password, beneficiary_id)
             SELECT 'bench' || n, 'not-used', n FROM generate_series(1, {USERS}) n;
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

    let mut config = Config::for_tests(db.config().clone());
    config.database.pool_size = 16;
    config.fulfillment = FulfillmentSettings {
        url: Some(fake.url()),
        allow_http: true,
        ..FulfillmentSettings::from_env()?
    };
    let server = ApiServer::start(config, None)?;
    let url = server.url("/api/me/enrollment");
    let tokens = (1..=USERS)
        .map(|n| server.token_for(&format!("bench{n}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let request = |c: usize, n: u64| {
        let token = &tokens[(c * 7 + n as usize) % tokens.len()];
        http.get(&url).bearer_auth(token)
    };

    // Warm up (connections, pool, plan cache), and let the worker start on
    // the backlog.
    closed_loop(
        concurrency,
        request,
        tokio::time::sleep(Duration::from_secs(1)),
    )
    .await;
    let figures = closed_loop(
        concurrency,
        request,
        tokio::time::sleep(Duration::from_secs(seconds)),
    )
    .await;
    tokio::task::spawn_blocking(move || server.stop()).await??;
    Ok(figures)
}
