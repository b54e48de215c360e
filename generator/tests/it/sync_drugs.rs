//! `generator sync` of the drug-coverage tables against a real Postgres.

use crate::sync_support::*;
use generator::sync::{SyncOptions, sync};
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

async fn apply(
    db: &TestDatabase,
    lines: &[Value],
) -> generator::Result<generator::sync::SyncReport> {
    let file = delta_file(lines);
    sync(file.path(), db.config(), &SyncOptions::default()).await
}

fn drug(rxcui: &str, name: &str, insulin: bool) -> Value {
    json!({
        "rxcui": rxcui, "name": name, "generic_name": name.to_lowercase(),
        "strength": "10 MG", "dose_form": "Oral Tablet", "is_generic": !insulin,
        "is_insulin": insulin
    })
}

fn on_formulary(formulary: &str, rxcui: &str, tier: i64) -> Value {
    json!({
        "formulary_id": formulary, "rxcui": rxcui, "tier": tier,
        "prior_authorization": false, "step_therapy": tier > 3,
        "quantity_limit_amount": null, "quantity_limit_days": null
    })
}

fn tier_cost(plan: &str, tier: i64, pharmacy: &str, days: i64, amount: f64) -> Value {
    json!({
        "plan_id": plan, "tier": tier, "pharmacy": pharmacy, "days_supply": days,
        "cost_type": if tier >= 4 { "coinsurance" } else { "copay" },
        "amount": amount, "deductible_applies": tier >= 3
    })
}

fn plan_with_formulary(plan_id: &str, formulary: Option<&str>) -> Value {
    let mut row = plan_row(plan_id, "With drugs", 30.0);
    row["formulary_id"] = json!(formulary);
    row
}

/// Two formularies, two drugs, plan S1 on F1 with two tier costs, prices.
fn drug_baseline() -> Vec<Value> {
    vec![
        upsert("formulary", json!({"formulary_id": "F1"})),
        upsert("formulary", json!({"formulary_id": "F2"})),
        upsert("drug", drug("197361", "Amlodipine", false)),
        upsert("drug", drug("311041", "Insulin glargine", true)),
        upsert("formulary_drug", on_formulary("F1", "197361", 1)),
        upsert("formulary_drug", on_formulary("F1", "311041", 3)),
        upsert("formulary_drug", on_formulary("F2", "197361", 2)),
        upsert("plan", plan_with_formulary("S1", Some("F1"))),
        upsert("plan_tier_cost", tier_cost("S1", 1, "mail", 90, 0.0)),
        upsert(
            "plan_tier_cost",
            tier_cost("S1", 4, "preferred_retail", 30, 25.0),
        ),
        upsert(
            "drug_price",
            json!({"rxcui": "197361", "days_supply": 30, "full_cost": 4.1}),
        ),
        upsert(
            "drug_price",
            json!({"rxcui": "197361", "days_supply": 90, "full_cost": 11.5}),
        ),
        upsert(
            "drug_price",
            json!({"rxcui": "311041", "days_supply": 30, "full_cost": 291.33}),
        ),
    ]
}

