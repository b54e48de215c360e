//! Reads a delta line by line, checks every line, and hands out the valid
//! ones as COPY text in chunks. Runs on a blocking thread: memory stays
//! bounded by the longest allowed line plus the chunks in flight.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use super::copy_text::push_row;
use super::line::parse;
use super::report::Problem;
use crate::batch::Problems;
use crate::batch::lines::LineReader;
use crate::{Error, Result};

/// Longest line accepted. A plan row is well under 10 KiB; anything near
/// this is a broken file, and refusing it keeps memory bounded.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// COPY data is sent in chunks of about this size.
const CHUNK_BYTES: usize = 256 * 1024;

/// What reading the whole file found.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Lines in the file.
    pub lines: u64,
    /// Valid upserts and deletes.
    pub operations: u64,
    /// SHA-256 of every byte read, hex.
    pub sha256: String,
    /// The lines with a problem.
    pub problems: Problems<Problem>,
}

/// SHA-256 of a file, hex.
pub fn hash_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(Error::io("opening", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Hashes every byte read through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads `path` to the end. While every line so far is valid, their staging
/// rows go to `send` (which returns false once nobody listens any more, and
/// reading stops). Every line is checked even after a problem, so the error
/// can say how many are bad.
pub fn read_delta(
    path: &Path,
    mut send: impl FnMut(Bytes) -> bool,
    progress: &ProgressBar,
) -> Result<ReadOutcome> {
    let file = File::open(path).map_err(Error::io("opening", path))?;
    let hashing = Hashing {
        inner: file,
        hasher: Sha256::new(),
    };
    let mut reader = LineReader::new(hashing, path, MAX_LINE_BYTES);
    let mut out = ReadOutcome::default();
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
    let mut bytes_read = 0u64;
    while let Some(line) = reader.next_line()? {
        bytes_read += line.bytes;
        out.lines = line.number;
        if out.lines.is_multiple_of(8192) {
            progress.set_position(bytes_read);
            progress.set_message(format!("{} lines read", out.lines));
        }
        let Some(content) = line.content else {
            let message = format!("line is longer than {} bytes", MAX_LINE_BYTES);
            problem(&mut out, message);
            continue;
        };
        // Blank lines (a trailing one, typically) carry no change.
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse(content) {
            Ok(change) => {
                out.operations += 1;
                if out.problems.is_empty() {
                    push_row(&mut chunk, out.lines, &change);
                    if chunk.len() >= CHUNK_BYTES && !send(Bytes::from(std::mem::take(&mut chunk)))
                    {
                        return Ok(out);
                    }
                }
            }
            Err(message) => problem(&mut out, message),
        }
    }
    if out.problems.is_empty() && !chunk.is_empty() {
        send(Bytes::from(chunk));
    }
    progress.set_position(bytes_read);
    progress.set_message(format!("{} lines read", out.lines));
    out.sha256 = hex::encode(reader.into_inner().hasher.finalize());
    Ok(out)
}

/// Notes a problem on the line just read.
fn problem(out: &mut ReadOutcome, message: String) {
    out.problems.add(Problem {
        line: out.lines,
        message,
    });
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Write;

    use super::*;

    /// One valid line.
    pub(in crate::sync) const ZIP: &str =
        r#"{"op":"delete","table":"plan_to_zip","key":{"plan_id":"S1","zip_code":"02134"}}"#;

    /// Reads `content` as a delta file: what was found and every byte sent.
    pub(in crate::sync) fn read(content: &[u8]) -> (ReadOutcome, Vec<u8>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content).unwrap();
        let mut sent = Vec::new();
        let out = read_delta(
            file.path(),
            |b| {
                sent.extend_from_slice(&b);
                true
            },
            &ProgressBar::hidden(),
        )
        .unwrap();
        assert_eq!(out.sha256, hash_file(file.path()).unwrap());
        (out, sent)
    }

    #[test]
    fn valid_lines_become_rows_numbered_by_line() {
        let (out, sent) = read(format!("\u{feff}{ZIP}\r\n\n{ZIP}").as_bytes());
        assert_eq!((out.lines, out.operations, out.problems.total), (3, 2, 0));
        let text = String::from_utf8(sent).unwrap();
        let lines: Vec<_> = text
            .lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        assert_eq!(lines, ["1", "3"]);
    }

    #[test]
    fn a_bad_line_stops_staging_but_every_line_is_checked() {
        let (out, sent) = read(format!("{ZIP}\nnope\n{ZIP}\n{{}}\n").as_bytes());
        assert_eq!(out.problems.total, 2);
        assert_eq!(out.problems.list[0].line, 2);
        assert_eq!(out.problems.list[1].line, 4);
        assert!(sent.is_empty(), "nothing is sent once a line is bad");
    }

    #[test]
    fn an_overlong_line_is_refused_and_skipped() {
        let long = format!("\"{}\"", "x".repeat(MAX_LINE_BYTES + 10));
        let (out, _) = read(format!("{ZIP}\n{long}\n{ZIP}\n").as_bytes());
        assert_eq!(out.lines, 3);
        assert_eq!(out.problems.total, 1);
        assert_eq!(out.problems.list[0].line, 2);
        assert!(out.problems.list[0].message.contains("longer than"));
    }
}
