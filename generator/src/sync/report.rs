//! What a sync reports: the problems that stopped it, or what it changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::batch::TableCounts;
use crate::batch::report;

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
        report::line(self)
    }

    /// Counts of one table (zero if it was not touched).
    pub fn table(&self, name: &str) -> TableCounts {
        report::table(&self.tables, name)
    }
}
