//! Synthetic deltas of any size, for benchmarks and load tests: plans with
//! features and zips, beneficiaries and enrollments, and a few deletes of
//! rows upserted earlier in the same file.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::{Error, Result};

/// What a synthetic delta contains.
#[derive(Debug, Clone, Copy)]
pub struct SampleDelta {
    /// Lines to write (the file ends at the first plan group past this).
    pub lines: u64,
    /// Changes prices and names: applying revision 2 after revision 1
    /// updates rows instead of inserting them.
    pub revision: u32,
}

/// Plans per group are followed by this many zips and features each.
const ZIPS_PER_PLAN: u64 = 30;
const FEATURES_PER_PLAN: u64 = 5;
/// A beneficiary (and an enrollment) every this many zips.
const ZIPS_PER_BENEFICIARY: u64 = 5;

/// Lines written for one plan group (see [`SampleDelta::write`]).
fn group_lines(plan: u64) -> u64 {
    let people = ZIPS_PER_PLAN.div_ceil(ZIPS_PER_BENEFICIARY) * 2;
    1 + FEATURES_PER_PLAN + ZIPS_PER_PLAN + people + u64::from(plan.is_multiple_of(4))
}

impl SampleDelta {
    /// Writes the delta to `path`; returns the number of lines written.
    pub fn write(&self, path: &Path) -> Result<u64> {
        let file = std::fs::File::create(path).map_err(Error::io("creating", path))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut written = 0u64;
        let mut plan = 0u64;
        let r = u64::from(self.revision);
        let mut emit = |value: serde_json::Value| -> Result<()> {
            writeln!(out, "{value}").map_err(Error::io("writing", path))
        };
        while written < self.lines {
            let before = written;
            let plan_id = format!("S{:04}-{:03}-0", plan / 1000, plan % 1000);
            emit(json!({"op": "upsert", "table": "plan", "row": {
                "plan_id": plan_id,
                "plan_name": format!("Plan {plan} \"r{r}\" <Rx> & more"),
                "insurer_name": format!("Insurer {}", plan % 40),
                "status": if plan.is_multiple_of(10) { "inactive" } else { "active" },
                "description": format!("Covers generics.\tTier {}\nrevision {r}", plan % 5),
                "avg_monthly_cost": ((plan * 37 + r * 11) % 20000) as f64 / 100.0,
                "avg_copay_amount": ((plan * 13 + r) % 5000) as f64 / 100.0,
                "annual_deductible": (plan * 7 % 600) as f64,
                "min_age": 65, "max_age": null
            }}))?;
            for f in 0..FEATURES_PER_PLAN {
                emit(json!({"op": "upsert", "table": "plan_feature", "row": {
                    "plan_id": plan_id, "feature_key": format!("feature_{f}"),
                    "feature_value": format!("value {} rev {r}", (plan + f) % 7)
                }}))?;
            }
            for z in 0..ZIPS_PER_PLAN {
                let zip = format!("{:05}", (plan * 131 + z * 977) % 99_999 + 1);
                emit(json!({"op": "upsert", "table": "plan_to_zip",
                            "row": {"plan_id": plan_id, "zip_code": zip}}))?;
                if z.is_multiple_of(ZIPS_PER_BENEFICIARY) {
                    let id = plan * ZIPS_PER_PLAN + z;
                    emit(json!({"op": "upsert", "table": "beneficiary", "row": {
                        "beneficiary_id": id, "fname": format!("First{id}"),
                        "lname": format!("O'Last {r}"), "sex": "F",
                        "ssn": format!("{:03}-{:02}-{:04}", id % 900 + 100, id % 90 + 10, id % 10000),
                        "birthdate": "1950-01-31", "address": format!("{id} Main St"),
                        "city": "Springfield", "state": "MA", "zip_code": zip
                    }}))?;
                    emit(
                        json!({"op": "upsert", "table": "beneficiary_to_plan", "row": {
                            "beneficiary_id": id, "plan_id": plan_id,
                            "start_date": "2026-01-01", "end_date": null
                        }}),
                    )?;
                }
            }
            // Last op wins: the first zip of every fourth plan goes again.
            if plan.is_multiple_of(4) {
                let zip = format!("{:05}", (plan * 131) % 99_999 + 1);
                emit(json!({"op": "delete", "table": "plan_to_zip",
                            "key": {"plan_id": plan_id, "zip_code": zip}}))?;
            }
            written = before + group_lines(plan);
            plan += 1;
        }
        out.flush().map_err(Error::io("writing", path))?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_count_is_what_was_written_and_every_line_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let written = SampleDelta {
            lines: 200,
            revision: 1,
        }
        .write(&path)
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(written >= 200);
        assert_eq!(text.lines().count() as u64, written);
        for line in text.lines() {
            crate::sync::line::parse(line.as_bytes()).unwrap();
        }
    }
}
