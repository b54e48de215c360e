//! `generator seed`: a realistic synthetic sample.

use whatever_database::DatabaseConfig;

use crate::Result;

/// Flags of `generator seed`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Seed of the random generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these states (comma-separated postal codes, e.g. MA,NY).
    #[arg(long, value_delimiter = ',')]
    pub states: Vec<String>,
}

/// Runs `generator seed`.
pub async fn run(_args: &SeedArgs, _db: &DatabaseConfig) -> Result<()> {
    Err(crate::Error::Invalid("seed is not available yet".into()))
}
