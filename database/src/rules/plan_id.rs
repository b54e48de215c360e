//! Which plan ids the site can publish.
//!
//! A plan id becomes a URL path segment (`/plans/<id>/`), an S3 key and a
//! file name (`data/plans/<id>.json`). Real CMS ids look like `S5601-012-0`
//! or `H1234-001-0`. The rule keeps what every one of those accepts without
//! escaping: ASCII letters, digits, `-` and `_`, starting with a letter or a
//! digit, at most [`MAX_LEN`] bytes. So no `.` (a last segment with a dot is
//! served as a file, not a page), no `/`, `\`, `%`, spaces or control
//! characters, and no name a file system refuses as too long.

/// Longest publishable id, in bytes (one byte per character, since only
/// ASCII is allowed). Far above the 11 characters of a CMS id, far below the
/// 255-byte file name limit.
pub const MAX_LEN: usize = 64;

/// The rule as a regular expression, in the syntax Postgres, JavaScript and
/// the `regex` family share: what SQL filters with and what the browser
/// script tests with. The bound is `MAX_LEN - 1` (one leading character,
/// then up to 63 more).
pub const PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";

/// What the rule says, for error messages.
pub const DESCRIPTION: &str =
    "1 to 64 ASCII letters, digits, '-' or '_', starting with a letter or digit";

/// Whether the site can publish a plan with this id.
pub fn is_publishable(id: &str) -> bool {
    let bytes = id.as_bytes();
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    matches!(bytes.first(), Some(b) if b.is_ascii_alphanumeric())
        && bytes.len() <= MAX_LEN
        && bytes.iter().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        id: String,
        publishable: bool,
    }

    /// The shared table, also run against [`PATTERN`] in Postgres and in
    /// JavaScript.
    pub(crate) fn cases() -> Vec<(String, bool)> {
        let text = include_str!("../../../tests/rules/plan-ids.json");
        let cases: Vec<Case> = serde_json::from_str(text).expect("tests/rules/plan-ids.json");
        cases.into_iter().map(|c| (c.id, c.publishable)).collect()
    }

    #[test]
    fn the_shared_cases_hold() {
        let cases = cases();
        assert!(cases.len() > 20);
        for (id, publishable) in cases {
            assert_eq!(is_publishable(&id), publishable, "{id:?}");
        }
    }

    #[test]
    fn the_pattern_bound_is_the_max_length() {
        assert!(PATTERN.contains(&format!("{{0,{}}}", MAX_LEN - 1)));
        assert!(DESCRIPTION.contains(&format!("1 to {MAX_LEN}")));
    }
}
