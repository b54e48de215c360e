//! `generator sync`: applies a nightly delta file, all or nothing.
//!
//! The delta (its format is in `docs/delta.md`) is JSON Lines: upserts of whole rows and deletes by
//! key on plan, plan_feature, plan_to_zip, beneficiary and
//! beneficiary_to_plan, and on the drug-coverage tables (drug, formulary,
//! formulary_drug, plan_tier_cost, drug_price, benefit_year; see
//! `docs/drug-data.md`), meant in file order. The phases:
//!
//! 1. hash the file; if that SHA-256 is in `applied_delta`, say so and stop;
//! 2. read it line by line (bounded) and check every line, keeping the valid
//!    ones with their line numbers in a temporary file; if none is bad,
//!    keep only the last operation on each key (see [`latest`]) and load
//!    those into one typed temporary table per synced table (COPY);
//! 3. one short transaction: check references against the live tables,
//!    apply set-based (see [`apply`]), record the file in `applied_delta`.
//!
//! Any problem in 2 or 3 rejects the whole file with its line numbers, and
//! nothing is applied.

pub mod apply;
pub mod copy_text;
pub mod latest;
pub mod line;
pub mod pace;
pub mod reader;
pub mod references;
pub mod report;
pub mod sample;
pub mod stage;
pub mod tables;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use whatever_database::DatabaseConfig;

pub use crate::batch::TableCounts;
pub use pace::Pace;
pub use report::{Problem, SyncReport};

use crate::{Error, Result, batch};

/// Flags of `generator sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The delta file (JSON Lines, one upsert or delete per line). Every
    /// line is checked before anything is loaded; the checked rows wait in
    /// temporary files (up to twice the delta's size, in TMPDIR), and
    /// every key of the delta is held in memory (about 150 MB for a
    /// million lines).
    pub delta: PathBuf,
    /// Give up, applying nothing, if a table or row lock cannot be had within
    /// this many milliseconds (rather than queue in front of API reads).
    #[arg(long, default_value_t = batch::DEFAULT_LOCK_TIMEOUT_MS, value_name = "MS")]
    pub lock_timeout_ms: u64,
    /// Keep the database session busy at most this share of the time while
    /// applying. Below 100 the apply goes in batches of about 20,000 rows
    /// and rests after each, transaction open, leaving the rest of the time
    /// to the API's queries on the same server; it takes longer in all. 100
    /// applies each table in one statement, without resting.
    #[arg(long, default_value_t = 100, value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub db_share: u8,
}

/// How a sync behaves.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Postgres `lock_timeout` for the whole sync.
    pub lock_timeout: Duration,
    /// Whether to draw progress bars on stderr.
    pub progress: bool,
    /// How much of the time the apply may keep its session busy.
    pub pace: Pace,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_millis(batch::DEFAULT_LOCK_TIMEOUT_MS),
            progress: false,
            pace: Pace::FLAT_OUT,
        }
    }
}

/// Runs `generator sync`: applies the file and prints the report as one
/// JSON line on stdout. That line is the report's one copy: the log on
/// stderr has the phases, not the counts again (the nightly job keeps both
/// streams in one log).
pub async fn run(args: &SyncArgs, db: &DatabaseConfig) -> Result<()> {
    let options = SyncOptions {
        lock_timeout: Duration::from_millis(args.lock_timeout_ms),
        progress: true,
        pace: Pace::percent(args.db_share),
    };
    let report = sync(&args.delta, db, &options).await?;
    println!("{}", report.to_line());
    Ok(())
}

/// Applies the delta at `path` to the database, all or nothing, and
/// returns what it changed (for the caller to print; it is not logged).
pub async fn sync(path: &Path, db: &DatabaseConfig, options: &SyncOptions) -> Result<SyncReport> {
    let started = Instant::now();
    let file_name = path.display().to_string();
    let sha256 = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || reader::hash_file(&path))
            .await
            .map_err(|e| Error::Invalid(format!("hashing {file_name}: {e}")))??
    };
    phase_done("hashed", started);
    let mut client = db.connect().await?;
    batch::configure_session(&client, "generator sync", options.lock_timeout).await?;
    if let Some(report) = already_applied(&client, &file_name, &sha256, started).await? {
        return Ok(report);
    }

    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = batch::progress_bar(options.progress, "sync", len);
    let outcome = stage::stage_file(&client, path, &bar).await?;
    if !outcome.problems.is_empty() {
        bar.abandon_with_message("rejected");
        return Err(reject(path, outcome.problems.list, outcome.problems.total));
    }
    if outcome.sha256 != sha256 {
        return Err(Error::Invalid(format!(
            "{file_name} changed while it was being read; run sync again once it is complete"
        )));
    }
    bar.set_message(format!("{} operations staged", outcome.operations));
    stage::analyze(&client).await?;
    phase_done("staged", started);

    let tx = client
        .transaction()
        .await
        .map_err(Error::query("starting the apply transaction"))?;
    if !batch::try_sync_lock(&tx).await? {
        return Err(Error::Invalid(
            "another generator sync is running on this database; run again once it has finished"
                .into(),
        ));
    }
    // Checked again under the lock: a concurrent run may just have applied it.
    if let Some(report) = already_applied(&tx, &file_name, &sha256, started).await? {
        return Ok(report);
    }
    bar.set_message("checking references");
    let (problems, total) = references::check(&tx).await?;
    if !problems.is_empty() {
        bar.abandon_with_message("rejected");
        return Err(reject(path, problems, total));
    }
    phase_done("references checked", started);
    let tables = apply::apply(&tx, &bar, options.pace).await?;
    phase_done("applied", started);
    let report = SyncReport {
        delta: file_name.clone(),
        sha256: sha256.clone(),
        already_applied: false,
        applied_at: String::new(),
        lines: outcome.lines,
        operations: outcome.operations,
        tables,
        seconds: 0.0,
    };
    bar.set_message("refreshing planner statistics");
    analyze_changed(&tx, &report).await?;
    phase_done("analyzed", started);
    let summary = serde_json::to_value(&report.tables).expect("counts serialize");
    let applied_at: String = tx
        .query_one(
            "INSERT INTO applied_delta (sha256, file_name, lines, summary)
             VALUES ($1, $2, $3, $4)
             RETURNING to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[&sha256, &file_name, &(outcome.lines as i64), &summary],
        )
        .await
        .map_err(Error::query("recording the delta in applied_delta"))?
        .get(0);
    tx.commit()
        .await
        .map_err(Error::query("committing the delta"))?;
    phase_done("committed", started);
    bar.finish_and_clear();
    let report = SyncReport {
        applied_at,
        seconds: started.elapsed().as_secs_f64(),
        ..report
    };
    Ok(report)
}

