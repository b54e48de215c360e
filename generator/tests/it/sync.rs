//! `generator::sync` against a real Postgres: a fresh database per test.

use crate::sync_support::*;
use generator::sync::{Pace, SyncOptions, TableCounts, sync};
use serde_json::json;
use whatever_test_db::TestDatabase;

async fn apply(
    db: &TestDatabase,
    file: &tempfile::NamedTempFile,
) -> generator::Result<generator::sync::SyncReport> {
    sync(file.path(), db.config(), &SyncOptions::default()).await
}

#[tokio::test]
async fn every_operation_on_every_table_is_applied() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let file = delta_file(&[
        upsert("plan", plan_row("S1", "One renamed", 11.25)),
        upsert("plan", plan_row("S3", "Three", 30.0)),
        upsert("plan", plan_row("S2", "Two", 20.0)), // identical: unchanged
        upsert(
            "plan_feature",
            json!({"plan_id": "S1", "feature_key": "mail_order", "feature_value": "no"}),
        ),
        upsert(
            "plan_feature",
            json!({"plan_id": "S3", "feature_key": "tier", "feature_value": null}),
        ),
        upsert("plan_to_zip", json!({"plan_id": "S3", "zip_code": "00501"})),
        upsert("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02134"})), // already there
        delete("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02135"})),
        delete(
            "plan_feature",
            json!({"plan_id": "S2", "feature_key": "mail_order"}),
        ),
        upsert("beneficiary", beneficiary_row(1, "Anne")),
        upsert("beneficiary", beneficiary_row(2, "Bob")),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 1, "plan_id": "S1", "start_date": "2025-01-01", "end_date": "2025-12-31"}),
        ),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 1, "plan_id": "S3", "start_date": "2026-01-01", "end_date": null}),
        ),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 2, "plan_id": "S3", "start_date": "2026-01-01", "end_date": null}),
        ),
        delete(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 2, "plan_id": "S3", "start_date": "2026-01-01"}),
        ),
        upsert("beneficiary", beneficiary_row(3, "Cy")),
        delete("beneficiary", json!({"beneficiary_id": 3})),
        delete("beneficiary", json!({"beneficiary_id": 2})),
        delete("plan", json!({"plan_id": "S2"})),
    ]);
    let report = apply(&db, &file).await.unwrap();

    assert!(!report.already_applied);
    assert_eq!((report.lines, report.operations), (19, 19));
    assert_eq!(report.sha256.len(), 64);
    // S2's zip 02134 goes with S2 (cascade); its feature by its own line.
    assert_eq!(report.table("plan"), counts(1, 1, 1, 0));
    assert_eq!(report.table("plan_feature"), counts(1, 1, 1, 0));
    assert_eq!(report.table("plan_to_zip"), counts(1, 0, 2, 1));
    // Beneficiary 2 is upserted, then deleted: net nothing; 3 likewise.
    assert_eq!(report.table("beneficiary"), counts(0, 1, 0, 0));
    assert_eq!(report.table("beneficiary_to_plan"), counts(1, 1, 0, 0));

    assert_eq!(
        rows(
            &c,
            "SELECT plan_id, plan_name, avg_monthly_cost::text AS m FROM plan"
        )
        .await,
        [
            r#"{"plan_id":"S1","plan_name":"One renamed","m":"11.25"}"#,
            r#"{"plan_id":"S3","plan_name":"Three","m":"30.00"}"#,
        ]
    );
    assert_eq!(
        rows(&c, "SELECT * FROM plan_feature").await,
        [
            r#"{"plan_id":"S1","feature_key":"mail_order","feature_value":"no"}"#,
            r#"{"plan_id":"S3","feature_key":"tier","feature_value":null}"#,
        ]
    );
    assert_eq!(
        rows(&c, "SELECT * FROM plan_to_zip").await,
        [
            r#"{"plan_id":"S1","zip_code":"02134"}"#,
            r#"{"plan_id":"S3","zip_code":"00501"}"#,
        ]
    );
    assert_eq!(
        rows(&c, "SELECT beneficiary_id, fname FROM beneficiary").await,
        [r#"{"beneficiary_id":1,"fname":"Anne"}"#]
    );
    assert_eq!(
        rows(&c, "SELECT * FROM beneficiary_to_plan").await,
        [
            r#"{"beneficiary_id":1,"plan_id":"S1","start_date":"2025-01-01","end_date":"2025-12-31"}"#,
            r#"{"beneficiary_id":1,"plan_id":"S3","start_date":"2026-01-01","end_date":null}"#,
        ]
    );
    let recorded: i64 = c
        .query_one(
            "SELECT count(*) FROM applied_delta WHERE sha256 = $1 AND lines = 19
               AND summary -> 'plan' ->> 'inserted' = '1'",
            &[&report.sha256],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn the_same_file_twice_changes_nothing_the_second_time_and_says_so() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let file = delta_file(&[
        upsert("plan", plan_row("S9", "Nine", 9.0)),
        delete("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02135"})),
    ]);
    let first = apply(&db, &file).await.unwrap();
    assert_eq!(first.table("plan").inserted, 1);
    // Change a row by hand: a real second apply would overwrite it.
    c.batch_execute("UPDATE plan SET plan_name = 'edited' WHERE plan_id = 'S9'")
        .await
        .unwrap();
    let before = snapshot(&c).await;

    let second = apply(&db, &file).await.unwrap();
    assert!(second.already_applied);
    assert_eq!(second.sha256, first.sha256);
    assert_eq!(second.applied_at, first.applied_at);
    assert!(second.tables.values().all(|t| *t == TableCounts::default()));
    assert_eq!(snapshot(&c).await, before);
    let recorded: i64 = c
        .query_one("SELECT count(*) FROM applied_delta", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn a_malformed_line_in_the_middle_changes_nothing_and_is_named() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let before = snapshot(&c).await;
    let good = upsert("plan", plan_row("S7", "Seven", 7.0)).to_string();
    let bad_money = upsert("plan", plan_row("S8", "Eight", 8.125)).to_string();
    let text = format!("{good}\n{good}\n{{\"op\":\"upsert\",\n{good}\n{bad_money}\n{good}\n");
    let file = delta_text(&text);

    let (lines, message) = rejected(apply(&db, &file).await);
    assert_eq!(lines, [3, 5], "{message}");
    assert!(message.contains("line 3: not valid JSON"), "{message}");
    assert!(
        message.contains(
            "line 5: plan.avg_monthly_cost: expected a number of dollars with at most 2 decimals"
        ),
        "{message}"
    );
    assert!(message.contains("nothing applied"), "{message}");
    assert_eq!(snapshot(&c).await, before);
    let recorded: i64 = c
        .query_one("SELECT count(*) FROM applied_delta", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        recorded, 0,
        "a rejected file is not recorded, so a fixed one can run"
    );
}

