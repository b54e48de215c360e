//! The one JSON line `build` and `publish` print on stdout when they finish.

use serde::Serialize;

/// Counts of what a build or publish did (`docs/site.md` describes the
/// line; for `build`, uploaded = files written).
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
    /// Rows of the database left off the site, each with a warning in the
    /// log: plans whose id breaks the plan-id rule, zip codes that are not
    /// five digits. Zero for `publish --from`, which renders nothing.
    pub skipped: u64,
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
