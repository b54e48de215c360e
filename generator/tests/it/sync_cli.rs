//! `generator sync` as the nightly job runs it: the binary, DATABASE_URL,
//! a JSON line on stdout, a non-zero exit and a message on failure.

use std::process::{Command, Output};

use crate::sync_support::*;
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

fn generator(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_generator"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "info")
        .output()
        .expect("the generator binary runs")
}

fn summary(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line on stdout, got {stdout:?}");
    serde_json::from_str(lines[0]).expect("the summary is JSON")
}

#[tokio::test]
async fn sync_prints_a_summary_and_a_second_run_says_it_was_already_applied() {
    let db = TestDatabase::new().await.unwrap();
    let file = delta_file(&[
        upsert("plan", plan_row("S1", "One", 10.0)),
        upsert("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02134"})),
        upsert("beneficiary", beneficiary_row(1, "Ann")),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 1, "plan_id": "S1", "start_date": "2025-01-01", "end_date": null}),
        ),
    ]);
    let path = file.path().to_str().unwrap();

    let first = generator(&db, &["sync", path]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let s = summary(&first);
    assert_eq!(s["already_applied"], false);
    assert_eq!(s["operations"], 4);
    assert_eq!(s["tables"]["plan"]["inserted"], 1);
    assert_eq!(s["tables"]["plan_to_zip"]["inserted"], 1);
    assert_eq!(s["tables"]["beneficiary_to_plan"]["inserted"], 1);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("sync phase done"), "{stderr}");
    assert!(stderr.contains("committed"), "{stderr}");
    // The report's one copy is the line on stdout; the log does not repeat
    // its counts.
    assert!(!stderr.contains("inserted"), "{stderr}");
    assert!(
        !stderr.contains("123-45-6789"),
        "the SSN never reaches a log"
    );

    let second = generator(&db, &["sync", path]);
    assert!(second.status.success());
    let s2 = summary(&second);
    assert_eq!(s2["already_applied"], true);
    assert_eq!(s2["sha256"], s["sha256"]);
    assert_eq!(s2["tables"]["plan"]["inserted"], 0);
    assert!(String::from_utf8_lossy(&second.stderr).contains("already applied"));
}

#[tokio::test]
async fn a_bad_delta_exits_non_zero_naming_the_line_and_prints_no_summary() {
    let db = TestDatabase::new().await.unwrap();
    let good = upsert("plan", plan_row("S1", "One", 10.0)).to_string();
    let file = delta_text(&format!(
        "{good}\n{{\"op\":\"upsert\",\"table\":\"plan_to_zip\",\"row\":{{\"plan_id\":\"S1\",\"zip_code\":\"2134\"}}}}\n"
    ));
    let out = generator(&db, &["sync", file.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: plan_to_zip.zip_code: expected 5 digits as a string"),
        "{stderr}"
    );
    let c = db.connect().await.unwrap();
    let plans: i64 = c
        .query_one("SELECT count(*) FROM plan", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(plans, 0, "line 1 was valid but nothing is applied");
}

#[tokio::test]
async fn help_explains_the_delta_argument() {
    let db = TestDatabase::new().await.unwrap();
    let out = generator(&db, &["sync", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DELTA") && text.contains("JSON Lines"),
        "{text}"
    );
    assert!(text.contains("--lock-timeout-ms"), "{text}");
    assert!(
        text.contains("--db-share <PERCENT>") && text.contains("[default: 100]"),
        "{text}"
    );
}

#[tokio::test]
async fn a_db_share_outside_1_to_100_is_refused_before_anything_runs() {
    let db = TestDatabase::new().await.unwrap();
    let file = delta_file(&[upsert("plan", plan_row("S1", "One", 10.0))]);
    let path = file.path().to_str().unwrap();
    for share in ["0", "101", "half"] {
        let out = generator(&db, &["sync", "--db-share", share, path]);
        assert_eq!(out.status.code(), Some(2), "--db-share {share}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--db-share"), "{stderr}");
    }
    let c = db.connect().await.unwrap();
    assert_eq!(
        rows(&c, "SELECT plan_id FROM plan").await,
        Vec::<String>::new()
    );

    let paced = generator(&db, &["sync", "--db-share", "30", path]);
    assert!(
        paced.status.success(),
        "{}",
        String::from_utf8_lossy(&paced.stderr)
    );
    assert_eq!(summary(&paced)["tables"]["plan"]["inserted"], 1);
}

#[tokio::test]
async fn a_plan_id_the_site_cannot_publish_is_refused_by_line_and_nothing_applied() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let before = snapshot(&c).await;
    let long_id = "S".repeat(10_000);
    let file = delta_file(&[
        upsert("plan", plan_row("S3", "Three", 30.0)),
        upsert("plan", plan_row(&long_id, "Long", 10.0)),
        upsert("plan", plan_row("S5601.012", "Dotted", 10.0)),
        upsert(
            "plan_feature",
            json!({"plan_id": "../x", "feature_key": "k", "feature_value": "v"}),
        ),
        // A delete may name any id: that is how a row from before the rule goes.
        delete("plan", json!({"plan_id": "old/../id"})),
    ]);
    let out = generator(&db, &["sync", file.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (line, column) in [
        (2, "plan.plan_id"),
        (3, "plan.plan_id"),
        (4, "plan_feature.plan_id"),
    ] {
        let expected = format!("line {line}: {column}: expected a plan id the site can publish");
        assert!(stderr.contains(&expected), "{expected} in {stderr}");
    }
    assert!(stderr.contains("(10000 characters)"), "{stderr}");
    assert!(
        !stderr.contains("line 1:") && !stderr.contains("line 5:"),
        "{stderr}"
    );
    // The message, not a backtrace that RUST_BACKTRACE may add after it.
    let message = stderr.lines().find(|l| l.starts_with("Error:")).unwrap();
    assert!(message.len() < 5_000, "the long id is cut short: {message}");
    assert_eq!(snapshot(&c).await, before, "nothing is applied");
}
