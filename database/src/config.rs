//! The one place that reads the database settings from the environment.

use std::path::PathBuf;
use std::str::FromStr;

use crate::{Error, Result};

/// Used when `DATABASE_URL` is unset: the local server with trust auth.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/whatever";

/// Where the database lives and how many connections to hold.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// Parsed connection settings (host, port, user, password, dbname).
    pub pg: tokio_postgres::Config,
    /// Largest number of pooled connections.
    pub pool_size: usize,
    /// CA bundle that verifies the server when the URL says
    /// `sslmode=require` (see [`crate::tls`]); `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for DatabaseConfig {
    // The derived Debug would print the password; show only where we connect.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("target", &self.display_target())
            .field("pool_size", &self.pool_size)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl DatabaseConfig {
    /// Reads `DATABASE_URL` (default [`DEFAULT_DATABASE_URL`]; add
    /// `?sslmode=require` for TLS), `DATABASE_POOL_SIZE` (default 16),
    /// `DATABASE_CA_FILE` (optional PEM bundle that verifies the server) and
    /// `DATABASE_ROLE` (optional: the group role every session acts as, see
    /// [`Self::act_as`]).
    pub fn from_env() -> Result<Self> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
        let mut config = Self::from_url_named(&url, "DATABASE_URL")?;
        if let Ok(role) = std::env::var("DATABASE_ROLE")
            && !role.is_empty()
        {
            config.act_as(&role)?;
        }
        if let Ok(size) = std::env::var("DATABASE_POOL_SIZE") {
            config.pool_size = size.parse().map_err(|_| Error::InvalidUrl {
                source_name: "DATABASE_POOL_SIZE".into(),
                reason: format!("{size:?} is not a whole number"),
            })?;
        }
        config.ca_file = std::env::var_os("DATABASE_CA_FILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(config)
    }

    /// Parses a `postgres://` URL or a key=value connection string.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_url_named(url, "argument")
    }

    fn from_url_named(url: &str, source_name: &str) -> Result<Self> {
        let pg = tokio_postgres::Config::from_str(url).map_err(|e| Error::InvalidUrl {
            source_name: source_name.into(),
            reason: e.to_string(),
        })?;
        if pg.get_dbname().is_none() {
            return Err(Error::InvalidUrl {
                source_name: source_name.into(),
                reason: "no database name (add /whatever at the end of the URL)".into(),
            });
        }
        Ok(Self {
            pg,
            pool_size: 16,
            ca_file: None,
        })
    }

    /// Makes every session act as `role` (`SET ROLE` at connection), one of
    /// the groups the login is a member of: the pipeline's login migrates
    /// as the owner (`whatever_app`) and builds as the read-only
    /// `whatever_build_role`, so neither step can do what the other may.
    pub fn act_as(&mut self, role: &str) -> Result<()> {
        let plain = !role.is_empty()
            && role
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain {
            return Err(Error::InvalidUrl {
                source_name: "DATABASE_ROLE".into(),
                reason: format!("{role:?} is not a role name (lower case, digits, _)"),
            });
        }
        let options = match self.pg.get_options() {
            Some(existing) if !existing.is_empty() => format!("{existing} -c role={role}"),
            _ => format!("-c role={role}"),
        };
        self.pg.options(&options);
        Ok(())
    }

    /// The database name.
    pub fn dbname(&self) -> &str {
        self.pg.get_dbname().unwrap_or("postgres")
    }

    /// The same server, another database.
    pub fn with_dbname(&self, name: &str) -> Self {
        let mut pg = self.pg.clone();
        pg.dbname(name);
        Self {
            pg,
            pool_size: self.pool_size,
            ca_file: self.ca_file.clone(),
        }
    }

    /// `host:port/dbname` for messages: never the password.
    pub fn display_target(&self) -> String {
        let host = self
            .pg
            .get_hosts()
            .first()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(s) => s.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = self.pg.get_ports().first().copied().unwrap_or(5432);
        format!("{host}:{port}/{}", self.dbname())
    }

    /// Opens one connection (over TLS when the URL requires it), driving it
    /// on a background task.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        let failed = |source| Error::Connect {
            target: self.display_target(),
            source,
        };
        match crate::tls::connector(&self.pg, self.ca_file.as_deref())? {
            Some(tls) => {
                let (client, connection) = self.pg.connect(tls).await.map_err(failed)?;
                tokio::spawn(drive(connection));
                Ok(client)
            }
            None => {
                let (client, connection) = self
                    .pg
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(failed)?;
                tokio::spawn(drive(connection));
                Ok(client)
            }
        }
    }
}

/// Runs a connection until it closes, logging how it ended badly.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(error) = connection.await {
        tracing::warn!(%error, "postgres connection closed with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_target_hide_the_password() {
        let c = DatabaseConfig::from_url("postgres://u:s3cret@db.example:6543/plans").unwrap();
        assert_eq!(c.display_target(), "db.example:6543/plans");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn a_url_without_database_is_refused() {
        let err = DatabaseConfig::from_url("postgres://u@h:5432").unwrap_err();
        assert!(err.to_string().contains("no database name"), "{err}");
    }
}
