//! Times `generator import-cms` of a national-size file set into a fresh
//! database.
//!
//!   cargo bench -p generator@0.1.0 --bench import_cms
//!   IMPORT_BENCH_DRUGS=1000 IMPORT_BENCH_FORMULARIES=100 cargo bench ...
//!
//! Seeds the national sample's plans into a new test database and empties
//! its drug tables, writes 380 formularies × 3,400 drugs (by default) as
//! CMS files for those plans, imports them (all inserts), then imports
//! them again (nothing changes). Target: the first import ≤ 60 s.

use std::time::Instant;

use generator::import_cms::{ImportOptions, import};
use generator::seed::cms::write_cms;
use generator::seed::drugs::DrugSample;
use generator::seed::sample::{Sample, select_states};
use generator::seed::zips::ZipTable;
use generator::seed::{SeedArgs, seed};
use whatever_test_db::TestDatabase;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let drugs = env("IMPORT_BENCH_DRUGS", 3_400);
    let formularies = env("IMPORT_BENCH_FORMULARIES", 380);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let db = TestDatabase::new().await?;
        let started = Instant::now();
        let args = SeedArgs {
            seed: 1,
            states: Vec::new(),
            replace: false,
            cms_out: None,
        };
        let summary = seed(&args, db.config()).await?;
        println!(
            "seeded {} plans in {:.1} s",
            summary.plan,
            started.elapsed().as_secs_f64()
        );
        let client = db.connect().await?;
        client
            .batch_execute(
                "DELETE FROM formulary_drug; DELETE FROM plan_tier_cost; DELETE FROM drug_price;
                 UPDATE plan SET formulary_id = NULL; DELETE FROM formulary; DELETE FROM drug;",
            )
            .await?;
        // On its own: several statements in one call are one transaction,
        // and VACUUM refuses to run in one.
        client
            .batch_execute(
                "VACUUM ANALYZE formulary_drug, plan_tier_cost, drug_price, formulary, drug, plan",
            )
            .await?;

        let started = Instant::now();
        let table = ZipTable::embedded()?;
        let states = select_states(&table, &[])?;
        let plans = Sample::generate(1, &table, &states).plans;
        let sample = DrugSample::sized(1, &plans, drugs, formularies);
        let dir = tempfile::tempdir()?;
        let written = write_cms(dir.path(), &plans, &sample)?;
        let bytes: u64 = std::fs::read_dir(dir.path())?
            .map(|e| Ok(e?.metadata()?.len()))
            .collect::<std::io::Result<Vec<u64>>>()?
            .iter()
            .sum();
        println!(
            "wrote {} formularies × {} drugs in {:.1} s: {}, {:.1} MiB",
            formularies,
            drugs,
            started.elapsed().as_secs_f64(),
            serde_json::to_string(&written)?,
            bytes as f64 / 1048576.0
        );

        for label in ["first import (into empty drug tables)", "same files again"] {
            let started = Instant::now();
            let report = import(dir.path(), db.config(), &ImportOptions::default()).await?;
            let seconds = started.elapsed().as_secs_f64();
            println!("{label}: {seconds:.2} s");
            println!("  {}", report.to_line());
        }
        println!("target: first import <= 60 s");
        anyhow::Ok(())
    })
}
