//! The one error type of this crate.

/// What went wrong talking to Postgres, and with what input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `DATABASE_URL` (or a URL passed in) does not parse.
    #[error("invalid database URL in {source_name}: {reason}")]
    InvalidUrl {
        /// Where the URL came from (an env var name or "argument").
        source_name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The server could not be reached or refused us.
    #[error(
        "cannot connect to Postgres at {target}: {source}. Is it running? (pg_ctlcluster <version> main start)"
    )]
    Connect {
        /// Host, port and database, never the password.
        target: String,
        /// The driver error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A migration failed to apply.
    #[error("applying migrations to {database}: {source}")]
    Migrate {
        /// The database name.
        database: String,
        /// The runner's error.
        #[source]
        source: refinery::Error,
    },
    /// A query failed.
    #[error("{context}: {source}")]
    Query {
        /// What we were doing.
        context: String,
        /// The driver error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// TLS to the database was asked for but cannot be set up.
    #[error("database TLS: {0}")]
    Tls(String),
    /// No connection could be taken from the pool in time.
    #[error("database pool: {0}")]
    Pool(String),
}

impl Error {
    /// Wraps a driver error with what we were doing when it happened.
    pub fn query(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let context = context.into();
        move |source| Error::Query { context, source }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
