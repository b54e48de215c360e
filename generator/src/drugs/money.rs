//! Money as whole cents (`i64`): amounts come from Postgres `numeric(10,2)`
//! and JSON as decimal text and are never held in floating point.

use std::fmt;

/// An amount of money in whole cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

impl Cents {
    /// Zero dollars.
    pub const ZERO: Cents = Cents(0);

    /// Parses a decimal with at most two decimals (`"615"`, `"35.5"`,
    /// `"2100.00"`), as Postgres prints a `numeric(10,2)`. `None` for
    /// anything else, including a third decimal or a sign.
    pub fn parse(text: &str) -> Option<Cents> {
        hundredths(text).map(Cents)
    }
}

/// `"12.34"` as 1234: the shared reading of a two-decimal amount, for money
/// (cents) and for coinsurance percents (hundredths of a percent).
pub fn hundredths(text: &str) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 15
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    Some(whole * 100 + frac)
}

/// Two decimals, as the published JSON and the pages show money: `12.30`.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_text_reads_exactly() {
        assert_eq!(Cents::parse("615"), Some(Cents(61500)));
        assert_eq!(Cents::parse("35.5"), Some(Cents(3550)));
        assert_eq!(Cents::parse("2100.00"), Some(Cents(210000)));
        assert_eq!(Cents::parse("0.07"), Some(Cents(7)));
        for bad in ["", ".5", "1.234", "-1", "1e3", "12.3x", "1,000"] {
            assert_eq!(Cents::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cents_print_with_two_decimals() {
        assert_eq!(Cents(7).to_string(), "0.07");
        assert_eq!(Cents(210000).to_string(), "2100.00");
        assert_eq!(Cents(-150).to_string(), "-1.50");
    }
}
