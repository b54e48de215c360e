//! Do API reads stall while a large delta is applied? Runs the reads behind
//! `GET /api/me/enrollment` (a beneficiary, their enrollments, the current
//! plan with its features) from several concurrent readers, first idle, then
//! while a sync of a large delta updates the same tables, and prints p50/p99
//! of both and their ratio.
//!
//!   cargo bench -p generator --bench sync_under_load
//!   SYNC_BENCH_LINES=500000 READERS=8 cargo bench -p generator --bench sync_under_load

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use generator::sync::sample::SampleDelta;
use generator::sync::{SyncOptions, sync};
use whatever_database::plans::plan_by_id;
use whatever_database::pool::{DEFAULT_WAIT, build_pool};
use whatever_database::test_db::TestDatabase;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the enrollment route reads for one beneficiary.
async fn enrollment(client: &deadpool_postgres::Client, beneficiary_id: i64) {
    client
        .query_opt(
            "SELECT fname, lname, city, state FROM beneficiary WHERE beneficiary_id = $1",
            &[&beneficiary_id],
        )
        .await
        .expect("beneficiary");
    let rows = client
        .query(
            "SELECT plan_id, start_date, end_date FROM beneficiary_to_plan
             WHERE beneficiary_id = $1 ORDER BY start_date DESC",
            &[&beneficiary_id],
        )
        .await
        .expect("enrollments");
    if let Some(row) = rows.first() {
        let plan_id: String = row.get(0);
        plan_by_id(&***client, &plan_id).await.expect("plan");
    }
}

/// Runs `readers` loops until `stop`; returns every latency.
async fn load(
    pool: deadpool_postgres::Pool,
    readers: u64,
    beneficiaries: i64,
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for r in 0..readers {
        let pool = pool.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut id = (r as i64 * 7919) % beneficiaries;
            while !stop.load(Ordering::Relaxed) {
                // Sample beneficiaries are numbered plan * 30 + 0, 5, 10, ...
                id = (id + 104_729) % beneficiaries;
                let started = Instant::now();
                let client = pool.get().await.expect("a pooled connection");
                enrollment(&client, id - id % 5).await;
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("reader"));
    }
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn describe(label: &str, mut latencies: Vec<Duration>, seconds: f64) -> Duration {
    latencies.sort();
    let p99 = percentile(&latencies, 0.99);
    println!(
        "{label}: {} reads in {seconds:.1} s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / seconds,
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    p99
}

fn main() {
    let lines = env_or("SYNC_BENCH_LINES", 500_000);
    let readers = env_or("READERS", 8);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let db = TestDatabase::new().await.expect("a test database");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let first = dir.path().join("r1.jsonl");
        let second = dir.path().join("r2.jsonl");
        SampleDelta { lines, revision: 1 }
            .write(&first)
            .expect("delta 1");
        SampleDelta { lines, revision: 2 }
            .write(&second)
            .expect("delta 2");
        let loaded = sync(&first, db.config(), &SyncOptions::default())
            .await
            .expect("the first delta applies");
        let beneficiaries = loaded.table("beneficiary").inserted as i64 * 5;
        println!("database: {}", loaded.to_line());

        let mut config = db.config().clone();
        config.pool_size = readers as usize;
        let pool = build_pool(&config, DEFAULT_WAIT).expect("a pool");

        let stop = Arc::new(AtomicBool::new(false));
        let idle = tokio::spawn(load(pool.clone(), readers, beneficiaries, stop.clone()));
        let idle_seconds = 10.0;
        tokio::time::sleep(Duration::from_secs_f64(idle_seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let idle_p99 = describe("idle", idle.await.expect("idle load"), idle_seconds);

        let stop = Arc::new(AtomicBool::new(false));
        let busy = tokio::spawn(load(pool.clone(), readers, beneficiaries, stop.clone()));
        let started = Instant::now();
        let report = sync(&second, db.config(), &SyncOptions::default())
            .await
            .expect("the second delta applies");
        let sync_seconds = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let busy_p99 = describe("during sync", busy.await.expect("busy load"), sync_seconds);
        println!("sync: {}", report.to_line());
        println!(
            "p99 during sync / idle p99 = {:.2} (target: at most 2.00)",
            busy_p99.as_secs_f64() / idle_p99.as_secs_f64()
        );
    });
}
