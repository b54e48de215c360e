//! Checks every line of the five files against the layout and against each
//! other, and turns what is valid into rows of our tables (COPY text). The
//! mapping is written out in `docs/drug-data.md`; in short:
//!
//! - drug names → `drug` (and NDCs known for each drug);
//! - basic drugs formulary → `formulary`, `formulary_drug` (one row per
//!   formulary and drug: the NDCs of one drug must agree);
//! - plan information → `plan.formulary_id`;
//! - beneficiary cost, coverage level 1 (initial coverage), days supply
//!   codes 1 and 2 (one and three months) → `plan_tier_cost`, one row per
//!   pharmacy type the plan offers;
//! - pricing, 30 and 90 days → `drug_price`: a fill costs `UNIT_COST` ×
//!   days (one unit a day), and the national price is the lower median of
//!   every plan's price for any NDC of the drug.

use std::collections::HashMap;

use whatever_database::rules;
use whatever_database::rules::pharmacy::{DaysSupply, Pharmacy};

use super::layout::Role;
use crate::batch::copy_text::Line;

/// Rows of our tables, as COPY text, from files that are valid so far.
#[derive(Debug, Default)]
pub struct Staged {
    /// `drug` rows.
    pub drug: Line,
    /// `formulary` rows.
    pub formulary: Line,
    /// `formulary_drug` rows.
    pub formulary_drug: Line,
    /// `line, plan_id, formulary_id` of every plan the plan information file
    /// lists (its first line).
    pub plan: Line,
    /// `plan_tier_cost` rows.
    pub plan_tier_cost: Line,
    /// `drug_price` rows.
    pub drug_price: Line,
}

/// One drug's place on one formulary, as its first line gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placement {
    tier: u8,
    prior_authorization: bool,
    step_therapy: bool,
    /// Hundredths of a unit, and days.
    quantity_limit: Option<(i64, i32)>,
}

/// What the lines read so far established, for the checks of later lines.
#[derive(Debug, Default)]
pub struct Checker {
    /// The rows so far.
    pub staged: Staged,
    /// RXCUI → its line in the drug names file.
    drugs: HashMap<u64, u64>,
    /// NDC → (RXCUI, file, line) that first named it.
    ndcs: HashMap<u64, (u64, Role, u64)>,
    /// Formulary id → its index.
    formularies: HashMap<String, u32>,
    /// (formulary, RXCUI) → first line and placement.
    placements: HashMap<(u32, u64), (u64, Placement)>,
    /// (formulary, NDC) → line.
    formulary_ndcs: HashMap<(u32, u64), u64>,
    /// Plan id → (line, formulary id).
    plans: HashMap<String, (u64, Option<String>)>,
    /// (plan, coverage level, tier, days supply code) → line.
    costs: HashMap<(String, u8, u8, u8), u64>,
    /// (plan, NDC, days) → line.
    priced: HashMap<(String, u64, u16), u64>,
    /// (RXCUI, days) → the price of a fill in cents, one per pricing line.
    prices: HashMap<(u64, u16), Vec<i64>>,
}

type Checked = Result<(), String>;

impl Checker {
    /// Checks one data line of a file of `role` (values in
    /// [`Role::columns`] order) and stages its rows.
    pub fn line(&mut self, role: Role, line: u64, v: &[&str]) -> Checked {
        match role {
            Role::DrugNames => self.drug(line, v),
            Role::Formulary => self.formulary(line, v),
            Role::PlanInformation => self.plan(line, v),
            Role::BeneficiaryCost => self.cost(line, v),
            Role::Pricing => self.price(line, v),
        }
    }

