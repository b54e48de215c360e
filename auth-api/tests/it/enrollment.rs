//! `GET /api/me/enrollment`: the right current plan across edge dates, the
//! exact `Plan` shape, and no SSN anywhere.

use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

async fn enrollment_of(app: &TestApp, user: &str, password: &str) -> Value {
    let resp = app
        .sign_in(user, password)
        .await
        .get("/api/me/enrollment")
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn current_id(body: &Value) -> Option<&str> {
    body["current_plan"]["plan_id"].as_str()
}

#[tokio::test]
async fn current_plan_follows_the_date_rules() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    for (id, name) in [
        ("S0001-001-0", "Old"),
        ("S0002-001-0", "Now"),
        ("S0003-001-0", "Next"),
    ] {
        insert_plan(&db, id, name).await;
    }
    // 1: ends today (still current) and the next one starts tomorrow.
    user_with_beneficiary(&db, "ends-today", "pw-12345678", 1).await;
    enroll(&db, 1, "S0001-001-0", -30, Some(0)).await;
    enroll(&db, 1, "S0003-001-0", 1, None).await;
    // 2: ended yesterday, next starts tomorrow: no current plan.
    user_with_beneficiary(&db, "gap", "pw-12345678", 2).await;
    enroll(&db, 2, "S0001-001-0", -30, Some(-1)).await;
    enroll(&db, 2, "S0003-001-0", 1, None).await;
    // 3: open-ended since long ago.
    user_with_beneficiary(&db, "open", "pw-12345678", 3).await;
    enroll(&db, 3, "S0002-001-0", -400, None).await;
    // 4: overlapping rows both covering today: the latest start wins.
    user_with_beneficiary(&db, "overlap", "pw-12345678", 4).await;
    enroll(&db, 4, "S0001-001-0", -100, None).await;
    enroll(&db, 4, "S0002-001-0", -10, Some(10)).await;
    // 5: starts today.
    user_with_beneficiary(&db, "starts-today", "pw-12345678", 5).await;
    enroll(&db, 5, "S0002-001-0", 0, Some(0)).await;
    // 6: never enrolled.
    user_with_beneficiary(&db, "none", "pw-12345678", 6).await;

    let ends_today = enrollment_of(&app, "ends-today", "pw-12345678").await;
    assert_eq!(current_id(&ends_today), Some("S0001-001-0"));
    let statuses: Vec<&str> = ends_today["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["upcoming", "current"]);

    let gap = enrollment_of(&app, "gap", "pw-12345678").await;
    assert!(gap["current_plan"].is_null(), "{gap}");
    assert_eq!(gap["history"].as_array().unwrap().len(), 2);

    assert_eq!(
        current_id(&enrollment_of(&app, "open", "pw-12345678").await),
        Some("S0002-001-0")
    );

    let overlap = enrollment_of(&app, "overlap", "pw-12345678").await;
    assert_eq!(current_id(&overlap), Some("S0002-001-0"));
    assert_eq!(overlap["history"][0]["status"], "current");
    assert_eq!(overlap["history"][1]["status"], "superseded");

    assert_eq!(
        current_id(&enrollment_of(&app, "starts-today", "pw-12345678").await),
        Some("S0002-001-0")
    );

    let none = enrollment_of(&app, "none", "pw-12345678").await;
    assert!(none["current_plan"].is_null());
    assert_eq!(none["history"], json!([]));
}

#[tokio::test]
async fn the_answer_has_the_contract_shape_and_no_ssn() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_plan(&db, "S5601-012-0", "Basic \"Rx\" <&>").await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 42).await;
    enroll(&db, 42, "S5601-012-0", -5, None).await;

    let token = app.token("ada", "pw-ada-1234").await;
    let resp = app.user(&token).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(SSN) && !text.contains("1120") && !text.contains("ssn"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();

    // current_plan is byte for byte what the public site publishes.
    let site_plan = whatever_database::plans::plan_by_id(&db, "S5601-012-0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&body["current_plan"]).unwrap(),
        serde_json::to_string(&serde_json::to_value(&site_plan).unwrap()).unwrap()
    );
    assert!(text.contains(r#""avg_monthly_cost":32.50"#), "{text}");
    assert_eq!(body["current_plan"]["features"]["mail_order"], "yes");

    // Only what the pages show: the name. No birthdate, sex, address or id.
    let b = &body["beneficiary"];
    assert_eq!(b["fname"], "Zoë");
    assert_eq!(b["lname"], "O'Brien");
    let keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["fname", "lname"], "unexpected beneficiary fields");
    for absent in ["1950-03-04", "Main St", "02134", "\"sex\""] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["beneficiary", "current_plan", "history"]);

    let row = &body["history"][0];
    assert_eq!(row["plan_id"], "S5601-012-0");
    assert_eq!(row["plan_name"], "Basic \"Rx\" <&>");
    assert!(row["end_date"].is_null());
    assert_eq!(row["status"], "current");
    assert!(row["start_date"].as_str().unwrap().len() == 10);

    // Nothing logged anywhere in this process holds the SSN or the password.
    let logs = logs();
    assert!(logs.contains("signed in"), "log capture is not working");
    let ssn_lines: Vec<&str> = logs.lines().filter(|l| l.contains(SSN)).collect();
    assert!(ssn_lines.is_empty(), "the SSN was logged: {ssn_lines:#?}");
    assert!(!logs.contains("pw-ada-1234"), "the password was logged");
    assert!(!logs.contains(&token), "the token was logged");
}

