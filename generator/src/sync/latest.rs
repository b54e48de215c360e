//! Keeps, of the checked staging rows, only those the apply needs: the last
//! operation on each key, and every delete of a parent row (a plan or a
//! beneficiary), whose line decides which of its children the cascade
//! removed (see [`super::references::survives`]).
//!
//! This is the collapse to "last operation per key", done here rather than
//! by sorting the whole staging table in Postgres: the database the API
//! reads from then only has to store the rows that count. It holds every
//! key of the delta in memory while it runs (a key's text and its line:
//! `generator sync` peaks at about 150 MB on a million-line delta).
//!
//! The rows are in the COPY text format of [`super::copy_text::push_row`]:
//! `line, tbl, op, c1..c10`, tab-separated, escaped, so a tab always
//! separates columns and the key's text is the text of its columns. Each
//! row that is kept gets one more column, `superseded`: `f` for the last
//! operation on its key, `t` for an earlier delete of a parent.

use std::collections::HashMap;
use std::io::{self, BufRead, Seek, SeekFrom, Write};

use super::tables::{Table, parent_tables, table};

/// A staging row's table, operation and line, and the text of its key.
struct Row<'a> {
    line: u64,
    table: &'static Table,
    delete: bool,
    /// The table's name, a tab, and the key columns as staged.
    key: Vec<u8>,
    /// The whole row, without its line break.
    text: &'a [u8],
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
    let mut fields = text.split(|b| *b == b'\t');
    let line = fields
        .next()
        .and_then(|f| std::str::from_utf8(f).ok()?.parse().ok())
        .ok_or_else(|| bad("without a line number"))?;
    let name = fields.next().ok_or_else(|| bad("without a table"))?;
    let table = std::str::from_utf8(name)
        .ok()
        .and_then(table)
        .ok_or_else(|| bad("of an unknown table"))?;
    let delete = match fields.next() {
        Some(b"delete") => true,
        Some(b"upsert") => false,
        _ => return Err(bad("without an operation")),
    };
    let mut key = Vec::with_capacity(name.len() + 24);
    key.extend_from_slice(name);
    for _ in 0..table.key_len {
        key.push(b'\t');
        key.extend_from_slice(fields.next().ok_or_else(|| bad("without its key"))?);
    }
    Ok(Row {
        line,
        table,
        delete,
        key,
        text,
    })
}

/// Reads the staging rows in `rows` twice (rewinding it): once to find the
/// last line of every key, then to write the rows that count to `out`,
/// each with its `superseded` column. Returns how many were written.
pub fn keep_latest<R, W>(rows: &mut R, out: &mut W) -> io::Result<u64>
where
    R: BufRead + Seek,
    W: Write,
{
    let mut last: HashMap<Vec<u8>, u64> = HashMap::new();
    each_row(rows, |row| {
        last.insert(row.key, row.line);
        Ok(())
    })?;
    rows.seek(SeekFrom::Start(0))?;
    let mut kept = 0;
    each_row(rows, |row| {
        let superseded = match last.get(&row.key) {
            Some(line) if *line == row.line => false,
            _ if row.delete && is_parent(row.table) => true,
            _ => return Ok(()),
        };
        out.write_all(row.text)?;
        out.write_all(if superseded { b"\tt\n" } else { b"\tf\n" })?;
        kept += 1;
        Ok(())
    })?;
    Ok(kept)
}

fn is_parent(t: &Table) -> bool {
    parent_tables().any(|p| p.name == t.name)
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

    /// The staging rows of these delta lines (numbered from 1), filtered.
    fn kept(lines: &[&str]) -> Vec<String> {
        let mut staged = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            push_row(
                &mut staged,
                i as u64 + 1,
                &parse_line(line.as_bytes()).unwrap(),
            );
        }
        let mut out = Vec::new();
        let n = keep_latest(&mut Cursor::new(staged), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<String> = text
            .lines()
            .map(|row| {
                let f: Vec<&str> = row.split('\t').collect();
                format!("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[f.len() - 1])
            })
            .collect();
        assert_eq!(rows.len() as u64, n);
        rows
    }

    const PLAN: &str = r#"{"op":"upsert","table":"plan","row":{"plan_id":"S1","plan_name":"A","insurer_name":"I","status":"active","description":null,"avg_monthly_cost":1,"avg_copay_amount":1,"annual_deductible":1,"min_age":65,"max_age":null}}"#;
    const DELETE_PLAN: &str = r#"{"op":"delete","table":"plan","key":{"plan_id":"S1"}}"#;
    const ZIP: &str =
        r#"{"op":"upsert","table":"plan_to_zip","row":{"plan_id":"S1","zip_code":"02134"}}"#;
    const DELETE_ZIP: &str =
        r#"{"op":"delete","table":"plan_to_zip","key":{"plan_id":"S1","zip_code":"02134"}}"#;

    #[test]
    fn only_the_last_operation_on_a_key_is_kept() {
        assert_eq!(
            kept(&[ZIP, DELETE_ZIP, ZIP, PLAN]),
            ["3 plan_to_zip upsert S1 f", "4 plan upsert S1 f"]
        );
        assert_eq!(kept(&[ZIP, DELETE_ZIP]), ["2 plan_to_zip delete S1 f"]);
    }

    #[test]
    fn keys_are_per_table_and_whole() {
        let other_zip = ZIP.replace("02134", "02135");
        assert_eq!(
            kept(&[ZIP, &other_zip, PLAN]),
            [
                "1 plan_to_zip upsert S1 f",
                "2 plan_to_zip upsert S1 f",
                "3 plan upsert S1 f"
            ]
        );
    }

    #[test]
    fn an_earlier_delete_of_a_parent_stays_marked_superseded() {
        // The delete at line 2 removed the zip of line 1 by cascade; the
        // apply needs its line even though the plan is upserted again.
        assert_eq!(
            kept(&[ZIP, DELETE_PLAN, PLAN, DELETE_PLAN, PLAN]),
            [
                "1 plan_to_zip upsert S1 f",
                "2 plan delete S1 t",
                "4 plan delete S1 t",
                "5 plan upsert S1 f"
            ]
        );
        // A child's earlier delete is simply gone.
        assert_eq!(kept(&[DELETE_ZIP, ZIP]), ["2 plan_to_zip upsert S1 f"]);
    }

    #[test]
    fn a_key_with_escaped_tabs_is_still_one_key() {
        let tab = ZIP.replace("S1", r"S\t1");
        let rows = kept(&[&tab, &tab.replace("upsert", "delete").replace("row", "key")]);
        assert_eq!(rows, [r"2 plan_to_zip delete S\t1 f"]);
    }

    #[test]
    fn a_broken_staging_row_is_an_error_not_a_guess() {
        let mut out = Vec::new();
        let err =
            keep_latest(&mut Cursor::new(b"7\tnope\tupsert\tx\n".to_vec()), &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("unknown table"), "{err}");
    }
}
