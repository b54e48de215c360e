//! What a batch reports: rows changed per table, and the report as the
//! one JSON line the command prints on stdout.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Rows changed in one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// Rows that did not exist before.
    pub inserted: u64,
    /// Existing rows whose values changed.
    pub updated: u64,
    /// Rows removed, by a delete line, because their plan or beneficiary
    /// was deleted, or because the input no longer has them.
    pub deleted: u64,
    /// Rows the input gave that were already exactly so.
    pub unchanged: u64,
}

/// Counts of `name` in `tables` (zero if it was not touched).
pub fn table(tables: &BTreeMap<String, TableCounts>, name: &str) -> TableCounts {
    tables.get(name).copied().unwrap_or_default()
}

/// A report or summary as one line of JSON.
pub fn line(report: &impl Serialize) -> String {
    serde_json::to_string(report).expect("a report always serializes")
}
