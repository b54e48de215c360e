//! The yearly drug-cost estimate: the reference implementation. The
//! browser runs the same algorithm (`templates/assets/drug-estimate.mjs`)
//! and a test requires the two to agree to the cent; `docs/drug-data.md`
//! states the rules both follow.
//!
//! The engine is pure: the caller resolves each entry of a drug list
//! against one plan (formulary placement, the tier's cost sharing, the
//! reference price) and passes the facts in.

use super::money::Cents;

pub use whatever_database::rules::pharmacy::{DaysSupply, Pharmacy};

/// Whether an entry of `days` started in `start` fills in `month` (both
/// 1-12): a 30-day one every month, a 90-day one every third month.
fn fills_in(days: DaysSupply, start: u32, month: u32) -> bool {
    (month - start).is_multiple_of(days.days() as u32 / 30)
}

/// What the person pays of a fill once past the deductible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostShare {
    /// A fixed amount (never more than the fill's cost).
    Copay(Cents),
    /// A share of the fill's cost, in hundredths of a percent (25% = 2500).
    Coinsurance(i64),
}

/// A plan's cost sharing for one tier, pharmacy type and days supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierCost {
    /// Copay or coinsurance.
    pub share: CostShare,
    /// Whether the plan's deductible is paid first on this tier.
    pub deductible_applies: bool,
}

/// The parameters of a benefit year (`benefit_year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenefitYear {
    /// The calendar year.
    pub year: i32,
    /// No plan's deductible counts above this.
    pub deductible_cap: Cents,
    /// Out-of-pocket spending after which covered drugs cost nothing.
    pub oop_threshold: Cents,
    /// Most a covered 30-day insulin fill costs.
    pub insulin_monthly_cap: Cents,
}

/// The plan's own amounts the estimate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTerms {
    /// The monthly premium.
    pub monthly_premium: Cents,
    /// The plan's annual drug deductible (capped by the benefit year).
    pub annual_deductible: Cents,
}

/// One entry of a drug list, resolved against a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// How long a fill lasts.
    pub days: DaysSupply,
    /// `drug_price` of the drug for that supply, if known.
    pub full_cost: Option<Cents>,
    /// Insulin: no deductible, capped fills.
    pub is_insulin: bool,
    /// How the plan covers it.
    pub coverage: Coverage,
}

/// How a plan covers one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The plan publishes no formulary: nothing can be said.
    NoFormulary,
    /// Not on the formulary: full cost, counted toward nothing.
    NotCovered,
    /// On the formulary at `tier`, with the plan's cost sharing for that
    /// tier, pharmacy and supply if the plan has it.
    Covered {
        /// 1 to 6.
        tier: u8,
        /// `None`: the plan has no cost sharing for this combination.
        cost: Option<TierCost>,
    },
}

/// Why an entry has no estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// The plan publishes no formulary.
    NoFormulary,
    /// Covered, but the plan has no cost sharing for the tier, pharmacy
    /// type and days supply.
    NoTierCost,
    /// No reference price for the drug and days supply.
    NoPrice,
}

impl Gap {
    /// How the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Gap::NoFormulary => "no_formulary",
            Gap::NoTierCost => "no_tier_cost",
            Gap::NoPrice => "no_price",
        }
    }
}

/// The estimate for one drug list and one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// The first month counted (1-12).
    pub start_month: u32,
    /// Monthly premium × the months counted.
    pub premiums: Cents,
    /// Entries (by index in the list) without an estimate, and why.
    pub gaps: Vec<(usize, Gap)>,
    /// Drug costs: `None` when any entry has a gap (a total without it
    /// would be a guess).
    pub drugs: Option<DrugCosts>,
}

/// What the drugs cost month by month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrugCosts {
    /// One amount per month, the start month first, December last.
    pub months: Vec<Cents>,
    /// The sum of the months.
    pub total: Cents,
}

impl Estimate {
    /// Premiums plus drugs, when the drugs have an estimate.
    pub fn total(&self) -> Option<Cents> {
        self.drugs
            .as_ref()
            .map(|d| Cents(self.premiums.0 + d.total.0))
    }
}

