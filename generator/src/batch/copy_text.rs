//! Rows in the text format of `COPY ... FROM STDIN`: tab-separated columns,
//! `\N` for NULL, and backslash escapes for the characters the format gives
//! a meaning to. Without the escapes a tab or newline inside a plan name
//! would split the row, and a literal `\N` would turn into NULL.

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

/// Builds COPY text-format rows, field by field.
#[derive(Debug, Default)]
pub struct Line {
    buf: Vec<u8>,
    fields: usize,
}

impl Line {
    fn sep(&mut self) {
        if self.fields > 0 {
            self.buf.push(b'\t');
        }
        self.fields += 1;
    }

    /// A text field, escaped.
    pub fn text(&mut self, value: &str) {
        self.sep();
        push_escaped(&mut self.buf, value);
    }

    /// A field that needs no escaping (numbers, dates).
    pub fn raw(&mut self, value: &str) {
        self.sep();
        self.buf.extend_from_slice(value.as_bytes());
    }

    /// NULL.
    pub fn null(&mut self) {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
    }

    /// An amount of cents as a numeric (`12.50`).
    pub fn money(&mut self, cents: i64) {
        self.raw(&whatever_database::Money(cents).to_string());
    }

    /// An optional integer.
    pub fn opt_int(&mut self, value: Option<i32>) {
        match value {
            Some(v) => self.raw(&v.to_string()),
            None => self.null(),
        }
    }

    /// Ends the row.
    pub fn end(&mut self) {
        self.buf.push(b'\n');
        self.fields = 0;
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The complete rows written so far, leaving the builder empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The rows written, as COPY text.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        let mut out = Vec::new();
        push_escaped(&mut out, "a\tb\nc\rd\\N\"é😀");
        assert_eq!(out, "a\\tb\\nc\\rd\\\\N\"é😀".as_bytes());
    }

    #[test]
    fn a_line_escapes_text_and_marks_nulls() {
        let mut line = Line::default();
        line.text("a\tb\\c\nd\re \"<&>\" é 💊");
        line.null();
        line.money(1250);
        line.opt_int(None);
        line.opt_int(Some(65));
        line.end();
        assert_eq!(
            String::from_utf8(line.into_bytes()).unwrap(),
            "a\\tb\\\\c\\nd\\re \"<&>\" é 💊\t\\N\t12.50\t\\N\t65\n"
        );
    }
}
