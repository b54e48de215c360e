//! Staging: every valid line goes into a session-local temporary table with
//! its line number (COPY, streamed), then each table is collapsed to the
//! last operation per key. None of this touches the live tables, so it all
//! happens before the apply transaction starts and keeps that one short.

use std::path::Path;

use bytes::Bytes;
use futures::SinkExt;
use indicatif::ProgressBar;
use tokio_postgres::Client;

use super::reader::{ReadOutcome, read_delta};
use super::tables::{MAX_COLUMNS, TABLES, Table, parent_tables};
use crate::{Error, Result};

/// Chunks of COPY data in flight between the reader thread and Postgres.
const CHANNEL_CHUNKS: usize = 8;

/// Creates the staging table and streams the file into it. Returns what the
/// reader found; with problems, nothing is staged and the caller rejects.
pub async fn stage_file(
    client: &Client,
    path: &Path,
    progress: &ProgressBar,
) -> Result<ReadOutcome> {
    let value_columns: String = (1..=MAX_COLUMNS).map(|i| format!(", c{i} text")).collect();
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS sync_stage;
             CREATE TEMP TABLE sync_stage (line bigint NOT NULL, tbl text NOT NULL, op text NOT NULL{value_columns})"
        ))
        .await
        .map_err(Error::query("creating the staging table"))?;

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
    let reader = {
        let path = path.to_path_buf();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            read_delta(&path, |chunk| tx.blocking_send(chunk).is_ok(), &progress)
        })
    };
    let sink = client
        .copy_in::<_, Bytes>("COPY sync_stage FROM STDIN")
        .await
        .map_err(Error::query("starting COPY into the staging table"))?;
    futures::pin_mut!(sink);
    let mut copy_error = None;
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = sink.send(chunk).await {
            copy_error = Some(e);
            break;
        }
    }
    // Closing our end makes a still-running reader stop at its next send.
    drop(rx);
    let outcome = reader
        .await
        .map_err(|e| Error::Invalid(format!("the delta reader failed: {e}")))??;
    if let Some(source) = copy_error {
        return Err(Error::Query {
            context: "staging the delta with COPY".into(),
            source,
        });
    }
    if outcome.bad_lines > 0 {
        // Dropping the sink unfinished aborts the COPY: nothing stays staged.
        return Ok(outcome);
    }
    let staged = sink
        .as_mut()
        .finish()
        .await
        .map_err(Error::query("finishing COPY into the staging table"))?;
    if staged != outcome.operations {
        return Err(Error::Invalid(format!(
            "staged {staged} rows for {} operations; the file changed while it was read?",
            outcome.operations
        )));
    }
    Ok(outcome)
}

/// Builds, for every table, `sync_last_{table}`: the last operation per key
/// with typed columns; and for plan and beneficiary `sync_deleted_{table}`:
/// the line of the last delete per key, which decides what a cascade removed.
pub async fn collapse(client: &Client) -> Result<()> {
    let mut sql = String::new();
    for table in TABLES {
        sql.push_str(&collapse_sql(table));
    }
    for table in parent_tables() {
        sql.push_str(&deleted_sql(table));
    }
    sql.push_str("ANALYZE sync_stage;");
    client.batch_execute(&sql).await.map_err(Error::query(
        "collapsing the staged delta to the last operation per key",
    ))
}

fn collapse_sql(t: &Table) -> String {
    let name = t.name;
    let key: Vec<_> = (1..=t.key_len).map(|i| format!("c{i}")).collect();
    let key = key.join(", ");
    let columns: Vec<_> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{}::{} AS {}", i + 1, c.kind.sql_type(), c.name))
        .collect();
    let columns = columns.join(", ");
    // Staged values are canonical text (see line.rs), so text equality of
    // the key columns is equality of the keys.
    format!(
        "DROP TABLE IF EXISTS sync_last_{name};
         CREATE TEMP TABLE sync_last_{name} AS
           SELECT DISTINCT ON ({key}) line, op, {columns}
           FROM sync_stage WHERE tbl = '{name}' ORDER BY {key}, line DESC;
         ANALYZE sync_last_{name};\n"
    )
}

fn deleted_sql(t: &Table) -> String {
    let name = t.name;
    let key = &t.columns[0];
    format!(
        "DROP TABLE IF EXISTS sync_deleted_{name};
         CREATE TEMP TABLE sync_deleted_{name} AS
           SELECT c1::{ty} AS key, max(line) AS line
           FROM sync_stage WHERE tbl = '{name}' AND op = 'delete' GROUP BY 1;
         ANALYZE sync_deleted_{name};\n",
        ty = key.kind.sql_type()
    )
}
