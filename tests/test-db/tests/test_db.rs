//! The test-database helper against a real Postgres, and the rule that only
//! tests may depend on it.

use std::process::Command;

use whatever_test_db::TestDatabase;

const INSERT_PLAN: &str = "INSERT INTO plan (plan_id, plan_name, insurer_name, status, \
     avg_monthly_cost, avg_copay_amount, annual_deductible) VALUES ";

#[tokio::test]
async fn each_test_database_is_migrated_and_isolated() {
    let a = TestDatabase::new().await.unwrap();
    let b = TestDatabase::new().await.unwrap();
    assert_ne!(a.config().dbname(), b.config().dbname());
    let ca = a.connect().await.unwrap();
    ca.batch_execute(&format!(
        "{INSERT_PLAN} ('S1', 'n', 'i', 'active', 1, 2, 3)"
    ))
    .await
    .unwrap();
    let cb = b.connect().await.unwrap();
    let count: i64 = cb
        .query_one("SELECT count(*) FROM plan", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0, "databases must not share rows");
}

#[tokio::test]
async fn a_dropped_test_database_is_gone() {
    let db = TestDatabase::new().await.unwrap();
    let name = db.config().dbname().to_string();
    let admin = db.config().with_dbname("postgres").connect().await.unwrap();
    drop(db);
    let left = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap();
    assert!(left.is_none());
}

#[test]
fn only_tests_and_benches_depend_on_this_crate() {
    // `CARGO` is the cargo that runs the tests; fall back to the one on PATH.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The test app is test support too: it may hold a test database as a
    // dependency of its own, so long as it is a dev-dependency everywhere.
    let support = ["whatever-test-db", "whatever-test-app"];
    let mut dev_users = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        if support.contains(&name) {
            continue;
        }
        for dep in package["dependencies"].as_array().unwrap() {
            if support.iter().any(|s| dep["name"] == *s) {
                assert_eq!(
                    dep["kind"], "dev",
                    "{name} depends on {} outside [dev-dependencies]",
                    dep["name"]
                );
                if dep["name"] == "whatever-test-db" {
                    dev_users.push(name.to_string());
                }
            }
        }
    }
    // The crates whose tests need a database; if this list shrinks, the
    // check above is no longer looking at them.
    for expected in ["whatever-database", "generator", "auth-api"] {
        assert!(
            dev_users.iter().any(|u| u == expected),
            "{expected} should take test databases from whatever-test-db; users: {dev_users:?}"
        );
    }
}
