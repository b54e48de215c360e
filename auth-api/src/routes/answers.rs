//! Answers several routes give, as typed bodies. Their fields are in
//! alphabetical order, the order the API has always written JSON keys in.

use serde::Serialize;

/// The answer of a route that has nothing to say but how it went, e.g.
/// `{"status":"signed_out"}`.
#[derive(Debug, Serialize)]
pub struct Status {
    /// What happened.
    pub status: &'static str,
}

impl Status {
    /// The answer `{"status": status}`.
    pub fn new(status: &'static str) -> Self {
        Self { status }
    }
}

/// An answer with a message for the person.
#[derive(Serialize)]
pub struct Told {
    /// What the person is told.
    pub message: &'static str,
    /// What happened.
    pub status: &'static str,
}

/// How many sessions a change ended.
#[derive(Serialize)]
pub struct SessionsEnded {
    /// How many sessions were ended.
    pub sessions_ended: u64,
    /// What happened.
    pub status: &'static str,
}
