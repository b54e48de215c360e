//! Drug coverage for the sample: real drug names ([`LIST`], embedded), a
//! few hundred formularies shared by the plans, reference prices, and each
//! plan's cost sharing per tier, pharmacy type and days supply.
//!
//! Tiers follow the market: generics on tiers 1-2 (a few on 6, "select
//! care"), brands with a generic non-preferred (4), brands without one on 3
//! or 4, specialty drugs on 5, insulins on 3. Specialty tiers have no
//! 90-day cost sharing and some plans have no tier 6: those combinations
//! have no estimate, as in the real files.
//!
//! The rxcuis are sample identifiers (from 9100000 up, in list order), not
//! RxNorm codes: the names are real, the ids are not looked up.

use super::plans::PlanRow;
use super::rng::Rng;
use crate::drugs::Drug;
use crate::drugs::estimate::{DaysSupply, Pharmacy};
use crate::drugs::money::Cents;

/// The embedded list: `kind|generic|brands|strengths|dose form` per line.
pub const LIST: &str = include_str!("drugs.txt");

/// The first sample rxcui.
const FIRST_RXCUI: u64 = 9_100_000;

/// Where a drug stands in the market, which decides its tier and price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    /// A generic.
    Generic,
    /// The brand of a drug that has a generic.
    BrandWithGeneric,
    /// A brand without a generic.
    Brand,
    /// A high-cost brand.
    Specialty,
    /// An insulin (brand).
    Insulin,
}

/// One row of `formulary_drug` (the formulary is implied by its list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Index into [`DrugSample::drugs`].
    pub drug: usize,
    /// 1 to 6.
    pub tier: u8,
    /// Prior authorization required.
    pub prior_authorization: bool,
    /// Step therapy required.
    pub step_therapy: bool,
    /// At most this many units (whole) per this many days.
    pub quantity_limit: Option<(i64, i32)>,
}

/// One row of `plan_tier_cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierCostRow {
    /// Index into the sample's plans.
    pub plan: usize,
    /// 1 to 6.
    pub tier: u8,
    /// Pharmacy type.
    pub pharmacy: Pharmacy,
    /// Days supply.
    pub days: DaysSupply,
    /// `true`: coinsurance (amount is hundredths of a percent); `false`:
    /// copay (amount is cents).
    pub coinsurance: bool,
    /// Cents or hundredths of a percent.
    pub amount: i64,
    /// Whether the deductible applies.
    pub deductible_applies: bool,
}

/// The drug part of the sample.
#[derive(Debug, Clone, Default)]
pub struct DrugSample {
    /// Every drug, by rxcui; each has both prices.
    pub drugs: Vec<Drug>,
    /// Per drug (in the same order), its market position.
    pub markets: Vec<Market>,
    /// Formulary ids with their placements (sorted by drug).
    pub formularies: Vec<(String, Vec<Placement>)>,
    /// Per plan (in the sample's order), its formulary index.
    pub plan_formulary: Vec<Option<usize>>,
    /// Cost sharing of every plan with a formulary.
    pub tier_costs: Vec<TierCostRow>,
}

impl DrugSample {
    /// The drug data for `plans`: the same for the same seed and plans.
    pub fn generate(seed: u64, plans: &[PlanRow]) -> Self {
        let count = (plans.len() / 14).clamp(4, 400);
        Self::with_drugs(seed, plans, drug_rows(seed), count)
    }

    /// A larger sample, for benchmarks: [`LIST`]'s drugs repeated (each
    /// copy a new rxcui, same names and prices) up to `drugs` drugs, on
    /// `formularies` formularies.
    pub fn sized(seed: u64, plans: &[PlanRow], drugs: usize, formularies: usize) -> Self {
        let list = drug_rows(seed);
        let drugs = (0..drugs)
            .map(|i| {
                let (drug, market) = &list[i % list.len()];
                let drug = Drug {
                    rxcui: (FIRST_RXCUI + i as u64).to_string(),
                    ..drug.clone()
                };
                (drug, *market)
            })
            .collect();
        Self::with_drugs(seed, plans, drugs, formularies.max(1))
    }

