//! What a nightly sync changes is what people see: the next build differs in
//! exactly the pages of what changed, and a signed-in beneficiary sees an
//! enrollment change on the very next API call. On a real Postgres with the
//! seeded sample, the real build and the real auth-api over HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::support::build_in_memory;
use crate::sync_support::{delete, delta_file, upsert};
use generator::seed::SeedArgs;
use generator::sync::{SyncOptions, sync};
use serde_json::{Value, json};
use tokio_postgres::Client as Sql;
use whatever_test_app::{Client, TestApp};
use whatever_test_db::TestDatabase;

/// A fresh database with the seeded sample of one small state.
async fn seeded() -> TestDatabase {
    let db = TestDatabase::new().await.expect("a test database");
    let args = SeedArgs {
        seed: 7,
        states: vec!["RI".into()],
        replace: false,
        cms_out: None,
    };
    generator::seed::seed(&args, db.config())
        .await
        .expect("the RI sample seeds");
    db
}

async fn apply(db: &TestDatabase, lines: &[Value]) {
    let file = delta_file(lines);
    sync(file.path(), db.config(), &SyncOptions::default())
        .await
        .expect("the delta applies");
}

/// A whole row as the delta carries it.
async fn row(client: &Sql, table: &str, filter: &str, id: &str) -> Value {
    let sql = format!("SELECT row_to_json(t)::jsonb FROM {table} t WHERE {filter} = $1");
    client.query_one(&sql, &[&id]).await.unwrap().get(0)
}

