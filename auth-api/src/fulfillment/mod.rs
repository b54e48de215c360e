//! "Mail me this": anonymous and logged-in users ask for a plan's paper
//! information. The request path only validates and writes to a durable
//! outbox (`fulfillment_request`), answering 202 at once; a background
//! [`worker`] delivers to the slow, sometimes absent, third-party
//! Fulfillment API with timeouts, backoff, a circuit breaker and the
//! request id as the upstream `Idempotency-Key`. An accepted request is
//! never lost and never mailed twice.
//!
//! Postal addresses are PII: they are never logged (only `request_id` and
//! status are), never returned, and erased once a request is finished.

pub mod breaker;
mod handlers;
pub mod rate_limit;
pub mod request;
pub mod retry;
pub mod settings;
pub mod store;
pub mod upstream;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

pub use handlers::routes;
pub use settings::FulfillmentSettings;
pub use worker::{Worker, WorkerHandle, spawn_for};

/// Wakes this process's worker when a request is queued, so delivery starts
/// at once instead of at the next poll.
#[derive(Debug, Clone, Default)]
pub struct Wake(pub Arc<Notify>);

impl Wake {
    /// Signals that a new row is waiting.
    pub fn notify(&self) {
        self.0.notify_one();
    }
}
