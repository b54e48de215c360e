//! What a ZIP code is on this site: exactly five ASCII digits, leading zeros
//! kept (`00501`). A zip page exists only for such a code, the search form
//! and the mail form ask for one, and sync and the account API refuse
//! anything else.

/// The rule as a regular expression, in the syntax Postgres and JavaScript
/// share.
pub const PATTERN: &str = "^[0-9]{5}$";

/// What the rule says, for error messages.
pub const DESCRIPTION: &str = "5 digits";

/// Whether `text` is a ZIP code.
pub fn is_zip(text: &str) -> bool {
    text.len() == 5 && text.bytes().all(|b| b.is_ascii_digit())
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
}