/// Refreshes the planner statistics of the tables the delta changed, in
/// the apply transaction, so they commit with the rows they describe.
///
/// A large delta can change a table's shape enough that the planner, still
/// on the old statistics, picks scans the API's lookups cannot afford until
/// autovacuum catches up. ANALYZE takes no lock that reads or writes wait
/// on, and inside the transaction it samples the delta's own rows. New
/// statistics make every API connection re-plan its prepared statements:
/// committed with the data, that happens once, at the moment the data
/// changes anyway. A failure (a lock held by an anti-wraparound vacuum,
/// say) is rolled back to a savepoint and left to autovacuum: the delta
/// still applies.
///
/// Only the columns rows are found by ([`tables::Table::lookup_columns`])
/// and the row counts are refreshed here. Working out the statistics of
/// every column was most of ANALYZE's time (names, addresses and prices
/// too), on the database the API reads from, at the very end of the sync.
/// A column-list ANALYZE leaves autovacuum's count of changed rows as it
/// is, so autovacuum still comes by for the rest, throttled as it always is.
async fn analyze_changed(tx: &tokio_postgres::Transaction<'_>, report: &SyncReport) -> Result<()> {
    let changed: Vec<String> = report
        .tables
        .iter()
        .filter(|(_, c)| c.inserted + c.updated + c.deleted > 0)
        .filter_map(|(name, _)| tables::table(name))
        .map(|t| format!("{} ({})", t.name, t.lookup_columns().join(", ")))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SAVEPOINT analyze_changed; ANALYZE {}; RELEASE SAVEPOINT analyze_changed",
        changed.join(", ")
    );
    if let Err(error) = tx.batch_execute(&sql).await {
        tracing::warn!(%error, "refreshing statistics in the sync failed; autovacuum will");
        tx.batch_execute("ROLLBACK TO SAVEPOINT analyze_changed")
            .await
            .map_err(Error::query("rolling back the failed ANALYZE"))?;
    }
    Ok(())
}

/// The report for a file already in `applied_delta`, if it is.
async fn already_applied(
    client: &impl tokio_postgres::GenericClient,
    file_name: &str,
    sha256: &str,
    started: Instant,
) -> Result<Option<SyncReport>> {
    let row = client
        .query_opt(
            "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), lines
             FROM applied_delta WHERE sha256 = $1",
            &[&sha256],
        )
        .await
        .map_err(Error::query("looking the delta up in applied_delta"))?;
    Ok(row.map(|row| {
        let report = SyncReport {
            delta: file_name.to_string(),
            sha256: sha256.to_string(),
            already_applied: true,
            applied_at: row.get(0),
            lines: row.get::<_, i64>(1) as u64,
            operations: 0,
            tables: tables::TABLES
                .iter()
                .map(|t| (t.name.to_string(), TableCounts::default()))
                .collect(),
            seconds: started.elapsed().as_secs_f64(),
        };
        tracing::info!(
            delta = %report.delta,
            sha256 = %report.sha256,
            applied_at = %report.applied_at,
            "delta was already applied; nothing to do"
        );
        report
    }))
}

fn reject(path: &Path, problems: Vec<Problem>, total: u64) -> Error {
    Error::Delta {
        path: path.to_path_buf(),
        problems,
        total,
    }
}

/// Where a long sync spends its time, for whoever reads the nightly log
/// (and for the benchmark that lines these up with API latencies).
fn phase_done(phase: &str, started: Instant) {
    tracing::info!(
        phase,
        seconds = started.elapsed().as_secs_f64(),
        "sync phase done"
    );
}
