//! Times `generator sync` on a large synthetic delta, on a fresh database.
//!
//!   cargo bench --workspace --bench sync            # 1,000,000 lines
//!   SYNC_BENCH_LINES=100000 cargo bench --workspace --bench sync
//!
//! Runs three syncs: revision 1 into an empty database (all inserts),
//! revision 2 over it (updates), and revision 2 again (already applied).

use std::time::Instant;

use generator::sync::sample::SampleDelta;
use generator::sync::{SyncOptions, sync};
use whatever_test_db::TestDatabase;

fn main() {
    let lines: u64 = std::env::var("SYNC_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let db = TestDatabase::new().await.expect("a test database");
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (revision, label) in [(1, "insert"), (2, "update"), (2, "repeat")] {
            let path = dir.path().join(format!("delta-r{revision}.jsonl"));
            if !path.exists() {
                let started = Instant::now();
                let written = SampleDelta { lines, revision }
                    .write(&path)
                    .expect("writing the delta");
                let size = std::fs::metadata(&path).expect("the delta").len();
                println!(
                    "generated {written} lines ({:.1} MiB) in {:.2} s",
                    size as f64 / 1048576.0,
                    started.elapsed().as_secs_f64()
                );
            }
            let started = Instant::now();
            let report = sync(&path, db.config(), &SyncOptions::default())
                .await
                .expect("the delta applies");
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "sync {label}: {} lines in {seconds:.2} s ({:.0} lines/s)",
                report.lines,
                report.lines as f64 / seconds
            );
            println!("  {}", report.to_line());
        }
    });
}
