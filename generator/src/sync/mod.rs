//! `generator sync`: applies a nightly delta file.

use std::path::PathBuf;

use whatever_database::DatabaseConfig;

use crate::Result;

/// Flags of `generator sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The delta file (JSON Lines).
    pub delta: PathBuf,
}

/// Runs `generator sync`.
pub async fn run(_args: &SyncArgs, _db: &DatabaseConfig) -> Result<()> {
    Err(crate::Error::Invalid("sync is not available yet".into()))
}