    fn drug(&mut self, line: u64, v: &[&str]) -> Checked {
        let [
            rxcui_text,
            ndc,
            name,
            generic_name,
            strength,
            dose_form,
            generic,
            insulin,
        ] = v
        else {
            unreachable!("the drug names layout has 8 columns")
        };
        let rxcui = rxcui(rxcui_text)?;
        if let Some(first) = self.drugs.get(&rxcui) {
            return Err(format!("RXCUI {rxcui} is already on line {first}"));
        }
        let ndc = if ndc.is_empty() {
            None
        } else {
            Some(self::ndc(ndc)?)
        };
        let name = required_text("DRUG_NAME", name)?;
        let generic_name = required_text("GENERIC_NAME", generic_name)?;
        let strength = text("STRENGTH", strength)?;
        let dose_form = text("DOSE_FORM", dose_form)?;
        let is_generic = yes_no("GENERIC_YN", generic)?;
        let is_insulin = yes_no("INSULIN_YN", insulin)?;
        if let Some(ndc) = ndc {
            self.claim_ndc(ndc, rxcui, Role::DrugNames, line)?;
        }
        self.drugs.insert(rxcui, line);
        let row = &mut self.staged.drug;
        row.raw(&rxcui.to_string());
        row.text(name);
        row.text(generic_name);
        row.text(strength);
        row.text(dose_form);
        row.raw(bool_text(is_generic));
        row.raw(bool_text(is_insulin));
        row.end();
        Ok(())
    }

    fn formulary(&mut self, line: u64, v: &[&str]) -> Checked {
        let [
            id,
            rxcui_text,
            ndc_text,
            tier,
            ql,
            ql_amount,
            ql_days,
            pa,
            st,
        ] = v
        else {
            unreachable!("the formulary layout has 9 columns")
        };
        let id = formulary_id(id)?;
        let rxcui = rxcui(rxcui_text)?;
        if !self.drugs.contains_key(&rxcui) {
            return Err(format!("RXCUI {rxcui} is not in the drug names file"));
        }
        let ndc = ndc(ndc_text)?;
        let tier = small("TIER_LEVEL_VALUE", tier, 1, 6, "a tier from 1 to 6")?;
        let quantity_limit = if yes_no("QUANTITY_LIMIT_YN", ql)? {
            let amount = decimal(ql_amount, 2)
                .filter(|a| *a > 0 && *a < 10_000_000_000)
                .ok_or_else(|| {
                    format!("QUANTITY_LIMIT_AMOUNT {ql_amount:?} is not a positive amount with at most 2 decimals")
                })?;
            let days = small(
                "QUANTITY_LIMIT_DAYS",
                ql_days,
                1,
                3660,
                "a number of days from 1 to 3660",
            )?;
            Some((amount as i64, days as i32))
        } else {
            if !ql_amount.is_empty() || !ql_days.is_empty() {
                return Err("QUANTITY_LIMIT_AMOUNT or QUANTITY_LIMIT_DAYS given, but QUANTITY_LIMIT_YN is N".into());
            }
            None
        };
        let placement = Placement {
            tier: tier as u8,
            prior_authorization: yes_no("PRIOR_AUTHORIZATION_YN", pa)?,
            step_therapy: yes_no("STEP_THERAPY_YN", st)?,
            quantity_limit,
        };
        let next = self.formularies.len() as u32;
        let index = *self.formularies.get(id).unwrap_or(&next);
        if let Some(first) = self.formulary_ndcs.get(&(index, ndc)) {
            return Err(format!(
                "duplicate: formulary {id} lists NDC {ndc_text} on line {first} already"
            ));
        }
        if let Some((first, earlier)) = self.placements.get(&(index, rxcui))
            && *earlier != placement
        {
            return Err(format!(
                "formulary {id} lists RXCUI {rxcui} on line {first} with another tier, flags or limit"
            ));
        }
        self.claim_ndc(ndc, rxcui, Role::Formulary, line)?;
        if index == next {
            self.formularies.insert(id.to_string(), index);
            self.staged.formulary.text(id);
            self.staged.formulary.end();
        }
        self.formulary_ndcs.insert((index, ndc), line);
        if self.placements.contains_key(&(index, rxcui)) {
            return Ok(());
        }
        self.placements.insert((index, rxcui), (line, placement));
        let row = &mut self.staged.formulary_drug;
        row.text(id);
        row.raw(&rxcui.to_string());
        row.raw(&placement.tier.to_string());
        row.raw(bool_text(placement.prior_authorization));
        row.raw(bool_text(placement.step_therapy));
        match placement.quantity_limit {
            Some((amount, days)) => {
                row.money(amount);
                row.raw(&days.to_string());
            }
            None => {
                row.null();
                row.null();
            }
        }
        row.end();
        Ok(())
    }

