//! Builds the full national sample without and then with its drug data,
//! and prints what each cost.
//!
//! `cargo bench --workspace --bench build`
//!
//! Reads `BENCH_DATABASE_URL` (default
//! postgres://postgres@127.0.0.1:5432/whatever_bench). A database without
//! plans is first filled by `generator seed`'s national sample (every zip,
//! ~8k plans, ~1M plan_to_zip rows, 10-20 features a plan, drugs on a few
//! hundred formularies), and the seed's own figures are printed;
//! `BENCH_RESEED=1` refills it. A copy of it with the drug tables emptied
//! (`{name}_nodrugs`, dropped afterwards) is built first, then the database
//! itself, on the same machine in one run, alternating for `BENCH_ROUNDS`
//! rounds (default 3; the medians are compared). The sites are written under
//! `BENCH_OUT_DIR` (default the system temp directory) and removed
//! afterwards. Targets: ≤ 15 s wall from a warm database, peak RSS ≤ 1 GiB,
//! within 3× of `cp -r` of the same tree, and with the drug data ≤ 1.25×
//! the build without it.

use std::path::Path;
use std::time::Instant;

use generator::seed::SeedArgs;
use generator::site::sink::DirSink;
use generator::site::{SiteOptions, load_snapshot, render};
use whatever_database::DatabaseConfig;
use whatever_database::migrations::quote_ident;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/whatever_bench";

/// What one timed build cost.
struct Run {
    loaded: f64,
    total: f64,
    peak_kib: u64,
    plans: usize,
    drugs: usize,
    written: u64,
    bytes: u64,
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; any other argument is a filter we ignore.
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let db = DatabaseConfig::from_url(&url)?;
    let bare = db.with_dbname(&format!("{}_nodrugs", db.dbname()));
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
        drop(client);
        // The same data without drugs: a copy, so the bench database itself
        // is never left half-emptied.
        eprintln!("copying {} without its drug data...", db.display_target());
        let admin = db.with_dbname("postgres").connect().await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {}",
                quote_ident(bare.dbname())
            ))
            .await?;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(bare.dbname()),
                quote_ident(db.dbname())
            ))
            .await?;
        let client = bare.connect().await?;
        client
            .batch_execute(
                "DELETE FROM formulary_drug; DELETE FROM plan_tier_cost; DELETE FROM drug_price;
                 UPDATE plan SET formulary_id = NULL; DELETE FROM formulary; DELETE FROM drug;",
            )
            .await?;
        // On its own: VACUUM refuses to run in the transaction that several
        // statements in one call make.
        client.batch_execute("VACUUM ANALYZE").await?;
        anyhow::Ok(())
    })?;

    let options = SiteOptions::from_env()?;
    let base = std::env::var_os("BENCH_OUT_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let work = tempfile::tempdir_in(&base)?;

    let build = |target: &DatabaseConfig, out: &Path| -> anyhow::Result<Run> {
        // "From a warm database", as after the nightly sync that precedes a
        // build: one untimed read brings the tables into Postgres's cache.
        drop(runtime.block_on(load_snapshot(target))?);
        let reset = reset_peak_rss();
        let started = Instant::now();
        let snapshot = runtime.block_on(load_snapshot(target))?;
        let loaded = started.elapsed().as_secs_f64();
        let sink = DirSink::new(out)?;
        let stats = render(&snapshot, &options, &sink)?;
        let total = started.elapsed().as_secs_f64();
        if !reset {
            eprintln!("could not reset the peak RSS: it covers every build so far");
        }
        Ok(Run {
            loaded,
            total,
            peak_kib: peak_rss_kib(),
            plans: snapshot.plans.len(),
            drugs: snapshot.drugs.drugs.len(),
            written: stats.written,
            bytes: stats.bytes,
        })
    };
    // One pair is at the mercy of whatever else the machine does, and the
    // disk most of all: a build that starts while the last one's 4 GiB are
    // still being written back (or unlinked) runs at half speed. Every
    // build therefore starts from a removed output and a `sync`, and the
    // order alternates (without, with; then with, without), so neither side
    // always comes second. The median of each side is compared.
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let out = work.path().join("site");
    let settle = |dir: &Path| {
        if dir.exists() {
            remove(dir);
        }
        let _ = std::process::Command::new("sync").status();
    };
    let (mut withouts, mut withs) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let order = if round % 2 == 1 {
            [false, true]
        } else {
            [true, false]
        };
        for with_drugs in order {
            settle(&out);
            if with_drugs {
                withs.push(build(&db, &out)?);
            } else {
                withouts.push(build(&bare, &out)?);
            }
        }
        eprintln!(
            "round {round}: {:.2} s without drugs, {:.2} s with",
            withouts[round - 1].total,
            withs[round - 1].total
        );
    }
    let without = median(withouts);
    let with = median(withs);

    // `out` holds the last build's tree (with the drug data after an odd
    // number of rounds); it is copied from a settled disk too.
    let _ = std::process::Command::new("sync").status();
    let copy_started = Instant::now();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&out)
        .arg(work.path().join("copy"))
        .status()?;
    anyhow::ensure!(status.success(), "cp -r failed");
    let copy = copy_started.elapsed().as_secs_f64();

    println!(
        "database:        {} (median of {rounds} alternating rounds)",
        db.display_target()
    );
    for (label, run) in [("without drugs:", &without), ("with drugs:", &with)] {
        println!(
            "{label:<16} {} plans, {} drugs; {} files, {:.2} GiB; load {:.2} s, render {:.2} s, \
             build {:.2} s (target <= 15); peak RSS {} MiB (target <= 1024)",
            run.plans,
            run.drugs,
            run.written,
            run.bytes as f64 / (1u64 << 30) as f64,
            run.loaded,
            run.total - run.loaded,
            run.total,
            run.peak_kib / 1024
        );
    }
    println!(
        "drug data cost:  {:.2}x the build without it (target <= 1.25)",
        with.total / without.total
    );
    println!(
        "cp -r seconds:   {copy:.2} (build with drugs is {:.2}x, target <= 3x)",
        with.total / copy
    );

    remove(work.path());
    runtime.block_on(async {
        let admin = db.with_dbname("postgres").connect().await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {}",
                quote_ident(bare.dbname())
            ))
            .await?;
        anyhow::Ok(())
    })?;
    Ok(())
}

/// The run of median build time; its peak RSS is the highest of all.
fn median(mut runs: Vec<Run>) -> Run {
    let peak_kib = runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
    runs.sort_by(|a, b| a.total.total_cmp(&b.total));
    let middle = runs.len() / 2;
    Run {
        peak_kib,
        ..runs.swap_remove(middle)
    }
}

/// Resets `VmHWM` to the current RSS (Linux: `5` in `clear_refs`), so the
/// next reading is the peak of what follows; false where that is refused.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
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
