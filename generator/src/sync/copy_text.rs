//! The staging rows of a delta, in the text format of `COPY ... FROM STDIN`
//! ([`crate::batch::copy_text`]).

use super::line::Change;
use super::tables::MAX_COLUMNS;
use crate::batch::copy_text::push_escaped;

/// Appends one staging row (`line, tbl, op, c1..c11`) for `change`.
pub fn push_row(out: &mut Vec<u8>, line: u64, change: &Change) {
    out.extend_from_slice(line.to_string().as_bytes());
    out.push(b'\t');
    out.extend_from_slice(change.table.name.as_bytes());
    out.push(b'\t');
    out.extend_from_slice(change.op.as_str().as_bytes());
    for i in 0..MAX_COLUMNS {
        out.push(b'\t');
        match change.values.get(i) {
            Some(Some(text)) => push_escaped(out, text),
            _ => out.extend_from_slice(b"\\N"),
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::line::parse;

    #[test]
    fn a_row_has_three_fixed_and_eleven_value_columns() {
        let change = parse(
            br#"{"op":"delete","table":"plan_to_zip","key":{"plan_id":"S\\1","zip_code":"02134"}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        push_row(&mut out, 42, &change);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "42\tplan_to_zip\tdelete\tS\\\\1\t02134\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
        );
    }
}