    fn with_drugs(seed: u64, plans: &[PlanRow], drugs: Vec<(Drug, Market)>, count: usize) -> Self {
        let (drugs, markets): (Vec<Drug>, Vec<Market>) = drugs.into_iter().unzip();
        let formularies: Vec<(String, Vec<Placement>)> = (0..count)
            .map(|i| {
                let id = format!("{:08}", 26_001 + i);
                let placements = formulary(seed, &id, &markets);
                (id, placements)
            })
            .collect();
        let plan_formulary: Vec<Option<usize>> = plans
            .iter()
            .map(|p| {
                let mut rng = Rng::derive(seed, &format!("formulary of {}", p.plan_id));
                (!rng.chance(0.03)).then(|| rng.index(count))
            })
            .collect();
        let tier_costs = plans
            .iter()
            .enumerate()
            .filter(|(i, _)| plan_formulary[*i].is_some())
            .flat_map(|(i, p)| tier_costs(seed, i, &p.plan_id))
            .collect();
        DrugSample {
            drugs,
            markets,
            formularies,
            plan_formulary,
            tier_costs,
        }
    }

    /// Rows of `formulary_drug`.
    pub fn placement_count(&self) -> usize {
        self.formularies.iter().map(|(_, p)| p.len()).sum()
    }
}

/// The drugs of [`LIST`] with their market position: per strength, the
/// generic (if any) then each brand.
fn drug_rows(seed: u64) -> Vec<(Drug, Market)> {
    let mut out = Vec::new();
    for line in LIST
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split('|').collect();
        let [kind, generic, brands, strengths, form] = fields[..] else {
            panic!("drugs.txt: a line needs 5 fields: {line}");
        };
        let mut rng = Rng::derive(seed, &format!("drug prices {generic}"));
        let brands: Vec<&str> = brands.split(',').filter(|b| !b.is_empty()).collect();
        let (has_generic, brand_market, brand_base) = match kind {
            "generic" => (true, Market::BrandWithGeneric, rng.range(12_000, 60_000)),
            "brand" => (false, Market::Brand, rng.range(30_000, 95_000)),
            "specialty" => (false, Market::Specialty, rng.range(300_000, 1_500_000)),
            "insulin" => (false, Market::Insulin, rng.range(25_000, 60_000)),
            other => panic!("drugs.txt: unknown kind {other:?}"),
        };
        let generic_base = rng.range(300, 4_000);
        for (step, strength) in strengths.split(',').enumerate() {
            let scale = |cents: i64| cents * (100 + 15 * step as i64) / 100;
            let mut push = |name: String, market: Market, base: i64| {
                let p30 = scale(base);
                // Generics are cheaper by the 90 days; brands are not.
                let p90 = if market == Market::Generic {
                    p30 * 3 * 85 / 100
                } else {
                    p30 * 3
                };
                let drug = Drug {
                    rxcui: (FIRST_RXCUI + out.len() as u64).to_string(),
                    name,
                    generic_name: generic.to_string(),
                    strength: strength.to_string(),
                    dose_form: form.to_string(),
                    is_generic: market == Market::Generic,
                    is_insulin: market == Market::Insulin,
                    prices: [Some(Cents(p30)), Some(Cents(p90))],
                };
                out.push((drug, market));
            };
            if has_generic {
                push(capitalized(generic), Market::Generic, generic_base);
            }
            for brand in &brands {
                push(brand.to_string(), brand_market, brand_base);
            }
        }
    }
    out
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Which drugs formulary `id` lists, on which tier, with which limits.
fn formulary(seed: u64, id: &str, markets: &[Market]) -> Vec<Placement> {
    let mut rng = Rng::derive(seed, &format!("formulary {id}"));
    let mut out = Vec::new();
    for (i, market) in markets.iter().enumerate() {
        let (listed, tier, pa, st) = match market {
            Market::Generic => {
                let tier = if rng.chance(0.03) {
                    6
                } else if rng.chance(0.6) {
                    1
                } else {
                    2
                };
                (0.97, tier, 0.02, 0.0)
            }
            Market::BrandWithGeneric => (0.55, if rng.chance(0.7) { 4 } else { 3 }, 0.25, 0.12),
            Market::Brand => (0.8, if rng.chance(0.6) { 3 } else { 4 }, 0.25, 0.12),
            Market::Specialty => (0.7, 5, 0.85, 0.2),
            Market::Insulin => (0.8, 3, 0.0, 0.05),
        };
        if !rng.chance(listed) {
            continue;
        }
        let quantity_limit = rng
            .chance(0.15)
            .then(|| (*rng.pick(&[30, 60, 90, 120]), 30));
        out.push(Placement {
            drug: i,
            tier,
            prior_authorization: rng.chance(pa),
            step_therapy: rng.chance(st),
            quantity_limit,
        });
    }
    out
}

