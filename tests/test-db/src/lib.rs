//! Throw-away databases for tests: the migrations are applied once to a
//! template, and each test gets its own copy, dropped when it is done.
//!
//! This crate is only ever a `[dev-dependencies]` entry: the binaries that
//! ship never link it. It migrates with the same runner and the same embedded
//! migrations as `generator migrate` and the auth-api
//! ([`whatever_database::migrations`]), so a test sees the production schema.
//!
//! ```no_run
//! # async fn example() -> whatever_database::Result<()> {
//! let db = whatever_test_db::TestDatabase::new().await?;
//! let client = db.connect().await?;
//! client.batch_execute("SELECT 1").await.expect("a fresh database answers");
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use whatever_database::migrations::{embedded_migrations, migrate, quote_ident};
use whatever_database::{DatabaseConfig, Error, Result};

/// Where test databases are created: `TEST_DATABASE_URL`, else the local
/// server. Only the server part is used; the database name is ours.
pub fn test_server() -> DatabaseConfig {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut config =
        DatabaseConfig::from_url(&url).expect("TEST_DATABASE_URL must be a postgres URL");
    config.pool_size = 4;
    config
}

/// Serializes template creation across test processes (nextest runs each test
/// in its own process).
const TEMPLATE_LOCK_KEY: i64 = 0x7465_6d70_6c61_7465; // "template"

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    config: DatabaseConfig,
}

impl TestDatabase {
    /// Creates a fresh, fully migrated database with a unique name.
    pub async fn new() -> Result<Self> {
        let server = test_server();
        let template = template_name();
        let admin = server.with_dbname("postgres").connect().await?;
        admin
            .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK_KEY])
            .await
            .map_err(Error::query("taking the template lock"))?;
        // Migrating an up-to-date template is a no-op, and doing it under the
        // lock repairs one that a crashed process left half-built.
        let template_config = server.with_dbname(&template);
        migrate(&template_config).await?;
        // CREATE DATABASE .. TEMPLATE needs the template to have no sessions.
        let name = unique_name();
        let created = admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(&template)
            ))
            .await;
        let _ = admin
            .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK_KEY])
            .await;
        created.map_err(Error::query(format!("creating test database {name}")))?;
        Ok(Self {
            config: server.with_dbname(&name),
        })
    }

    /// Connection settings for this database.
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// A `postgres://` URL for this database, for child processes.
    pub fn url(&self) -> String {
        format!("postgres://postgres@{}", self.config.display_target())
    }

    /// Opens a connection to this database.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        self.config.connect().await
    }

    /// A new login role that is a member of `group` only (one of the roles
    /// the migrations grant to, e.g. `whatever_api_role`), as production's
    /// logins are: connect with [`TestLogin::config`].
    pub async fn login_in(&self, group: &str) -> Result<TestLogin> {
        let name = format!("{}_{}", unique_name(), group);
        let admin = self.connect().await?;
        admin
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN IN ROLE {}",
                quote_ident(&name),
                quote_ident(group)
            ))
            .await
            .map_err(Error::query(format!(
                "creating login role {name} in {group}"
            )))?;
        let mut config = self.config.clone();
        config.pg.user(&name);
        Ok(TestLogin {
            name,
            admin: self.config.clone(),
            config,
        })
    }
}

/// A login role of a test database, dropped when this value is.
pub struct TestLogin {
    name: String,
    admin: DatabaseConfig,
    config: DatabaseConfig,
}

impl TestLogin {
    /// The database, as this role.
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestLogin {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let admin = admin.connect().await.ok()?;
                admin
                    .batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(&name)))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let config = self.config.clone();
        // Drop runs inside or outside a runtime; a thread of its own works in both.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let admin = config.with_dbname("postgres").connect().await.ok()?;
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(config.dbname())
                    ))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// The template's name changes whenever a migration does, so an edited
/// migration never meets a stale template.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in embedded_migrations() {
        m.0.hash(&mut hasher);
        m.1.hash(&mut hasher);
    }
    format!("whatever_template_{:016x}", hasher.finish())
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "whatever_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
