//! Tests that need a process to themselves, inside the one test binary.

use std::process::Command;

/// Set in the fresh process that runs one test alone.
const ALONE: &str = "WHATEVER_TEST_ALONE";

/// Whether the calling test, named `test` as the test harness names it
/// (`module::function`), has its process to itself; call it first and
/// return at once if it answers false.
///
/// Some state is process-wide: the metrics recorder (every server in the
/// process records into the one the first server installed), so a test that
/// installs its own or counts from zero cannot share its process.
/// cargo-nextest runs every test in a process of its own, so this answers
/// true there. Under `cargo test`, whose tests share one process, it runs
/// this binary again for `test` alone, checks that the test ran and passed,
/// and answers false: the run in the fresh process was the test.
pub fn in_own_process(test: &str) -> bool {
    if std::env::var_os("NEXTEST_EXECUTION_MODE").is_some_and(|m| m == "process-per-test")
        || std::env::var_os(ALONE).is_some_and(|t| t == test)
    {
        return true;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(binary)
        .args([test, "--exact", "--nocapture"])
        .env(ALONE, test)
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{test}, alone in its process, failed:\n{stdout}\n{stderr}"
    );
    // An unknown name runs nothing and still succeeds.
    assert!(
        stdout.contains("1 passed"),
        "no test {test} ran alone:\n{stdout}"
    );
    false
}
