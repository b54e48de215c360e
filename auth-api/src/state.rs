//! The state every request handler sees: cloned per request, cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::Pool;

use crate::auth::password::Passwords;
use crate::config::Config;

/// Shared handles: the database pools and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// Pooled Postgres connections with bounded waits, for anonymous routes
    /// and background work.
    pub pool: Pool,
    /// A pool of its own for the signed-in routes (`PERSONAL_POOL_SIZE`):
    /// however many anonymous requests are waiting, these connections are
    /// never theirs.
    pub personal: Pool,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// Wakes the fulfillment worker when a request is queued.
    pub fulfillment: crate::fulfillment::Wake,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// Builds the state for `config`; connects lazily.
    pub fn new(config: Config) -> Result<Self, whatever_database::Error> {
        let pool = whatever_database::pool::build_pool(&config.database, config.db_wait)?;
        let mut personal = config.database.clone();
        personal.pool_size = config.personal_pool_size.max(1);
        let personal = whatever_database::pool::build_pool(&personal, config.db_wait)?;
        Ok(Self {
            pool,
            personal,
            passwords: Passwords::new(config.auth.login_concurrency),
            config: Arc::new(config),
            fulfillment: Default::default(),
            draining: Arc::default(),
        })
    }

    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether [`AppState::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}
