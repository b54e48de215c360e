//! How the property tests run: a fixed seed, so a failure in CI is the same
//! failure on a laptop, and a modest number of cases, so the suite stays
//! fast. `PROPTEST_CASES=5000` runs more (the seed stays fixed;
//! `PROPTEST_SEED=N` picks another).

use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Cases per property when `PROPTEST_CASES` is not set.
pub const DEFAULT_CASES: u32 = 64;

/// A runner with `PROPTEST_CASES` (default [`DEFAULT_CASES`]) cases, a
/// deterministic generator seeded by `PROPTEST_SEED` (default 0), no
/// shrinking beyond a few hundred steps and no persistence files.
pub fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let seed: u64 = std::env::var("PROPTEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let config = Config {
        cases,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}
