//! Staging: every line is checked first, its staging row (COPY text, with
//! its line number) written to a temporary file; only a file without a bad
//! line reaches the database. Of those rows, only the ones that count (the
//! last operation on each key, see [`super::latest`]) are streamed into a
//! session-local temporary table (COPY) and split by table there. None
//! of this touches the live tables, so it all happens before the apply
//! transaction starts and keeps that one short.
//!
//! Checking and loading are two passes, not one stream, so they never run
//! at once: parsing the JSON and Postgres parsing the COPY would otherwise
//! keep two cores busy, and on a machine that also serves the API that
//! showed as slower API answers for as long as staging lasted. It also
//! keeps a broken file entirely away from the database.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use bytes::{Bytes, BytesMut};
use futures::SinkExt;
use indicatif::ProgressBar;
use tokio::io::AsyncReadExt;
use tokio_postgres::Client;

use super::latest::keep_latest;
use super::reader::{ReadOutcome, read_delta};
use super::tables::{MAX_COLUMNS, TABLES, Table, parent_tables};
use crate::{Error, Result};

/// COPY data is read from the checked rows in chunks of this size.
const CHUNK_BYTES: usize = 256 * 1024;

/// Checks the file and, if every line is valid, creates the staging table
/// and loads it. Returns what the reader found; with problems, the
/// database was not touched and the caller rejects.
pub async fn stage_file(
    client: &Client,
    path: &Path,
    progress: &ProgressBar,
) -> Result<ReadOutcome> {
    let (outcome, rows, kept) = {
        let path = path.to_path_buf();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let (outcome, rows) = check_to_file(&path, &progress)?;
            if outcome.bad_lines > 0 {
                return Ok((outcome, None, 0));
            }
            progress.set_message("keeping the last operation per key");
            let (rows, kept) = latest_to_file(rows, &path)?;
            Ok::<_, Error>((outcome, Some(rows), kept))
        })
        .await
        .map_err(|e| Error::Invalid(format!("the delta reader failed: {e}")))??
    };
    let Some(rows) = rows else {
        return Ok(outcome);
    };
    progress.set_message(format!("staging {} operations", outcome.operations));
    let value_columns: String = (1..=MAX_COLUMNS).map(|i| format!(", c{i} text")).collect();
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS sync_stage;
             CREATE TEMP TABLE sync_stage (line bigint NOT NULL, tbl text NOT NULL, op text NOT NULL{value_columns}, superseded boolean NOT NULL)"
        ))
        .await
        .map_err(Error::query("creating the staging table"))?;

    let sink = client
        .copy_in::<_, Bytes>("COPY sync_stage FROM STDIN")
        .await
        .map_err(Error::query("starting COPY into the staging table"))?;
    futures::pin_mut!(sink);
    let mut rows = tokio::fs::File::from_std(rows);
    loop {
        let mut chunk = BytesMut::with_capacity(CHUNK_BYTES);
        let n = rows
            .read_buf(&mut chunk)
            .await
            .map_err(Error::io("reading the checked rows of", path))?;
        if n == 0 {
            break;
        }
        sink.send(chunk.freeze())
            .await
            .map_err(Error::query("staging the delta with COPY"))?;
    }
    let staged = sink
        .as_mut()
        .finish()
        .await
        .map_err(Error::query("finishing COPY into the staging table"))?;
    if staged != kept {
        return Err(Error::Invalid(format!(
            "staged {staged} rows of the {kept} that count"
        )));
    }
    Ok(outcome)
}

/// Reads and checks the delta at `path`, writing the staging rows of its
/// valid lines to an unnamed temporary file (gone when closed), rewound.
fn check_to_file(path: &Path, progress: &ProgressBar) -> Result<(ReadOutcome, File)> {
    let file = tempfile::tempfile().map_err(Error::io("creating a temporary file for", path))?;
    let mut rows = BufWriter::with_capacity(CHUNK_BYTES, file);
    let mut write_error = None;
    let outcome = read_delta(
        path,
        |chunk| match rows.write_all(&chunk) {
            Ok(()) => true,
            Err(e) => {
                write_error = Some(e);
                false
            }
        },
        progress,
    )?;
    if let Some(e) = write_error {
        return Err(Error::io("writing the checked rows of", path)(e));
    }
    let mut file = rows
        .into_inner()
        .map_err(|e| Error::io("writing the checked rows of", path)(e.into_error()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(Error::io("rewinding the checked rows of", path))?;
    Ok((outcome, file))
}

/// The rows of `rows` that count ([`keep_latest`]), in a new
/// temporary file, rewound, and how many there are. `rows` is closed, and
/// so gone, once this returns.
fn latest_to_file(rows: File, path: &Path) -> Result<(File, u64)> {
    let file = tempfile::tempfile().map_err(Error::io("creating a temporary file for", path))?;
    let mut out = BufWriter::with_capacity(CHUNK_BYTES, file);
    let kept = keep_latest(&mut BufReader::with_capacity(CHUNK_BYTES, rows), &mut out)
        .map_err(Error::io("keeping the last operation per key of", path))?;
    let mut file = out
        .into_inner()
        .map_err(|e| Error::io("writing the rows that count of", path)(e.into_error()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(Error::io("rewinding the rows that count of", path))?;
    Ok((file, kept))
}

/// Builds, for every table, `sync_last_{table}`: the last operation per key
/// (the rows [`super::latest`] did not mark superseded) with typed columns; and for plan and beneficiary `sync_deleted_{table}`:
/// the line of the last delete per key, which decides what a cascade removed.
pub async fn collapse(client: &Client) -> Result<()> {
    let mut sql = String::new();
    for table in TABLES {
        sql.push_str(&collapse_sql(table));
    }
    for table in parent_tables() {
        sql.push_str(&deleted_sql(table));
    }
    client.batch_execute(&sql).await.map_err(Error::query(
        "collapsing the staged delta to the last operation per key",
    ))
}

fn collapse_sql(t: &Table) -> String {
    let name = t.name;
    let columns: Vec<_> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{}::{} AS {}", i + 1, c.kind.sql_type(), c.name))
        .collect();
    let columns = columns.join(", ");
    // Only the last operation on each key is unsuperseded (latest.rs).
    format!(
        "DROP TABLE IF EXISTS sync_last_{name};
         CREATE TEMP TABLE sync_last_{name} AS
           SELECT line, op, {columns}
           FROM sync_stage WHERE tbl = '{name}' AND NOT superseded;
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::super::reader::tests::{ZIP, read};
    use super::*;

    #[test]
    fn the_checked_rows_are_what_the_reader_emits() {
        let lines = vec![ZIP; 20_000].join("\n");
        let (_, emitted) = read(lines.as_bytes());
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(lines.as_bytes()).unwrap();
        let (outcome, mut rows) = check_to_file(file.path(), &ProgressBar::hidden()).unwrap();
        assert_eq!((outcome.operations, outcome.bad_lines), (20_000, 0));
        let mut staged = Vec::new();
        rows.read_to_end(&mut staged).unwrap();
        assert!(staged.len() > CHUNK_BYTES, "more than one write buffer");
        assert_eq!(staged, emitted);
    }
}
