//! Builds the full national sample and prints what it cost.
//!
//! `cargo bench -p generator --bench build`
//!
//! Reads `BENCH_DATABASE_URL` (default
//! postgres://postgres@127.0.0.1:5432/whatever_bench). An empty database is
//! migrated and filled with a national-sized sample first (~42k zips, ~8k
//! plans, ~1M plan_to_zip rows, 10-20 features a plan); `BENCH_RESEED=1`
//! refills it. The site is written under `BENCH_OUT_DIR` (default the system
//! temp directory) and removed afterwards. Targets: ≤ 15 s wall from a warm
//! database, peak RSS ≤ 1 GiB, within 3× of `cp -r` of the same tree.

use std::path::Path;
use std::time::Instant;

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
            let started = Instant::now();
            eprintln!(
                "filling {} with the national sample...",
                db.display_target()
            );
            client.batch_execute(SAMPLE_SQL).await?;
            eprintln!("filled in {:.1} s", started.elapsed().as_secs_f64());
        }
        anyhow::Ok(())
    })?;

    let options = SiteOptions::from_env()?;
    let base = std::env::var_os("BENCH_OUT_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let work = tempfile::tempdir_in(&base)?;
    let out = work.path().join("site");

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

/// A national-sized sample: plans are regional (84 regions of ~500 zips),
/// each zip sees about a quarter of its region's plans; 1 plan in 20 is
/// inactive; names carry characters that must be escaped.
const SAMPLE_SQL: &str = r#"
BEGIN;
TRUNCATE plan_to_zip, plan_feature, beneficiary_to_plan, plan CASCADE;

CREATE TEMP TABLE bench_plan AS
SELECT i,
       format('%s%s-%s-%s', (ARRAY['S','H','R'])[1 + i % 3],
              lpad((1000 + i / 100)::text, 4, '0'), lpad((i % 100)::text, 3, '0'), i % 2) AS plan_id,
       i % 84 AS region
FROM generate_series(0, 7999) AS i;

INSERT INTO plan (plan_id, plan_name, insurer_name, status, description, avg_monthly_cost,
                  avg_copay_amount, annual_deductible, min_age, max_age)
SELECT plan_id,
       format('%s Rx %s & "Plus" <%s>', (ARRAY['Basic','Value','Choice','Premier','Select'])[1 + i % 5], i, i % 7),
       (ARRAY['Acme Health','Blue Shield of Somewhere','Café Mutual','Northwind Care','Contoso Rx',
              'Fabrikam Insurance','Tailspin Health','Wide World Benefits'])[1 + i % 8],
       CASE WHEN i % 20 = 0 THEN 'inactive' ELSE 'active' END,
       format('Plan %s covers generic and brand drugs. Preferred pharmacies cost less; mail order is available for 90-day supplies.', i),
       ((i * 37) % 15000) / 100.0,
       ((i * 13) % 4500) / 100.0,
       ((i * 101) % 59000) / 100.0,
       CASE WHEN i % 3 = 0 THEN 65 END,
       CASE WHEN i % 11 = 0 THEN 64 END
FROM bench_plan;

INSERT INTO plan_feature (plan_id, feature_key, feature_value)
SELECT p.plan_id,
       (ARRAY['mail_order_pharmacy','preferred_pharmacy_network','dental','vision','hearing',
              'gap_coverage','insulin_savings','specialty_drugs','telehealth','transportation',
              'fitness_benefit','over_the_counter_allowance','prior_authorization','step_therapy',
              'quantity_limits','vaccines_covered','generic_tier_copay','brand_tier_copay',
              'star_rating','customer_service_hours'])[k],
       CASE k % 4 WHEN 0 THEN 'true' WHEN 1 THEN 'false'
            WHEN 2 THEN format('$%s per 30-day supply', (p.i * k) % 60)
            ELSE format('Tier %s with <limits> & "conditions" at %s', k % 5, p.i % 97) END
FROM bench_plan p, generate_series(1, 10 + p.i % 11) AS k;

CREATE TEMP TABLE bench_zip AS
SELECT z, lpad(((z * 99991) % 100000)::text, 5, '0') AS zip_code, z / 500 AS region
FROM generate_series(0, 41999) AS z;

INSERT INTO plan_to_zip (plan_id, zip_code)
SELECT p.plan_id, z.zip_code
FROM bench_zip z JOIN bench_plan p ON p.region = z.region
WHERE (p.i * 7 + z.z * 13) % 4 = 0;

COMMIT;
ANALYZE plan; ANALYZE plan_feature; ANALYZE plan_to_zip;
"#;
