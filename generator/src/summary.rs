//! The one JSON line `build` and `publish` print on stdout when they finish.

use serde::Serialize;

/// Counts of what a build or publish did (DESIGN.md: for `build`, uploaded =
/// files written).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Objects rendered.
    pub rendered: u64,
    /// Objects uploaded (or files written, for `build`).
    pub uploaded: u64,
    /// Objects deleted.
    pub deleted: u64,
    /// Objects left as they were.
    pub unchanged: u64,
    /// CloudFront paths invalidated.
    pub invalidated_paths: Vec<String>,
    /// Wall time, in seconds.
    pub seconds: f64,
}

impl Summary {
    /// The summary as one line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a summary always serializes")
    }
}
