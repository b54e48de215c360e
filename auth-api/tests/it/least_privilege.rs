//! The API's database role holds only what the API needs: the server runs
//! every route as a login that is a member of `whatever_api_role` alone (as
//! production's logins are), while the SSN, DDL and the source-of-truth
//! tables are out of its reach.

use std::time::{Duration, Instant};

use auth_api::fulfillment::{FulfillmentSettings, spawn_for};
use fake_fulfillment::FakeFulfillment;
use serde_json::json;
use tokio_postgres::error::SqlState;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

const PLAN: &str = "S5601-012-0";

/// Runs `sql` and returns the error code; panics if it succeeded.
async fn refused(db: &tokio_postgres::Client, sql: &str) -> String {
    let err = db
        .batch_execute(sql)
        .await
        .expect_err(&format!("the API role ran: {sql}"));
    let db_err = err.as_db_error().expect("a server error");
    assert_eq!(
        err.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{sql}: {db_err}"
    );
    db_err.message().to_string()
}

#[tokio::test]
async fn the_api_role_cannot_read_the_ssn_nor_change_the_schema() {
    let owner = TestApp::start().await;
    let sql = owner.sql().await;
    insert_plan(&sql, PLAN, "Basic Rx").await;
    user_with_beneficiary(&sql, "zoe", "pw-12345678", 1).await;
    let login = owner.db.login_in("whatever_api_role").await.unwrap();
    let api = login.config().connect().await.unwrap();

    for query in [
        "SELECT ssn FROM beneficiary",
        "SELECT * FROM beneficiary",
        "SELECT count(*) FROM beneficiary WHERE ssn = '078-05-1120'",
        "UPDATE beneficiary SET ssn = NULL",
    ] {
        let message = refused(&api, query).await;
        assert_eq!(
            message, "permission denied for table beneficiary",
            "{query}"
        );
    }
    // Data the API may read: every other column.
    let row = api
        .query_one("SELECT fname, zip_code FROM beneficiary", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(1), "02134");

    for ddl in [
        "CREATE TABLE stolen (ssn text)",
        "ALTER TABLE plan ADD COLUMN note text",
        "DROP TABLE login_failure",
        "CREATE INDEX ON fulfillment_request (plan_id)",
        "TRUNCATE revoked_session",
    ] {
        refused(&api, ddl).await;
    }
    // The source of truth is read-only to it.
    refused(&api, "UPDATE plan SET plan_name = 'Free money'").await;
    refused(&api, "DELETE FROM beneficiary_to_plan").await;
    refused(&api, r#"UPDATE "user" SET email = 'x@example.com'"#).await;
    refused(&api, "SELECT * FROM refinery_schema_history").await;
}

#[tokio::test]
async fn every_route_works_under_the_api_role() {
    let owner = TestApp::start().await;
    let sql = owner.sql().await;
    insert_plan(&sql, PLAN, "Basic Rx").await;
    user_with_beneficiary(&sql, "zoe", "pw-12345678", 1).await;
    enroll(&sql, 1, PLAN, -30, None).await;
    let login = owner.db.login_in("whatever_api_role").await.unwrap();
    let fake = FakeFulfillment::start().await.unwrap();
    let app = owner
        .replica(|config| {
            config.database = login.config().clone();
            config.fulfillment = FulfillmentSettings {
                url: Some(fake.url()),
                ..FulfillmentSettings::for_tests()
            };
        })
        .await;
    let worker = spawn_for(&app.state).unwrap().expect("a worker");

    assert_eq!(app.anonymous().get("/readyz").await.status(), 200);
    // A failed login (throttling writes), then a good one, the enrollment
    // (the beneficiary without its SSN, plans, revocations) and a logout.
    assert_eq!(app.login("zoe", "wrong-password").await.status(), 401);
    let token = app.token("zoe", "pw-12345678").await;
    let resp = app.user(&token).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["current_plan"]["plan_id"], PLAN);
    assert!(!body.to_string().contains(SSN));
    let resp = app.user(&token).post_empty("/api/logout").await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        401
    );

    // "Mail me this": queued, replayed, delivered by the worker, read back.
    let mail = json!({"plan_id": PLAN, "name": "Zoë O'Brien", "address": "1 Main St",
                      "city": "Boston", "state": "MA", "zip": "02134"});
    let post = || {
        app.client
            .post(app.url("/api/fulfillment"))
            .header("idempotency-key", "k-1")
            .json(&mail)
            .send()
    };
    let first: serde_json::Value = post().await.unwrap().json().await.unwrap();
    let again = post().await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let id = first["request_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = app.anonymous().get(&format!("/api/fulfillment/{id}")).await;
        let answer: serde_json::Value = resp.json().await.unwrap();
        if answer["status"] == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "never sent: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fake.delivery_count(), 1);
    // The worker's housekeeping (expiry, retention) ran under the role too.
    worker.stop().await;
    let logs = logs();
    assert!(!logs.contains("permission denied"), "{logs}");
}
