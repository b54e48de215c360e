//! What both binaries share: where the database is, how its schema is
//! migrated, the plan JSON model the site and the API both publish, and the
//! product rules both apply. (Throw-away databases for tests are in the
//! dev-only `whatever-test-db` crate, which migrates them with
//! [`migrations::migrate`].)

pub mod config;
pub mod error;
pub mod logging;
pub mod migrations;
pub mod model;
pub mod plans;
pub mod pool;
pub mod rules;
pub mod tls;

pub use config::DatabaseConfig;
pub use error::{Error, Result};
pub use model::{Money, Plan, PlanSummary};
