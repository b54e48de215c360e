//! The migrations and the plan model, against a real Postgres.

use whatever_database::migrations::migrate;
use whatever_test_db::TestDatabase;

const INSERT_PLAN: &str = "INSERT INTO plan (plan_id, plan_name, insurer_name, status, \
     avg_monthly_cost, avg_copay_amount, annual_deductible) VALUES ";

#[tokio::test]
async fn migrating_twice_applies_nothing_the_second_time() {
    let db = TestDatabase::new().await.unwrap();
    let report = migrate(db.config()).await.unwrap();
    assert!(!report.created_database);
    assert!(report.applied.is_empty(), "{:?}", report.applied);
}

#[tokio::test]
async fn constraints_refuse_bad_rows() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    let bad_status = c
        .batch_execute(&format!(
            "{INSERT_PLAN} ('S1', 'n', 'i', 'retired', 1, 2, 3)"
        ))
        .await;
    assert!(bad_status.is_err());
    let orphan_zip = c
        .batch_execute("INSERT INTO plan_to_zip VALUES ('NOPE', '02134')")
        .await;
    assert!(orphan_zip.is_err());
}

#[tokio::test]
async fn plan_by_id_reads_the_contract_shape() {
    let db = TestDatabase::new().await.unwrap();
    let c = db.connect().await.unwrap();
    c.batch_execute(&format!(
        "{INSERT_PLAN} ('S5601-012-0', 'Plan <b>', 'Acme', 'inactive', 12.5, 7, 0);
         INSERT INTO plan_feature VALUES ('S5601-012-0', 'mail_order', 'yes'),
                                         ('S5601-012-0', 'deductible_tiers', '1-2');"
    ))
    .await
    .unwrap();
    let plan = whatever_database::plans::plan_by_id(&c, "S5601-012-0")
        .await
        .unwrap()
        .unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains(r#""avg_monthly_cost":12.50"#), "{json}");
    assert!(
        json.contains(r#""features":{"deductible_tiers":"1-2","mail_order":"yes"}"#),
        "{json}"
    );
    assert!(
        whatever_database::plans::plan_by_id(&c, "nope")
            .await
            .unwrap()
            .is_none()
    );
}
