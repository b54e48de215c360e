//! Reading one environment variable, with errors that name it.

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
    /// A variable production cannot do without is not set.
    #[error("{name} must be set when APP_ENV=production: {why}")]
    Required {
        /// The environment variable.
        name: &'static str,
        /// What would go wrong without it.
        why: &'static str,
    },
    /// The database settings are unusable.
    #[error(transparent)]
    Database(#[from] whatever_database::Error),
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
