//! The generator's integration tests, one binary: each module is what was
//! once a test file of its own, and they link once instead of once each.
//! cargo-nextest runs every test in a process of its own, so the tests that
//! stop a private Postgres or kill the binary share it safely.
//!
//! Shared by several modules: [`support`] (site fixtures), [`sync_support`]
//! (delta lines and table queries), [`publish_support`] (moto_server and the
//! SDK clients) and [`drug_support`] (the published drug JSON read back).

mod drug_support;
mod publish_support;
mod support;
mod sync_support;

mod build_properties;
mod delta_properties;
mod drug_estimate_agreement;
mod drug_estimate_cases;
mod faults;
mod import_cms;
mod import_cms_properties;
mod publish_cli;
mod publish_db;
mod publish_s3;
mod rules;
mod seed;
mod serve;
mod site_build;
mod sync;
mod sync_cli;
mod sync_drugs;
mod sync_nightly;
mod sync_visible;
