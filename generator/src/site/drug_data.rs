//! The published drug data (`docs/drug-data.md`): one file per drug with
//! its place on every published formulary and its prices, name shards for
//! type-ahead, the benefit-year parameters, and each plan's formulary and
//! cost sharing appended to its plan JSON.
//!
//! Loaded in the build's snapshot transaction with a few set-based queries
//! (formulary rows arrive grouped per drug, so ~6,000 rows cross the wire,
//! not a million), rendered in parallel like the rest of the site.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;
use tokio_postgres::Transaction;
use whatever_database::Money;
use whatever_database::rules::drug_shard::shard_of;

use crate::drugs::Drug;
use crate::drugs::estimate::{
    BenefitYear, CostShare, Coverage, DaysSupply, Entry, Pharmacy, TierCost,
};
use crate::drugs::money::Cents;
use crate::{Error, Result};

/// A drug as published: the drug, its prices, and its place on every
/// published formulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDrug {
    /// The drug and its prices.
    pub drug: Drug,
    /// Its place on each published formulary, by formulary id.
    pub formularies: BTreeMap<String, Placement>,
}

/// A drug's place on one formulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// 1 to 6.
    pub tier: u8,
    /// Prior authorization required (published only when true).
    #[serde(skip_serializing_if = "is_false")]
    pub prior_authorization: bool,
    /// Step therapy required (published only when true).
    #[serde(skip_serializing_if = "is_false")]
    pub step_therapy: bool,
    /// At most `amount` units per `days` days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_limit: Option<QuantityLimit>,
}

/// A quantity limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuantityLimit {
    /// Units (two decimals).
    pub amount: Money,
    /// Days.
    pub days: i32,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One row of a plan's cost sharing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierCostRow {
    /// 1 to 6.
    pub tier: u8,
    /// Pharmacy type.
    pub pharmacy: Pharmacy,
    /// Days supply.
    pub days: DaysSupply,
    /// Copay or coinsurance, and whether the deductible applies.
    pub cost: TierCost,
}

/// A plan's drug terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDrugTerms {
    /// Its formulary, if it publishes one.
    pub formulary_id: Option<String>,
    /// Its cost sharing, sorted by tier, pharmacy name, days.
    pub tier_costs: Vec<TierCostRow>,
}

/// The terms of a plan the snapshot has no drug data for.
pub const NO_TERMS: PlanDrugTerms = PlanDrugTerms {
    formulary_id: None,
    tier_costs: Vec::new(),
};

impl PlanDrugTerms {
    /// The cost sharing for one tier, pharmacy type and supply.
    pub fn cost(&self, tier: u8, pharmacy: Pharmacy, days: DaysSupply) -> Option<TierCost> {
        self.tier_costs
            .iter()
            .find(|r| r.tier == tier && r.pharmacy == pharmacy && r.days == days)
            .map(|r| r.cost)
    }
}

/// One entry of a drug list resolved against a plan, exactly as the
/// browser resolves it from the published files.
pub fn resolve(
    terms: &PlanDrugTerms,
    drug: &PublishedDrug,
    days: DaysSupply,
    pharmacy: Pharmacy,
) -> Entry {
    let coverage = match &terms.formulary_id {
        None => Coverage::NoFormulary,
        Some(id) => match drug.formularies.get(id) {
            None => Coverage::NotCovered,
            Some(p) => Coverage::Covered {
                tier: p.tier,
                cost: terms.cost(p.tier, pharmacy, days),
            },
        },
    };
    Entry {
        days,
        full_cost: drug.drug.price(days),
        is_insulin: drug.drug.is_insulin,
        coverage,
    }
}

/// Everything drug-related a build publishes.
#[derive(Debug, Clone, Default)]
pub struct DrugData {
    /// Every drug, sorted by rxcui (byte order).
    pub drugs: Vec<PublishedDrug>,
    /// Per published plan (snapshot order), its drug terms.
    pub plans: Vec<PlanDrugTerms>,
    /// Every benefit year, ascending.
    pub years: Vec<BenefitYear>,
}