#[tokio::test]
async fn references_to_missing_plans_and_beneficiaries_are_rejected_with_their_lines() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let before = snapshot(&c).await;
    let file = delta_file(&[
        upsert("plan", plan_row("S5", "Five", 5.0)),
        upsert("plan_to_zip", json!({"plan_id": "S5", "zip_code": "10001"})), // fine: upserted above
        upsert(
            "plan_feature",
            json!({"plan_id": "S6", "feature_key": "k", "feature_value": "v"}),
        ), // created below: fine
        upsert(
            "plan_to_zip",
            json!({"plan_id": "NOPE", "zip_code": "10001"}),
        ),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id": 99, "plan_id": "S5", "start_date": "2026-01-01", "end_date": null}),
        ),
        upsert("plan", plan_row("S6", "Six", 6.0)),
        delete("plan", json!({"plan_id": "S2"})),
        upsert(
            "plan_feature",
            json!({"plan_id": "S2", "feature_key": "k", "feature_value": "v"}),
        ),
        delete("plan", json!({"plan_id": "S1"})), // beneficiary 1 is still enrolled in S1
    ]);
    let (lines, message) = rejected(apply(&db, &file).await);
    assert_eq!(lines, [4, 5, 8, 9], "{message}");
    assert!(message.contains(r#"line 4: plan_to_zip row points at plan "NOPE", which is neither in the database nor upserted by this delta"#), "{message}");
    assert!(
        message.contains(r#"line 5: beneficiary_to_plan row points at beneficiary "99""#),
        "{message}"
    );
    assert!(
        message.contains(
            r#"line 8: plan_feature row points at plan "S2", which this delta deletes at line 7"#
        ),
        "{message}"
    );
    assert!(
        message.contains(
            r#"line 9: deletes plan "S1", but 1 beneficiary_to_plan row(s) still point at it"#
        ),
        "{message}"
    );
    assert_eq!(snapshot(&c).await, before);
}

#[tokio::test]
async fn the_last_operation_on_a_key_wins() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let file = delta_file(&[
        // upsert then delete: gone
        upsert("plan_to_zip", json!({"plan_id": "S2", "zip_code": "99501"})),
        delete("plan_to_zip", json!({"plan_id": "S2", "zip_code": "99501"})),
        // delete then upsert: there, with the last values
        delete(
            "plan_feature",
            json!({"plan_id": "S1", "feature_key": "mail_order"}),
        ),
        upsert(
            "plan_feature",
            json!({"plan_id": "S1", "feature_key": "mail_order", "feature_value": "first"}),
        ),
        upsert(
            "plan_feature",
            json!({"plan_id": "S1", "feature_key": "mail_order", "feature_value": "last"}),
        ),
        // an existing row deleted then re-created: same values, so unchanged
        delete("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02135"})),
        upsert("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02135"})),
        // several upserts of one plan: the last one counts
        upsert("plan", plan_row("S4", "Four v1", 4.0)),
        upsert("plan", plan_row("S4", "Four v2", 4.5)),
    ]);
    let report = apply(&db, &file).await.unwrap();
    assert_eq!(report.table("plan_to_zip"), counts(0, 0, 0, 1));
    assert_eq!(report.table("plan_feature"), counts(0, 1, 0, 0));
    assert_eq!(report.table("plan"), counts(1, 0, 0, 0));
    assert_eq!(
        rows(&c, "SELECT * FROM plan_to_zip").await,
        [
            r#"{"plan_id":"S1","zip_code":"02134"}"#,
            r#"{"plan_id":"S1","zip_code":"02135"}"#,
            r#"{"plan_id":"S2","zip_code":"02134"}"#,
        ]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT feature_value FROM plan_feature WHERE plan_id = 'S1'"
        )
        .await,
        [r#"{"feature_value":"last"}"#]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT plan_name, avg_monthly_cost::text AS m FROM plan WHERE plan_id = 'S4'"
        )
        .await,
        [r#"{"plan_name":"Four v2","m":"4.50"}"#]
    );
}

