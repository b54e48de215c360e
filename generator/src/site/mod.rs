//! `generator build`: load a snapshot, render every page, write it out.

pub mod sink;

use std::path::PathBuf;

use whatever_database::DatabaseConfig;

use crate::Result;

/// Flags of `generator build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Directory to write the site into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `generator build`.
pub async fn run(_args: &BuildArgs, _db: &DatabaseConfig) -> Result<()> {
    Err(crate::Error::Invalid("build is not available yet".into()))
}
