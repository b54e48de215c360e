//! Plan features: the key/value facts the site lists and filters on. Keys
//! are stable snake_case words; values are short display strings.
//!
//! Every plan has the [`CORE`] keys; the rest of its 10–20 features come
//! from [`DRUG_EXTRAS`], and for Medicare Advantage plans also from
//! [`MA_EXTRAS`] (`network_type` is always one of them).

use super::rng::Rng;

/// Keys every plan has.
pub const CORE: &[&str] = &[
    "star_rating",
    "formulary_drugs_count",
    "generic_tier_copay",
    "preferred_brand_copay",
    "specialty_tier_coinsurance",
    "insulin_copay_cap",
    "mail_order_pharmacy",
    "preferred_pharmacy_network",
    "drug_out_of_pocket_cap",
];

/// Drug-coverage keys any plan may have.
pub const DRUG_EXTRAS: &[&str] = &[
    "extra_help_eligible",
    "coverage_gap",
    "prior_authorization",
    "step_therapy",
    "quantity_limits",
    "non_preferred_drug_coinsurance",
    "part_d_vaccines",
    "prescription_payment_plan",
    "pharmacy_network_size",
    "home_infusion",
    "ninety_day_retail",
    "drug_tiers",
    "customer_service_hours",
];

/// Keys only Medicare Advantage plans have (medical and extra benefits).
pub const MA_EXTRAS: &[&str] = &[
    "out_of_pocket_max",
    "primary_care_copay",
    "specialist_copay",
    "dental",
    "vision",
    "hearing",
    "over_the_counter_allowance",
    "telehealth",
    "transportation",
    "fitness_program",
    "part_b_giveback",
    "meal_delivery",
    "worldwide_emergency",
];

/// The facts of a plan its features are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct PlanFacts {
    /// `Some("HMO")`, `Some("PPO")`, …: a Medicare Advantage plan.
    pub network_type: Option<&'static str>,
    /// Star rating in tenths (10..=50, halves only).
    pub star_tenths: u32,
    /// Generic tier copay in whole dollars.
    pub generic_copay: u32,
}