/// The cost sharing of plan `index`.
fn tier_costs(seed: u64, index: usize, plan_id: &str) -> Vec<TierCostRow> {
    let mut rng = Rng::derive(seed, &format!("tier costs {plan_id}"));
    let whole_deductible = rng.chance(0.2);
    let has_tier_6 = rng.chance(0.7);
    let mut out = Vec::new();
    for tier in 1..=6u8 {
        if tier == 6 && !has_tier_6 {
            continue;
        }
        // Preferred retail, 30 days: a copay in dollars or a percent.
        let (coinsurance, base) = match tier {
            1 => (false, rng.range(0, 5) * 100),
            2 => (false, rng.range(2, 15) * 100),
            3 if rng.chance(0.7) => (false, rng.range(35, 47) * 100),
            3 => (true, rng.range(15, 25) * 100),
            4 if rng.chance(0.2) => (false, rng.range(80, 100) * 100),
            4 => (true, rng.range(25, 50) * 100),
            5 => (true, *rng.pick(&[2_500, 2_700, 3_000, 3_333])),
            _ => (false, rng.range(0, 2) * 100),
        };
        let standard_extra = if coinsurance {
            rng.range(0, 5) * 100
        } else {
            rng.range(5, 10) * 100
        };
        for pharmacy in Pharmacy::ALL {
            for days in DaysSupply::ALL {
                if tier == 5 && days == DaysSupply::Ninety {
                    continue;
                }
                let mut amount = match pharmacy {
                    Pharmacy::StandardRetail => base + standard_extra,
                    _ => base,
                };
                if !coinsurance && days == DaysSupply::Ninety {
                    amount *= if pharmacy == Pharmacy::Mail { 2 } else { 3 };
                }
                out.push(TierCostRow {
                    plan: index,
                    tier,
                    pharmacy,
                    days,
                    coinsurance,
                    amount,
                    deductible_applies: whole_deductible || tier >= 3,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_a_few_hundred_drugs_with_unique_ids() {
        let drugs: Vec<Drug> = drug_rows(1).into_iter().map(|(d, _)| d).collect();
        assert!((400..1000).contains(&drugs.len()), "{}", drugs.len());
        let mut ids: Vec<&str> = drugs.iter().map(|d| d.rxcui.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), drugs.len());
        let lipitor = drugs
            .iter()
            .find(|d| d.name == "Lipitor" && d.strength == "20 MG")
            .unwrap();
        assert_eq!(lipitor.generic_name, "atorvastatin");
        assert!(!lipitor.is_generic && !lipitor.is_insulin);
        assert!(
            drugs
                .iter()
                .any(|d| d.name == "Atorvastatin" && d.is_generic)
        );
        assert!(drugs.iter().filter(|d| d.is_insulin).count() >= 8);
    }

    #[test]
    fn tiers_follow_the_market() {
        let drugs = drug_rows(3);
        let markets: Vec<Market> = drugs.iter().map(|(_, m)| *m).collect();
        let placements = formulary(3, "00026001", &markets);
        for p in &placements {
            let allowed: &[u8] = match markets[p.drug] {
                Market::Generic => &[1, 2, 6],
                Market::BrandWithGeneric | Market::Brand => &[3, 4],
                Market::Specialty => &[5],
                Market::Insulin => &[3],
            };
            assert!(allowed.contains(&p.tier), "{:?} {p:?}", drugs[p.drug]);
        }
        assert!(placements.len() > drugs.len() / 2);
    }

    #[test]
    fn copays_are_dollars_and_coinsurance_at_most_100_percent() {
        let rows = tier_costs(5, 0, "S0001-001-0");
        assert!(rows.len() >= 5 * 3 * 2 - 3);
        for r in &rows {
            assert!(
                r.amount >= 0 && (!r.coinsurance || r.amount <= 10_000),
                "{r:?}"
            );
            assert!(r.coinsurance || r.amount % 100 == 0, "{r:?}");
        }
        assert!(
            !rows
                .iter()
                .any(|r| r.tier == 5 && r.days == DaysSupply::Ninety)
        );
    }
}
