//! The schema: SQL files in `migrations/` at the workspace root, embedded in
//! every binary and applied by refinery.

use tokio_postgres::error::SqlState;

use crate::{DatabaseConfig, Error, Result};

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Serializes concurrent migrators (several API replicas starting at once):
/// refinery itself does not lock.
const MIGRATION_LOCK_KEY: i64 = 0x5768_6174_6576_6572; // "Whatever"

/// Quotes an identifier for the few statements (CREATE/DROP DATABASE) that
/// cannot take it as a bind parameter; the test-database helper uses it too.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the configured database if it does not exist yet. Returns whether
/// it was created.
pub async fn create_database_if_missing(config: &DatabaseConfig) -> Result<bool> {
    let admin = config.with_dbname("postgres").connect().await?;
    let name = config.dbname();
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map_err(Error::query(format!("looking up database {name}")))?
        .is_some();
    if exists {
        return Ok(false);
    }
    match admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
        .await
    {
        Ok(()) => Ok(true),
        // Someone else created it between our check and our CREATE.
        Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => Ok(false),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
        Err(source) => Err(Error::Query {
            context: format!("creating database {name}"),
            source,
        }),
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Whether the database had to be created.
    pub created_database: bool,
    /// Names of the migrations applied by this call (empty when up to date).
    pub applied: Vec<String>,
}

/// Creates the database if needed and applies every pending migration. Safe
/// to run again and from several processes at once.
pub async fn migrate(config: &DatabaseConfig) -> Result<MigrationReport> {
    let created_database = create_database_if_missing(config).await?;
    let mut client = config.connect().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(Error::query("taking the migration lock"))?;
    let outcome = embedded::migrations::runner().run_async(&mut client).await;
    // The lock is per session; unlock explicitly so a pooled caller is clean.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = outcome.map_err(|source| Error::Migrate {
        database: config.dbname().to_string(),
        source,
    })?;
    let applied = report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>();
    for m in &applied {
        tracing::info!(migration = %m, database = config.dbname(), "applied migration");
    }
    Ok(MigrationReport {
        created_database,
        applied,
    })
}

/// Name and checksum of every embedded migration, in order: what
/// [`migrate`] would bring a database up to. Test databases key their
/// migrated template on it, so an edited migration never meets a stale one.
pub fn embedded_migrations() -> Vec<(String, u64)> {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (m.to_string(), m.checksum()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }
}
