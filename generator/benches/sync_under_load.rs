//! Do API reads stall while a large delta is applied? Runs the real
//! auth-api (a runtime of its own) over a database filled by one large
//! delta, and calls `GET /api/me/enrollment` over HTTP as signed-in
//! beneficiaries at a fixed rate (`RATE` a second, default 1,000), `SYNCS`
//! times (default 3 per `DB_SHARE` value, below): first for `IDLE_SECONDS`
//! (default 5) with nothing
//! else running, then while `generator sync` (a process of its own, as the
//! nightly job runs it) applies another large delta to the same tables
//! (each a new revision of every row, on a database vacuumed since the
//! last, as a night apart would leave it). Prints p50/p99 of every window,
//! the p99 of each quarter second of a sync with when its phases ended, and
//! the ratio of the p99 during all the syncs to the p99 of all the idle
//! windows before them (target: at most 2).
//!
//! A fixed rate, not clients that wait for each answer: the question is the
//! latency a given traffic sees. On one 2-core machine the sync's database
//! session takes a whole core; the line "saturated" shows what the API
//! answers at most with both, for scale. At a rate the remaining core can
//! carry, what is left to see is whether the sync blocks reads (locks); at
//! a rate it cannot, the ratio measures the lost core instead.
//!
//! The generator process runs at idle CPU priority (`chrt --idle 0`): in
//! production it runs on the CI runner, never on the API's machine, so only
//! its database session competes with the API, as it does here. (Under a
//! mere `nice -n 19` the scheduler still counts its core as busy and queues
//! the API's wakeups behind the sync's database session on the other.)
//!
//! `DB_SHARE` is passed to the sync as `--db-share`; with a list
//! (`DB_SHARE=100,50`) the syncs take its values in turn, three each unless
//! `SYNCS` says otherwise, and each value gets its own figures. The value 0
//! runs no sync in its turn: a control that shows how far apart two windows
//! of the same idle traffic come out on this machine. The default, `100,0`,
//! is the sync flat out beside the control.
//!
//!   cargo bench --workspace --bench sync_under_load
//!   SYNC_BENCH_LINES=500000 RATE=2000 SYNCS=5 cargo bench --workspace --bench sync_under_load
//!   DB_SHARE=100,50,0 SYNCS=9 cargo bench --workspace --bench sync_under_load

use std::time::Duration;

use generator::sync::sample::SampleDelta;
use generator::sync::{SyncOptions, sync};
use load_harness::{ApiServer, Figures, closed_loop, env_or, ms, open_loop};
use whatever_test_db::TestDatabase;

/// Signed-in beneficiaries the readers take turns as.
const USERS: i64 = 2_000;

/// `DB_SHARE` 0: in that turn no sync runs, and the window after the idle
/// one is measured all the same (`CONTROL_SECONDS`, default 10).
const CONTROL: u64 = 0;

