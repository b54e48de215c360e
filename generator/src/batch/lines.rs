//! Reads a file line by line with memory bounded by the longest line
//! allowed: a longer line is skipped to its end and reported as such, not
//! buffered. Line endings (`\n` or `\r\n`) and a byte-order mark on the
//! first line are taken off.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One line as read.
#[derive(Debug)]
pub struct ReadLine<'a> {
    /// 1-based line number.
    pub number: u64,
    /// Bytes this line took in the file, its ending (and, when too long,
    /// the skipped rest) included.
    pub bytes: u64,
    /// The line without its ending, or `None` when it is longer than the
    /// limit.
    pub content: Option<&'a [u8]>,
}

/// A line reader over `R` (a file, or a reader wrapping one).
#[derive(Debug)]
pub struct LineReader<R> {
    reader: BufReader<R>,
    path: PathBuf,
    max_line_bytes: usize,
    buf: Vec<u8>,
    lines: u64,
}

impl LineReader<File> {
    /// Opens `path`.
    pub fn open(path: &Path, max_line_bytes: usize) -> Result<Self> {
        let file = File::open(path).map_err(Error::io("opening", path))?;
        Ok(Self::new(file, path, max_line_bytes))
    }
}

impl<R: Read> LineReader<R> {
    /// Reads lines from `inner`; `path` names it in errors.
    pub fn new(inner: R, path: &Path, max_line_bytes: usize) -> Self {
        Self {
            reader: BufReader::with_capacity(1 << 20, inner),
            path: path.to_path_buf(),
            max_line_bytes,
            buf: Vec::with_capacity(64 * 1024),
            lines: 0,
        }
    }

    /// The next line, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<ReadLine<'_>>> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(self.max_line_bytes as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(Error::io("reading", &self.path))?;
        if n == 0 {
            return Ok(None);
        }
        self.lines += 1;
        let number = self.lines;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > self.max_line_bytes {
            let skipped = self.skip_rest_of_line()?;
            return Ok(Some(ReadLine {
                number,
                bytes: n as u64 + skipped,
                content: None,
            }));
        }
        let mut content = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if number == 1 {
            content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        }
        Ok(Some(ReadLine {
            number,
            bytes: n as u64,
            content: Some(content),
        }))
    }

    /// The reader underneath, once every line wanted is read.
    pub fn into_inner(self) -> R {
        self.reader.into_inner()
    }

    /// Consumes the rest of an over-long line. Returns its length.
    fn skip_rest_of_line(&mut self) -> Result<u64> {
        let mut skipped = 0u64;
        loop {
            let available = self
                .reader
                .fill_buf()
                .map_err(Error::io("reading", &self.path))?;
            if available.is_empty() {
                return Ok(skipped);
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            self.reader.consume(take);
            skipped += take as u64;
            if done {
                return Ok(skipped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize) -> Vec<(u64, u64, Option<String>)> {
        let mut reader = LineReader::new(text, Path::new("test"), max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            let content = line.content.map(|c| String::from_utf8(c.to_vec()).unwrap());
            out.push((line.number, line.bytes, content));
        }
        out
    }

    #[test]
    fn endings_and_a_leading_bom_are_taken_off() {
        assert_eq!(
            lines("\u{feff}a\r\n\nb\u{feff}\nlast".as_bytes(), 100),
            [
                (1, 6, Some("a".into())),
                (2, 1, Some(String::new())),
                (3, 5, Some("b\u{feff}".into())),
                (4, 4, Some("last".into())),
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_skipped_whole_and_counted() {
        let text = format!("ok\n{}\nnext\n{}", "x".repeat(25), "y".repeat(11));
        assert_eq!(
            lines(text.as_bytes(), 10),
            [
                (1, 3, Some("ok".into())),
                (2, 26, None),
                (3, 5, Some("next".into())),
                (4, 11, None),
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read() {
        let text = format!("{}\n{}", "x".repeat(10), "y".repeat(10));
        let read = lines(text.as_bytes(), 10);
        assert_eq!(read[0], (1, 11, Some("x".repeat(10))));
        assert_eq!(read[1], (2, 10, Some("y".repeat(10))));
    }
}