#[tokio::test]
async fn every_drug_table_is_upserted_updated_and_deleted() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    let report = apply(&db, &drug_baseline()).await.unwrap();
    assert_eq!(report.table("formulary"), counts(2, 0, 0, 0));
    assert_eq!(report.table("drug"), counts(2, 0, 0, 0));
    assert_eq!(report.table("formulary_drug"), counts(3, 0, 0, 0));
    assert_eq!(report.table("plan"), counts(1, 0, 0, 0));
    assert_eq!(report.table("plan_tier_cost"), counts(2, 0, 0, 0));
    assert_eq!(report.table("drug_price"), counts(3, 0, 0, 0));
    assert_eq!(
        rows(&c, "SELECT plan_id, formulary_id FROM plan").await,
        [r#"{"plan_id":"S1","formulary_id":"F1"}"#]
    );

    let report = apply(
        &db,
        &[
            upsert("drug", drug("197361", "Amlodipine Besylate", false)),
            upsert("formulary_drug", on_formulary("F2", "197361", 2)), // unchanged
            upsert("formulary_drug", on_formulary("F1", "197361", 2)),
            delete("formulary_drug", json!({"formulary_id": "F1", "rxcui": "311041"})),
            upsert("plan_tier_cost", tier_cost("S1", 1, "mail", 90, 5.0)),
            delete(
                "plan_tier_cost",
                json!({"plan_id": "S1", "tier": 4, "pharmacy": "preferred_retail", "days_supply": 30}),
            ),
            delete("drug_price", json!({"rxcui": "197361", "days_supply": 90})),
            upsert(
                "benefit_year",
                json!({"year": 2027, "deductible_cap": 640, "oop_threshold": 2150.5, "insulin_monthly_cap": 35}),
            ),
            upsert("plan", plan_with_formulary("S1", Some("F2"))),
            delete("formulary", json!({"formulary_id": "F1"})),
        ],
    )
    .await
    .unwrap();
    assert_eq!(report.table("drug"), counts(0, 1, 0, 0));
    // One row deleted by its line, the other by the cascade of deleting F1
    // (which also undoes the upsert of it); F2's is unchanged.
    assert_eq!(report.table("formulary_drug"), counts(0, 0, 2, 1));
    assert_eq!(report.table("plan_tier_cost"), counts(0, 1, 1, 0));
    assert_eq!(report.table("drug_price"), counts(0, 0, 1, 0));
    assert_eq!(report.table("benefit_year"), counts(1, 0, 0, 0));
    assert_eq!(report.table("formulary"), counts(0, 0, 1, 0));
    assert_eq!(report.table("plan"), counts(0, 1, 0, 0));

    assert_eq!(
        rows(&c, "SELECT formulary_id, rxcui, tier FROM formulary_drug").await,
        [r#"{"formulary_id":"F2","rxcui":"197361","tier":2}"#]
    );
    assert_eq!(
        rows(&c, "SELECT tier, pharmacy, days_supply, cost_type, amount::text AS a, deductible_applies AS d FROM plan_tier_cost").await,
        [r#"{"tier":1,"pharmacy":"mail","days_supply":90,"cost_type":"copay","a":"5.00","d":false}"#]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT rxcui, days_supply, full_cost::text AS c FROM drug_price"
        )
        .await,
        [
            r#"{"rxcui":"197361","days_supply":30,"c":"4.10"}"#,
            r#"{"rxcui":"311041","days_supply":30,"c":"291.33"}"#,
        ]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT year, oop_threshold::text AS oop FROM benefit_year"
        )
        .await,
        [
            r#"{"year":2026,"oop":"2100.00"}"#,
            r#"{"year":2027,"oop":"2150.50"}"#
        ]
    );
    assert_eq!(
        rows(&c, "SELECT formulary_id FROM formulary").await,
        [r#"{"formulary_id":"F2"}"#]
    );

    // Deleting a drug takes its formulary rows and prices with it; a plan
    // row without formulary_id (an older feed) has none.
    let report = apply(
        &db,
        &[
            delete("drug", json!({"rxcui": "197361"})),
            upsert("plan", plan_row("S1", "With drugs", 30.0)),
            delete("benefit_year", json!({"year": 2027})),
        ],
    )
    .await
    .unwrap();
    assert_eq!(report.table("formulary_drug"), counts(0, 0, 1, 0));
    assert_eq!(report.table("drug_price"), counts(0, 0, 1, 0));
    assert_eq!(report.table("benefit_year"), counts(0, 0, 1, 0));
    assert_eq!(
        rows(&c, "SELECT rxcui FROM drug_price").await,
        [r#"{"rxcui":"311041"}"#]
    );
    assert_eq!(
        rows(&c, "SELECT formulary_id FROM plan").await,
        [r#"{"formulary_id":null}"#]
    );
}

#[tokio::test]
async fn broken_references_name_their_line_and_apply_nothing() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    apply(&db, &drug_baseline()).await.unwrap();
    let before = rows(&c, "SELECT * FROM formulary_drug").await;

    let (lines, text) = rejected(
        apply(
            &db,
            &[
                upsert("formulary_drug", on_formulary("F2", "311041", 3)),
                upsert("formulary_drug", on_formulary("F9", "311041", 3)),
                upsert(
                    "drug_price",
                    json!({"rxcui": "999", "days_supply": 30, "full_cost": 1}),
                ),
                upsert("plan", plan_with_formulary("S2", Some("F7"))),
                delete("formulary", json!({"formulary_id": "F1"})),
            ],
        )
        .await,
    );
    assert_eq!(lines, [2, 3, 4, 5], "{text}");
    assert!(text.contains("formulary \"F9\""), "{text}");
    assert!(text.contains("drug \"999\""), "{text}");
    assert!(text.contains("still point at it"), "{text}");
    assert_eq!(rows(&c, "SELECT * FROM formulary_drug").await, before);
    assert_eq!(rows(&c, "SELECT plan_id FROM plan").await.len(), 1);
}

#[tokio::test]
async fn malformed_drug_values_name_their_line() {
    let db = TestDatabase::new().await.unwrap();
    let mut bad_cost = tier_cost("S1", 4, "mail", 30, 125.0);
    bad_cost["cost_type"] = json!("coinsurance");
    let mut half_limit = on_formulary("F1", "197361", 1);
    half_limit["quantity_limit_amount"] = json!(30);
    let cases = [
        (
            upsert("formulary_drug", on_formulary("F1", "197361", 7)),
            "tier from 1 to 6",
        ),
        (
            upsert("plan_tier_cost", tier_cost("S1", 1, "mail", 60, 1.0)),
            "30 or 90",
        ),
        (
            upsert("plan_tier_cost", tier_cost("S1", 1, "drive_thru", 30, 1.0)),
            "\"mail\"",
        ),
        (upsert("plan_tier_cost", bad_cost), "at most 100"),
        (upsert("drug", drug("12a", "X", false)), "RxNorm id"),
        (upsert("formulary_drug", half_limit), "both or neither"),
    ];
    for (line, expected) in cases {
        let mut lines = drug_baseline();
        lines.push(line);
        let (at, text) = rejected(apply(&db, &lines).await);
        assert_eq!(at, [14], "{text}");
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let c = db.connect().await.unwrap();
    assert!(rows(&c, "SELECT * FROM formulary").await.is_empty());
}
