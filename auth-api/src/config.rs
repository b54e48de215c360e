//! The one place the API reads its settings. Every variable has a default
//! that works on a developer machine; an integration that is not configured
//! is `None`, not a crash.

use std::net::SocketAddr;
use std::time::Duration;

use whatever_database::DatabaseConfig;

use crate::fulfillment::FulfillmentSettings;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set but unusable.
    #[error("{name}: {reason}")]
    Invalid {
        /// The environment variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database settings are unusable.
    #[error(transparent)]
    Database(#[from] whatever_database::Error),
}

/// Everything the API needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL` (and `DATABASE_POOL_SIZE`).
    pub database: DatabaseConfig,
    /// `LISTEN_ADDR`, default `127.0.0.1:8080`.
    pub listen_addr: SocketAddr,
    /// `ADMIN_LISTEN_ADDR` for `/metrics`, default `127.0.0.1:9090`.
    pub admin_listen_addr: SocketAddr,
    /// `REQUEST_TIMEOUT_MS`: a request taking longer gets a 503, default 10 s.
    pub request_timeout: Duration,
    /// `DB_WAIT_MS`: longest wait for a pooled connection, default 2 s.
    pub db_wait: Duration,
    /// `FULFILLMENT_*` and `TRUSTED_PROXY_HOPS`: see [`FulfillmentSettings`].
    pub fulfillment: FulfillmentSettings,
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database: DatabaseConfig::from_env()?,
            listen_addr: parse_var("LISTEN_ADDR", "127.0.0.1:8080")?,
            admin_listen_addr: parse_var("ADMIN_LISTEN_ADDR", "127.0.0.1:9090")?,
            request_timeout: Duration::from_millis(parse_var("REQUEST_TIMEOUT_MS", "10000")?),
            db_wait: Duration::from_millis(parse_var("DB_WAIT_MS", "2000")?),
            fulfillment: FulfillmentSettings::from_env()?,
        })
    }

    /// A configuration for tests: the given database, ephemeral ports.
    pub fn for_tests(database: DatabaseConfig) -> Self {
        Self {
            database,
            listen_addr: "127.0.0.1:0".parse().expect("valid address"),
            admin_listen_addr: "127.0.0.1:0".parse().expect("valid address"),
            request_timeout: Duration::from_secs(10),
            db_wait: Duration::from_secs(2),
            fulfillment: FulfillmentSettings::for_tests(),
        }
    }
}

/// Reads `name`, or `default` when unset, and parses it.
pub fn parse_var<T>(name: &'static str, default: &str) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_string());
    raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
        name,
        reason: format!("{raw:?}: {e}"),
    })
}

/// Reads an optional variable; empty counts as unset.
pub fn optional_var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
