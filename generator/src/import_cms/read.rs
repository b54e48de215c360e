//! Reads one pipe-delimited file with a header line and hands out the
//! wanted columns of every data line, trimmed, with the line's number.

use std::path::Path;

use indicatif::ProgressBar;

use super::layout::Role;
use super::{FileProblem, Problems};
use crate::Result;
use crate::batch::lines::LineReader;

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
    let mut reader = LineReader::open(path, MAX_LINE_BYTES)?;
    let mut counts = FileCounts::default();
    let mut positions: Option<Vec<usize>> = None;
    let mut width = 0;
    let mut problem = |line, message| problems.add(FileProblem::new(file, line, message));
    while let Some(read) = reader.next_line()? {
        progress.inc(read.bytes);
        counts.lines = read.number;
        let line = read.number;
        let Some(content) = read.content else {
            problem(line, format!("line is longer than {MAX_LINE_BYTES} bytes"));
            continue;
        };
        let Ok(text) = std::str::from_utf8(content) else {
            problem(line, "is not UTF-8 text".to_string());
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
                    problem(line, message);
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
            problem(
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
            problem(line, message);
        }
    }
    if positions.is_none() && counts.lines == 0 {
        problem(1, "is empty: the header line is missing".to_string());
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