#[tokio::test]
async fn deleting_a_plan_takes_its_features_and_zips_along_in_file_order() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let file = delta_file(&[
        upsert("plan_to_zip", json!({"plan_id": "S2", "zip_code": "11111"})), // undone by line 2
        delete("plan", json!({"plan_id": "S2"})),
        upsert("plan", plan_row("S2", "Two again", 22.0)),
        upsert("plan_to_zip", json!({"plan_id": "S2", "zip_code": "22222"})), // after: kept
    ]);
    let report = apply(&db, &file).await.unwrap();
    // The old zip and feature went with the delete; the plan row itself was
    // re-created, which reads as an update of the existing row.
    assert_eq!(report.table("plan_to_zip"), counts(1, 0, 1, 0));
    assert_eq!(report.table("plan_feature"), counts(0, 0, 1, 0));
    assert_eq!(report.table("plan"), counts(0, 1, 0, 0));
    assert_eq!(
        rows(&c, "SELECT * FROM plan_to_zip WHERE plan_id = 'S2'").await,
        [r#"{"plan_id":"S2","zip_code":"22222"}"#]
    );
    assert!(
        rows(&c, "SELECT * FROM plan_feature WHERE plan_id = 'S2'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn hostile_strings_survive_staging_intact() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    let nasty = [
        "quote \" and 'single' and <b>&amp;</b>",
        "back\\slash \\\\ two and trailing \\",
        "tab\there\tand\ttabs",
        "new\nline and\r\ncarriage",
        "\\N",
        "\\.",
        "emoji 😀🇺🇸 and accents éñ and 漢字",
        "",
    ];
    // Plan ids follow the site's rule; a feature key still carries what COPY escapes.
    let mut lines = vec![upsert("plan", plan_row("SN1", nasty[0], 1.0))];
    for (i, s) in nasty.iter().enumerate() {
        lines.push(upsert(
            "plan_feature",
            json!({"plan_id": "SN1", "feature_key": format!("\\N\tk{i}"), "feature_value": s}),
        ));
    }
    let mut ben = beneficiary_row(5, nasty[3]);
    ben["address"] = json!(nasty[1]);
    ben["city"] = json!(nasty[4]);
    lines.push(upsert("beneficiary", ben));
    apply(&db, &delta_file(&lines)).await.unwrap();

    for (i, s) in nasty.iter().enumerate() {
        let got: Option<String> = c
            .query_one(
                "SELECT feature_value FROM plan_feature WHERE plan_id = $1 AND feature_key = $2",
                &[&"SN1", &format!("\\N\tk{i}")],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(got.as_deref(), Some(*s), "feature k{i}");
    }
    let plan_name: String = c
        .query_one("SELECT plan_name FROM plan WHERE plan_id = $1", &[&"SN1"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(plan_name, nasty[0]);
    let row = c
        .query_one(
            "SELECT fname, address, city FROM beneficiary WHERE beneficiary_id = 5",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), nasty[3]);
    assert_eq!(row.get::<_, String>(1), nasty[1]);
    assert_eq!(row.get::<_, String>(2), nasty[4]);
}

#[tokio::test]
async fn an_empty_delta_is_applied_and_recorded() {
    let db = TestDatabase::new().await.unwrap();
    let report = apply(&db, &delta_text("\n")).await.unwrap();
    assert_eq!((report.lines, report.operations), (1, 0));
    assert!(report.tables.values().all(|t| *t == TableCounts::default()));
}

#[tokio::test]
async fn a_missing_file_is_an_error_naming_it() {
    let db = TestDatabase::new().await.unwrap();
    let err = sync(
        std::path::Path::new("/nonexistent/delta.jsonl"),
        db.config(),
        &SyncOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/delta.jsonl"),
        "{err}"
    );
}

#[tokio::test]
async fn the_tables_a_sync_changed_get_fresh_planner_statistics() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let analyzed = |table: &'static str| {
        let c = &c;
        async move {
            let row = c
                .query_one(
                    "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = $1",
                    &[&table],
                )
                .await
                .unwrap();
            row.get::<_, bool>(0)
        }
    };
    assert!(!analyzed("plan").await && !analyzed("beneficiary").await);

    // Only plan rows change: only plan is analyzed.
    let file = delta_file(&[upsert("plan", plan_row("S1", "One renamed", 11.25))]);
    apply(&db, &file).await.unwrap();
    // The statistics collector reports with a short delay.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !analyzed("plan").await {
        assert!(
            std::time::Instant::now() < deadline,
            "plan was not analyzed after the sync"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !analyzed("beneficiary").await,
        "an untouched table is left alone"
    );
}

/// A delta that adds `n` plans, N0000 onwards.
fn new_plans(n: usize) -> tempfile::NamedTempFile {
    let lines: Vec<_> = (0..n)
        .map(|i| upsert("plan", plan_row(&format!("N{i:04}"), "New", 10.0)))
        .collect();
    delta_file(&lines)
}

#[tokio::test]
async fn the_new_statistics_commit_with_the_rows_they_describe() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let before: i64 = c
        .query_one("SELECT count(*) FROM plan", &[])
        .await
        .unwrap()
        .get(0);
    apply(&db, &new_plans(300)).await.unwrap();

    // Sampled inside the sync's transaction, so they count its own rows: a
    // table this small is read whole, and the count is exact.
    let reltuples: f32 = c
        .query_one("SELECT reltuples FROM pg_class WHERE relname = 'plan'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(reltuples as i64, before + 300);
}

#[tokio::test]
async fn a_sync_refreshes_the_statistics_of_lookup_columns_only() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    apply(&db, &new_plans(300)).await.unwrap();

    // Names, descriptions and prices wait for autovacuum: computing their
    // statistics was most of the sync's ANALYZE.
    assert_eq!(
        rows(
            &c,
            "SELECT attname FROM pg_stats WHERE tablename = 'plan' ORDER BY attname"
        )
        .await,
        [
            r#"{"attname":"formulary_id"}"#,
            r#"{"attname":"plan_id"}"#,
            r#"{"attname":"status"}"#
        ]
    );
}

