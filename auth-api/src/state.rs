//! The state every request handler sees: cloned per request, cheap to clone.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::auth::password::Passwords;
use crate::config::Config;

/// Shared handles: the database pool and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// Pooled Postgres connections with bounded waits.
    pub pool: Pool,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// Wakes the fulfillment worker when a request is queued.
    pub fulfillment: crate::fulfillment::Wake,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
}

impl AppState {
    /// Builds the state for `config`; connects lazily.
    pub fn new(config: Config) -> Result<Self, whatever_database::Error> {
        let pool = whatever_database::pool::build_pool(&config.database, config.db_wait)?;
        Ok(Self {
            pool,
            passwords: Passwords::new(config.auth.login_concurrency),
            config: Arc::new(config),
            fulfillment: Default::default(),
        })
    }
}
