//! Rebuilds this crate when a migration is added or edited: the SQL files are
//! embedded at compile time, and cargo does not watch them on its own.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