fn main() -> anyhow::Result<()> {
    let lines = env_or("SYNC_BENCH_LINES", 500_000);
    let rate = env_or("RATE", 1_000);
    let idle_seconds = env_or("IDLE_SECONDS", 5);
    let shares = db_shares()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::new())?;
    let syncs = env_or("SYNCS", 3 * shares.len() as u64);
    let control_seconds = env_or("CONTROL_SECONDS", 10);
    let dir = tempfile::tempdir()?;
    let delta = |revision: u32| -> anyhow::Result<std::path::PathBuf> {
        let path = dir.path().join(format!("r{revision}.jsonl"));
        SampleDelta { lines, revision }.write(&path)?;
        Ok(path)
    };
    let deltas = (1..2 + syncs as u32)
        .map(delta)
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Written out now, so the kernel flushing them does not land in a
    // measurement.
    anyhow::ensure!(std::process::Command::new("sync").status()?.success());
    let loaded = runtime.block_on(sync(&deltas[0], db.config(), &SyncOptions::default()))?;
    println!("database: {}", loaded.to_line());
    // Before each measurement, the database as a night's rest leaves it:
    // vacuumed, else autovacuum, woken by the load, runs during it; and
    // written out, else the checkpointer and the kernel write the last
    // sync's pages during the next windows.
    let settle = || {
        runtime.block_on(async {
            let client = db.connect().await?;
            client.batch_execute("VACUUM ANALYZE").await?;
            client.batch_execute("CHECKPOINT").await?;
            anyhow::Ok(())
        })?;
        anyhow::ensure!(std::process::Command::new("sync").status()?.success());
        anyhow::Ok(())
    };
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
    // Before each sync: the database settled, two seconds of the same
    // traffic (VACUUM ANALYZE made every pooled connection re-plan its
    // statements on next use, and that is not what is measured), then an
    // idle window. Idle and busy windows alternate so that both sample the
    // machine as it was at the time: a host that gets busier (or quieter)
    // over the run moves both alike.
    let warm = || runtime.block_on(async { open_loop(rate, request, sleep(2)).await });
    // Per turn: its --db-share, the idle window, the window after it.
    let mut turns = Vec::new();
    for (n, path) in deltas.iter().enumerate().skip(1) {
        let db_share = shares[(n - 1) % shares.len()];
        settle()?;
        warm();
        let quiet = runtime.block_on(async { open_loop(rate, request, sleep(idle_seconds)).await });
        println!("idle before sync {n}: {}", quiet.line());
        let busy = if db_share == CONTROL {
            // The same traffic for as long as a sync takes, without one:
            // what this machine's own noise makes of the ratio.
            let busy =
                runtime.block_on(async { open_loop(rate, request, sleep(control_seconds)).await });
            println!("control {n} (no sync):  {}", busy.line());
            busy
        } else {
            let (busy, output) =
                runtime.block_on(during_sync(path, &db, rate, db_share, &request))?;
            println!("during sync {n} (--db-share={db_share}): {}", busy.line());
            let windows: Vec<String> = busy
                .p99_by_window(Duration::from_millis(250))
                .iter()
                .map(|d| format!("{:.1}", ms(*d)))
                .collect();
            println!("  p99 in each 250 ms (ms): {}", windows.join(" "));
            println!("  phases done at (s): {}", phases(&output.stderr));
            println!("  {}", String::from_utf8_lossy(&output.stdout).trim());
            busy
        };
        turns.push((db_share, quiet, busy));
    }
    for &db_share in &shares {
        let (idle, during): (Vec<_>, Vec<_>) = turns
            .iter()
            .filter(|(share, _, _)| *share == db_share)
            .map(|(_, idle, busy)| (idle.clone(), busy.clone()))
            .unzip();
        let ratios: Vec<String> = idle
            .iter()
            .zip(&during)
            .map(|(i, d)| format!("{:.2}", ms(d.quantile(0.99)) / ms(i.quantile(0.99))))
            .collect();
        // The control's second window stands where a sync would.
        let (title, window, target) = if db_share == CONTROL {
            (
                "control, no sync:".to_string(),
                "second idle window",
                "no target: the machine's own spread",
            )
        } else {
            (
                format!("--db-share={db_share}:"),
                "sync",
                "target: at most 2.00",
            )
        };
        println!("{title}");
        println!(
            "  p99 during each {window} / p99 just before it: {}",
            ratios.join(", ")
        );
        let idle = Figures::pooled(&idle);
        let during = Figures::pooled(&during);
        println!("  idle, its windows:  {}", idle.line());
        println!("  during the {window}s: {}", during.line());
        println!(
            "  p99 during {window} / idle p99 = {:.2} at {rate} requests/s ({target})",
            ms(during.quantile(0.99)) / ms(idle.quantile(0.99))
        );
    }
    server.stop()?;
    Ok(())
}

/// The `--db-share` values to compare (`DB_SHARE`, a comma-separated list,
/// default `100,0`: flat out, and the [`CONTROL`]). Syncs take them in turn, so each
/// value sees the machine as the others do.
fn db_shares() -> anyhow::Result<Vec<u64>> {
    let list = std::env::var("DB_SHARE").unwrap_or_else(|_| "100,0".into());
    list.split(',')
        .map(|s| match s.trim().parse() {
            Ok(share @ 0..=100) => Ok(share),
            _ => anyhow::bail!(
                "DB_SHARE: {s:?} is not a percentage from 1 to 100, or 0 for no sync (in {list:?})"
            ),
        })
        .collect()
}

/// "hashed 0.31, staged 2.05, ...": when each phase of the sync ended, from
/// its JSON log lines.
fn phases(log: &[u8]) -> String {
    String::from_utf8_lossy(log)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|event| {
            let fields = event.get("fields")?;
            Some(format!(
                "{} {:.2}",
                fields.get("phase")?.as_str()?,
                fields.get("seconds")?.as_f64()?
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `generator sync DELTA` as a process of its own while calling the
/// API at `rate`; the figures of the calls made until it exited, and its
/// output.
async fn during_sync<F>(
    delta: &std::path::Path,
    db: &TestDatabase,
    rate: u64,
    db_share: u64,
    request: F,
) -> anyhow::Result<(Figures, std::process::Output)>
where
    F: Fn(u64) -> reqwest::RequestBuilder,
{
    let mut command = std::process::Command::new("chrt");
    command
        .args(["--idle", "0"])
        .arg(env!("CARGO_BIN_EXE_generator"))
        .arg("sync")
        .arg(delta)
        .arg(format!("--db-share={db_share}"))
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn,generator=info")
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // Started and waited for on a thread of its own: the load generator's
    // one thread keeps its schedule while the process starts.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let syncing = std::thread::spawn(move || {
        let output = command.output();
        let _ = tx.send(());
        output
    });
    let busy = open_loop(rate, request, async {
        let _ = rx.await;
    })
    .await;
    let output = syncing
        .join()
        .map_err(|_| anyhow::anyhow!("the sync thread panicked"))??;
    anyhow::ensure!(
        output.status.success(),
        "generator sync failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((busy, output))
}
