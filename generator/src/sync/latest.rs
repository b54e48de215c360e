//! Keeps, of the checked staging rows, only what the apply needs: the last
//! operation on each key, and the line of the last delete of each parent
//! row (a plan or a beneficiary), which decides which of its children the
//! cascade removed (see [`super::references::survives`]).
//!
//! This is the collapse to "last operation per key", done here rather than
//! by sorting a staging table in Postgres: the database the API reads from
//! then only has to parse and store the rows that count, each straight into
//! the typed table of its own table. It holds every key of the delta in
//! memory while it runs (a key's text and its line: `generator sync` peaks
//! at about 150 MB on a million-line delta).
//!
//! The input rows are in the COPY text format of
//! [`super::copy_text::push_row`]: `line, tbl, op, c1..c11`, tab-separated,
//! escaped, so a tab always separates columns and the key's text is the
//! text of its columns. The output is COPY text too: for every table in
//! [`TABLES`] order, `line, op` and that table's own columns; for every
//! parent table in [`parent_tables`] order, `key, line` of the last delete
//! of each key.

use std::collections::HashMap;
use std::io::{self, BufRead, Seek, SeekFrom, Write};

use super::tables::{TABLES, Table, parent_tables};

/// A staging row's fields, the index of its table in [`TABLES`], and the
/// text of its key.
struct Row<'a> {
    line: u64,
    table: usize,
    delete: bool,
    /// The table's name, a tab, and the key columns as staged.
    key: Vec<u8>,
    /// Every field of the row, as staged.
    fields: Vec<&'a [u8]>,
}

fn parse(text: &[u8]) -> io::Result<Row<'_>> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "staging row {what}: {:?}",
                String::from_utf8_lossy(&text[..text.len().min(80)])
            ),
        )
    };
    let fields: Vec<&[u8]> = text.split(|b| *b == b'\t').collect();
    let line = std::str::from_utf8(fields[0])
        .ok()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| bad("without a line number"))?;
    let name = fields.get(1).ok_or_else(|| bad("without a table"))?;
    let table = TABLES
        .iter()
        .position(|t| t.name.as_bytes() == *name)
        .ok_or_else(|| bad("of an unknown table"))?;
    let delete = match fields.get(2).copied() {
        Some(b"delete") => true,
        Some(b"upsert") => false,
        _ => return Err(bad("without an operation")),
    };
    let t = &TABLES[table];
    if fields.len() < 3 + t.columns.len() {
        return Err(bad("with too few columns"));
    }
    let mut key = Vec::with_capacity(name.len() + 24);
    key.extend_from_slice(name);
    for value in &fields[3..3 + t.key_len] {
        key.push(b'\t');
        key.extend_from_slice(value);
    }
    Ok(Row {
        line,
        table,
        delete,
        key,
        fields,
    })
}

/// How many rows [`split_latest`] wrote to each output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Per table, in [`TABLES`] order.
    pub last: Vec<u64>,
    /// Per parent table, in [`parent_tables`] order.
    pub deleted: Vec<u64>,
}

/// Reads the staging rows in `rows` twice (rewinding it): once to find the
/// last line of every key and the last delete of every parent, then to
/// write each last operation to its table's output in `last`. The deletes
/// of parents go to `deleted`.
pub fn split_latest<R, W>(rows: &mut R, last: &mut [W], deleted: &mut [W]) -> io::Result<Split>
where
    R: BufRead + Seek,
    W: Write,
{
    let parents: Vec<&Table> = parent_tables().collect();
    assert_eq!(last.len(), TABLES.len(), "one output per table");
    assert_eq!(deleted.len(), parents.len(), "one output per parent table");
    // For each table in TABLES, its index among the parents, if it is one.
    let parent_index: Vec<Option<usize>> = TABLES
        .iter()
        .map(|t| parents.iter().position(|p| p.name == t.name))
        .collect();
    let mut last_line: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut last_delete: HashMap<Vec<u8>, (usize, u64)> = HashMap::new();
    each_row(rows, |row| {
        if let (true, Some(parent)) = (row.delete, parent_index[row.table]) {
            last_delete.insert(row.key.clone(), (parent, row.line));
        }
        last_line.insert(row.key, row.line);
        Ok(())
    })?;
    rows.seek(SeekFrom::Start(0))?;
    let mut split = Split {
        last: vec![0; TABLES.len()],
        deleted: vec![0; parents.len()],
    };
    each_row(rows, |row| {
        if last_line.get(&row.key) != Some(&row.line) {
            return Ok(());
        }
        let out = &mut last[row.table];
        out.write_all(row.fields[0])?;
        out.write_all(b"\t")?;
        out.write_all(row.fields[2])?;
        for value in &row.fields[3..3 + TABLES[row.table].columns.len()] {
            out.write_all(b"\t")?;
            out.write_all(value)?;
        }
        out.write_all(b"\n")?;
        split.last[row.table] += 1;
        Ok(())
    })?;
    for (key, (parent, line)) in last_delete {
        // The key of a parent is one column: its text follows the name.
        let value = &key[parents[parent].name.len() + 1..];
        let out = &mut deleted[parent];
        out.write_all(value)?;
        writeln!(out, "\t{line}")?;
        split.deleted[parent] += 1;
    }
    Ok(split)
}

