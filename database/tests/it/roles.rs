//! The group roles the migrations grant to, as seen by logins that are
//! members of one of them: the build reads the plan catalog and writes
//! nothing; the sync writes the source of truth but not the schema.

use tokio_postgres::error::SqlState;
use whatever_test_db::TestDatabase;

const INSERT_PLAN: &str = "INSERT INTO plan (plan_id, plan_name, insurer_name, status, \
     avg_monthly_cost, avg_copay_amount, annual_deductible) \
     VALUES ('S5601-012-0', 'Basic Rx', 'Acme', 'active', 1, 2, 3)";

async fn denied(db: &tokio_postgres::Client, sql: &str) {
    let err = db
        .batch_execute(sql)
        .await
        .expect_err(&format!("allowed: {sql}"));
    assert_eq!(
        err.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{sql}: {err:?}"
    );
}

#[tokio::test]
async fn the_build_role_reads_the_catalog_and_cannot_write() {
    let db = TestDatabase::new().await.unwrap();
    db.connect()
        .await
        .unwrap()
        .batch_execute(INSERT_PLAN)
        .await
        .unwrap();
    let login = db.login_in("whatever_build_role").await.unwrap();
    let build = login.config().connect().await.unwrap();
    for table in ["plan", "plan_feature", "plan_to_zip", "applied_delta"] {
        build
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    for sql in [
        INSERT_PLAN,
        "UPDATE plan SET plan_name = 'x'",
        "DELETE FROM plan_feature",
        "TRUNCATE plan_to_zip",
        "INSERT INTO applied_delta (sha256, file_name, lines, summary) \
         VALUES (repeat('a', 64), 'x', 0, '{}')",
        "CREATE TABLE scratch (i int)",
        "ALTER TABLE plan ADD COLUMN note text",
        // Nothing personal: no beneficiary, user or API state.
        "SELECT count(*) FROM beneficiary",
        r#"SELECT count(*) FROM "user""#,
        "SELECT count(*) FROM fulfillment_request",
        "SELECT count(*) FROM login_failure",
    ] {
        denied(&build, sql).await;
    }
}

#[tokio::test]
async fn the_sync_role_writes_the_source_of_truth_but_not_the_schema() {
    let db = TestDatabase::new().await.unwrap();
    let login = db.login_in("whatever_sync_role").await.unwrap();
    let sync = login.config().connect().await.unwrap();
    sync.batch_execute(INSERT_PLAN).await.unwrap();
    sync.batch_execute(
        "INSERT INTO beneficiary (beneficiary_id, ssn) VALUES (1, '078-05-1120');
         UPDATE plan SET plan_name = 'Basic Rx Plus';
         CREATE TEMP TABLE staged (plan_id text);
         DELETE FROM beneficiary WHERE beneficiary_id = 1",
    )
    .await
    .unwrap();
    for sql in [
        "CREATE TABLE scratch (i int)",
        "ALTER TABLE plan ADD COLUMN note text",
        "DROP TABLE plan_feature",
        "SELECT count(*) FROM fulfillment_request",
        "SELECT count(*) FROM revoked_session",
    ] {
        denied(&sync, sql).await;
    }
}

#[tokio::test]
async fn a_role_asked_for_by_name_is_the_one_sessions_act_as() {
    let db = TestDatabase::new().await.unwrap();
    let login = db.login_in("whatever_build_role").await.unwrap();
    let mut config = login.config().clone();
    config.act_as("whatever_build_role").unwrap();
    let client = config.connect().await.unwrap();
    let role: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "whatever_build_role");
    // A login cannot act as a role it is not a member of.
    let mut config = login.config().clone();
    config.act_as("whatever_sync_role").unwrap();
    let err = config.connect().await.unwrap_err();
    let whatever_database::Error::Connect { source, .. } = err else {
        panic!("expected a refused connection, got {err}");
    };
    let message = source.as_db_error().expect("a server error").message();
    assert!(
        message.contains("permission denied to set role"),
        "{message}"
    );
    // Only plain role names are accepted.
    let err = config.act_as("x -c work_mem=1TB").unwrap_err().to_string();
    assert!(err.contains("DATABASE_ROLE"), "{err}");
}