#[tokio::test]
async fn a_user_without_a_beneficiary_gets_404_and_no_token_gets_401() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_user(&db, "staff", "pw-staff-1234", None).await;
    let token = app.token("staff", "pw-staff-1234").await;
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        404
    );
    let anonymous = app.anonymous().get("/api/me/enrollment").await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_plan_changed_by_a_sync_shows_on_the_next_request() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_plan(&db, "S5601-012-0", "Basic Rx").await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 42).await;
    enroll(&db, 42, "S5601-012-0", -5, None).await;
    let token = app.token("ada", "pw-ada-1234").await;
    let monthly = |body: &Value| body["current_plan"]["avg_monthly_cost"].as_f64();

    let before: Value = app
        .user(&token)
        .get("/api/me/enrollment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monthly(&before), Some(32.5));
    assert_eq!(
        before["current_plan"]["features"],
        json!({"generic_tier": "1", "mail_order": "yes"})
    );

    // What `generator sync` commits in one transaction: the change and the
    // record of the delta that made it.
    db.batch_execute(
        "BEGIN;
         UPDATE plan SET avg_monthly_cost = 41.25 WHERE plan_id = 'S5601-012-0';
         UPDATE plan_feature SET feature_value = 'no'
          WHERE plan_id = 'S5601-012-0' AND feature_key = 'mail_order';
         INSERT INTO applied_delta (sha256, file_name, lines, summary)
              VALUES (repeat('a', 64), 'nightly.jsonl', 2, '{}');
         COMMIT;",
    )
    .await
    .unwrap();
    let after: Value = app
        .user(&token)
        .get("/api/me/enrollment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        monthly(&after),
        Some(41.25),
        "the old price outlived the sync"
    );
    assert_eq!(
        after["current_plan"]["features"],
        json!({"generic_tier": "1", "mail_order": "no"}),
        "the old feature value outlived the sync"
    );

    // Nothing about a plan is kept between requests: a change by any other
    // writer (`generator seed --replace` on a development database) shows
    // as soon as it is committed too.
    db.execute(
        "UPDATE plan SET avg_monthly_cost = 99 WHERE plan_id = 'S5601-012-0'",
        &[],
    )
    .await
    .unwrap();
    let next: Value = app
        .user(&token)
        .get("/api/me/enrollment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monthly(&next), Some(99.0));
}
