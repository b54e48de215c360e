//! The whole sample in memory: generated state by state in parallel, each
//! state from its own random stream, so the result depends only on the seed
//! and the chosen states, never on thread scheduling.

use rayon::prelude::*;

use super::drugs::DrugSample;
use super::people::{Beneficiary, Enrollment, SsnMaker, StatePeople, Story, state_people};
use super::plans::{Contracts, MAX_STATES, PlanRow, state_plans};
use super::users::{UserRow, make_users};
use super::zips::ZipTable;
use crate::{Error, Result};

/// Every row the seed loads.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// The states it covers, sorted.
    pub states: Vec<String>,
    /// How many zip codes those states have.
    pub zip_count: usize,
    /// Plans, sorted by id within each state.
    pub plans: Vec<PlanRow>,
    /// Beneficiaries, by id.
    pub beneficiaries: Vec<Beneficiary>,
    /// Enrollment history.
    pub enrollments: Vec<Enrollment>,
    /// Login users (empty until [`Sample::add_users`]).
    pub users: Vec<UserRow>,
    /// Drugs, formularies and each plan's cost sharing.
    pub drugs: DrugSample,
    stories: Vec<Vec<Story>>,
    people_per_state: Vec<usize>,
}

/// Checks `--states` against the zip list: upper-cased, deduplicated,
/// sorted; empty means every state.
pub fn select_states(table: &ZipTable, wanted: &[String]) -> Result<Vec<String>> {
    let known: Vec<&str> = table.states().collect();
    if wanted.is_empty() {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    let mut out = Vec::new();
    for raw in wanted {
        let code = raw.trim().to_ascii_uppercase();
        if !known.contains(&code.as_str()) {
            return Err(Error::Invalid(format!(
                "unknown state {raw:?} in --states; use two-letter postal codes, one of: {}",
                known.join(", ")
            )));
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    out.sort();
    Ok(out)
}

impl Sample {
    /// Plans and people of `states` (already checked by [`select_states`]).
    pub fn generate(seed: u64, table: &ZipTable, states: &[String]) -> Self {
        let all: Vec<&str> = table.states().collect();
        assert!(
            all.len() <= MAX_STATES,
            "more states than plan numbers can hold"
        );
        let contracts = Contracts::new(seed);
        let ssns = SsnMaker::new(seed);
        let parts: Vec<(Vec<PlanRow>, StatePeople)> = states
            .par_iter()
            .map(|state| {
                let index = all
                    .iter()
                    .position(|s| s == state)
                    .expect("a checked state");
                let zips = table.in_state(state);
                let plans = state_plans(seed, state, index, zips, &contracts);
                let people = state_people(seed, state, index, zips, &plans, &ssns);
                (plans.plans, people)
            })
            .collect();
        let mut sample = Sample {
            states: states.to_vec(),
            zip_count: states.iter().map(|s| table.in_state(s).len()).sum(),
            ..Sample::default()
        };
        for (plans, people) in parts {
            sample.plans.extend(plans);
            sample.people_per_state.push(people.beneficiaries.len());
            sample.beneficiaries.extend(people.beneficiaries);
            sample.enrollments.extend(people.enrollments);
            sample.stories.push(people.stories);
        }
        sample.drugs = DrugSample::generate(seed, &sample.plans);
        sample
    }

    /// Hashes the passwords of the login users (the slow part).
    ///
    /// Demo users go round the states (one per state per round) so they
    /// live in different places; `demo-noplan` is the first beneficiary
    /// without a current plan.
    pub fn add_users(&mut self, seed: u64) -> Result<()> {
        let mut per_state: Vec<Vec<&Beneficiary>> = Vec::new();
        let mut without_plan = None;
        let mut offset = 0;
        for (stories, &count) in self.stories.iter().zip(&self.people_per_state) {
            let people = &self.beneficiaries[offset..offset + count];
            offset += count;
            per_state.push(
                people
                    .iter()
                    .zip(stories)
                    .filter(|(_, s)| s.has_current())
                    .map(|(b, _)| b)
                    .collect(),
            );
            if without_plan.is_none() {
                without_plan = people
                    .iter()
                    .zip(stories)
                    .find(|(_, s)| !s.has_current())
                    .map(|(b, _)| b);
            }
        }
        let longest = per_state.iter().map(Vec::len).max().unwrap_or(0);
        let with_plan: Vec<&Beneficiary> = (0..longest)
            .flat_map(|round| {
                per_state
                    .iter()
                    .filter_map(move |list| list.get(round).copied())
            })
            .collect();
        self.users = make_users(seed, &with_plan, without_plan)?;
        Ok(())
    }

    /// Rows of `plan_feature`.
    pub fn feature_count(&self) -> usize {
        self.plans.iter().map(|p| p.features.len()).sum()
    }

    /// Rows of `plan_to_zip`.
    pub fn coverage_count(&self) -> usize {
        self.plans.iter().map(|p| p.zips.len()).sum()
    }
}
