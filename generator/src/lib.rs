//! The generator: everything that turns the database into the public site.
//!
//! - [`seed`] loads a synthetic sample, [`sync`] applies the nightly delta,
//!   [`import_cms`] loads the drug data of the CMS Part D public-use files;
//!   [`batch`] holds what those three share (line reading, COPY text,
//!   problem lists, per-table counts);
//! - [`site`] loads a consistent snapshot, renders every page in parallel and
//!   writes it through a [`site::sink::Sink`];
//! - [`publish`] uploads what changed to S3 and invalidates CloudFront;
//! - [`serve`] serves a built site locally the way the CDN would.

pub mod batch;
pub mod cli;
pub mod drugs;
pub mod error;
pub mod import_cms;
pub mod publish;
pub mod seed;
pub mod serve;
pub mod site;
pub mod summary;
pub mod sync;

pub use error::{Error, Result};

use cli::{Cli, Command};
use whatever_database::DatabaseConfig;

/// Runs one subcommand to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db = DatabaseConfig::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Migrate => {
                let report = whatever_database::migrations::migrate(&db).await?;
                tracing::info!(
                    database = db.dbname(),
                    created = report.created_database,
                    applied = report.applied.len(),
                    "database is up to date"
                );
            }
            Command::Seed(args) => seed::run(&args, &db).await?,
            Command::Sync(args) => sync::run(&args, &db).await?,
            Command::ImportCms(args) => import_cms::run(&args, &db).await?,
            Command::Build(args) => site::run(&args, &db).await?,
            Command::Publish(args) => publish::run(&args, &db).await?,
            Command::Serve(args) => serve::run(&args).await?,
        }
        Ok(())
    })
}
