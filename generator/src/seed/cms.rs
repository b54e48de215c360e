//! The sample's drug data written as the CMS Part D public-use files that
//! `generator import-cms` reads (`docs/drug-data.md`), so the import can be
//! tried and measured without the real download. Importing them into a
//! database that has the sample's plans gives back the sample's drug tables.
//!
//! Where the sample is simpler than the real files, the files are too:
//! each drug has one NDC (`0` padded rxcui; sample codes, not real ones),
//! prices are national, so they are listed once, under the first plan, and
//! the beneficiary cost file has the initial coverage level and a $0
//! catastrophic level.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use whatever_database::Money;

use super::drugs::{DrugSample, TierCostRow};
use super::plans::PlanRow;
use crate::drugs::estimate::{DaysSupply, Pharmacy};
use crate::drugs::money::Cents;
use crate::import_cms::layout::Role;
use crate::{Error, Result};

/// Rows written per file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CmsWritten {
    /// Drug names file.
    pub drug_names: u64,
    /// Basic drugs formulary file.
    pub formulary: u64,
    /// Plan information file.
    pub plan_information: u64,
    /// Beneficiary cost file.
    pub beneficiary_cost: u64,
    /// Pricing file.
    pub pricing: u64,
}

/// The sample's NDC of a drug: its rxcui, zero-padded to 11 digits.
pub fn sample_ndc(rxcui: &str) -> String {
    format!("{rxcui:0>11}")
}

