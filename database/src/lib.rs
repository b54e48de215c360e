//! What both binaries share: where the database is, how its schema is
//! migrated, the plan JSON model the site and the API both publish, the
//! product rules both apply, and throw-away databases for tests.

pub mod config;
pub mod error;
pub mod logging;
pub mod migrations;
pub mod model;
pub mod plans;
pub mod pool;
pub mod rules;
pub mod test_db;
pub mod tls;

pub use config::DatabaseConfig;
pub use error::{Error, Result};
pub use model::{Money, Plan, PlanSummary};
