//! `generator build`: load a snapshot, render every page, write it out.
//!
//! The build runs in two phases, and other commands (publish) reuse both:
//!
//! 1. [`load::load_snapshot`] (async) reads every active plan, its features
//!    and the plans of each zip code in a few set-based queries inside one
//!    `REPEATABLE READ, READ ONLY` transaction;
//! 2. [`render::render`] (blocking, parallel on rayon) renders every page and
//!    JSON file of that snapshot and hands each to a [`sink::Sink`] as soon as
//!    it is ready, so memory holds the rows, not the site.
//!
//! [`render_site`] does both; `generator build --out DIR` is `render_site`
//! into a [`sink::DirSink`]. Settings come from [`SiteOptions::from_env`]:
//! `ENROLL_URL_PATTERN`; the scripts, stylesheets and fonts are embedded
//! ([`assets`]).

pub mod assets;
pub mod drug_data;
pub mod format;
pub mod load;
pub mod options;
pub mod pages;
pub mod render;
pub mod rules;
pub mod sink;

use std::path::PathBuf;
use std::time::Instant;

use whatever_database::DatabaseConfig;
use whatever_database::rules::plan_id;

pub use load::{Snapshot, load_snapshot};
pub use options::SiteOptions;
pub use render::{RenderStats, render};

use crate::Result;
use crate::summary::Summary;

/// Flags of `generator build`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Environment: DATABASE_URL, ENROLL_URL_PATTERN \
    (default https://enroll.whatever.gov/apply?plan={plan_id}).")]
pub struct BuildArgs {
    /// Directory to write the site into (created if missing). Files of an
    /// earlier build that this one does not produce are left in place.
    #[arg(long)]
    pub out: PathBuf,
}

/// Loads a snapshot from `db` and renders it into `sink`. The rayon work runs
/// off the async executor's cooperative path (see [`render()`]).
pub async fn render_site(
    db: &DatabaseConfig,
    options: &SiteOptions,
    sink: &dyn sink::Sink,
) -> Result<RenderStats> {
    let snapshot = load_snapshot(db).await?;
    log_snapshot(&snapshot);
    run_blocking(|| render(&snapshot, options, sink))
}

/// Runs `generator build`.
pub async fn run(args: &BuildArgs, db: &DatabaseConfig) -> Result<()> {
    let started = Instant::now();
    let options = SiteOptions::from_env()?;
    let sink = sink::DirSink::new(&args.out)?;
    let stats = render_site(db, &options, &sink).await?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        out = %args.out.display(),
        files = stats.written,
        bytes = stats.bytes,
        plans = stats.plans,
        zips = stats.zips,
        skipped = stats.skipped,
        seconds,
        "site built"
    );
    let summary = Summary {
        rendered: stats.rendered,
        uploaded: stats.written,
        deleted: 0,
        unchanged: 0,
        skipped: stats.skipped,
        invalidated_paths: Vec::new(),
        seconds,
    };
    println!("{}", summary.to_line());
    Ok(())
}

fn log_snapshot(snapshot: &Snapshot) {
    tracing::info!(
        plans = snapshot.plans.len(),
        zips = snapshot.zips.len(),
        plan_zip_rows = snapshot.plan_zip_rows,
        feature_rows = snapshot.feature_rows,
        "loaded the database snapshot"
    );
    for id in &snapshot.skipped_plan_ids {
        tracing::warn!(
            plan_id = %id,
            "active plan left off the site: its id is not {}",
            plan_id::DESCRIPTION
        );
    }
    for zip in &snapshot.skipped_zips {
        tracing::warn!(zip, "zip code left off the site: it is not 5 digits");
    }
}

/// Blocking work inside an async caller: on a multi-threaded runtime the
/// worker hands its other tasks away first; a current-thread runtime has
/// nothing else to run meanwhile.
fn run_blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
