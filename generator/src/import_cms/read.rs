//! Reads one pipe-delimited file with a header line and hands out the
//! wanted columns of every data line, trimmed, with the line's number.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use indicatif::ProgressBar;

use super::Problems;
use super::layout::Role;
use crate::{Error, Result};

/// Longest line accepted; real lines are a few hundred bytes.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// What reading one file found.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileCounts {
    /// Lines, the header and blank ones included.
    pub lines: u64,
    /// Data lines (not blank, not the header).
    pub rows: u64,
}

/// Reads the file at `path` of `role`. Calls `each` with the line number
/// and the values of [`Role::columns`] (in that order, spaces around them
/// trimmed) for every data line that splits into as many fields as the
/// header has; what it returns as an error, and any line that cannot be
/// read so far, is noted in `problems` under `file`.
pub fn read_file(
    path: &Path,
    role: Role,
    file: &str,
    problems: &mut Problems,
    progress: &ProgressBar,
    mut each: impl FnMut(u64, &[&str]) -> std::result::Result<(), String>,
) -> Result<FileCounts> {
    let handle = File::open(path).map_err(Error::io("opening", path))?;
    let mut reader = BufReader::with_capacity(1 << 20, handle);
    let mut counts = FileCounts::default();
    let mut buf = Vec::with_capacity(4096);
    let mut positions: Option<Vec<usize>> = None;
    let mut width = 0;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        progress.inc(n as u64);
        counts.lines += 1;
        let line = counts.lines;
        if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
            skip_rest_of_line(&mut reader, path, progress)?;
            problems.add(
                file,
                line,
                format!("line is longer than {MAX_LINE_BYTES} bytes"),
            );
            continue;
        }
        let mut content = buf.strip_suffix(b"\n").unwrap_or(&buf);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if line == 1 {
            content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        }
        let Ok(text) = std::str::from_utf8(content) else {
            problems.add(file, line, "is not UTF-8 text".to_string());
            continue;
        };
        if positions.is_none() {
            match header(text, role) {
                Ok(found) => {
                    width = text.split('|').count();
                    positions = Some(found);
                    continue;
                }
                Err(message) => {
                    // Without the header no line can be read.
                    problems.add(file, line, message);
                    return Ok(counts);
                }
            }
        }
        let positions = positions.as_ref().expect("read from the header");
        if text.trim().is_empty() {
            continue;
        }
        counts.rows += 1;
        let fields: Vec<&str> = text.split('|').collect();
        if fields.len() != width {
            problems.add(
                file,
                line,
                format!(
                    "has {} fields, the header has {width} (a truncated or broken line?)",
                    fields.len()
                ),
            );
            continue;
        }
        let values: Vec<&str> = positions
            .iter()
            .map(|&i| fields[i].trim_matches([' ', '\t']))
            .collect();
        if let Err(message) = each(line, &values) {
            problems.add(file, line, message);
        }
    }
    if positions.is_none() && counts.lines == 0 {
        problems.add(file, 1, "is empty: the header line is missing".to_string());
    }
    Ok(counts)
}

/// Where each column of `role` is in the header line `text`.
fn header(text: &str, role: Role) -> std::result::Result<Vec<usize>, String> {
    let names: Vec<&str> = text.split('|').map(|n| n.trim()).collect();
    let mut out = Vec::new();
    for wanted in role.columns() {
        let found: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.eq_ignore_ascii_case(wanted))
            .map(|(i, _)| i)
            .collect();
        match found[..] {
            [i] => out.push(i),
            [] => return Err(format!("the header has no {wanted} column")),
            _ => return Err(format!("the header has {wanted} more than once")),
        }
    }
    Ok(out)
}

fn skip_rest_of_line(
    reader: &mut BufReader<File>,
    path: &Path,
    progress: &ProgressBar,
) -> Result<()> {
    loop {
        let available = reader.fill_buf().map_err(Error::io("reading", path))?;
        if available.is_empty() {
            return Ok(());
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        reader.consume(take);
        progress.inc(take as u64);
        if done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn read(text: &str) -> (Vec<(u64, Vec<String>)>, Problems) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut problems = Problems::default();
        let mut seen = Vec::new();
        read_file(
            file.path(),
            Role::PlanInformation,
            "plan information file.txt",
            &mut problems,
            &ProgressBar::hidden(),
            |line, values| {
                seen.push((line, values.iter().map(|v| v.to_string()).collect()));
                if values[0] == "BAD" {
                    return Err("bad".into());
                }
                Ok(())
            },
        )
        .unwrap();
        (seen, problems)
    }

    #[test]
    fn columns_are_found_by_name_and_lines_numbered_from_the_header() {
        let (seen, problems) = read(
            "\u{feff}PLAN_NAME|FORMULARY_ID|SEGMENT_ID|PLAN_ID|CONTRACT_ID\r\n\
             Acme | 00026001|000|012|S5601\r\n\
             \n\
             Beta|00026002|001|013|H1234\n",
        );
        assert!(problems.list.is_empty(), "{:?}", problems.list);
        assert_eq!(
            seen,
            [
                (
                    2,
                    vec![
                        "S5601".into(),
                        "012".into(),
                        "000".into(),
                        "00026001".into()
                    ]
                ),
                (
                    4,
                    vec![
                        "H1234".into(),
                        "013".into(),
                        "001".into(),
                        "00026002".into()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn short_lines_missing_columns_and_bad_values_name_their_line() {
        let (_, problems) =
            read("CONTRACT_ID|PLAN_ID|SEGMENT_ID|FORMULARY_ID\nS5601|012\nBAD|1|2|3\n");
        let lines: Vec<u64> = problems.list.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3]);
        assert!(problems.list[0].message.contains("has 2 fields"));
        let (_, problems) = read("CONTRACT_ID|PLAN_ID|SEGMENT_ID\nS5601|012|0\n");
        assert_eq!(problems.list[0].line, 1);
        assert!(problems.list[0].message.contains("no FORMULARY_ID"));
    }
}
