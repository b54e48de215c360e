//! Builds the full national sample and prints what it cost.
//!
//! `cargo bench --workspace --bench build`
//!
//! Reads `BENCH_DATABASE_URL` (default
//! postgres://postgres@127.0.0.1:5432/whatever_bench). A database without
//! plans is first filled by `generator seed`'s national sample (every zip,
//! ~8k plans, ~1M plan_to_zip rows, 10-20 features a plan), and the seed's
//! own figures are printed; `BENCH_RESEED=1` refills it. The site is written under `BENCH_OUT_DIR` (default the system
//! temp directory) and removed afterwards. Targets: ≤ 15 s wall from a warm
//! database, peak RSS ≤ 1 GiB, within 3× of `cp -r` of the same tree.

use std::path::Path;
use std::time::Instant;

use generator::seed::SeedArgs;
use generator::site::sink::DirSink;
use generator::site::{SiteOptions, load_snapshot, render};
use whatever_database::DatabaseConfig;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/whatever_bench";

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; any other argument is a filter we ignore.
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let db = DatabaseConfig::from_url(&url)?;
    let runtime = tokio::runtime::Runtime::new()?;

    runtime.block_on(async {
        whatever_database::migrations::migrate(&db).await?;
        let client = db.connect().await?;
        let plans: i64 = client
            .query_one("SELECT count(*) FROM plan", &[])
            .await?
            .get(0);
        if plans == 0 || std::env::var("BENCH_RESEED").as_deref() == Ok("1") {
            eprintln!(
                "seeding {} with the national sample...",
                db.display_target()
            );
            let args = SeedArgs {
                seed: 1,
                states: Vec::new(),
                replace: true,
                cms_out: None,
            };
            let summary = generator::seed::seed(&args, &db).await?;
            println!("seed:            {}", serde_json::to_string(&summary)?);
        }
        client.batch_execute("ANALYZE").await?;
        anyhow::Ok(())
    })?;

    let options = SiteOptions::from_env()?;
    let base = std::env::var_os("BENCH_OUT_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let work = tempfile::tempdir_in(&base)?;
    let out = work.path().join("site");

    // "From a warm database", as after the nightly sync that precedes a
    // build: one untimed read brings the tables into Postgres's cache.
    drop(runtime.block_on(load_snapshot(&db))?);

    let started = Instant::now();
    let snapshot = runtime.block_on(load_snapshot(&db))?;
    let loaded = started.elapsed().as_secs_f64();
    let sink = DirSink::new(&out)?;
    let stats = render(&snapshot, &options, &sink)?;
    let total = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib();

    let copy_started = Instant::now();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&out)
        .arg(work.path().join("copy"))
        .status()?;
    anyhow::ensure!(status.success(), "cp -r failed");
    let copy = copy_started.elapsed().as_secs_f64();

    println!("database:        {}", db.display_target());
    println!(
        "rows loaded:     {} plans, {} features, {} plan_to_zip, {} zips",
        snapshot.plans.len(),
        snapshot.feature_rows,
        snapshot.plan_zip_rows,
        snapshot.zips.len()
    );
    println!(
        "files written:   {} ({} plan pages, {} zip pages)",
        stats.written, stats.plans, stats.zips
    );
    println!(
        "bytes written:   {} ({:.2} GiB)",
        stats.bytes,
        stats.bytes as f64 / (1u64 << 30) as f64
    );
    println!("load seconds:    {loaded:.2}");
    println!("render seconds:  {:.2}", total - loaded);
    println!("build seconds:   {total:.2} (target <= 15)");
    println!("peak RSS:        {} MiB (target <= 1024)", peak / 1024);
    println!(
        "cp -r seconds:   {copy:.2} (build is {:.2}x, target <= 3x)",
        total / copy
    );
    remove(work.path());
    Ok(())
}

/// `VmHWM` of this process, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn remove(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
}
