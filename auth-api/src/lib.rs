//! The auth-api: the only part of whatever.gov that is not static. It serves
//! login, a beneficiary's own enrollment, and brokers "mail me this" requests
//! to the Fulfillment API through a durable outbox.
//!
//! [`routes::app`] is the whole API as a tower service of
//! [`state::AppState`]; [`server`] puts it on a socket.

pub mod audit;
pub mod auth;
pub mod client_addr;
pub mod config;
pub mod enrollment;
pub mod error;
pub mod fulfillment;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod pseudonym;
pub mod routes;
pub mod server;
pub mod state;

pub use error::ApiError;

#[cfg(test)]
mod layering;
