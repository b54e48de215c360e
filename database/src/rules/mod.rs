//! Rules of the product that more than one part applies: the generator and
//! the auth-api in Rust, and the site's browser script through the rules
//! asset the generator emits (see `docs/rules.md`). Each rule is written
//! here once; the case tables under `tests/rules/` run against every side.

pub mod drug_shard;
pub mod feature_words;
pub mod password;
pub mod pharmacy;
pub mod plan_id;
pub mod rxcui;
pub mod states;
pub mod username;
pub mod yearly_cost;
pub mod zip;
