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
pub mod rate_limit;
pub mod request;
pub mod retry;
pub mod store;
pub mod upstream;
pub mod wake;
pub mod worker;

pub use crate::config::FulfillmentSettings;
pub use wake::Wake;
pub use worker::{Worker, WorkerHandle, spawn_for};
