//! Reads a delta line by line, checks every line, and hands out the valid
//! ones as COPY text in chunks. Runs on a blocking thread: memory stays
//! bounded by the longest allowed line plus the chunks in flight.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use bytes::Bytes;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use super::copy_text::push_row;
use super::line::parse;
use super::report::Problem;
use crate::{Error, Result};

/// Longest line accepted. A plan row is well under 10 KiB; anything near
/// this is a broken file, and refusing it keeps memory bounded.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How many problems are kept for the error message (all are counted).
pub const MAX_PROBLEMS: usize = 20;

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
    /// The first [`MAX_PROBLEMS`] problems.
    pub problems: Vec<Problem>,
    /// Lines with a problem, in all.
    pub bad_lines: u64,
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
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut out = ReadOutcome::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
    let mut bytes_read = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf);
        bytes_read += n as u64;
        out.lines += 1;
        if out.lines.is_multiple_of(8192) {
            progress.set_position(bytes_read);
            progress.set_message(format!("{} lines read", out.lines));
        }
        if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
            bytes_read += skip_rest_of_line(&mut reader, &mut hasher, path)?;
            let message = format!("line is longer than {} bytes", MAX_LINE_BYTES);
            problem(&mut out, message);
            continue;
        }
        let mut content = buf.strip_suffix(b"\n").unwrap_or(&buf);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if out.lines == 1 {
            content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        }
        // Blank lines (a trailing one, typically) carry no change.
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse(content) {
            Ok(change) => {
                out.operations += 1;
                if out.bad_lines == 0 {
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
    if out.bad_lines == 0 && !chunk.is_empty() {
        send(Bytes::from(chunk));
    }
    progress.set_position(bytes_read);
    progress.set_message(format!("{} lines read", out.lines));
    out.sha256 = hex::encode(hasher.finalize());
    Ok(out)
}

/// Notes a problem on the line just read.
fn problem(out: &mut ReadOutcome, message: String) {
    out.bad_lines += 1;
    if out.problems.len() < MAX_PROBLEMS {
        out.problems.push(Problem {
            line: out.lines,
            message,
        });
    }
}

/// Consumes the rest of an over-long line, hashing it. Returns its length.
fn skip_rest_of_line(
    reader: &mut BufReader<File>,
    hasher: &mut Sha256,
    path: &Path,
) -> Result<u64> {
    let mut skipped = 0u64;
    loop {
        let available = reader.fill_buf().map_err(Error::io("reading", path))?;
        if available.is_empty() {
            return Ok(skipped);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        hasher.update(&available[..take]);
        reader.consume(take);
        skipped += take as u64;
        if done {
            return Ok(skipped);
        }
    }
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
        assert_eq!((out.lines, out.operations, out.bad_lines), (3, 2, 0));
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
        assert_eq!(out.bad_lines, 2);
        assert_eq!(out.problems[0].line, 2);
        assert_eq!(out.problems[1].line, 4);
        assert!(sent.is_empty(), "nothing is sent once a line is bad");
    }

    #[test]
    fn an_overlong_line_is_refused_and_skipped() {
        let long = format!("\"{}\"", "x".repeat(MAX_LINE_BYTES + 10));
        let (out, _) = read(format!("{ZIP}\n{long}\n{ZIP}\n").as_bytes());
        assert_eq!(out.lines, 3);
        assert_eq!(out.bad_lines, 1);
        assert_eq!(out.problems[0].line, 2);
        assert!(out.problems[0].message.contains("longer than"));
    }
}
