//! What an RxNorm concept id (RXCUI) is here: 1 to [`MAX_DIGITS`] ASCII
//! digits, kept as text (it is an identifier, not a number). A drug's id is
//! a file name (`data/drugs/<rxcui>.json`) and part of a drug-list link, so
//! `generator sync`, `import-cms`, the `drug` table's `CHECK` and the
//! browser all refuse anything else.

/// Most digits an id has. RxNorm's are 1 to 7 digits today; ten leaves room
/// and still fits a `u64`.
pub const MAX_DIGITS: usize = 10;

/// The rule as a regular expression, in the syntax Postgres and JavaScript
/// share.
pub const PATTERN: &str = "^[0-9]{1,10}$";

/// What the rule says, for error messages.
pub const DESCRIPTION: &str = "an RxNorm id (1 to 10 digits)";

/// Whether `text` is an RXCUI.
pub fn is_rxcui(text: &str) -> bool {
    (1..=MAX_DIGITS).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        rxcui: bool,
    }

    /// The shared table, also run in Postgres and in JavaScript.
    fn cases() -> Vec<Case> {
        serde_json::from_str(include_str!("../../../tests/rules/rxcuis.json"))
            .expect("tests/rules/rxcuis.json")
    }

    #[test]
    fn the_shared_cases_hold() {
        let cases = cases();
        assert!(cases.len() > 10);
        for c in cases {
            assert_eq!(is_rxcui(&c.text), c.rxcui, "{:?}", c.text);
        }
    }

    #[test]
    fn the_pattern_and_the_description_carry_the_bound() {
        assert!(PATTERN.contains(&format!("{{1,{MAX_DIGITS}}}")));
        assert!(DESCRIPTION.contains(&format!("1 to {MAX_DIGITS} digits")));
    }
}