/// Reads the drug data inside the snapshot transaction. `active_plans` is
/// the snapshot's `WITH active AS (plan_id, idx)` clause, so plans are
/// numbered as the snapshot numbers them.
pub async fn load(tx: &Transaction<'_>, active_plans: &str, plan_count: usize) -> Result<DrugData> {
    let mut plans = vec![PlanDrugTerms::default(); plan_count];
    let at = |idx: i32| {
        usize::try_from(idx)
            .ok()
            .filter(|&i| i < plan_count)
            .ok_or_else(|| Error::Invalid(format!("plan index {idx} is outside the snapshot")))
    };
    for row in tx
        .query(
            &format!(
                "{active_plans} SELECT a.idx, p.formulary_id FROM plan p \
                 JOIN active a ON a.plan_id = p.plan_id"
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading the formulary of each plan"))?
    {
        plans[at(row.get(0))?].formulary_id = row.get(1);
    }
    for row in tx
        .query(
            &format!(
                "{active_plans} SELECT a.idx, c.tier::int4, c.pharmacy, c.days_supply::int4, \
                 c.cost_type, (c.amount * 100)::int8, c.deductible_applies \
                 FROM plan_tier_cost c JOIN active a ON a.plan_id = c.plan_id \
                 ORDER BY a.idx, c.tier, c.pharmacy COLLATE \"C\", c.days_supply"
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading the cost sharing of each plan"))?
    {
        let bad = |what: &str| Error::Invalid(format!("plan_tier_cost has an unknown {what}"));
        let amount: i64 = row.get(5);
        let share = match row.get::<_, &str>(4) {
            "copay" => CostShare::Copay(Cents(amount)),
            "coinsurance" => CostShare::Coinsurance(amount),
            _ => return Err(bad("cost_type")),
        };
        plans[at(row.get(0))?].tier_costs.push(TierCostRow {
            tier: row.get::<_, i32>(1) as u8,
            pharmacy: Pharmacy::parse(row.get(2)).ok_or_else(|| bad("pharmacy"))?,
            days: DaysSupply::from_days(row.get::<_, i32>(3).into())
                .ok_or_else(|| bad("days_supply"))?,
            cost: TierCost {
                share,
                deductible_applies: row.get(6),
            },
        });
    }

    let mut drugs: Vec<PublishedDrug> = tx
        .query(
            "SELECT rxcui, name, generic_name, strength, dose_form, is_generic, is_insulin \
             FROM drug WHERE rxcui ~ '^[0-9]+$' ORDER BY rxcui COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(Error::query("loading drugs"))?
        .iter()
        .map(|r| PublishedDrug {
            drug: Drug {
                rxcui: r.get(0),
                name: r.get(1),
                generic_name: r.get(2),
                strength: r.get(3),
                dose_form: r.get(4),
                is_generic: r.get(5),
                is_insulin: r.get(6),
                prices: [None, None],
            },
            formularies: BTreeMap::new(),
        })
        .collect();
    let index: HashMap<String, usize> = drugs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.drug.rxcui.clone(), i))
        .collect();
    for row in tx
        .query(
            "SELECT rxcui, days_supply::int4, (full_cost * 100)::int8 FROM drug_price",
            &[],
        )
        .await
        .map_err(Error::query("loading drug prices"))?
    {
        if let Some(&i) = index.get(row.get::<_, &str>(0)) {
            let slot = usize::from(row.get::<_, i32>(1) == 90);
            drugs[i].drug.prices[slot] = Some(Cents(row.get(2)));
        }
    }
    // Only formularies a published plan names; grouped per drug.
    for row in tx
        .query(
            &format!(
                "{active_plans}, published AS (
                   SELECT DISTINCT p.formulary_id FROM plan p
                   JOIN active a ON a.plan_id = p.plan_id WHERE p.formulary_id IS NOT NULL)
                 SELECT fd.rxcui, array_agg(fd.formulary_id), array_agg(fd.tier::int4),
                        array_agg(fd.prior_authorization), array_agg(fd.step_therapy),
                        array_agg((fd.quantity_limit_amount * 100)::int8),
                        array_agg(fd.quantity_limit_days)
                 FROM formulary_drug fd JOIN published USING (formulary_id)
                 GROUP BY fd.rxcui"
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading the formulary rows of each drug"))?
    {
        let Some(&i) = index.get(row.get::<_, &str>(0)) else {
            continue;
        };
        let ids: Vec<String> = row.get(1);
        let tiers: Vec<i32> = row.get(2);
        let pa: Vec<bool> = row.get(3);
        let st: Vec<bool> = row.get(4);
        let amounts: Vec<Option<i64>> = row.get(5);
        let days: Vec<Option<i32>> = row.get(6);
        for (k, id) in ids.into_iter().enumerate() {
            let quantity_limit = match (amounts[k], days[k]) {
                (Some(amount), Some(days)) => Some(QuantityLimit {
                    amount: Money(amount),
                    days,
                }),
                _ => None,
            };
            drugs[i].formularies.insert(
                id,
                Placement {
                    tier: tiers[k] as u8,
                    prior_authorization: pa[k],
                    step_therapy: st[k],
                    quantity_limit,
                },
            );
        }
    }
    let years = tx
        .query(
            "SELECT year, (deductible_cap * 100)::int8, (oop_threshold * 100)::int8, \
             (insulin_monthly_cap * 100)::int8 FROM benefit_year ORDER BY year",
            &[],
        )
        .await
        .map_err(Error::query("loading benefit years"))?
        .iter()
        .map(|r| BenefitYear {
            year: r.get(0),
            deductible_cap: Cents(r.get(1)),
            oop_threshold: Cents(r.get(2)),
            insulin_monthly_cap: Cents(r.get(3)),
        })
        .collect();
    Ok(DrugData {
        drugs,
        plans,
        years,
    })
}

/// `data/drugs/{rxcui}.json`.
#[derive(Serialize)]
struct DrugFile<'a> {
    /// The columns of `drug`.
    #[serde(flatten)]
    drug: &'a Drug,
    /// `"30"` and `"90"`: the reference price, when known.
    prices: BTreeMap<&'static str, Money>,
    /// Generics with the same ingredient, strength and form (for a brand).
    generics: Vec<&'a str>,
    formularies: &'a BTreeMap<String, Placement>,
}

/// An entry of a type-ahead shard.
#[derive(Serialize)]
struct IndexEntry<'a> {
    rxcui: &'a str,
    name: &'a str,
    generic_name: &'a str,
    strength: &'a str,
    dose_form: &'a str,
    is_generic: bool,
}

/// `data/benefit-year.json`.
#[derive(Serialize)]
struct YearsFile {
    years: Vec<YearEntry>,
}

#[derive(Serialize)]
struct YearEntry {
    year: i32,
    deductible_cap: Money,
    oop_threshold: Money,
    insulin_monthly_cap: Money,
}

/// Every published drug file as (key, bytes), in no particular order:
/// the drug files, the shards and their list, and the benefit years.
/// Each is rendered on rayon and handed to `put` as soon as it is ready.
pub fn render(data: &DrugData, put: &(dyn Fn(&str, &[u8]) -> Result<()> + Sync)) -> Result<u64> {
    let mut generics: HashMap<(&str, &str, &str), Vec<&str>> = HashMap::new();
    for d in data.drugs.iter().map(|p| &p.drug).filter(|d| d.is_generic) {
        generics
            .entry((
                d.generic_name.as_str(),
                d.strength.as_str(),
                d.dose_form.as_str(),
            ))
            .or_default()
            .push(&d.rxcui);
    }
    data.drugs.par_iter().try_for_each(|published| {
        let d = &published.drug;
        let prices = d
            .priced()
            .map(|(days, c)| (if days.days() == 30 { "30" } else { "90" }, Money(c.0)))
            .collect();
        let file = DrugFile {
            drug: d,
            prices,
            generics: if d.is_generic {
                Vec::new()
            } else {
                generics
                    .get(&(
                        d.generic_name.as_str(),
                        d.strength.as_str(),
                        d.dose_form.as_str(),
                    ))
                    .cloned()
                    .unwrap_or_default()
            },
            formularies: &published.formularies,
        };
        put(
            &format!("data/drugs/{}.json", d.rxcui),
            &to_json(&file, &d.rxcui)?,
        )
    })?;

    let mut shards: BTreeMap<String, Vec<&Drug>> = BTreeMap::new();
    for d in data.drugs.iter().map(|p| &p.drug) {
        let by_name = shard_of(&d.name);
        let by_generic = shard_of(&d.generic_name);
        for shard in [
            by_name.clone(),
            by_generic.filter(|g| Some(g) != by_name.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            shards.entry(shard).or_default().push(d);
        }
    }
    shards.par_iter().try_for_each(|(shard, list)| {
        let mut list = list.clone();
        list.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.strength, &a.rxcui).cmp(&(
                b.name.to_lowercase(),
                &b.strength,
                &b.rxcui,
            ))
        });
        let entries: Vec<IndexEntry> = list
            .iter()
            .map(|d| IndexEntry {
                rxcui: &d.rxcui,
                name: &d.name,
                generic_name: &d.generic_name,
                strength: &d.strength,
                dose_form: &d.dose_form,
                is_generic: d.is_generic,
            })
            .collect();
        put(
            &format!("data/drugs/index/{shard}.json"),
            &to_json(
                &serde_json::json!({ "shard": shard, "drugs": entries }),
                shard,
            )?,
        )
    })?;
    let names: Vec<&String> = shards.keys().collect();
    put(
        "data/drugs/index/shards.json",
        &to_json(&serde_json::json!({ "shards": names }), "the shard list")?,
    )?;
    let years = YearsFile {
        years: data
            .years
            .iter()
            .map(|y| YearEntry {
                year: y.year,
                deductible_cap: Money(y.deductible_cap.0),
                oop_threshold: Money(y.oop_threshold.0),
                insulin_monthly_cap: Money(y.insulin_monthly_cap.0),
            })
            .collect(),
    };
    put("data/benefit-year.json", &to_json(&years, "benefit years")?)?;
    Ok((data.drugs.len() + shards.len() + 2) as u64)
}