    fn plan(&mut self, line: u64, v: &[&str]) -> Checked {
        let [contract, plan, segment, formulary] = v else {
            unreachable!("the plan information layout has 4 columns")
        };
        let plan_id = plan_id(contract, plan, segment)?;
        let formulary = if formulary.is_empty() {
            None
        } else {
            let id = formulary_id(formulary)?;
            if !self.formularies.contains_key(id) {
                return Err(format!(
                    "FORMULARY_ID {id} is not in the basic drugs formulary file"
                ));
            }
            Some(id.to_string())
        };
        // The CMS file repeats a plan on one line per county it serves.
        if let Some((first, earlier)) = self.plans.get(&plan_id) {
            if *earlier == formulary {
                return Ok(());
            }
            return Err(format!(
                "plan {plan_id} names formulary {} on line {first} and {} here",
                earlier.as_deref().unwrap_or("(none)"),
                formulary.as_deref().unwrap_or("(none)")
            ));
        }
        let row = &mut self.staged.plan;
        row.raw(&line.to_string());
        row.text(&plan_id);
        match &formulary {
            Some(id) => row.text(id),
            None => row.null(),
        }
        row.end();
        self.plans.insert(plan_id, (line, formulary));
        Ok(())
    }

    fn cost(&mut self, line: u64, v: &[&str]) -> Checked {
        let [
            contract,
            plan,
            segment,
            level,
            tier,
            days,
            rest @ ..,
            deductible,
        ] = v
        else {
            unreachable!("the beneficiary cost layout has 13 columns")
        };
        let plan_id = self.known_plan(contract, plan, segment)?;
        let level = small(
            "COVERAGE_LEVEL",
            level,
            0,
            3,
            "a coverage level from 0 to 3",
        )? as u8;
        let tier = small("TIER", tier, 1, 6, "a tier from 1 to 6")? as u8;
        let days = small("DAYS_SUPPLY", days, 1, 4, "a days supply code from 1 to 4")? as u8;
        // Each pharmacy type's columns, in the file's order (the mail
        // non-preferred pair is not ours and is not read).
        let pharmacies = [
            ("PREF", Pharmacy::PreferredRetail),
            ("NONPREF", Pharmacy::StandardRetail),
            ("MAIL_PREF", Pharmacy::Mail),
        ];
        let mut shares = Vec::with_capacity(pharmacies.len());
        for ((column, pharmacy), pair) in pharmacies.into_iter().zip(rest.chunks(2)) {
            shares.push((pharmacy, cost_share(column, pair[0], pair[1])?));
        }
        let deductible_applies = yes_no("DED_APPLIES_YN", deductible)?;
        let key = (plan_id, level, tier, days);
        if let Some(first) = self.costs.get(&key) {
            return Err(format!(
                "duplicate: plan {} has coverage level {level}, tier {tier}, days supply {days} on line {first} already",
                key.0
            ));
        }
        // Only the initial coverage phase is ours (the estimate applies the
        // deductible itself); one and three months are our 30 and 90 days.
        let days_supply = match days {
            1 => Some(DaysSupply::Thirty),
            2 => Some(DaysSupply::Ninety),
            _ => None,
        };
        if let (1, Some(days_supply)) = (level, days_supply) {
            for (pharmacy, share) in shares {
                let Some((coinsurance, amount)) = share else {
                    continue;
                };
                let row = &mut self.staged.plan_tier_cost;
                row.text(&key.0);
                row.raw(&tier.to_string());
                row.raw(pharmacy.as_str());
                row.raw(&days_supply.days().to_string());
                row.raw(if coinsurance { "coinsurance" } else { "copay" });
                row.money(amount);
                row.raw(bool_text(deductible_applies));
                row.end();
            }
        }
        self.costs.insert(key, line);
        Ok(())
    }