/// The features of one plan, sorted by key.
pub fn features(rng: &mut Rng, facts: &PlanFacts) -> Vec<(&'static str, String)> {
    let count = rng.range(10, 20) as usize;
    let mut keys: Vec<&'static str> = CORE.to_vec();
    let mut extras: Vec<&'static str> = DRUG_EXTRAS.to_vec();
    if facts.network_type.is_some() {
        keys.push("network_type");
        extras.extend_from_slice(MA_EXTRAS);
    }
    rng.shuffle(&mut extras);
    let missing = count.saturating_sub(keys.len());
    keys.extend(extras.into_iter().take(missing));
    let mut out: Vec<(&'static str, String)> = keys
        .into_iter()
        .map(|k| (k, value(rng, k, facts)))
        .collect();
    out.sort_by_key(|(k, _)| *k);
    out
}

fn dollars(n: i64) -> String {
    if n >= 1000 {
        format!("${},{:03}", n / 1000, n % 1000)
    } else {
        format!("${n}")
    }
}

fn s(v: impl AsRef<str>) -> String {
    v.as_ref().to_string()
}

fn value(rng: &mut Rng, key: &str, facts: &PlanFacts) -> String {
    match key {
        "star_rating" => format!("{}.{}", facts.star_tenths / 10, facts.star_tenths % 10),
        "formulary_drugs_count" => rng.range(2400, 3900).to_string(),
        "generic_tier_copay" => dollars(facts.generic_copay.into()),
        "preferred_brand_copay" => dollars(rng.range(30, 47)),
        "specialty_tier_coinsurance" => s(rng.pick(&["25%", "25%", "28%", "33%"])),
        "insulin_copay_cap" => s(rng.pick(&["$35/month", "$35/month", "$25/month", "$0"])),
        "mail_order_pharmacy" => {
            s(rng.pick(&["90-day supply", "Yes", "$0 generics", "Not offered"]))
        }
        "preferred_pharmacy_network" => s(rng.pick(&["Yes", "Yes", "No"])),
        "drug_out_of_pocket_cap" => s("$2,000/year"),
        "network_type" => s(facts.network_type.unwrap_or("None")),
        "extra_help_eligible" => s(rng.pick(&["Yes", "Yes", "No"])),
        "coverage_gap" => s(rng.pick(&["No gap", "Generics covered", "All tiers covered"])),
        "prior_authorization" => s(rng.pick(&["Some drugs", "Specialty only", "Rare"])),
        "step_therapy" => s(rng.pick(&["Some drugs", "No"])),
        "quantity_limits" => s(rng.pick(&["Some drugs", "Opioids only"])),
        "non_preferred_drug_coinsurance" => s(rng.pick(&["40%", "45%", "47%", "50%"])),
        "part_d_vaccines" => s("$0"),
        "prescription_payment_plan" => s(rng.pick(&["Available", "Monthly installments"])),
        "pharmacy_network_size" => format!("{},000+", rng.range(18, 66)),
        "home_infusion" => s(rng.pick(&["Covered", "Prior auth required"])),
        "ninety_day_retail" => s(rng.pick(&["Yes", "Preferred pharmacies"])),
        "drug_tiers" => s(rng.pick(&["5", "5", "6"])),
        "customer_service_hours" => s(rng.pick(&["8am–8pm, 7 days", "24/7", "8am–8pm weekdays"])),
        "out_of_pocket_max" => dollars(rng.range(34, 90) * 100),
        "primary_care_copay" => dollars(*rng.pick(&[0, 0, 5, 10, 15])),
        "specialist_copay" => dollars(rng.range(4, 10) * 5),
        "dental" => s(rng.pick(&["Preventive", "$1,500/year", "$3,000/year", "Not covered"])),
        "vision" => format!("${}/year eyewear", rng.range(1, 4) * 100),
        "hearing" => s(rng.pick(&["Aids to $1,000", "Exam + aids", "Exam only"])),
        "over_the_counter_allowance" => format!("${}/quarter", rng.range(2, 15) * 10),
        "telehealth" => s(rng.pick(&["$0 virtual visits", "Included"])),
        "transportation" => format!("{} one-way trips", rng.range(4, 12) * 2),
        "fitness_program" => s(rng.pick(&["Gym membership", "Home kits", "Classes online"])),
        "part_b_giveback" => format!("${}/month", rng.range(1, 15) * 10),
        "meal_delivery" => s(rng.pick(&["14 meals after discharge", "28 meals/year"])),
        "worldwide_emergency" => s(rng.pick(&["$50,000 limit", "Covered", "$25,000 limit"])),
        other => unreachable!("no value generator for feature {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(network_type: Option<&'static str>) -> PlanFacts {
        PlanFacts {
            network_type,
            star_tenths: 35,
            generic_copay: 2,
        }
    }

    #[test]
    fn every_plan_gets_10_to_20_distinct_sorted_features() {
        let mut rng = Rng::new(5);
        for i in 0..500 {
            let f = features(
                &mut rng,
                &facts(if i % 2 == 0 { Some("HMO") } else { None }),
            );
            assert!((10..=20).contains(&f.len()), "{}", f.len());
            assert!(f.windows(2).all(|w| w[0].0 < w[1].0), "sorted and unique");
            assert!(f.iter().all(|(_, v)| !v.is_empty() && v.len() <= 32));
            assert!(CORE.iter().all(|k| f.iter().any(|(key, _)| key == k)));
            if i % 2 == 1 {
                assert!(
                    f.iter()
                        .all(|(k, _)| !MA_EXTRAS.contains(k) && *k != "network_type")
                );
            }
        }
    }

    #[test]
    fn values_follow_the_facts() {
        let f = features(&mut Rng::new(1), &facts(Some("PPO")));
        let get = |k: &str| f.iter().find(|(key, _)| *key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("star_rating"), Some("3.5"));
        assert_eq!(get("generic_tier_copay"), Some("$2"));
        assert_eq!(get("network_type"), Some("PPO"));
        assert_eq!(dollars(4900), "$4,900");
    }
}
