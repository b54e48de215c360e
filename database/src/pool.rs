//! A connection pool with bounded waits: callers get an error, not a hang,
//! when the database is slow or gone.

use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Pool, QueueMode, RecyclingMethod, Runtime, Timeouts,
};

use crate::{DatabaseConfig, Error, Result};

/// How long a request may wait for a pooled connection before giving up.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

/// Builds a pool over `config`; connections are opened lazily.
pub fn build_pool(config: &DatabaseConfig, wait: Duration) -> Result<Pool> {
    let mut pg = config.pg.clone();
    // Bound every step so a stalled server cannot pin a request forever.
    pg.connect_timeout(wait);
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match crate::tls::connector(&config.pg, config.ca_file.as_deref())? {
        Some(tls) => Manager::from_config(pg, tls, manager_config),
        None => Manager::from_config(pg, tokio_postgres::NoTls, manager_config),
    };
    // Last in, first out (pgbouncer's default for server connections): at
    // ordinary traffic a few connections do all the work and stay warm,
    // rather than every request taking the next of sixteen in turn. It
    // matters most right after a nightly sync: new statistics make every
    // connection re-plan its statements once, and with LIFO that is a few
    // connections at once, not the whole pool within a few milliseconds.
    Pool::builder(manager)
        .max_size(config.pool_size)
        .queue_mode(QueueMode::Lifo)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(wait),
            create: Some(wait),
            recycle: Some(wait),
        })
        .build()
        .map_err(|e| Error::Pool(e.to_string()))
}
