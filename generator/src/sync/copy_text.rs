//! Rows in the text format of `COPY ... FROM STDIN`: tab-separated columns,
//! `\N` for NULL, and backslash escapes for the characters the format gives
//! a meaning to. Without the escapes a tab or newline inside a plan name
//! would split the row, and a literal `\N` would turn into NULL.

use super::line::Change;
use super::tables::MAX_COLUMNS;

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

/// Appends `text` with the COPY text-format escapes.
pub fn push_escaped(out: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        // Multi-byte UTF-8 sequences never contain these ASCII bytes, so a
        // byte-wise pass is safe.
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::line::parse;

    #[test]
    fn special_characters_are_escaped_and_nulls_marked() {
        let mut out = Vec::new();
        push_escaped(&mut out, "a\tb\nc\rd\\N\"é😀");
        assert_eq!(out, "a\\tb\\nc\\rd\\\\N\"é😀".as_bytes());
    }

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
