//! The database crate's integration tests, against a real Postgres: one
//! binary, one module per subject.

mod identity_match;
mod pool;
mod roles;
mod rules;
mod schema;
mod tls;
mod usernames;
