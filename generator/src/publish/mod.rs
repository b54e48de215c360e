//! `generator publish`: render the site into a staging directory, diff it by
//! content hash against the bucket's manifest, upload what changed (leaves
//! before the pages linking to them), delete what is gone, invalidate the
//! changed paths in CloudFront.

pub mod aws;
pub mod cdn;
pub mod changes;
pub mod headers;
pub mod invalidation;
pub mod manifest;
pub mod publisher;
pub mod stage;
pub mod store;

use std::path::PathBuf;
use std::time::Instant;

use whatever_database::DatabaseConfig;

pub use publisher::{Options, publish};

use crate::Result;

/// Flags of `generator publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The S3 bucket the site is served from.
    #[arg(long, env = "PUBLISH_BUCKET")]
    pub bucket: String,
    /// Key prefix in the bucket (the distribution's origin path), e.g. `site`.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// CloudFront distribution to invalidate; without it nothing is invalidated.
    #[arg(long, env = "PUBLISH_DISTRIBUTION_ID")]
    pub distribution_id: Option<String>,
    /// S3-compatible endpoint instead of AWS (e.g. http://127.0.0.1:5000 for moto_server).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// CloudFront-compatible endpoint; defaults to --endpoint-url when that is given.
    #[arg(long)]
    pub cloudfront_endpoint_url: Option<String>,
    /// Publish a site already built by `generator build --out DIR` instead of rendering.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Refuse to delete more than this share of the live objects.
    #[arg(long, default_value_t = publisher::DEFAULT_MAX_DELETE_SHARE, value_parser = share)]
    pub max_delete_share: f64,
    /// Publish even if that deletes many objects or leaves no plan pages.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Print what would be uploaded, deleted and invalidated; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = publisher::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
}

fn share(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a share between 0 and 1, e.g. 0.2")),
    }
}

/// Runs `generator publish` and prints the summary line.
pub async fn run(args: &PublishArgs, db: &DatabaseConfig) -> Result<()> {
    let started = Instant::now();
    let (staged, skipped) = match &args.from {
        Some(dir) => (stage::stage_dir(dir)?, 0),
        None => render(db).await?,
    };
    tracing::info!(
        objects = staged.objects.len(),
        bytes = staged.bytes(),
        "site staged"
    );

    let endpoints = aws::Endpoints {
        s3: args.endpoint_url.clone(),
        cloudfront: args.cloudfront_endpoint_url.clone(),
    };
    let config = aws::sdk_config().await;
    let store = store::S3Store::new(
        aws::s3_client(&config, &endpoints),
        &args.bucket,
        &args.prefix,
    );
    let cdn = args
        .distribution_id
        .as_ref()
        .map(|id| cdn::CloudFront::new(aws::cloudfront_client(&config, &endpoints), id));
    let options = Options {
        limits: changes::Limits {
            max_delete_share: args.max_delete_share,
            allow_mass_delete: args.allow_mass_delete,
        },
        dry_run: args.dry_run,
        concurrency: usize::from(args.concurrency),
        ..Options::default()
    };
    let mut summary = publish(&staged, &store, cdn.as_ref(), &options).await?;
    summary.seconds = started.elapsed().as_secs_f64();
    summary.skipped = skipped;
    println!("{}", summary.to_line());
    Ok(())
}

/// Renders the site from the database into a staging directory: the same
/// render as `generator build`, through a sink that hashes every object.
/// Also returns how many rows the render left off.
async fn render(db: &DatabaseConfig) -> Result<(stage::Staged, u64)> {
    let options = crate::site::SiteOptions::from_env()?;
    let sink = stage::StagingSink::new()?;
    let stats = crate::site::render_site(db, &options, &sink).await?;
    Ok((sink.finish(), stats.skipped))
}
