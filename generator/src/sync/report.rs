//! What a sync reports: the problems that stopped it, or what it changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Something wrong with one line of a delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: u64,
    /// What is wrong, naming the column and (unless personal) the value.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The problems of a rejected delta, for its error message: the first few in
/// full, then how many more.
pub fn describe_problems(problems: &[Problem], total: u64) -> String {
    let mut text = problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let shown = problems.len() as u64;
    if total > shown {
        text.push_str(&format!(" (and {} more)", total - shown));
    }
    text
}

/// Rows changed in one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// Rows that did not exist before.
    pub inserted: u64,
    /// Existing rows whose values changed.
    pub updated: u64,
    /// Rows removed, by a delete line or because their plan or beneficiary
    /// was deleted.
    pub deleted: u64,
    /// Upserted rows that were already exactly so.
    pub unchanged: u64,
}

/// The JSON line `generator sync` prints on stdout (and records in
/// `applied_delta.summary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// The delta file as given.
    pub delta: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// True when this file had been applied before, so nothing was done now.
    pub already_applied: bool,
    /// When it was applied (now, or the earlier time), RFC 3339.
    pub applied_at: String,
    /// Lines in the file, blank ones included.
    pub lines: u64,
    /// Upserts and deletes in the file.
    pub operations: u64,
    /// Rows changed per table; all zero when `already_applied`.
    pub tables: BTreeMap<String, TableCounts>,
    /// Wall time of this run, in seconds.
    pub seconds: f64,
}

impl SyncReport {
    /// The report as one line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a sync report always serializes")
    }

    /// Counts of one table (zero if it was not touched).
    pub fn table(&self, name: &str) -> TableCounts {
        self.tables.get(name).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_a_list_with_the_rest_counted() {
        let p = |line| Problem {
            line,
            message: "bad".into(),
        };
        assert_eq!(describe_problems(&[p(3)], 1), "line 3: bad");
        assert_eq!(
            describe_problems(&[p(3), p(9)], 5),
            "line 3: bad; line 9: bad (and 3 more)"
        );
    }
}