/// Two hundred lines of every kind, in an order where file order matters:
/// plans deleted after their features and zips were upserted (the cascade),
/// some upserted again afterwards, zips deleted and re-added, beneficiaries
/// deleted after enrolling, and rows of the baseline deleted.
fn churn() -> tempfile::NamedTempFile {
    let mut lines = Vec::new();
    for i in 0..24 {
        let plan = format!("P{i:02}");
        lines.push(upsert("plan", plan_row(&plan, "Churn", 10.0 + i as f64)));
        for f in 0..3 {
            lines.push(upsert(
                "plan_feature",
                json!({"plan_id": plan, "feature_key": format!("f{f}"), "feature_value": "x"}),
            ));
        }
        for z in 0..4 {
            let zip = format!("{:05}", 1000 + i * 10 + z);
            lines.push(upsert(
                "plan_to_zip",
                json!({"plan_id": plan, "zip_code": zip}),
            ));
        }
        if i % 2 == 0 {
            lines.push(upsert("beneficiary", beneficiary_row(i, "Churn")));
            lines.push(upsert(
                "beneficiary_to_plan",
                json!({"beneficiary_id": i, "plan_id": plan, "start_date": "2026-01-01", "end_date": null}),
            ));
        }
    }
    for i in (1..24).step_by(4) {
        lines.push(delete("plan", json!({"plan_id": format!("P{i:02}")})));
    }
    for i in (0..24).step_by(6) {
        let zip = format!("{:05}", 1000 + i * 10);
        lines.push(delete(
            "plan_to_zip",
            json!({"plan_id": format!("P{i:02}"), "zip_code": zip}),
        ));
        lines.push(delete("beneficiary", json!({"beneficiary_id": i})));
    }
    // Rows the baseline has: S2 with its feature and zips, and beneficiary
    // 1 with its enrollment.
    lines.push(delete("plan", json!({"plan_id": "S2"})));
    lines.push(delete("beneficiary", json!({"beneficiary_id": 1})));
    for i in (1..24).step_by(8) {
        let plan = format!("P{i:02}");
        lines.push(upsert("plan", plan_row(&plan, "Back", 1.0)));
        lines.push(upsert(
            "plan_to_zip",
            json!({"plan_id": plan, "zip_code": "99999"}),
        ));
    }
    delta_file(&lines)
}

