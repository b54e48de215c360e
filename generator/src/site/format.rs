//! How values read on the pages: dollars with thousands separators, feature
//! keys as words, age limits as a phrase.

use std::fmt;

use whatever_database::Money;

/// Money as people read it: `$1,234.50`, `-$3.00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dollars(pub Money);

impl fmt::Display for Dollars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.0.cents();
        if cents < 0 {
            f.write_str("-")?;
        }
        let abs = cents.unsigned_abs();
        let dollars = (abs / 100).to_string();
        f.write_str("$")?;
        for (i, digit) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        write!(f, ".{:02}", abs % 100)
    }
}

// Only digits, `$`, `,`, `.` and `-`: nothing HTML needs escaped.
impl askama::filters::HtmlSafe for Dollars {}

/// Feature keys as labels and yes/no-like values as "Yes"/"No": the
/// rule the browser script applies too (see `docs/rules.md`).
pub use whatever_database::rules::feature_words::{
    display as feature_value, label as feature_label,
};

/// Who may join, from the plan's age limits.
pub fn eligible_ages(min_age: Option<i32>, max_age: Option<i32>) -> String {
    match (min_age, max_age) {
        (Some(min), Some(max)) => format!("Ages {min} to {max}"),
        (Some(min), None) => format!("Ages {min} and older"),
        (None, Some(max)) => format!("Ages {max} and younger"),
        (None, None) => "All ages".to_string(),
    }
}

/// "1 plan", "24 plans".
pub fn plan_count(n: usize) -> String {
    if n == 1 {
        "1 plan".to_string()
    } else {
        format!("{n} plans")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_have_separators_and_cents() {
        assert_eq!(Dollars(Money(0)).to_string(), "$0.00");
        assert_eq!(Dollars(Money(5)).to_string(), "$0.05");
        assert_eq!(Dollars(Money(123_450)).to_string(), "$1,234.50");
        assert_eq!(Dollars(Money(100_000_000)).to_string(), "$1,000,000.00");
        assert_eq!(Dollars(Money(99_999)).to_string(), "$999.99");
        assert_eq!(Dollars(Money(-300)).to_string(), "-$3.00");
    }

    #[test]
    fn ages_and_counts_read_as_phrases() {
        assert_eq!(eligible_ages(Some(65), None), "Ages 65 and older");
        assert_eq!(eligible_ages(Some(18), Some(64)), "Ages 18 to 64");
        assert_eq!(eligible_ages(None, None), "All ages");
        assert_eq!(plan_count(1), "1 plan");
        assert_eq!(plan_count(0), "0 plans");
    }
}
