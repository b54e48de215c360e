//! `generator serve`: the built site on localhost, routed as the CDN routes it.

use crate::Result;

/// Flags of `generator serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The built site.
    #[arg(long, default_value = "site")]
    pub dir: std::path::PathBuf,
}

/// Runs `generator serve`.
pub async fn run(_args: &ServeArgs) -> Result<()> {
    Err(crate::Error::Invalid("serve is not available yet".into()))
}