/// Estimates `entries` under `plan` from `start_month` (1-12) to December.
///
/// # Panics
/// If `start_month` is not 1 to 12.
pub fn estimate(
    year: &BenefitYear,
    plan: &PlanTerms,
    start_month: u32,
    entries: &[Entry],
) -> Estimate {
    assert!((1..=12).contains(&start_month), "month {start_month}");
    let months = 13 - start_month;
    let premiums = Cents(plan.monthly_premium.0 * i64::from(months));
    let gaps: Vec<(usize, Gap)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| gap(e).map(|g| (i, g)))
        .collect();
    let drugs = gaps
        .is_empty()
        .then(|| drug_costs(year, plan, start_month, entries));
    Estimate {
        start_month,
        premiums,
        gaps,
        drugs,
    }
}

fn gap(entry: &Entry) -> Option<Gap> {
    match entry.coverage {
        Coverage::NoFormulary => Some(Gap::NoFormulary),
        Coverage::Covered { cost: None, .. } => Some(Gap::NoTierCost),
        _ if entry.full_cost.is_none() => Some(Gap::NoPrice),
        _ => None,
    }
}

/// The month-by-month walk, for entries without gaps.
fn drug_costs(year: &BenefitYear, plan: &PlanTerms, start: u32, entries: &[Entry]) -> DrugCosts {
    let mut deductible_left = plan.annual_deductible.min(year.deductible_cap).0;
    let mut out_of_pocket = 0i64;
    let mut months = Vec::with_capacity(12);
    for month in start..=12 {
        let mut paid = 0i64;
        for entry in entries.iter().filter(|e| fills_in(e.days, start, month)) {
            let cost = entry
                .full_cost
                .expect("entries without gaps have a price")
                .0;
            let Coverage::Covered {
                cost: Some(terms), ..
            } = entry.coverage
            else {
                // Not covered: full price, counted toward nothing.
                paid += cost;
                continue;
            };
            let deductible = if terms.deductible_applies && !entry.is_insulin {
                cost.min(deductible_left)
            } else {
                0
            };
            deductible_left -= deductible;
            let rest = cost - deductible;
            let share = match terms.share {
                CostShare::Copay(copay) => copay.0.min(rest),
                CostShare::Coinsurance(hundredths) => half_up(rest * hundredths, 10_000),
            };
            let mut fill = deductible + share;
            if entry.is_insulin {
                fill = fill.min(year.insulin_monthly_cap.0 * entry.days.days() / 30);
            }
            let fill = fill.min(year.oop_threshold.0 - out_of_pocket);
            out_of_pocket += fill;
            paid += fill;
        }
        months.push(Cents(paid));
    }
    let total = Cents(months.iter().map(|m| m.0).sum());
    DrugCosts { months, total }
}

/// `n / d` rounded half up, for `n >= 0` and `d > 0`.
fn half_up(n: i64, d: i64) -> i64 {
    (n + d / 2) / d
}

#[cfg(test)]
mod tests {
    //! The hand-computed cases of each phase live in one table that both
    //! engines run (`tests/drug-estimate/cases.json`); these cover the
    //! helpers.

    use super::*;

    #[test]
    fn ninety_day_entries_fill_every_third_month_from_the_start() {
        let months: Vec<u32> = (4..=12)
            .filter(|&m| fills_in(DaysSupply::Ninety, 4, m))
            .collect();
        assert_eq!(months, [4, 7, 10]);
        assert!((1..=12).all(|m| fills_in(DaysSupply::Thirty, 1, m)));
    }

    #[test]
    fn halves_round_up_and_the_rest_to_nearest() {
        assert_eq!(half_up(25_000, 10_000), 3); // 2.5
        assert_eq!(half_up(45_000, 10_000), 5); // 4.5 (not to even)
        assert_eq!(half_up(24_999, 10_000), 2);
        assert_eq!(half_up(25_001, 10_000), 3);
        assert_eq!(half_up(0, 10_000), 0);
    }

    #[test]
    #[should_panic(expected = "month 13")]
    fn a_month_past_december_is_a_bug() {
        let year = BenefitYear {
            year: 2026,
            deductible_cap: Cents(0),
            oop_threshold: Cents(0),
            insulin_monthly_cap: Cents(0),
        };
        let plan = PlanTerms {
            monthly_premium: Cents(0),
            annual_deductible: Cents(0),
        };
        estimate(&year, &plan, 13, &[]);
    }
}
