//! The `CHECK`s the migrations put on rule-bound columns, against the same
//! case tables (`tests/rules/`) the Rust rules and the browser's run: a row
//! is stored exactly when the table says its value is valid.

use serde_json::Value;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use whatever_test_db::TestDatabase;

fn table(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/rules")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Whether Postgres stores the row: `false` only for a `CHECK` refusing it,
/// any other error fails the test. A stored row is removed again by
/// `undo`, so every case starts from the same tables.
async fn stored(c: &Client, insert: &str, undo: &str, value: &(dyn ToSql + Sync)) -> bool {
    match c.execute(insert, &[value]).await {
        Ok(1) => {
            c.execute(undo, &[value]).await.unwrap();
            true
        }
        Err(e) if e.code() == Some(&SqlState::CHECK_VIOLATION) => false,
        other => panic!("{insert}: {other:?}"),
    }
}

async fn database() -> (TestDatabase, Client) {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    c.batch_execute(
        "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost, \
             avg_copay_amount, annual_deductible) VALUES ('S1', 'n', 'i', 'active', 1, 2, 3)",
    )
    .await
    .unwrap();
    (db, c)
}

#[tokio::test]
async fn plan_tier_cost_takes_exactly_the_pharmacy_types_of_the_table() {
    let (_db, c) = database().await;
    let cases = table("pharmacies.json");
    let cases = cases["pharmacies"].as_array().unwrap();
    assert!(cases.len() > 10);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let ok = stored(
            &c,
            "INSERT INTO plan_tier_cost VALUES ('S1', 1, $1, 30, 'copay', 1, false)",
            "DELETE FROM plan_tier_cost WHERE pharmacy = $1",
            &text,
        )
        .await;
        assert_eq!(
            ok,
            case["pharmacy"].as_bool().unwrap(),
            "{text:?}: {}",
            case["why"]
        );
    }
}

#[tokio::test]
async fn cost_and_price_rows_take_exactly_the_days_supplies_of_the_table() {
    let (_db, c) = database().await;
    c.batch_execute(
        "INSERT INTO drug (rxcui, name, generic_name, strength, dose_form, is_generic) \
         VALUES ('1', 'n', 'g', '', '', true)",
    )
    .await
    .unwrap();
    let cases = table("pharmacies.json");
    let cases = cases["days_supplies"].as_array().unwrap();
    assert!(cases.len() > 10);
    for case in cases {
        let days = i16::try_from(case["days"].as_i64().unwrap()).unwrap();
        let want = case["supply"].as_bool().unwrap();
        let cost = stored(
            &c,
            "INSERT INTO plan_tier_cost VALUES ('S1', 1, 'mail', $1, 'copay', 1, false)",
            "DELETE FROM plan_tier_cost WHERE days_supply = $1",
            &days,
        )
        .await;
        let price = stored(
            &c,
            "INSERT INTO drug_price VALUES ('1', $1, 10)",
            "DELETE FROM drug_price WHERE days_supply = $1",
            &days,
        )
        .await;
        assert_eq!((cost, price), (want, want), "{days}: {}", case["why"]);
    }
}

#[tokio::test]
async fn drug_takes_exactly_the_rxcuis_of_the_table() {
    let (_db, c) = database().await;
    let cases = table("rxcuis.json");
    let cases = cases.as_array().unwrap();
    assert!(cases.len() > 10);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let ok = stored(
            &c,
            "INSERT INTO drug (rxcui, name, generic_name, strength, dose_form, is_generic) \
             VALUES ($1, 'n', 'g', '', '', true)",
            "DELETE FROM drug WHERE rxcui = $1",
            &text,
        )
        .await;
        assert_eq!(
            ok,
            case["rxcui"].as_bool().unwrap(),
            "{text:?}: {}",
            case["why"]
        );
    }
}

#[tokio::test]
async fn plan_to_zip_takes_exactly_the_zips_of_the_table() {
    let (_db, c) = database().await;
    let cases = table("zips.json");
    let cases = cases.as_array().unwrap();
    assert!(cases.len() > 10);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let ok = stored(
            &c,
            "INSERT INTO plan_to_zip VALUES ('S1', $1)",
            "DELETE FROM plan_to_zip WHERE zip_code = $1",
            &text,
        )
        .await;
        assert_eq!(
            ok,
            case["zip"].as_bool().unwrap(),
            "{text:?}: {}",
            case["why"]
        );
    }
}