/// How many files [`render`] writes, before it runs.
pub fn file_count(data: &DrugData) -> u64 {
    let shards: std::collections::BTreeSet<String> = data
        .drugs
        .iter()
        .flat_map(|p| [shard_of(&p.drug.name), shard_of(&p.drug.generic_name)])
        .flatten()
        .collect();
    (data.drugs.len() + shards.len() + 2) as u64
}

/// Appends a plan's `formulary_id` and `tier_costs` to its JSON object
/// (`{...}` becomes `{...,"formulary_id":..,"tier_costs":[..]}`).
pub fn append_plan_terms(json: &mut Vec<u8>, terms: &PlanDrugTerms) -> Result<()> {
    #[derive(Serialize)]
    struct Row {
        tier: u8,
        pharmacy: &'static str,
        days_supply: i64,
        cost_type: &'static str,
        amount: Money,
        deductible_applies: bool,
    }
    #[derive(Serialize)]
    struct Terms<'a> {
        formulary_id: Option<&'a str>,
        tier_costs: Vec<Row>,
    }
    let terms = Terms {
        formulary_id: terms.formulary_id.as_deref(),
        tier_costs: terms
            .tier_costs
            .iter()
            .map(|r| {
                let (cost_type, amount) = match r.cost.share {
                    CostShare::Copay(c) => ("copay", c.0),
                    CostShare::Coinsurance(h) => ("coinsurance", h),
                };
                Row {
                    tier: r.tier,
                    pharmacy: r.pharmacy.as_str(),
                    days_supply: r.days.days(),
                    cost_type,
                    amount: Money(amount),
                    deductible_applies: r.cost.deductible_applies,
                }
            })
            .collect(),
    };
    let extra = to_json(&terms, "plan drug terms")?;
    if json.last() != Some(&b'}') || extra.first() != Some(&b'{') {
        return Err(Error::Invalid("a plan's JSON is not an object".into()));
    }
    json.pop();
    if json.last() != Some(&b'{') {
        json.push(b',');
    }
    json.extend_from_slice(&extra[1..]);
    Ok(())
}

fn to_json(value: &impl Serialize, what: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| Error::Json {
        what: what.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_terms_extend_the_plan_object() {
        let mut json = br#"{"plan_id":"S1"}"#.to_vec();
        let terms = PlanDrugTerms {
            formulary_id: Some("00026001".into()),
            tier_costs: vec![TierCostRow {
                tier: 4,
                pharmacy: Pharmacy::Mail,
                days: DaysSupply::Ninety,
                cost: TierCost {
                    share: CostShare::Coinsurance(2_500),
                    deductible_applies: true,
                },
            }],
        };
        append_plan_terms(&mut json, &terms).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"plan_id":"S1","formulary_id":"00026001","tier_costs":[{"tier":4,"pharmacy":"mail","days_supply":90,"cost_type":"coinsurance","amount":25.00,"deductible_applies":true}]}"#
        );
        let mut json = b"{}".to_vec();
        append_plan_terms(&mut json, &PlanDrugTerms::default()).unwrap();
        assert_eq!(json, br#"{"formulary_id":null,"tier_costs":[]}"#);
    }
}
