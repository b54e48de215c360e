//! The `fake-fulfillment` binary.

fn main() {}
