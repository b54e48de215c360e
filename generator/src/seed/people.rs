//! Beneficiaries and their enrollment history.
//!
//! Dates are anchored to the plan year [`PLAN_YEAR`], not to the clock, so a
//! seed gives the same rows on any day: past plans ended by the end of the
//! previous year, current ones started by mid-year, future ones start on
//! January 1 of the next year (open enrollment picks).

use chrono::{Datelike, NaiveDate};

use super::plans::StatePlans;
use super::rng::Rng;
use super::vocab::{FEMALE_NAMES, LAST_NAMES, MALE_NAMES, STREET_SUFFIXES, STREETS};
use super::zips::{ZipCode, ZipKind};

/// The plan year the sample describes.
pub const PLAN_YEAR: i32 = 2026;

/// One row of `beneficiary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    /// Primary key; a block of ids per state.
    pub beneficiary_id: i64,
    /// First name.
    pub fname: String,
    /// Last name.
    pub lname: String,
    /// `F` or `M`.
    pub sex: &'static str,
    /// `9xx-xx-xxxx`: never issued, so never a real person's number.
    pub ssn: String,
    /// Date of birth.
    pub birthdate: NaiveDate,
    /// Street address.
    pub address: String,
    /// City of the zip.
    pub city: String,
    /// State of the zip.
    pub state: String,
    /// Five-digit zip code.
    pub zip_code: String,
}

/// One row of `beneficiary_to_plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// Who.
    pub beneficiary_id: i64,
    /// In which plan.
    pub plan_id: String,
    /// First covered day.
    pub start_date: NaiveDate,
    /// Last covered day; `None` = open-ended.
    pub end_date: Option<NaiveDate>,
}

/// The shape of a beneficiary's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// One plan, still current.
    CurrentOnly,
    /// One to three past plans, then a current one.
    Switched,
    /// A current plan ending this year and another starting next January.
    CurrentThenFuture,
    /// Nothing yet; a plan starting next January.
    FutureOnly,
    /// Past plans only: no current plan.
    Ended,
    /// Never enrolled.
    Never,
}

impl Story {
    /// Whether the beneficiary has a current plan.
    pub fn has_current(self) -> bool {
        matches!(
            self,
            Story::CurrentOnly | Story::Switched | Story::CurrentThenFuture
        )
    }
}

/// A state's beneficiaries, their stories and enrollment rows.
#[derive(Debug, Clone, Default)]
pub struct StatePeople {
    /// Beneficiaries by id.
    pub beneficiaries: Vec<Beneficiary>,
    /// The story of each beneficiary, same order.
    pub stories: Vec<Story>,
    /// Enrollment rows, by beneficiary then start date.
    pub enrollments: Vec<Enrollment>,
}

/// Gives each beneficiary a distinct never-issued SSN: an affine bijection
/// of the 10^8 numbers after the `9`, keyed by the seed.
#[derive(Debug, Clone, Copy)]
pub struct SsnMaker {
    a: u64,
    b: u64,
}

const SSN_SPACE: u64 = 100_000_000;

impl SsnMaker {
    /// The mapping for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::derive(seed, "ssn");
        // Coprime with 10^8 (odd, not a multiple of 5), so the map is one-to-one.
        let mut a = rng.below(SSN_SPACE) | 1;
        if a.is_multiple_of(5) {
            a += 2;
        }
        Self {
            a,
            b: rng.below(SSN_SPACE),
        }
    }

    /// The SSN of the `serial`-th person (`serial` < 10^8).
    pub fn ssn(&self, serial: u64) -> String {
        let n = (self.a * (serial % SSN_SPACE) + self.b) % SSN_SPACE;
        format!(
            "9{:02}-{:02}-{:04}",
            n / 1_000_000,
            n / 10_000 % 100,
            n % 10_000
        )
    }
}

