//! `generator publish`: render, upload what changed, invalidate the CDN.

use whatever_database::DatabaseConfig;

use crate::Result;

/// Flags of `generator publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The S3 bucket the site is served from.
    #[arg(long)]
    pub bucket: String,
}

/// Runs `generator publish`.
pub async fn run(_args: &PublishArgs, _db: &DatabaseConfig) -> Result<()> {
    Err(crate::Error::Invalid("publish is not available yet".into()))
}
