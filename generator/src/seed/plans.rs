//! Plans laid out like the US market: stand-alone drug plans (PDPs) sold
//! state-wide, Medicare Advantage drug plans sold in service areas of a few
//! neighbouring counties, and some regional PPOs sold state-wide.
//!
//! Plan ids follow CMS: contract (`S`, `H` or `R` and 4 digits), plan number
//! (3 digits), segment. Contract numbers come from the seed alone and plan
//! numbers from the state's position in the full zip list, so a state's plan
//! ids are the same whether it is seeded alone or with the whole country.

use std::collections::BTreeMap;

use super::features::{PlanFacts, features};
use super::rng::Rng;
use super::vocab::{INSURERS, Insurer, TRICKY_TEXTS};
use super::zips::ZipCode;

/// States, territories and military regions are numbered below this.
pub const MAX_STATES: usize = 64;

/// One row of `plan`, with its features and the zips it is sold in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// CMS-style id, e.g. `S5601-012-0`.
    pub plan_id: String,
    /// Marketing name, e.g. `Acme Rx Saver (PDP)`.
    pub plan_name: String,
    /// The carrier's legal name.
    pub insurer_name: String,
    /// `false` for a plan no longer sold (`status = 'inactive'`).
    pub active: bool,
    /// A sentence or two about the plan.
    pub description: String,
    /// Monthly premium in cents.
    pub monthly_cents: i64,
    /// Typical copay in cents.
    pub copay_cents: i64,
    /// Yearly deductible in cents.
    pub deductible_cents: i64,
    /// Youngest eligible age.
    pub min_age: Option<i32>,
    /// Oldest eligible age.
    pub max_age: Option<i32>,
    /// Feature key and value, sorted by key.
    pub features: Vec<(&'static str, String)>,
    /// The zip codes it is sold in, sorted.
    pub zips: Vec<String>,
}

impl PlanRow {
    /// Whether someone of `age` may enroll.
    pub fn admits(&self, age: i32) -> bool {
        self.min_age.is_none_or(|min| age >= min) && self.max_age.is_none_or(|max| age <= max)
    }
}

/// Contract numbers, drawn once per seed.
#[derive(Debug, Clone)]
pub struct Contracts {
    pdp: Vec<u16>,
    regional: Vec<u16>,
    local: Vec<u16>,
}

impl Contracts {
    /// The contracts of every insurer for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::derive(seed, "contracts");
        let mut s: Vec<u16> = (4800..=9999).collect();
        rng.shuffle(&mut s);
        let mut r: Vec<u16> = (1000..=9999).collect();
        rng.shuffle(&mut r);
        let mut h: Vec<u16> = (1000..=9999).collect();
        rng.shuffle(&mut h);
        s.truncate(INSURERS.len());
        r.truncate(INSURERS.len());
        h.truncate(INSURERS.len() * MAX_STATES);
        Self {
            pdp: s,
            regional: r,
            local: h,
        }
    }
}

/// A state's plans, and which of them each zip can buy.
#[derive(Debug, Clone, Default)]
pub struct StatePlans {
    /// Plans sorted by id.
    pub plans: Vec<PlanRow>,
    /// For each county, the indexes in `plans` sold there (PDPs included);
    /// zips without a county can buy only the PDPs, listed under "".
    pub by_county: BTreeMap<String, Vec<usize>>,
}

const NETWORKS: &[(&str, u32)] = &[
    ("HMO", 55),
    ("PPO", 25),
    ("HMO-POS", 10),
    ("HMO D-SNP", 7),
    ("PPO C-SNP", 3),
];
const STARS: &[u32] = &[10, 15, 20, 25, 30, 35, 40, 45, 50];
const STAR_WEIGHTS: &[u32] = &[1, 1, 2, 4, 8, 12, 14, 10, 5];

/// What is being priced and named.
enum Kind<'a> {
    Pdp {
        tier: usize,
    },
    Advantage {
        network: &'static str,
        counties: &'a [&'a str],
    },
}

