//! What the batch commands share. `sync` and `import-cms` both read a file
//! line by line, refuse it whole with a list of problems by line, COPY the
//! checked rows into temporary tables and apply them in one transaction
//! under one lock, then report what changed per table; `seed` COPYs its
//! sample in the same text format.
//!
//! - [`lines`]: the bounded line reader;
//! - [`problems`]: the first problems of a refused input, and how many;
//! - [`copy_text`]: rows in COPY's text format;
//! - [`report`]: rows changed per table, and the one report line;
//! - here: the database session, the lock and the progress bar.

pub mod copy_text;
pub mod lines;
pub mod problems;
pub mod report;

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio_postgres::{Client, Transaction};

use crate::{Error, Result};

pub use problems::{MAX_PROBLEMS, Problems, describe_problems};
pub use report::TableCounts;

/// `--lock-timeout-ms` of `sync` and `import-cms` when not given.
pub const DEFAULT_LOCK_TIMEOUT_MS: u64 = 5000;

/// Two syncs at once would each see the other's rows half-applied; the
/// second one waits for nobody and fails instead. `import-cms` takes it too.
pub const SYNC_LOCK_KEY: i64 = 0x7379_6e63_6465_6c74; // "syncdelt"

/// Names the session (`application` shows in `pg_stat_activity`) and sets
/// what a batch needs: a lock timeout, room for its temporary tables, and
/// no JIT. Compiling the few large statements of a sync cost more than it
/// saved (the reference check: 0.3 s with, 0.09 s without, on 500k lines).
pub async fn configure_session(
    client: &Client,
    application: &str,
    lock_timeout: Duration,
) -> Result<()> {
    client
        .batch_execute(&format!(
            "SET application_name = '{application}';
             SET lock_timeout = {};
             SET temp_buffers = '256MB';
             SET jit = off;",
            lock_timeout.as_millis()
        ))
        .await
        .map_err(Error::query(format!(
            "configuring the {application} session"
        )))
}

/// Takes [`SYNC_LOCK_KEY`] for the rest of `tx`, without waiting: false
/// when another sync or import holds it.
pub async fn try_sync_lock(tx: &Transaction<'_>) -> Result<bool> {
    Ok(tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&SYNC_LOCK_KEY])
        .await
        .map_err(Error::query("taking the sync lock"))?
        .get(0))
}

/// A progress bar over `len` bytes of input labelled `command`, or a
/// hidden one when `enabled` is false (tests, benchmarks).
pub fn progress_bar(enabled: bool, command: &str, len: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let template = format!(
        "{{spinner}} {command} [{{elapsed_precise}}] {{wide_bar}} {{bytes}}/{{total_bytes}} {{msg}}"
    );
    let bar = ProgressBar::new(len)
        .with_style(ProgressStyle::with_template(&template).expect("a valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
