//! Odd input is the request's fault, never a 500: control characters are
//! refused (422, naming the field) in every string of every body before a
//! route sees it, birth
//! dates before the year 1900 include the years before Christ, and a value
//! the database refuses (SQLSTATE class 22) is a 400 that says so.

use auth_api::ApiError;
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

fn create_body() -> Value {
    json!({
        "last_name": "O'Brien",
        "birth_date": "1950-03-04",
        "zip_code": "02134",
        "ssn_last4": "1120",
        "username": "zoe.obrien",
        "email": "zoe@example.org",
        "password": "orchid lantern basin thirty",
    })
}

#[tokio::test]
async fn a_nul_in_a_username_at_login_is_refused_naming_the_field() {
    let app = TestApp::start().await;
    insert_user(&app.sql().await, "ada", "pw-ada-1234", None).await;
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/login",
            &json!({"username": "ada\u{0}", "password": "pw-ada-1234"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body,
        json!({"error": {
            "code": "invalid_field",
            "field": "username",
            "message": "username must not contain control characters",
        }})
    );
    // The account is untouched: it signs in as before.
    assert_eq!(app.login("ada", "pw-ada-1234").await.status(), 200);
}

#[tokio::test]
async fn control_characters_in_any_field_at_creation_are_refused() {
    let app = TestApp::start().await;
    insert_beneficiary(&app.sql().await, 1, SSN).await;
    for (field, value) in [
        ("username", "zoe\u{0}obrien"),
        ("last_name", "O'Brien\u{0}"),
        ("email", "zoe@example.org\u{1b}"),
        ("password", "orchid lantern\tbasin thirty"),
        ("zip_code", "02134\u{85}"),
    ] {
        let mut body = create_body();
        body[field] = value.into();
        let (status, answer) = app.anonymous().post_json("/api/accounts", &body).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_field", "{field}");
        assert_eq!(answer["error"]["field"], field);
    }
    // Nested strings and keys too (a route that ignores unknown fields
    // still never sees them).
    let mut body = create_body();
    body["extra"] = json!({"list": ["fine", "not\u{7f}fine"]});
    let (status, answer) = app.anonymous().post_json("/api/accounts", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "extra.list[1]");
    let mut body = create_body();
    body["nul\u{0}key"] = "fine".into();
    let (status, answer) = app.anonymous().post_json("/api/accounts", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "<key>");
    // Nothing was counted or stored.
    let sql = app.sql().await;
    let attempts: i64 = sql
        .query_one("SELECT count(*) FROM identity_attempt", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 0);
}

#[tokio::test]
async fn birth_dates_before_christ_are_refused_as_a_field() {
    let app = TestApp::start().await;
    insert_beneficiary(&app.sql().await, 1, SSN).await;
    // 1900 BCE (year -1899) and 5001 BCE (before Postgres's calendar
    // begins): both once passed the "from 1900 on" check.
    for birth_date in ["-1899-03-04", "-5000-03-04", "0000-03-04"] {
        let mut body = create_body();
        body["birth_date"] = birth_date.into();
        let (status, answer) = app.anonymous().post_json("/api/accounts", &body).await;
        assert_eq!(status, 422, "{birth_date}: {answer}");
        assert_eq!(answer["error"]["fields"][0]["field"], "birth_date");
    }
}

#[tokio::test]
async fn a_value_the_database_refuses_is_a_400_with_a_clear_body() {
    let app = TestApp::start().await;
    let sql = app.sql().await;
    // Class 22, each a value a request could carry: a date before the
    // database's calendar, a NUL in text, a number too large.
    let too_early = chrono::NaiveDate::from_ymd_opt(-5000, 3, 4).unwrap();
    let errors = [
        sql.query_one("SELECT $1::date", &[&too_early])
            .await
            .unwrap_err(),
        sql.query_one("SELECT $1::text", &[&"a\u{0}b"])
            .await
            .unwrap_err(),
        sql.query_one("SELECT $1::int2 * $1::int2", &[&1000i16])
            .await
            .unwrap_err(),
    ];
    for error in errors {
        let class = error.code().map(|c| c.code()[..2].to_string());
        assert_eq!(class.as_deref(), Some("22"), "{error}");
        let resp = ApiError::from(error).response();
        assert_eq!(resp.status(), 400);
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_value", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot be stored"),
            "{body}"
        );
    }
}