/// Builds the plans of one state.
pub fn state_plans(
    seed: u64,
    state: &str,
    state_index: usize,
    zips: &[ZipCode],
    contracts: &Contracts,
) -> StatePlans {
    let mut rng = Rng::derive(seed, &format!("plans/{state}"));
    let all_zips: Vec<String> = zips.iter().map(|z| z.zip.clone()).collect();
    let mut plans = Vec::new();

    // Stand-alone drug plans: a couple of dozen in a state, fewer where few live.
    let pdp_target = if zips.len() >= 50 {
        rng.range(18, 28)
    } else {
        rng.range(5, 10)
    } as usize;
    let mut sellers: Vec<usize> = (0..INSURERS.len())
        .filter(|&i| !INSURERS[i].pdp_products.is_empty())
        .collect();
    rng.shuffle(&mut sellers);
    'pdp: for round in 0..3 {
        for &i in &sellers {
            if plans.len() >= pdp_target {
                break 'pdp;
            }
            let insurer = &INSURERS[i];
            if round >= insurer.pdp_products.len() || (round > 0 && rng.chance(0.35)) {
                continue;
            }
            let id = format!(
                "S{:04}-{:03}-0",
                contracts.pdp[i],
                state_index * 8 + round + 1
            );
            let name = format!("{} {} (PDP)", insurer.brand, insurer.pdp_products[round]);
            let mut plan = make_plan(&mut rng, id, name, insurer, Kind::Pdp { tier: round });
            plan.zips = all_zips.clone();
            plans.push(plan);
        }
    }
    let pdp_count = plans.len();

    // Regional PPOs, state-wide, in about a third of the states.
    let counties = counties_in_order(zips);
    if !counties.is_empty() && rng.chance(0.35) {
        let mut chosen = Vec::new();
        for k in 0..rng.range(1, 2) as usize {
            let i = *rng.pick(&sellers);
            let insurer = &INSURERS[i];
            if insurer.ma_products.is_empty() || chosen.contains(&i) {
                continue;
            }
            chosen.push(i);
            let id = format!(
                "R{:04}-{:03}-0",
                contracts.regional[i],
                state_index * 2 + k + 1
            );
            let name = format!(
                "{} Regional {} (PPO)",
                insurer.brand, insurer.ma_products[0]
            );
            let names: Vec<&str> = counties.iter().map(|c| c.as_str()).collect();
            let kind = Kind::Advantage {
                network: "Regional PPO",
                counties: &names,
            };
            let mut plan = make_plan(&mut rng, id, name, insurer, kind);
            plan.zips = zips
                .iter()
                .filter(|z| !z.county.is_empty())
                .map(|z| z.zip.clone())
                .collect();
            plans.push(plan);
        }
    }

    // Local Medicare Advantage plans per service area.
    let local: Vec<usize> = (0..INSURERS.len())
        .filter(|&i| {
            let ins = &INSURERS[i];
            !ins.ma_products.is_empty()
                && (ins.ma_states.is_empty() || ins.ma_states.contains(&state))
        })
        .collect();
    let weights: Vec<u32> = local
        .iter()
        .map(|&i| {
            if INSURERS[i].ma_states.is_empty() {
                2
            } else {
                5
            }
        })
        .collect();
    let mut next_number = vec![1usize; INSURERS.len()];
    let mut rest = counties.as_slice();
    while !rest.is_empty() && !local.is_empty() {
        let size = (rng.weighted(&[4, 3, 2, 1]) + 1).min(rest.len());
        let (area, tail) = rest.split_at(size);
        rest = tail;
        let area_zips: Vec<String> = zips
            .iter()
            .filter(|z| area.contains(&z.county))
            .map(|z| z.zip.clone())
            .collect();
        let hi = (3 + area_zips.len() / 6).min(15) as i64;
        let lo = ((2 + area_zips.len() / 40) as i64).min(hi);
        let mut used: Vec<(usize, &str)> = Vec::new();
        for _ in 0..rng.range(lo, hi) {
            let i = local[rng.weighted(&weights)];
            let insurer = &INSURERS[i];
            let Some(product) = insurer
                .ma_products
                .iter()
                .find(|p| !used.contains(&(i, **p)))
                .copied()
            else {
                continue;
            };
            if next_number[i] > 999 {
                continue;
            }
            used.push((i, product));
            let network =
                NETWORKS[rng.weighted(&NETWORKS.iter().map(|n| n.1).collect::<Vec<_>>())].0;
            let segment = if rng.chance(0.08) { rng.range(1, 3) } else { 0 };
            let id = format!(
                "H{:04}-{:03}-{segment}",
                contracts.local[i * MAX_STATES + state_index],
                next_number[i]
            );
            next_number[i] += 1;
            let product = if network.ends_with("D-SNP") {
                "Dual Complete"
            } else {
                product
            };
            let name = format!("{} {product} ({network})", insurer.brand);
            let names: Vec<&str> = area.iter().map(|c| c.as_str()).collect();
            let kind = Kind::Advantage {
                network,
                counties: &names,
            };
            let mut plan = make_plan(&mut rng, id, name, insurer, kind);
            plan.zips = area_zips.clone();
            plans.push(plan);
        }
    }

    // Real catalogues hold names with quotes, ampersands, accents and emoji;
    // every state gets a couple so any subset exercises the escaping.
    for _ in 0..2 {
        let k = rng.index(plans.len());
        let (suffix, description) = *rng.pick(TRICKY_TEXTS);
        let plan = &mut plans[k];
        let kind = plan
            .plan_name
            .rsplit_once(" (")
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
        let brand = INSURERS
            .iter()
            .find(|i| i.name == plan.insurer_name)
            .map_or("", |i| i.brand);
        plan.plan_name = format!("{brand} {suffix} ({kind}");
        plan.description = description.to_string();
    }
    // Withdrawn plans stay in the table; keep the first PDP on sale so every
    // zip can buy at least one plan.
    for (k, plan) in plans.iter_mut().enumerate() {
        plan.active = k == 0 || !rng.chance(0.05);
    }

    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by(|&a, &b| plans[a].plan_id.cmp(&plans[b].plan_id));
    let mut by_county: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let position: Vec<usize> = {
        let mut p = vec![0; plans.len()];
        for (new, &old) in order.iter().enumerate() {
            p[old] = new;
        }
        p
    };
    for county in std::iter::once(String::new()).chain(counties.iter().cloned()) {
        by_county.insert(county, (0..pdp_count).map(|k| position[k]).collect());
    }
    for (k, plan) in plans.iter().enumerate().skip(pdp_count) {
        let mut seen: Vec<&str> = Vec::new();
        for zip in &plan.zips {
            let county = &zips[zips
                .binary_search_by(|z| z.zip.as_str().cmp(zip))
                .expect("a zip of this state")]
            .county;
            if !seen.contains(&county.as_str()) {
                seen.push(county);
                by_county
                    .entry(county.clone())
                    .or_default()
                    .push(position[k]);
            }
        }
    }
    for list in by_county.values_mut() {
        list.sort_unstable();
    }
    let mut slots: Vec<Option<PlanRow>> = plans.into_iter().map(Some).collect();
    let plans = order
        .iter()
        .map(|&k| slots[k].take().expect("each plan once"))
        .collect();
    StatePlans { plans, by_county }
}

