//! The hand-computed cases of `tests/drug-estimate/cases.json` against the
//! reference engine (the browser's engine runs the same file:
//! `tests/drug-estimate/cases.test.mjs`).

use crate::drug_support::*;
use generator::drugs::estimate::{DaysSupply, Pharmacy, estimate};
use generator::site::drug_data::resolve;
use serde_json::Value;

#[test]
fn every_hand_computed_case_comes_out_to_the_cent() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/drug-estimate/cases.json"
    );
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let year = year(&table["year"]);
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for c in cases {
        let plan = &c["plan"];
        let terms = plan_drug_terms(plan);
        let entries: Vec<_> = c["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let days = DaysSupply::from_days(e["days"].as_i64().unwrap()).unwrap();
                let pharmacy = Pharmacy::parse(e["pharmacy"].as_str().unwrap()).unwrap();
                resolve(&terms, &drug(&e["drug"]), days, pharmacy)
            })
            .collect();
        let start = c["start_month"].as_u64().unwrap() as u32;
        let got = as_json(&estimate(&year, &plan_terms(plan), start, &entries));
        assert_eq!(got, c["expected"], "{}: {}", c["name"], c["why"]);
    }
}
