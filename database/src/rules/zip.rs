//! What a ZIP code is on this site: exactly five ASCII digits, leading zeros
//! kept (`00501`). A zip page exists only for such a code, the search form
//! and the mail form ask for one, and sync and the account API refuse
//! anything else.

/// The digits of the rule, unanchored: written once here, anchored into
/// [`PATTERN`] and used as it is in [`INPUT_PATTERN`].
macro_rules! digits {
    () => {
        "[0-9]{5}"
    };
}

/// The rule as a regular expression, in the syntax Postgres and JavaScript
/// share.
pub const PATTERN: &str = concat!("^", digits!(), "$");

/// The rule as an HTML `pattern` attribute: the browser anchors the
/// attribute itself, so it is the digits alone.
pub const INPUT_PATTERN: &str = digits!();

/// How many characters a ZIP code has: a form field's `maxlength`.
pub const LEN: usize = 5;

/// What the rule says, for error messages.
pub const DESCRIPTION: &str = "5 digits";

/// Whether `text` is a ZIP code.
pub fn is_zip(text: &str) -> bool {
    text.len() == LEN && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        zip: bool,
    }

    /// The shared table, also run in Postgres and in JavaScript.
    fn cases() -> Vec<Case> {
        let text = include_str!("../../../tests/rules/zips.json");
        serde_json::from_str(text).expect("tests/rules/zips.json")
    }

    #[test]
    fn the_shared_cases_hold() {
        let cases = cases();
        assert!(cases.len() > 10);
        for c in cases {
            assert_eq!(is_zip(&c.text), c.zip, "{:?}", c.text);
        }
    }

    #[test]
    fn the_pattern_and_the_input_pattern_say_the_same() {
        assert_eq!(PATTERN, "^[0-9]{5}$");
        assert_eq!(PATTERN, format!("^{INPUT_PATTERN}$"));
        assert!(DESCRIPTION.starts_with(&LEN.to_string()));
    }
}