/// Writes the five files for `plans` and `drugs` into `dir` (created if
/// missing).
pub fn write_cms(dir: &Path, plans: &[PlanRow], drugs: &DrugSample) -> Result<CmsWritten> {
    std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    let mut written = CmsWritten::default();
    let open = |role: Role, header: &str| -> Result<(PathBuf, BufWriter<File>)> {
        let path = dir.join(role.file_name());
        let file = File::create(&path).map_err(Error::io("creating", &path))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        writeln!(out, "{header}").map_err(Error::io("writing", &path))?;
        Ok((path, out))
    };

    let (path, mut out) = open(
        Role::DrugNames,
        "RXCUI|NDC|DRUG_NAME|GENERIC_NAME|STRENGTH|DOSE_FORM|GENERIC_YN|INSULIN_YN",
    )?;
    for d in &drugs.drugs {
        writeln!(
            out,
            "{}|{}|{}|{}|{}|{}|{}|{}",
            d.rxcui,
            sample_ndc(&d.rxcui),
            field(&d.name),
            field(&d.generic_name),
            field(&d.strength),
            field(&d.dose_form),
            yn(d.is_generic),
            yn(d.is_insulin)
        )
        .map_err(Error::io("writing", &path))?;
        written.drug_names += 1;
    }
    finish(out, &path)?;

    let (path, mut out) = open(
        Role::Formulary,
        "FORMULARY_ID|FORMULARY_VERSION|CONTRACT_YEAR|RXCUI|NDC|TIER_LEVEL_VALUE|QUANTITY_LIMIT_YN|QUANTITY_LIMIT_AMOUNT|QUANTITY_LIMIT_DAYS|PRIOR_AUTHORIZATION_YN|STEP_THERAPY_YN",
    )?;
    for (id, placements) in &drugs.formularies {
        for p in placements {
            let rxcui = &drugs.drugs[p.drug].rxcui;
            let (ql, amount, days) = match p.quantity_limit {
                Some((amount, days)) => ("Y", amount.to_string(), days.to_string()),
                None => ("N", String::new(), String::new()),
            };
            writeln!(
                out,
                "{id}|1|2026|{rxcui}|{}|{}|{ql}|{amount}|{days}|{}|{}",
                sample_ndc(rxcui),
                p.tier,
                yn(p.prior_authorization),
                yn(p.step_therapy)
            )
            .map_err(Error::io("writing", &path))?;
            written.formulary += 1;
        }
    }
    finish(out, &path)?;

    let (path, mut out) = open(
        Role::PlanInformation,
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|CONTRACT_NAME|PLAN_NAME|FORMULARY_ID|PREMIUM|DEDUCTIBLE|MA_REGION_CODE|PDP_REGION_CODE|STATE|COUNTY_CODE|SNP|PLAN_SUPPRESSED_YN",
    )?;
    let mut first_plan = None;
    for (i, plan) in plans.iter().enumerate() {
        let Some(formulary) = drugs.plan_formulary.get(i).copied().flatten() else {
            continue;
        };
        let (contract, number, segment) = cms_parts(&plan.plan_id)?;
        first_plan.get_or_insert_with(|| (contract, number, segment.clone()));
        writeln!(
            out,
            "{contract}|{number}|{segment}|{}|{}|{}|{}|{}|||||0|N",
            field(&plan.insurer_name),
            field(&plan.plan_name),
            drugs.formularies[formulary].0,
            Money(plan.monthly_cents),
            Money(plan.deductible_cents)
        )
        .map_err(Error::io("writing", &path))?;
        written.plan_information += 1;
    }
    finish(out, &path)?;

    let (path, mut out) = open(
        Role::BeneficiaryCost,
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|COVERAGE_LEVEL|TIER|DAYS_SUPPLY|COST_TYPE_PREF|COST_AMT_PREF|COST_MIN_AMT_PREF|COST_MAX_AMT_PREF|COST_TYPE_NONPREF|COST_AMT_NONPREF|COST_MIN_AMT_NONPREF|COST_MAX_AMT_NONPREF|COST_TYPE_MAIL_PREF|COST_AMT_MAIL_PREF|COST_MIN_AMT_MAIL_PREF|COST_MAX_AMT_MAIL_PREF|COST_TYPE_MAIL_NONPREF|COST_AMT_MAIL_NONPREF|COST_MIN_AMT_MAIL_NONPREF|COST_MAX_AMT_MAIL_NONPREF|TIER_SPECIALTY_YN|DED_APPLIES_YN",
    )?;
    // Per plan, per (tier, days): the row of each pharmacy type.
    let mut grouped: BTreeMap<(usize, u8, i64), [Option<&TierCostRow>; 3]> = BTreeMap::new();
    for row in &drugs.tier_costs {
        let slot = Pharmacy::ALL
            .iter()
            .position(|p| *p == row.pharmacy)
            .expect("a pharmacy type");
        grouped
            .entry((row.plan, row.tier, row.days.days()))
            .or_default()[slot] = Some(row);
    }
    for ((plan, tier, days), rows) in &grouped {
        let (contract, number, segment) = cms_parts(&plans[*plan].plan_id)?;
        let code = if *days == DaysSupply::Thirty.days() {
            1
        } else {
            2
        };
        let deductible: Vec<bool> = rows
            .iter()
            .flatten()
            .map(|r| r.deductible_applies)
            .collect();
        if deductible.iter().any(|d| *d != deductible[0]) {
            return Err(Error::Invalid(format!(
                "plan {} tier {tier}: the deductible applies at some pharmacy types only, which the beneficiary cost file cannot say",
                plans[*plan].plan_id
            )));
        }
        let shares: Vec<String> = rows
            .iter()
            .map(|r| match r {
                Some(r) if r.coinsurance => {
                    format!("2|{}.{:04}||", r.amount / 10_000, r.amount % 10_000)
                }
                Some(r) => format!("1|{}||", Money(r.amount)),
                None => "0|||".to_string(),
            })
            .collect();
        let specialty = yn(*tier == 5);
        for (level, shares, deductible) in [
            (1, shares.join("|"), yn(deductible[0])),
            (3, ["1|0.00||"; 3].join("|"), "N"),
        ] {
            writeln!(
                out,
                "{contract}|{number}|{segment}|{level}|{tier}|{code}|{shares}|0||||{specialty}|{deductible}"
            )
            .map_err(Error::io("writing", &path))?;
            written.beneficiary_cost += 1;
        }
    }
    finish(out, &path)?;

    let (path, mut out) = open(
        Role::Pricing,
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|NDC|DAYS_SUPPLY|UNIT_COST",
    )?;
    if let Some((contract, number, segment)) = first_plan {
        for d in &drugs.drugs {
            for (days, Cents(cents)) in d.priced() {
                // Ten-millionths of a dollar a unit: × 90 days it is still
                // within a hundredth of a cent of the fill's price.
                let days = days.days();
                let unit = (cents * 100_000 + days / 2) / days;
                writeln!(
                    out,
                    "{contract}|{number}|{segment}|{}|{days}|{}.{:07}",
                    sample_ndc(&d.rxcui),
                    unit / 10_000_000,
                    unit % 10_000_000
                )
                .map_err(Error::io("writing", &path))?;
                written.pricing += 1;
            }
        }
    } else if !drugs.drugs.is_empty() {
        return Err(Error::Invalid(
            "the pricing file lists prices under a plan, and no plan has a formulary".into(),
        ));
    }
    finish(out, &path)?;
    Ok(written)
}

/// `S5601`, `012`, `000` from `S5601-012-0`.
fn cms_parts(plan_id: &str) -> Result<(&str, &str, String)> {
    let mut parts = plan_id.split('-');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(contract), Some(number), Some(segment), None) => {
            let segment: u32 = segment.parse().map_err(|_| {
                Error::Invalid(format!("plan id {plan_id:?} has no numeric segment"))
            })?;
            Ok((contract, number, format!("{segment:03}")))
        }
        _ => Err(Error::Invalid(format!(
            "plan id {plan_id:?} is not contract-plan-segment"
        ))),
    }
}

/// Text as a field: the files have no quoting, so `|` and line breaks
/// become spaces.
fn field(text: &str) -> String {
    text.replace(['|', '\n', '\r'], " ")
}

fn yn(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

fn finish(out: BufWriter<File>, path: &Path) -> Result<()> {
    out.into_inner()
        .map_err(|e| Error::io("writing", path)(e.into_error()))?;
    Ok(())
}