/// The counties of a state in the order their first zip appears: zip order
/// follows geography, so neighbours in this list are mostly neighbours on
/// the map.
fn counties_in_order(zips: &[ZipCode]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for z in zips {
        if !z.county.is_empty() && !out.contains(&z.county) {
            out.push(z.county.clone());
        }
    }
    out
}

fn usd(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("${}", cents / 100)
    } else {
        format!("${}.{:02}", cents / 100, cents % 100)
    }
}

fn make_plan(
    rng: &mut Rng,
    plan_id: String,
    plan_name: String,
    insurer: &Insurer,
    kind: Kind<'_>,
) -> PlanRow {
    let star_tenths = STARS[rng.weighted(STAR_WEIGHTS)];
    let (monthly, deductible, generic, network, ages) = match kind {
        Kind::Pdp { tier } => {
            let (monthly, deductible): (i64, i64) = match tier {
                0 => (
                    rng.range(0, 400) * 10,
                    *rng.pick(&[590, 590, 590, 545, 480, 0]),
                ),
                1 => (
                    rng.range(250, 900) * 10,
                    *rng.pick(&[0, 100, 250, 435, 590]),
                ),
                _ => (rng.range(600, 1500) * 10, *rng.pick(&[0, 0, 100])),
            };
            let ages = if rng.chance(0.9) {
                (Some(65), None)
            } else {
                (None, None)
            };
            (
                monthly,
                deductible * 100,
                *rng.pick(&[0, 1, 2, 5]),
                None,
                ages,
            )
        }
        Kind::Advantage { network, .. } => {
            let monthly = if rng.chance(0.55) {
                0
            } else {
                rng.range(50, 1500) * 10
            };
            let deductible = if rng.chance(0.5) {
                0
            } else {
                rng.range(10, 118) * 500
            };
            let ages = if network.contains("SNP") {
                (Some(18), Some(64))
            } else {
                (Some(65), None)
            };
            (
                monthly,
                deductible,
                *rng.pick(&[0, 0, 0, 1, 3, 5]),
                Some(network),
                ages,
            )
        }
    };
    let description = match kind {
        Kind::Pdp { .. } => format!(
            "A stand-alone Medicare drug plan from {}: {} generics at preferred pharmacies, a {} deductible and a {} monthly premium.",
            insurer.name,
            usd(generic * 100),
            usd(deductible),
            usd(monthly),
        ),
        Kind::Advantage { network, counties } => {
            let served = match counties {
                [one] => one.to_string(),
                [init @ .., last] => format!("{} and {last}", init.join(", ")),
                [] => String::new(),
            };
            let served = if counties.len() > 6 {
                "the whole state".to_string()
            } else {
                served
            };
            format!(
                "{network} Medicare Advantage plan with drug coverage from {}, serving {served}. {} premium, {} deductible.",
                insurer.name,
                usd(monthly),
                usd(deductible),
            )
        }
    };
    let facts = PlanFacts {
        network_type: network,
        star_tenths,
        generic_copay: generic as u32,
    };
    PlanRow {
        plan_id,
        plan_name,
        insurer_name: insurer.name.to_string(),
        active: true,
        description,
        monthly_cents: monthly,
        copay_cents: rng.range(0, 4500),
        deductible_cents: deductible,
        min_age: ages.0,
        max_age: ages.1,
        features: features(rng, &facts),
        zips: Vec::new(),
    }
}