#[tokio::test]
async fn batches_and_rests_change_how_the_delta_is_applied_not_what() {
    // In batches of a few rows, every statement of the apply runs many
    // times; resting half the time keeps the transaction open in between.
    let delta = churn();
    let mut outcomes = Vec::new();
    for pace in [Pace::FLAT_OUT, Pace::percent(50).with_batch_rows(7)] {
        let db = TestDatabase::new().await.unwrap();
        let c = db.connect().await.unwrap();
        baseline(&c).await;
        let options = SyncOptions {
            pace,
            ..SyncOptions::default()
        };
        let report = sync(delta.path(), db.config(), &options).await.unwrap();
        outcomes.push((report.tables, snapshot(&c).await));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let (tables, rows) = &outcomes[0];
    // 24 plans, less the three whose last line deletes them; S2 deleted.
    assert_eq!(tables["plan"], counts(21, 0, 1, 0));
    // 12 beneficiaries, less 4 deleted in the file; beneficiary 1 deleted.
    assert_eq!(tables["beneficiary"], counts(8, 0, 1, 0));
    assert!(rows.contains(&r#"plan_to_zip: {"plan_id":"P09","zip_code":"99999"}"#.to_string()));
    assert!(
        !rows.iter().any(|r| r.contains(r#""plan_id":"P05""#)),
        "a deleted plan and its rows are gone"
    );
}