    fn price(&mut self, line: u64, v: &[&str]) -> Checked {
        let [contract, plan, segment, ndc_text, days, unit_cost] = v else {
            unreachable!("the pricing layout has 6 columns")
        };
        let plan_id = self.known_plan(contract, plan, segment)?;
        let ndc = ndc(ndc_text)?;
        let Some(&(rxcui, _, _)) = self.ndcs.get(&ndc) else {
            return Err(format!(
                "NDC {ndc_text} is in neither the basic drugs formulary file nor the drug names file"
            ));
        };
        let days = small(
            "DAYS_SUPPLY",
            days,
            1,
            999,
            "a number of days from 1 to 999",
        )? as u16;
        // Nanodollars: enough for the unit costs the files print.
        let unit = decimal(unit_cost, 9)
            .filter(|u| *u < 100_000_000_000_000_000)
            .ok_or_else(|| {
                format!("UNIT_COST {unit_cost:?} is not an amount with at most 9 decimals")
            })?;
        let cents = (unit * days as i128 + 5_000_000) / 10_000_000;
        if cents >= 10_000_000_000 {
            return Err(format!(
                "UNIT_COST {unit_cost} for {days} days is more than $99,999,999.99 a fill"
            ));
        }
        let key = (plan_id, ndc, days);
        if let Some(first) = self.priced.get(&key) {
            return Err(format!(
                "duplicate: plan {} prices NDC {ndc_text} for {days} days on line {first} already",
                key.0
            ));
        }
        self.priced.insert(key, line);
        if DaysSupply::from_days(i64::from(days)).is_some() {
            self.prices
                .entry((rxcui, days))
                .or_default()
                .push(cents as i64);
        }
        Ok(())
    }

    /// Stages the prices, once every pricing line is read.
    pub fn finish(mut self) -> Staged {
        let mut keys: Vec<(u64, u16)> = self.prices.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let list = self.prices.get_mut(&key).expect("a key of the map");
            list.sort_unstable();
            // The lower median: one of the prices given, never an average.
            let price = list[(list.len() - 1) / 2];
            let row = &mut self.staged.drug_price;
            row.raw(&key.0.to_string());
            row.raw(&key.1.to_string());
            row.money(price);
            row.end();
        }
        self.staged
    }

    /// The plan id of a line, which must be in the plan information file.
    fn known_plan(&self, contract: &str, plan: &str, segment: &str) -> Result<String, String> {
        let id = plan_id(contract, plan, segment)?;
        if !self.plans.contains_key(&id) {
            return Err(format!("plan {id} is not in the plan information file"));
        }
        Ok(id)
    }

    /// Records that `ndc` is `rxcui`, refusing an NDC already given to
    /// another drug.
    fn claim_ndc(&mut self, ndc: u64, rxcui: u64, role: Role, line: u64) -> Checked {
        match self.ndcs.get(&ndc) {
            Some(&(other, role, first)) if other != rxcui => Err(format!(
                "NDC {ndc:011} is RXCUI {other} in the {} file, line {first}",
                role.prefix()
            )),
            Some(_) => Ok(()),
            None => {
                self.ndcs.insert(ndc, (rxcui, role, line));
                Ok(())
            }
        }
    }
}

/// `(coinsurance, amount)` of one pharmacy type: a copay in cents or a
/// coinsurance in hundredths of a percent; `None` when not offered (type 0).
fn cost_share(pharmacy: &str, kind: &str, amount: &str) -> Result<Option<(bool, i64)>, String> {
    let kind = small(
        &format!("COST_TYPE_{pharmacy}"),
        kind,
        0,
        2,
        "0 (none), 1 (copay) or 2 (coinsurance)",
    )?;
    match kind {
        0 => Ok(None),
        1 => decimal(amount, 2)
            .filter(|a| *a < 10_000_000_000)
            .map(|a| Some((false, a as i64)))
            .ok_or_else(|| {
                format!("COST_AMT_{pharmacy} {amount:?} is not a copay in dollars and cents")
            }),
        _ => decimal(amount, 4)
            .filter(|a| *a <= 10_000)
            .map(|a| Some((true, a as i64)))
            .ok_or_else(|| {
                format!("COST_AMT_{pharmacy} {amount:?} is not a coinsurance from 0 to 1 with at most 4 decimals")
            }),
    }
}

/// `H1234-012-0` from `H1234`, `012`, `000`: our plan ids carry the segment
/// as a number.
pub fn plan_id(contract: &str, plan: &str, segment: &str) -> Result<String, String> {
    let b = contract.as_bytes();
    if !(b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)) {
        return Err(format!(
            "CONTRACT_ID {contract:?} is not a letter and 4 digits"
        ));
    }
    if !(plan.len() == 3 && plan.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("PLAN_ID {plan:?} is not 3 digits"));
    }
    if !((1..=3).contains(&segment.len()) && segment.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("SEGMENT_ID {segment:?} is not 1 to 3 digits"));
    }
    let segment: u32 = segment.parse().expect("checked digits");
    Ok(format!("{contract}-{plan}-{segment}"))
}

