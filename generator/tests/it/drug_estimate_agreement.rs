//! The browser's drug-cost engine (`templates/assets/drug-estimate.mjs`,
//! run by node on the published JSON) against the reference engine (on the
//! rows the build loaded): random drug lists × plans of a seeded database
//! must give the same amounts to the cent, month by month.

use std::process::Command;

use crate::drug_support::as_json;
use generator::drugs::estimate::{Coverage, DaysSupply, Pharmacy, PlanTerms, estimate};
use generator::drugs::money::Cents;
use generator::seed::rng::Rng;
use generator::seed::{SeedArgs, seed};
use generator::site::drug_data::{self, resolve};
use generator::site::load_snapshot;
use generator::site::sink::{DirSink, Sink};
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

const CASES: usize = 1_500;

#[tokio::test(flavor = "multi_thread")]
async fn rust_and_browser_estimates_agree_to_the_cent() {
    let db = TestDatabase::new().await.unwrap();
    let args = SeedArgs {
        seed: 18,
        states: vec!["DE".into(), "RI".into(), "VT".into()],
        replace: false,
        cms_out: None,
    };
    seed(&args, db.config()).await.unwrap();
    let snapshot = load_snapshot(db.config()).await.unwrap();
    let data = &snapshot.drugs;
    assert!(snapshot.plans.len() > 20 && data.drugs.len() > 400);

    // The published files, written by the build's own functions.
    let site = tempfile::tempdir().unwrap();
    let sink = DirSink::new(site.path()).unwrap();
    drug_data::render(data, &|key, bytes| sink.put(key, bytes)).unwrap();
    for (i, plan) in snapshot.plans.iter().enumerate() {
        let mut json = serde_json::to_vec(plan).unwrap();
        drug_data::append_plan_terms(&mut json, &data.plans[i]).unwrap();
        sink.put(&format!("data/plans/{}.json", plan.summary.plan_id), &json)
            .unwrap();
    }

    let year = *data.years.iter().find(|y| y.year == 2026).unwrap();
    let insulins: Vec<usize> = (0..data.drugs.len())
        .filter(|&i| data.drugs[i].drug.is_insulin)
        .collect();
    let mut rng = Rng::new(2026);
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    let (mut with_gap, mut uncovered, mut insulin, mut threshold) = (0, 0, 0, 0);
    for _ in 0..CASES {
        let p = rng.index(snapshot.plans.len());
        let plan = &snapshot.plans[p].summary;
        let terms = &data.plans[p];
        let start = rng.range(1, 12) as u32;
        let mut entries = Vec::new();
        let mut resolved = Vec::new();
        for _ in 0..rng.range(1, 6) {
            let d = if rng.chance(0.15) {
                *rng.pick(&insulins)
            } else {
                rng.index(data.drugs.len())
            };
            let drug = &data.drugs[d];
            let days = *rng.pick(&DaysSupply::ALL);
            let pharmacy = *rng.pick(&Pharmacy::ALL);
            entries.push(
                json!({"rxcui": drug.drug.rxcui, "days": days.days(), "pharmacy": pharmacy.as_str()}),
            );
            resolved.push(resolve(terms, drug, days, pharmacy));
        }
        let terms_of_plan = PlanTerms {
            monthly_premium: Cents(plan.avg_monthly_cost.cents()),
            annual_deductible: Cents(plan.annual_deductible.cents()),
        };
        let e = estimate(&year, &terms_of_plan, start, &resolved);
        with_gap += usize::from(!e.gaps.is_empty());
        if let Some(drugs) = &e.drugs {
            let all_covered = resolved
                .iter()
                .all(|r| matches!(r.coverage, Coverage::Covered { .. }));
            uncovered += usize::from(!all_covered);
            insulin += usize::from(resolved.iter().any(|r| r.is_insulin && all_covered));
            threshold += usize::from(all_covered && drugs.total == year.oop_threshold);
        }
        cases.push(json!({
            "plan_id": plan.plan_id, "year": year.year, "start_month": start, "entries": entries
        }));
        expected.push(as_json(&e));
    }
    // The draws reach every part of the rules.
    assert!(with_gap >= 50, "{with_gap} cases without an estimate");
    assert!(uncovered >= 100, "{uncovered} cases with an uncovered drug");
    assert!(insulin >= 50, "{insulin} cases with covered insulin");
    assert!(threshold >= 20, "{threshold} cases reaching the threshold");

    let cases_file = site.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/drug-estimate/agreement.mjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg(site.path())
        .arg(&cases_file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(actual.len(), CASES);
    let disagreements: Vec<String> = (0..CASES)
        .filter(|&i| actual[i] != expected[i])
        .map(|i| {
            format!(
                "{}\n  rust: {}\n  js:   {}",
                cases[i], expected[i], actual[i]
            )
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} of {CASES} cases disagree, e.g.\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(3)].join("\n")
    );
}
