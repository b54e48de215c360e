//! Shared by the drug-estimate tests: the result in the browser engine's
//! shape, and the published JSON read back into the build's types.

use std::collections::BTreeMap;

use generator::drugs::Drug;
use generator::drugs::estimate::{
    BenefitYear, CostShare, DaysSupply, Estimate, Pharmacy, PlanTerms, TierCost,
};
use generator::drugs::money::Cents;
use generator::site::drug_data::{Placement, PlanDrugTerms, PublishedDrug, TierCostRow};
use serde_json::{Value, json};

/// An estimate as `drug-estimate.mjs` returns it.
pub fn as_json(e: &Estimate) -> Value {
    let gaps: Vec<Value> = e.gaps.iter().map(|(i, g)| json!([i, g.as_str()])).collect();
    let drugs = e.drugs.as_ref();
    json!({
        "startMonth": e.start_month,
        "premiums": e.premiums.0,
        "gaps": gaps,
        "months": drugs.map(|d| d.months.iter().map(|m| m.0).collect::<Vec<_>>()),
        "drugTotal": drugs.map(|d| d.total.0),
        "total": e.total().map(|t| t.0),
    })
}

/// A published two-decimal amount as hundredths.
pub fn cents(v: &Value) -> Cents {
    Cents::parse(&v.as_number().expect("an amount").to_string()).expect("two decimals")
}

/// An entry of `data/benefit-year.json`.
pub fn year(v: &Value) -> BenefitYear {
    BenefitYear {
        year: v["year"].as_i64().unwrap() as i32,
        deductible_cap: cents(&v["deductible_cap"]),
        oop_threshold: cents(&v["oop_threshold"]),
        insulin_monthly_cap: cents(&v["insulin_monthly_cap"]),
    }
}

/// A plan's premium and deductible from its JSON.
pub fn plan_terms(v: &Value) -> PlanTerms {
    PlanTerms {
        monthly_premium: cents(&v["avg_monthly_cost"]),
        annual_deductible: cents(&v["annual_deductible"]),
    }
}

/// A plan's drug terms from its JSON.
pub fn plan_drug_terms(v: &Value) -> PlanDrugTerms {
    PlanDrugTerms {
        formulary_id: v["formulary_id"].as_str().map(String::from),
        tier_costs: v["tier_costs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let amount = cents(&r["amount"]);
                TierCostRow {
                    tier: r["tier"].as_u64().unwrap() as u8,
                    pharmacy: Pharmacy::parse(r["pharmacy"].as_str().unwrap()).unwrap(),
                    days: DaysSupply::from_days(r["days_supply"].as_i64().unwrap()).unwrap(),
                    cost: TierCost {
                        share: match r["cost_type"].as_str().unwrap() {
                            "copay" => CostShare::Copay(amount),
                            _ => CostShare::Coinsurance(amount.0),
                        },
                        deductible_applies: r["deductible_applies"].as_bool().unwrap(),
                    },
                }
            })
            .collect(),
    }
}

/// A drug from (part of) its `data/drugs/{rxcui}.json`: what the estimate
/// reads (id, insulin, prices, formularies); names left empty when absent.
pub fn drug(v: &Value) -> PublishedDrug {
    let price = |days: &str| v["prices"].get(days).map(cents);
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_string();
    PublishedDrug {
        drug: Drug {
            rxcui: v["rxcui"].as_str().unwrap_or("1").into(),
            name: text("name"),
            generic_name: text("generic_name"),
            strength: text("strength"),
            dose_form: text("dose_form"),
            is_generic: v["is_generic"].as_bool().unwrap_or(false),
            is_insulin: v["is_insulin"].as_bool().unwrap(),
            prices: [price("30"), price("90")],
        },
        formularies: v["formularies"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(id, p)| {
                (
                    id.clone(),
                    Placement {
                        tier: p["tier"].as_u64().unwrap() as u8,
                        prior_authorization: false,
                        step_therapy: false,
                        quantity_limit: None,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}
