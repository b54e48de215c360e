//! The command line: one subcommand per step of the pipeline. Each
//! subcommand's flags are declared next to the code that runs it.

use clap::{Parser, Subcommand};

/// Keeps the public plan-finder site in step with the database.
///
/// Every subcommand reads DATABASE_URL (default
/// postgres://postgres@127.0.0.1:5432/whatever). Progress and logs go to
/// stderr; `seed`, `sync`, `import-cms`, `build` and `publish` print one
/// JSON summary line on stdout.
#[derive(Debug, Parser)]
#[command(name = "generator", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if missing and apply pending migrations (safe to repeat).
    Migrate,
    /// Load a synthetic, deterministic sample into an empty database.
    Seed(crate::seed::SeedArgs),
    /// Apply a nightly delta file (JSON Lines), all or nothing.
    Sync(crate::sync::SyncArgs),
    /// Load the drug data of the CMS Part D public-use files (pipe-delimited),
    /// all or nothing.
    ImportCms(crate::import_cms::ImportArgs),
    /// Render the whole public site into a directory.
    Build(crate::site::BuildArgs),
    /// Render, upload what changed to S3, delete what is gone, invalidate CloudFront.
    Publish(crate::publish::PublishArgs),
    /// Serve a built site locally, with /api/* proxied to the auth-api as the CDN does.
    Serve(crate::serve::ServeArgs),
}
