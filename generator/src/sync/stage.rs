//! Staging: every line is checked first, its staging row (COPY text, with
//! its line number) written to a temporary file; only a file without a bad
//! line reaches the database. Of those rows, only the ones that count (the
//! last operation on each key, see [`super::latest`]) are streamed (COPY)
//! into session-local temporary tables, `sync_last_{table}` with each
//! table's own columns, typed, and `sync_deleted_{plan,beneficiary}` with
//! the line of each key's last delete. None of this touches the live
//! tables, so it all happens before the apply transaction starts and keeps
//! that one short.
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

use super::latest::{Split, split_latest};
use super::reader::{ReadOutcome, read_delta};
use super::tables::{TABLES, parent_tables};
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
    let (outcome, split) = {
        let path = path.to_path_buf();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let (outcome, rows) = check_to_file(&path, &progress)?;
            if !outcome.problems.is_empty() {
                return Ok((outcome, None));
            }
            progress.set_message("keeping the last operation per key");
            Ok::<_, Error>((outcome, Some(split_to_files(rows, &path)?)))
        })
        .await
        .map_err(|e| Error::Invalid(format!("the delta reader failed: {e}")))??
    };
    let Some((files, counts)) = split else {
        return Ok(outcome);
    };
    progress.set_message(format!("staging {} operations", outcome.operations));
    let expected = counts.last.iter().chain(&counts.deleted);
    for ((table, file), expected) in staged_tables().into_iter().zip(files).zip(expected) {
        let Staged { name, columns, .. } = &table;
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {name}; CREATE TEMP TABLE {name} ({columns})"
            ))
            .await
            .map_err(Error::query(format!("creating {name}")))?;
        let staged = copy_file(client, name, file, path).await?;
        if staged != *expected {
            return Err(Error::Invalid(format!(
                "staged {staged} rows into {name}, of {expected}"
            )));
        }
    }
    Ok(outcome)
}

/// A temporary table that staging fills.
struct Staged {
    name: String,
    /// Its column definitions.
    columns: String,
    /// The columns the reference checks and the apply join or filter on.
    analyzed: String,
}

/// The tables staging fills, in the order of [`split_latest`]'s outputs:
/// `sync_last_{table}` (`line, op` and the table's own columns, typed) for
/// every table, then `sync_deleted_{table}` for every parent table.
fn staged_tables() -> Vec<Staged> {
    let last = TABLES.iter().map(|t| {
        let columns: Vec<_> = t
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.kind.sql_type()))
            .collect();
        Staged {
            name: format!("sync_last_{}", t.name),
            columns: format!(
                "line bigint NOT NULL, op text NOT NULL, {}",
                columns.join(", ")
            ),
            analyzed: format!("line, op, {}", t.lookup_columns().join(", ")),
        }
    });
    let deleted = parent_tables().map(|t| Staged {
        name: format!("sync_deleted_{}", t.name),
        columns: format!("key {}, line bigint", t.columns[0].kind.sql_type()),
        analyzed: "key, line".to_string(),
    });
    last.chain(deleted).collect()
}

/// Streams `file` (COPY text) into `table`; how many rows it took.
async fn copy_file(client: &Client, table: &str, file: File, path: &Path) -> Result<u64> {
    let sink = client
        .copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN"))
        .await
        .map_err(Error::query(format!("starting COPY into {table}")))?;
    futures::pin_mut!(sink);
    let mut rows = tokio::fs::File::from_std(file);
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
            .map_err(Error::query(format!("staging the delta into {table}")))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(Error::query(format!("finishing COPY into {table}")))
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

/// Splits `rows` ([`split_latest`]) into one new temporary file per table
/// and then one per parent table, each rewound. `rows` is closed, and so
/// gone, once this returns.
fn split_to_files(rows: File, path: &Path) -> Result<(Vec<File>, Split)> {
    let create = || -> Result<BufWriter<File>> {
        let file =
            tempfile::tempfile().map_err(Error::io("creating a temporary file for", path))?;
        Ok(BufWriter::with_capacity(CHUNK_BYTES, file))
    };
    let mut last = (0..TABLES.len())
        .map(|_| create())
        .collect::<Result<Vec<_>>>()?;
    let mut deleted = parent_tables()
        .map(|_| create())
        .collect::<Result<Vec<_>>>()?;
    let counts = split_latest(
        &mut BufReader::with_capacity(CHUNK_BYTES, rows),
        &mut last,
        &mut deleted,
    )
    .map_err(Error::io("keeping the last operation per key of", path))?;
    let files = last
        .into_iter()
        .chain(deleted)
        .map(|out| {
            let mut file = out
                .into_inner()
                .map_err(|e| Error::io("writing the rows that count of", path)(e.into_error()))?;
            file.seek(SeekFrom::Start(0))
                .map_err(Error::io("rewinding the rows that count of", path))?;
            Ok(file)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((files, counts))
}

/// Gives the planner row counts for the staged tables (temporary tables
/// are never analyzed otherwise), for the reference checks and the apply:
/// those join on keys and references and filter on the operation, so only
/// those columns get statistics.
pub async fn analyze(client: &Client) -> Result<()> {
    let tables: Vec<String> = staged_tables()
        .iter()
        .map(|t| format!("{} ({})", t.name, t.analyzed))
        .collect();
    client
        .batch_execute(&format!("ANALYZE {}", tables.join(", ")))
        .await
        .map_err(Error::query("analyzing the staged delta"))
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
        assert_eq!((outcome.operations, outcome.problems.total), (20_000, 0));
        let mut staged = Vec::new();
        rows.read_to_end(&mut staged).unwrap();
        assert!(staged.len() > CHUNK_BYTES, "more than one write buffer");
        assert_eq!(staged, emitted);
    }
}
