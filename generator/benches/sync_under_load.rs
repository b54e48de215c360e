//! Do API reads stall while a large delta is applied? Runs the real
//! auth-api (a runtime of its own) over a database filled by one large
//! delta, and calls `GET /api/me/enrollment` over HTTP as signed-in
//! beneficiaries at a fixed rate (`RATE` a second, default 1,000): first
//! idle, then while `generator sync` (a process of its own, as the nightly
//! job runs it) applies a second large delta to the same tables. Prints
//! p50/p99 of both, the p99 of each quarter second of the sync, and the
//! ratio of the p99s (target: at most 2).
//!
//! A fixed rate, not clients that wait for each answer: the question is the
//! latency a given traffic sees. On one 2-core machine the sync's database
//! session takes a whole core; the line "saturated" shows what the API
//! answers at most with both, for scale. At a rate the remaining core can
//! carry, what is left to see is whether the sync blocks reads (locks); at
//! a rate it cannot, the ratio measures the lost core instead.
//!
//!   cargo bench --workspace --bench sync_under_load
//!   SYNC_BENCH_LINES=500000 RATE=2000 cargo bench --workspace --bench sync_under_load

use std::time::{Duration, Instant};

use generator::sync::sample::SampleDelta;
use generator::sync::{SyncOptions, sync};
use load_harness::{ApiServer, closed_loop, env_or, ms, open_loop};
use whatever_database::test_db::TestDatabase;

/// Signed-in beneficiaries the readers take turns as.
const USERS: i64 = 2_000;

fn main() -> anyhow::Result<()> {
    let lines = env_or("SYNC_BENCH_LINES", 500_000);
    let rate = env_or("RATE", 1_000);
    let idle_seconds = env_or("IDLE_SECONDS", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::new())?;
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("r1.jsonl");
    let second = dir.path().join("r2.jsonl");
    SampleDelta { lines, revision: 1 }.write(&first)?;
    SampleDelta { lines, revision: 2 }.write(&second)?;
    let loaded = runtime.block_on(sync(&first, db.config(), &SyncOptions::default()))?;
    println!("database: {}", loaded.to_line());
    runtime.block_on(async {
        db.connect()
            .await?
            .execute(
                r#"INSERT INTO "user" (username, password, beneficiary_id)
                   SELECT 'reader' || beneficiary_id, 'not-used', beneficiary_id
                     FROM beneficiary ORDER BY beneficiary_id LIMIT $1"#,
                &[&USERS],
            )
            .await?;
        // As a database that has been live for a while: otherwise
        // autovacuum, woken by the load, runs during the idle measurement.
        db.connect().await?.batch_execute("VACUUM ANALYZE").await?;
        anyhow::Ok(())
    })?;

    let mut config = auth_api::config::Config::for_tests(db.config().clone());
    config.database.pool_size = 16;
    let server = ApiServer::start(config, None)?;
    let usernames: Vec<String> = runtime.block_on(async {
        let rows = db
            .connect()
            .await?
            .query(r#"SELECT username FROM "user" ORDER BY username"#, &[])
            .await?;
        anyhow::Ok(rows.iter().map(|r| r.get(0)).collect())
    })?;
    let tokens = usernames
        .iter()
        .map(|u| server.token_for(u))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let url = server.url("/api/me/enrollment");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let request = |n: u64| {
        let token = &tokens[(n as usize * 104_729) % tokens.len()];
        http.get(&url).bearer_auth(token)
    };
    // Timers must be made inside the runtime that drives them.
    let sleep = |seconds: u64| tokio::time::sleep(Duration::from_secs(seconds));

    let saturated = runtime
        .block_on(async { closed_loop(8, |c, n| request(c as u64 * 7919 + n), sleep(3)).await });
    println!("saturated:   {}", saturated.line());
    let idle = runtime.block_on(async { open_loop(rate, request, sleep(idle_seconds)).await });
    println!("idle:        {}", idle.line());

    let started = Instant::now();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_generator"));
    command
        .arg("sync")
        .arg(&second)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let (busy, output) = runtime.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let syncing = async {
            let output = command.output().await;
            let _ = tx.send(());
            output
        };
        let loading = open_loop(rate, request, async {
            let _ = rx.await;
        });
        futures::future::join(loading, syncing).await
    });
    let output = output?;
    anyhow::ensure!(output.status.success(), "generator sync failed");
    println!("during sync: {}", busy.line());
    let by_second: Vec<String> = busy
        .p99_by_window(Duration::from_millis(250))
        .iter()
        .map(|d| format!("{:.1}", ms(*d)))
        .collect();
    println!(
        "  p99 in each 250 ms of the sync (ms): {}",
        by_second.join(" ")
    );
    println!(
        "sync: {:.1} s, {}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&output.stdout).trim()
    );
    println!(
        "p99 during sync / idle p99 = {:.2} at {rate} requests/s (target: at most 2.00)",
        ms(busy.quantile(0.99)) / ms(idle.quantile(0.99))
    );
    server.stop()?;
    Ok(())
}
