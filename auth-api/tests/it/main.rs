//! The auth-api's integration tests: one binary, one module per subject,
//! each test against the real server (or the real binary) and a fresh
//! Postgres database of its own. docs/testing.md describes the layout.

mod maildev;
mod process_support;

mod account_mail;
mod accounts;
mod anonymous_writes;
mod body_properties;
mod client_networks;
mod enrollment;
mod faults;
mod fulfillment;
mod fulfillment_abuse;
mod hardening;
mod least_privilege;
mod legacy_hashes;
mod lifecycle;
mod login;
mod login_throttle;
mod login_throttle_metric;
mod odd_input;
mod passkeys;
mod password_strength;
mod passwords;
mod production_config;
mod pseudonyms;
mod routing;
mod second_factor;
mod throttle;
mod tokens;
mod transport;
mod usernames;