/// The first column of every row, as text.
async fn strings(
    client: &Sql,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Vec<String> {
    let rows = client.query(sql, params).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

async fn zips_of(client: &Sql, plan_id: &str) -> Vec<String> {
    let sql = "SELECT zip_code FROM plan_to_zip WHERE plan_id = $1 ORDER BY zip_code";
    strings(client, sql, &[&plan_id]).await
}

/// Zips where some active plan other than `except` is sold.
async fn zips_still_served(client: &Sql, zips: &[String], except: &str) -> BTreeSet<String> {
    let sql = "SELECT DISTINCT pz.zip_code FROM plan_to_zip pz JOIN plan p USING (plan_id)
                WHERE pz.zip_code = ANY($1) AND p.status = 'active' AND p.plan_id <> $2";
    strings(client, sql, &[&zips, &except])
        .await
        .into_iter()
        .collect()
}

fn plan_pages(id: &str) -> [String; 2] {
    [
        format!("plans/{id}/index.html"),
        format!("data/plans/{id}.json"),
    ]
}

/// What the drug-cost estimate reads of a plan (premium, deductible,
/// formulary, cost sharing): it changes with the price, not with features.
fn drug_plan_file(id: &str) -> String {
    format!("data/drugs/plans/{id}.json")
}

fn zip_pages(zip: &str) -> [String; 2] {
    [
        format!("zip/{zip}/index.html"),
        format!("data/zip/{zip}.json"),
    ]
}

/// Keys added, removed and changed between two builds.
fn diff(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let added = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let changed = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k.clone())
        .collect();
    (added, removed, changed)
}

#[tokio::test]
async fn sync_then_build_differs_in_exactly_the_changed_pages() {
    let db = seeded().await;
    let client = db.connect().await.unwrap();
    // Three active plans each sold in a few zips, each changed one way.
    let picks = strings(
        &client,
        "SELECT plan_id FROM plan p WHERE status = 'active'
            AND EXISTS (SELECT 1 FROM plan_to_zip z WHERE z.plan_id = p.plan_id)
          ORDER BY plan_id LIMIT 3",
        &[],
    )
    .await;
    let [repriced, featured, retired] = <[String; 3]>::try_from(picks).unwrap();
    let before = build_in_memory(&db).await;

    let mut price = row(&client, "plan", "plan_id", &repriced).await;
    price["avg_monthly_cost"] = json!(123.45);
    let mut retire = row(&client, "plan", "plan_id", &retired).await;
    retire["status"] = json!("inactive");
    // The featured plan also leaves one of its zips.
    let featured_zips = zips_of(&client, &featured).await;
    let left_zip = featured_zips[0].clone();
    apply(
        &db,
        &[
            upsert("plan", price),
            upsert(
                "plan_feature",
                json!({"plan_id": featured, "feature_key": "sync_test_benefit",
                       "feature_value": "<b>new</b> & improved"}),
            ),
            delete(
                "plan_to_zip",
                json!({"plan_id": featured, "zip_code": left_zip}),
            ),
            upsert("plan", retire),
        ],
    )
    .await;
    let after = build_in_memory(&db).await;
    let (added, removed, changed) = diff(&before, &after);

    // Every page that shows a changed plan, and nothing else.
    let mut expected_changed = BTreeSet::new();
    expected_changed.insert(drug_plan_file(&repriced));
    for id in [&repriced, &featured] {
        expected_changed.extend(plan_pages(id));
        for zip in zips_of(&client, id).await {
            expected_changed.extend(zip_pages(&zip));
        }
    }
    // The zip the featured plan left, and the zips of the retired plan,
    // change if some other plan is still sold there and vanish if not.
    let retired_zips = zips_of(&client, &retired).await;
    let mut touched: Vec<String> = retired_zips.clone();
    touched.push(left_zip.clone());
    let mut expected_removed: BTreeSet<String> = plan_pages(&retired).into_iter().collect();
    expected_removed.insert(drug_plan_file(&retired));
    let served = zips_still_served(&client, &touched, &retired).await;
    for zip in &touched {
        if served.contains(zip) {
            expected_changed.extend(zip_pages(zip));
        } else {
            expected_removed.extend(zip_pages(zip));
        }
    }
    assert_eq!(added, BTreeSet::new(), "nothing new was added");
    assert_eq!(removed, expected_removed);
    assert_eq!(changed, expected_changed);
    // Statewide plans sit on every zip page, so those may all change; the
    // pages of every other plan may not.
    let untouched_plans = before
        .keys()
        .filter(|k| k.starts_with("plans/") && !changed.contains(*k) && !removed.contains(*k))
        .count();
    assert!(
        untouched_plans > 10,
        "only {untouched_plans} plan pages kept"
    );

    // And the new content is what the delta said.
    let plan_json: Value =
        serde_json::from_slice(&after[&format!("data/plans/{repriced}.json")]).unwrap();
    assert_eq!(plan_json["avg_monthly_cost"], json!(123.45));
    let page = String::from_utf8(after[&format!("plans/{featured}/index.html")].clone()).unwrap();
    assert!(
        page.contains("&#60;b&#62;new&#60;/b&#62; &#38; improved"),
        "the new feature value, escaped"
    );
    assert!(!page.contains("<b>new</b>"));
    if served.contains(&left_zip) {
        let zip_json: Value =
            serde_json::from_slice(&after[&format!("data/zip/{left_zip}.json")]).unwrap();
        assert!(
            zip_json["plans"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["plan_id"] != json!(featured))
        );
    }
}

/// `GET /api/me/enrollment` as `user`, which must answer 200.
async fn enrollment(user: &Client) -> Value {
    let (status, body) = user.get_json("/api/me/enrollment").await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn an_enrollment_change_is_visible_at_the_api_right_after_sync() {
    let db = Arc::new(seeded().await);
    let client = db.connect().await.unwrap();
    let app = TestApp::start_on(db.clone(), |_| {}).await;
    let user = app
        .sign_in("demo01", generator::seed::users::DEMO_PASSWORD)
        .await;

    let first = enrollment(&user).await;
    let old_plan = first["current_plan"]["plan_id"]
        .as_str()
        .expect("demo01 has a current plan")
        .to_string();
    // The answer names no beneficiary id (the pages do not need it).
    let beneficiary: i64 = client
        .query_one(
            r#"SELECT beneficiary_id FROM "user" WHERE username = 'demo01'"#,
            &[],
        )
        .await
        .unwrap()
        .get(0);

    // A night that reprices the plan demo01 holds: the next call shows the
    // new price.
    let mut repriced = row(&client, "plan", "plan_id", &old_plan).await;
    repriced["avg_monthly_cost"] = json!(77.77);
    apply(&db, &[upsert("plan", repriced)]).await;
    let second = enrollment(&user).await;
    assert_eq!(second["current_plan"]["plan_id"], json!(old_plan));
    assert_eq!(second["current_plan"]["avg_monthly_cost"], json!(77.77));

    // A night that switches demo01 to another plan from today: the old
    // enrollment ends yesterday, the new one starts today.
    let new_plan: String = client
        .query_one(
            "SELECT plan_id FROM plan WHERE status = 'active' AND plan_id <> $1
              ORDER BY plan_id LIMIT 1",
            &[&old_plan],
        )
        .await
        .unwrap()
        .get(0);
    let current: Value = client
        .query_one(
            "SELECT row_to_json(t)::jsonb FROM beneficiary_to_plan t
              WHERE beneficiary_id = $1 AND plan_id = $2
              ORDER BY start_date DESC LIMIT 1",
            &[&beneficiary, &old_plan],
        )
        .await
        .unwrap()
        .get(0);
    let dates = client
        .query_one("SELECT (CURRENT_DATE - 1)::text, CURRENT_DATE::text", &[])
        .await
        .unwrap();
    let (yesterday, today): (String, String) = (dates.get(0), dates.get(1));
    let mut ended = current.clone();
    ended["end_date"] = json!(yesterday);
    apply(
        &db,
        &[
            upsert("beneficiary_to_plan", ended),
            upsert(
                "beneficiary_to_plan",
                json!({"beneficiary_id": beneficiary, "plan_id": new_plan,
                       "start_date": today, "end_date": null}),
            ),
        ],
    )
    .await;

    let third = enrollment(&user).await;
    assert_eq!(third["current_plan"]["plan_id"], json!(new_plan), "{third}");
    let history = third["history"].as_array().unwrap();
    assert_eq!(history[0]["plan_id"], json!(new_plan));
    assert_eq!(history[0]["status"], "current");
    let old_row = history
        .iter()
        .find(|r| r["plan_id"] == json!(old_plan) && r["start_date"] == current["start_date"])
        .expect("the old enrollment stays in the history");
    assert_eq!(old_row["end_date"], json!(yesterday));
    assert_eq!(old_row["status"], "ended");
    app.shutdown().await;
}