/// Ids of a state's beneficiaries start here.
pub fn first_id(state_index: usize) -> i64 {
    (state_index as i64 + 1) * 100_000 + 1
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Builds the beneficiaries of one state, living in its street-address zips.
pub fn state_people(
    seed: u64,
    state: &str,
    state_index: usize,
    zips: &[ZipCode],
    plans: &StatePlans,
    ssns: &SsnMaker,
) -> StatePeople {
    let mut rng = Rng::derive(seed, &format!("people/{state}"));
    let homes: Vec<&ZipCode> = zips
        .iter()
        .filter(|z| z.kind == ZipKind::Standard)
        .collect();
    let mut out = StatePeople::default();
    if homes.is_empty() {
        return out;
    }
    let count = (homes.len() / 6).max(30);
    for n in 0..count {
        let id = first_id(state_index) + n as i64;
        let home = *rng.pick(&homes);
        let female = rng.chance(0.54);
        let birth_year = if rng.chance(0.92) {
            rng.range(1930, 1960)
        } else {
            rng.range(1962, 1995)
        } as i32;
        let birthdate = ymd(birth_year, rng.range(1, 12) as u32, rng.range(1, 28) as u32);
        let mut address = format!(
            "{} {} {}",
            rng.range(1, 9999),
            rng.pick(STREETS),
            rng.pick(STREET_SUFFIXES)
        );
        if rng.chance(0.15) {
            address.push_str(&format!(
                ", Apt {}{}",
                rng.range(1, 30),
                rng.pick(&["", "A", "B", "C"])
            ));
        }
        out.beneficiaries.push(Beneficiary {
            beneficiary_id: id,
            fname: rng
                .pick(if female { FEMALE_NAMES } else { MALE_NAMES })
                .to_string(),
            lname: rng.pick(LAST_NAMES).to_string(),
            sex: if female { "F" } else { "M" },
            ssn: ssns.ssn((state_index * 100_000 + n) as u64),
            birthdate,
            address,
            city: home.city.clone(),
            state: state.to_string(),
            zip_code: home.zip.clone(),
        });
        // The first few of every state have the stories demos rely on.
        let story = match n {
            0 => Story::Switched,
            1 => Story::Ended,
            2 => Story::CurrentThenFuture,
            _ => [
                Story::CurrentOnly,
                Story::Switched,
                Story::CurrentThenFuture,
                Story::FutureOnly,
                Story::Ended,
                Story::Never,
            ][rng.weighted(&[30, 42, 8, 3, 10, 7])],
        };
        let choices = plans
            .by_county
            .get(&home.county)
            .or_else(|| plans.by_county.get(""))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let rows = history(&mut rng, story, birthdate, choices, plans);
        out.enrollments
            .extend(rows.into_iter().map(|(plan, start, end)| Enrollment {
                beneficiary_id: id,
                plan_id: plans.plans[plan].plan_id.clone(),
                start_date: start,
                end_date: end,
            }));
        out.stories.push(story);
    }
    out
}

type Row = (usize, NaiveDate, Option<NaiveDate>);

/// The enrollment rows of one story, oldest first.
fn history(
    rng: &mut Rng,
    story: Story,
    birth: NaiveDate,
    choices: &[usize],
    plans: &StatePlans,
) -> Vec<Row> {
    if choices.is_empty() || story == Story::Never {
        return Vec::new();
    }
    // Medicare starts at 65 (or earlier with a disability); Part D in 2006.
    let first = if age_on(birth, ymd(PLAN_YEAR, 6, 1)) >= 65 {
        ymd((birth.year() + 65).max(2006), birth.month(), 1)
    } else {
        ymd(rng.range(2012, i64::from(PLAN_YEAR)) as i32, 1, 1)
    };
    let first = first.min(ymd(PLAN_YEAR, 6, 1));
    let pick = |rng: &mut Rng, day: NaiveDate, active_only: bool, not: Option<usize>| -> usize {
        let age = age_on(birth, day);
        let fits = |k: &usize| {
            let p = &plans.plans[*k];
            (p.active || !active_only) && p.admits(age) && Some(*k) != not
        };
        let good: Vec<usize> = choices.iter().copied().filter(fits).collect();
        if !good.is_empty() {
            return *rng.pick(&good);
        }
        let active: Vec<usize> = choices
            .iter()
            .copied()
            .filter(|k| plans.plans[*k].active)
            .collect();
        if active.is_empty() {
            choices[0]
        } else {
            *rng.pick(&active)
        }
    };
    let next_year = ymd(PLAN_YEAR + 1, 1, 1);
    let mut rows = Vec::new();
    if story == Story::FutureOnly {
        rows.push((pick(rng, next_year, true, None), next_year, None));
        return rows;
    }
    let wants_past = matches!(story, Story::Switched | Story::Ended);
    let mut start = first;
    if wants_past && first.year() < PLAN_YEAR {
        let mut previous = None;
        for _ in 0..rng.range(1, 3) {
            if start.year() >= PLAN_YEAR {
                break;
            }
            let last_year = rng.range(i64::from(start.year()), i64::from(PLAN_YEAR) - 1) as i32;
            let end = ymd(last_year, 12, 31);
            let plan = pick(rng, start, false, previous);
            rows.push((plan, start, Some(end)));
            previous = Some(plan);
            start = ymd(last_year + 1, 1, 1);
        }
        if story == Story::Ended {
            return rows;
        }
    } else if story == Story::Ended {
        // Too new to have a finished plan: a short one that ended this spring.
        let plan = pick(rng, first, false, None);
        let end = ymd(PLAN_YEAR, 3, 31).max(first);
        return vec![(plan, first.min(end), Some(end))];
    }
    let previous = rows.last().map(|r: &Row| r.0);
    let current = pick(rng, start, true, previous);
    if story == Story::CurrentThenFuture {
        rows.push((current, start, Some(ymd(PLAN_YEAR, 12, 31))));
        rows.push((pick(rng, next_year, true, Some(current)), next_year, None));
    } else {
        rows.push((current, start, None));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssns_are_never_issued_numbers_and_distinct() {
        let maker = SsnMaker::new(1);
        let mut seen = std::collections::HashSet::new();
        for serial in 0..20_000 {
            let ssn = maker.ssn(serial);
            assert_eq!(ssn.len(), 11, "{ssn}");
            assert!(ssn.starts_with('9'), "{ssn}");
            assert_eq!(&ssn[3..4], "-");
            assert!(seen.insert(ssn));
        }
    }

    #[test]
    fn ages_count_birthdays() {
        let birth = ymd(1960, 7, 15);
        assert_eq!(age_on(birth, ymd(2025, 7, 14)), 64);
        assert_eq!(age_on(birth, ymd(2025, 7, 15)), 65);
    }
}
