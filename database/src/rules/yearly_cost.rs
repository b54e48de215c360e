//! The yearly figure every plan shows without a drug list: twelve monthly
//! premiums plus the deductible. It leaves out drugs and copays, so it is
//! always read with [`LABEL`] and [`NOTE`]; the plan pages and cards print
//! it, and the browser sorts, compares and tells the difference from the
//! visitor's plan by the same sum.

use crate::Money;

/// Premiums a year counts.
pub const MONTHS: i64 = 12;

/// What the figure is called wherever it is shown: it adds up premiums and
/// the deductible only, so its name must never suggest a total cost.
pub const LABEL: &str = "Premiums and deductible for the year";

/// Said beside the figure, since without a drug list it leaves out what the
/// person pays for their drugs.
pub const NOTE: &str = "Drug costs not included";

/// [`MONTHS`] × `monthly_premium` + `deductible`.
pub fn yearly_cost(monthly_premium: Money, deductible: Money) -> Money {
    Money(monthly_premium.0 * MONTHS + deductible.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        avg_monthly_cost: Money,
        annual_deductible: Money,
        yearly: Money,
    }

    #[test]
    fn the_shared_cases_hold() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../../../tests/rules/yearly-costs.json"))
                .expect("tests/rules/yearly-costs.json");
        assert!(cases.len() > 5);
        for c in cases {
            assert_eq!(
                yearly_cost(c.avg_monthly_cost, c.annual_deductible),
                c.yearly,
                "{} a month, {} deductible",
                c.avg_monthly_cost,
                c.annual_deductible
            );
        }
    }
}
