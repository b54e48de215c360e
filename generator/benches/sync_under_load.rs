//! Do API reads stall while a large delta is applied? Runs the real
//! auth-api (a runtime of its own) over a database filled by one large
//! delta, and drives `GET /api/me/enrollment` over HTTP as signed-in
//! beneficiaries: first idle, then while a second large delta updates the
//! same tables. Prints p50/p99 of both and the ratio of the p99s (target: at
//! most 2).
//!
//!   cargo bench --workspace --bench sync_under_load
//!   SYNC_BENCH_LINES=500000 READERS=8 cargo bench --workspace --bench sync_under_load

use std::time::{Duration, Instant};

use generator::sync::sample::SampleDelta;
use generator::sync::{SyncOptions, sync};
use load_harness::{ApiServer, closed_loop, env_or, ms};
use whatever_database::test_db::TestDatabase;

/// Signed-in beneficiaries the readers take turns as.
const USERS: i64 = 2_000;

fn main() -> anyhow::Result<()> {
    let lines = env_or("SYNC_BENCH_LINES", 500_000);
    let readers = env_or("READERS", 8) as usize;
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
        anyhow::Ok(())
    })?;

    let mut config = auth_api::config::Config::for_tests(db.config().clone());
    config.database.pool_size = readers;
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
        .pool_max_idle_per_host(readers)
        .build()?;
    let request = |c: usize, n: u64| {
        let token = &tokens[(c * 7919 + n as usize * 104_729) % tokens.len()];
        http.get(&url).bearer_auth(token)
    };

    runtime.block_on(closed_loop(
        readers,
        request,
        tokio::time::sleep(Duration::from_secs(1)),
    ));
    let idle = runtime.block_on(closed_loop(
        readers,
        request,
        tokio::time::sleep(Duration::from_secs(idle_seconds)),
    ));
    println!("idle:        {}", idle.line());

    let started = Instant::now();
    let (busy, report) = runtime.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let syncing = async {
            let report = sync(&second, db.config(), &SyncOptions::default()).await;
            let _ = tx.send(());
            report
        };
        let loading = closed_loop(readers, request, async {
            let _ = rx.await;
        });
        futures::future::join(loading, syncing).await
    });
    let report = report?;
    println!("during sync: {}", busy.line());
    println!(
        "sync: {:.1} s, {}",
        started.elapsed().as_secs_f64(),
        report.to_line()
    );
    println!(
        "p99 during sync / idle p99 = {:.2} (target: at most 2.00)",
        ms(busy.quantile(0.99)) / ms(idle.quantile(0.99))
    );
    server.stop()?;
    Ok(())
}
