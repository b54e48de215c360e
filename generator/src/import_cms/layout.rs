//! Which files `import-cms` reads and which of their columns.
//!
//! Four are files of the CMS Part D "Prescription Drug Plan Formulary,
//! Pharmacy Network, and Pricing Information" public-use set, pipe-delimited
//! with a header line; the fifth (drug names) is ours, in the same style,
//! because the CMS files name drugs only by RxNorm id and NDC. Columns are
//! found by their header name, so extra columns and any order are fine.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Ours: one row per drug with its names and flags.
    DrugNames,
    /// CMS "basic drugs formulary file": one row per formulary, drug and NDC.
    Formulary,
    /// CMS "plan information file": one row per plan (and county).
    PlanInformation,
    /// CMS "beneficiary cost file": cost sharing per plan, coverage level,
    /// tier and days supply.
    BeneficiaryCost,
    /// CMS "pricing file": a plan's unit cost per NDC and days supply.
    Pricing,
}

impl Role {
    /// Every role, in the order the files are read (each one's references
    /// point at files read before it).
    pub const ALL: [Role; 5] = [
        Role::DrugNames,
        Role::Formulary,
        Role::PlanInformation,
        Role::BeneficiaryCost,
        Role::Pricing,
    ];

    /// How its file name starts (lower case, `_` read as a space), as the
    /// CMS files are named (`basic drugs formulary file  PPUF_2026Q1.txt`).
    pub fn prefix(self) -> &'static str {
        match self {
            Role::DrugNames => "drug names",
            Role::Formulary => "basic drugs formulary",
            Role::PlanInformation => "plan information",
            Role::BeneficiaryCost => "beneficiary cost",
            Role::Pricing => "pricing",
        }
    }

    /// The name `generator seed --cms-out` gives its file.
    pub fn file_name(self) -> &'static str {
        match self {
            Role::DrugNames => "drug names.txt",
            Role::Formulary => "basic drugs formulary file.txt",
            Role::PlanInformation => "plan information file.txt",
            Role::BeneficiaryCost => "beneficiary cost file.txt",
            Role::Pricing => "pricing file.txt",
        }
    }

    /// The columns read; each must be in the header.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Role::DrugNames => &[
                "RXCUI",
                "NDC",
                "DRUG_NAME",
                "GENERIC_NAME",
                "STRENGTH",
                "DOSE_FORM",
                "GENERIC_YN",
                "INSULIN_YN",
            ],
            Role::Formulary => &[
                "FORMULARY_ID",
                "RXCUI",
                "NDC",
                "TIER_LEVEL_VALUE",
                "QUANTITY_LIMIT_YN",
                "QUANTITY_LIMIT_AMOUNT",
                "QUANTITY_LIMIT_DAYS",
                "PRIOR_AUTHORIZATION_YN",
                "STEP_THERAPY_YN",
            ],
            Role::PlanInformation => &["CONTRACT_ID", "PLAN_ID", "SEGMENT_ID", "FORMULARY_ID"],
            Role::BeneficiaryCost => &[
                "CONTRACT_ID",
                "PLAN_ID",
                "SEGMENT_ID",
                "COVERAGE_LEVEL",
                "TIER",
                "DAYS_SUPPLY",
                "COST_TYPE_PREF",
                "COST_AMT_PREF",
                "COST_TYPE_NONPREF",
                "COST_AMT_NONPREF",
                "COST_TYPE_MAIL_PREF",
                "COST_AMT_MAIL_PREF",
                "DED_APPLIES_YN",
            ],
            Role::Pricing => &[
                "CONTRACT_ID",
                "PLAN_ID",
                "SEGMENT_ID",
                "NDC",
                "DAYS_SUPPLY",
                "UNIT_COST",
            ],
        }
    }
}

/// The file of each role in `dir`, in [`Role::ALL`] order: exactly one
/// file's name must start with the role's prefix.
pub fn find_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("listing", dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("listing", dir))?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let mut out = Vec::new();
    for role in Role::ALL {
        let matching: Vec<&String> = names
            .iter()
            .filter(|n| normalized(n).starts_with(role.prefix()))
            .collect();
        match matching[..] {
            [one] => out.push(dir.join(one)),
            [] => {
                return Err(Error::Invalid(format!(
                    "{}: no {} file (a file whose name starts with {:?}; unzip the CMS download first)",
                    dir.display(),
                    role.prefix(),
                    role.prefix()
                )));
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "{}: more than one {} file: {}",
                    dir.display(),
                    role.prefix(),
                    matching
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// A file name lower-cased, `_` read as a space, runs of spaces as one.
fn normalized(name: &str) -> String {
    name.to_lowercase()
        .replace('_', " ")
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cms_download_names_and_ours_are_recognized() {
        assert!(
            normalized("basic drugs formulary file  PPUF_2026Q1.txt")
                .starts_with("basic drugs formulary")
        );
        assert!(normalized("Beneficiary_Cost_File_PPUF.txt").starts_with("beneficiary cost"));
        assert!(!normalized("insulin beneficiary cost file.txt").starts_with("beneficiary cost"));
        assert!(
            !normalized("excluded drugs formulary file.txt").starts_with("basic drugs formulary")
        );
        for role in Role::ALL {
            assert!(normalized(role.file_name()).starts_with(role.prefix()));
        }
    }
}