fn rxcui(text: &str) -> Result<u64, String> {
    if rules::rxcui::is_rxcui(text) {
        Ok(text.parse().expect("checked digits"))
    } else {
        Err(format!(
            "RXCUI {text:?} is not {}",
            rules::rxcui::DESCRIPTION
        ))
    }
}

fn ndc(text: &str) -> Result<u64, String> {
    if text.len() == 11 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.parse().expect("checked digits"))
    } else {
        Err(format!("NDC {text:?} is not 11 digits"))
    }
}

fn formulary_id(text: &str) -> Result<&str, String> {
    if (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(text)
    } else {
        Err(format!(
            "FORMULARY_ID {text:?} is not 1 to 64 letters, digits, - or _"
        ))
    }
}

/// Whole number `text` (digits only) within `min..=max`.
fn small(column: &str, text: &str, min: u32, max: u32, what: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| text.bytes().all(|b| b.is_ascii_digit()) && (min..=max).contains(n))
        .ok_or_else(|| format!("{column} {text:?} is not {what}"))
}

fn yes_no(column: &str, text: &str) -> Result<bool, String> {
    match text {
        "Y" => Ok(true),
        "N" => Ok(false),
        _ => Err(format!("{column} {text:?} is not Y or N")),
    }
}

fn text<'a>(column: &str, value: &'a str) -> Result<&'a str, String> {
    if value.contains('\0') {
        Err(format!("{column} contains a NUL character"))
    } else {
        Ok(value)
    }
}

fn required_text<'a>(column: &str, value: &'a str) -> Result<&'a str, String> {
    let value = text(column, value)?;
    if value.trim().is_empty() {
        Err(format!("{column} is blank"))
    } else {
        Ok(value)
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "t" } else { "f" }
}

/// A non-negative decimal (`12`, `12.5`, `.25`) with at most `scale`
/// decimals, as a whole number of 10^-scale; at most 15 digits before the
/// point.
pub fn decimal(text: &str, scale: u32) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0
        || whole.len() > 15
        || fraction.len() > scale as usize
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction_value: i128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    fraction_value *= 10i128.pow(scale - fraction.len() as u32);
    Some(whole * 10i128.pow(scale) + fraction_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale_and_refuse_what_is_not_one() {
        assert_eq!(decimal("12.5", 2), Some(1250));
        assert_eq!(decimal(".25", 4), Some(2500));
        assert_eq!(decimal("7", 2), Some(700));
        assert_eq!(decimal("0.1366667", 9), Some(136_666_700));
        for bad in ["", ".", "1.234", "-1", "1e2", "1,5", " 1", "1.2.3"] {
            assert_eq!(decimal(bad, 2), None, "{bad:?}");
        }
    }

    #[test]
    fn plan_ids_carry_the_segment_as_a_number() {
        assert_eq!(plan_id("S5601", "012", "000").unwrap(), "S5601-012-0");
        assert_eq!(plan_id("H1234", "001", "2").unwrap(), "H1234-001-2");
        assert!(plan_id("s5601", "012", "000").is_err());
        assert!(plan_id("S5601", "12", "000").is_err());
        assert!(plan_id("S5601", "012", "0000").is_err());
    }

    #[test]
    fn a_price_is_unit_cost_times_days_rounded_half_up() {
        let mut c = Checker::default();
        c.drug(2, &["9100000", "00009100000", "A", "a", "", "", "Y", "N"])
            .unwrap();
        c.plan(2, &["S5601", "012", "000", ""]).unwrap();
        // 0.1366667 × 30 = 4.100001 → 4.10; 0.005 × 90 = 0.45.
        c.price(
            2,
            &["S5601", "012", "000", "00009100000", "30", "0.1366667"],
        )
        .unwrap();
        c.price(3, &["S5601", "012", "000", "00009100000", "90", "0.005"])
            .unwrap();
        // Segment "0" is segment "000": the same key as line 2.
        let dup = c.price(4, &["S5601", "012", "0", "00009100000", "30", "1"]);
        assert!(dup.unwrap_err().contains("line 2 already"));
        let staged = c.finish();
        assert_eq!(
            String::from_utf8(staged.drug_price.into_bytes()).unwrap(),
            "9100000\t30\t4.10\n9100000\t90\t0.45\n"
        );
    }
}