fn each_row<R: BufRead>(
    rows: &mut R,
    mut f: impl FnMut(Row<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if rows.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        f(parse(text)?)?;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::sync::copy_text::push_row;
    use crate::sync::line::parse as parse_line;

    /// What the staging rows of these delta lines (numbered from 1) are
    /// split into: "table: row" for every row written, in order.
    fn split(lines: &[&str]) -> Vec<String> {
        let mut staged = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            push_row(
                &mut staged,
                i as u64 + 1,
                &parse_line(line.as_bytes()).unwrap(),
            );
        }
        let mut last = vec![Vec::new(); TABLES.len()];
        let mut deleted = vec![Vec::new(); parent_tables().count()];
        let counts = split_latest(&mut Cursor::new(staged), &mut last, &mut deleted).unwrap();
        let mut out = Vec::new();
        let names = TABLES.iter().map(|t| t.name);
        let deleted_names = parent_tables().map(|t| t.name);
        let outputs = last.iter().zip(counts.last).zip(names);
        let deleted_outputs = deleted.iter().zip(counts.deleted).zip(deleted_names);
        for ((text, count), name) in outputs {
            let text = String::from_utf8(text.clone()).unwrap();
            assert_eq!(text.lines().count() as u64, count, "{name}");
            out.extend(text.lines().map(|row| format!("{name}: {row}")));
        }
        for ((text, count), name) in deleted_outputs {
            let text = String::from_utf8(text.clone()).unwrap();
            assert_eq!(text.lines().count() as u64, count, "{name}");
            out.extend(text.lines().map(|row| format!("deleted {name}: {row}")));
        }
        out
    }

    const PLAN: &str = r#"{"op":"upsert","table":"plan","row":{"plan_id":"S1","plan_name":"A","insurer_name":"I","status":"active","description":null,"avg_monthly_cost":1,"avg_copay_amount":1,"annual_deductible":1,"min_age":65,"max_age":null}}"#;
    const DELETE_PLAN: &str = r#"{"op":"delete","table":"plan","key":{"plan_id":"S1"}}"#;
    const ZIP: &str =
        r#"{"op":"upsert","table":"plan_to_zip","row":{"plan_id":"S1","zip_code":"02134"}}"#;
    const DELETE_ZIP: &str =
        r#"{"op":"delete","table":"plan_to_zip","key":{"plan_id":"S1","zip_code":"02134"}}"#;

    #[test]
    fn only_the_last_operation_on_a_key_is_kept_with_its_tables_columns() {
        assert_eq!(
            split(&[ZIP, DELETE_ZIP, ZIP, PLAN]),
            [
                "plan: 4\tupsert\tS1\tA\tI\tactive\t\\N\t1\t1\t1\t65\t\\N\t\\N",
                "plan_to_zip: 3\tupsert\tS1\t02134",
            ]
        );
        assert_eq!(
            split(&[ZIP, DELETE_ZIP]),
            ["plan_to_zip: 2\tdelete\tS1\t02134"]
        );
    }

    #[test]
    fn keys_are_per_table_and_whole() {
        let other_zip = ZIP.replace("02134", "02135");
        assert_eq!(
            split(&[ZIP, &other_zip]),
            [
                "plan_to_zip: 1\tupsert\tS1\t02134",
                "plan_to_zip: 2\tupsert\tS1\t02135"
            ]
        );
    }

    #[test]
    fn the_last_delete_of_a_parent_is_kept_even_when_upserted_again() {
        // The delete at line 4 removed the zip of line 1 by cascade; the
        // apply needs its line even though the plan is upserted again.
        let rows = split(&[ZIP, DELETE_PLAN, PLAN, DELETE_PLAN, PLAN]);
        assert_eq!(
            rows[0],
            "plan: 5\tupsert\tS1\tA\tI\tactive\t\\N\t1\t1\t1\t65\t\\N\t\\N"
        );
        assert_eq!(
            rows[1..],
            ["plan_to_zip: 1\tupsert\tS1\t02134", "deleted plan: S1\t4"]
        );
        // A child's earlier delete is simply gone.
        assert_eq!(
            split(&[DELETE_ZIP, ZIP]),
            ["plan_to_zip: 2\tupsert\tS1\t02134"]
        );
    }

    #[test]
    fn a_key_with_escaped_tabs_is_still_one_key() {
        // Plan ids cannot hold a tab; a feature key can.
        let tab = r#"{"op":"upsert","table":"plan_feature","row":{"plan_id":"S1","feature_key":"a\tb","feature_value":"yes"}}"#;
        let delete =
            r#"{"op":"delete","table":"plan_feature","key":{"plan_id":"S1","feature_key":"a\tb"}}"#;
        assert_eq!(
            split(&[tab, delete]),
            ["plan_feature: 2\tdelete\tS1\ta\\tb\t\\N"]
        );
    }

    #[test]
    fn a_broken_staging_row_is_an_error_not_a_guess() {
        let mut last: Vec<Vec<u8>> = vec![Vec::new(); TABLES.len()];
        let mut deleted: Vec<Vec<u8>> = vec![Vec::new(); parent_tables().count()];
        for (row, expected) in [
            (&b"7\tnope\tupsert\tx\n"[..], "unknown table"),
            (b"7\tplan\tupsert\tx\n", "too few columns"),
            (b"x\tplan\tupsert\tx\n", "line number"),
        ] {
            let err =
                split_latest(&mut Cursor::new(row.to_vec()), &mut last, &mut deleted).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
