//! Creating an account: proof of identity, answers that tell nothing about
//! who exists, the throttle on identity facts, the mailed single-use link,
//! and the audit rows each step leaves (which the API's role cannot touch).
//! Mail goes by SMTP to a real maildev and is read back through its API.

use crate::maildev::Maildev;
use serde_json::{Value, json};
use tokio_postgres::error::SqlState;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// The beneficiary [`insert_beneficiary`] writes: O'Brien, 1950-03-04,
/// ZIP 02134, SSN ending in 1120.
fn facts(ssn_last4: &str) -> Value {
    json!({
        "last_name": "O'Brien",
        "birth_date": "1950-03-04",
        "zip_code": "02134",
        "ssn_last4": ssn_last4,
    })
}

fn create_body(facts: Value, username: &str, email: &str) -> Value {
    let mut body = facts;
    body["username"] = username.into();
    body["email"] = email.into();
    body["password"] = "orchid lantern basin thirty".into();
    body
}

async fn create(app: &TestApp, body: &Value) -> (u16, Value) {
    app.anonymous().post_json("/api/accounts", body).await
}

async fn verify(app: &TestApp, token: &str) -> (u16, Value) {
    app.anonymous()
        .post_json("/api/accounts/verify-email", &json!({"token": token}))
        .await
}

/// A server whose every statement runs as a login in `whatever_api_role`
/// (as in production), mailing to `mail`.
async fn api_role_app(mail: &Maildev) -> (TestApp, TestApp, whatever_test_db::TestLogin) {
    let smtp = mail.smtp_url();
    TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await
}

#[tokio::test]
async fn a_beneficiary_creates_verifies_and_signs_in_under_the_api_role() {
    let mail = Maildev::start().await;
    let (owner, app, _login) = api_role_app(&mail).await;
    insert_beneficiary(&owner.sql().await, 7, SSN).await;

    let (status, body) = create(
        &app,
        &create_body(facts("1120"), "zoe.obrien", "zoe@example.org"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "check_email");
    let first = mail.wait_for("zoe@example.org", 1).await;
    assert_eq!(
        first[0].subject,
        "Confirm your email address for whatever.gov"
    );
    let token = first[0].token();
    assert_eq!(token.len(), 43, "256 bits in unpadded base64url: {token}");

    // The row is linked to the beneficiary the facts named; the password is
    // stored hashed, the token only as a digest.
    let sql = owner.sql().await;
    let row = sql
        .query_one(
            r#"SELECT u.beneficiary_id, u.password, u.email, a.email_verified_at IS NULL
                 FROM "user" u JOIN account a USING (username) WHERE username = 'zoe.obrien'"#,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 7);
    assert!(row.get::<_, String>(1).starts_with("$argon2id$"));
    assert_eq!(row.get::<_, String>(2), "zoe@example.org");
    assert!(row.get::<_, bool>(3), "not verified yet");
    let stored: Vec<u8> = sql
        .query_one("SELECT token_hash FROM account_token", &[])
        .await
        .unwrap()
        .get(0);
    use sha2::Digest;
    assert_eq!(stored, sha2::Sha256::digest(token.as_bytes()).to_vec());

    // Before verifying: the right password is told what is missing (and
    // gets a fresh link); a wrong one gets the usual answer.
    let resp = app.login("zoe.obrien", "orchid lantern basin thirty").await;
    assert_eq!(resp.status(), 403);
    assert!(session_cookie(&resp).is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "email_unverified", "{body}");
    assert_eq!(
        app.login("zoe.obrien", "wrong password here")
            .await
            .status(),
        401
    );
    let second = mail.wait_for("zoe@example.org", 2).await;
    assert_ne!(second[1].token(), token, "a new link");

    let (status, body) = verify(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    // Single use.
    let (status, body) = verify(&app, &token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");

    // Signed in, but with nothing personal until a second factor is set up
    // (tests/second_factor.rs goes on from here).
    let token = app.token("zoe.obrien", "orchid lantern basin thirty").await;
    let resp = app.user(&token).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "second_factor_required");
    assert_eq!(
        owner.audit_kinds("zoe.obrien").await,
        [
            "account_created",
            "sign_in_unverified",
            "sign_in_failed",
            "email_verified",
            "sign_in_succeeded"
        ]
    );
    // The reused link is logged without an account (the token names none
    // any more), with the client's address.
    let refused: i64 = sql
        .query_one(
            "SELECT count(*) FROM security_event
              WHERE kind = 'token_refused' AND client_addr = '127.0.0.1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(refused, 1);
}

#[tokio::test]
async fn answers_are_the_same_whoever_exists_and_each_costs_one_hash() {
    let mail = Maildev::start().await;
    let (owner, app, _login) = api_role_app(&mail).await;
    let sql = owner.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    // Beneficiary 8 has an account already; "ada" is taken; so is ada's
    // address. The first two cases bring the same message as the last
    // (tests/account_mail.rs looks into it).
    sql.execute(
        "INSERT INTO beneficiary (beneficiary_id, lname, birthdate, zip_code, ssn)
         VALUES (8, 'Lovelace', '1945-12-10', '10001', '900-12-3456'),
                (9, 'Hopper', '1946-12-09', '10001', '900-12-9999')",
        &[],
    )
    .await
    .unwrap();
    insert_user(&sql, "ada", "pw-ada-12345678", Some(8)).await;

    let cases = [
        // facts that match nobody
        (
            "nobody",
            create_body(facts("0000"), "new.person", "someone@example.org"),
            "someone@example.org",
            "Confirm your email address for whatever.gov",
        ),
        // a beneficiary who has an account
        (
            "has account",
            create_body(
                json!({"last_name": "Lovelace", "birth_date": "1945-12-10",
                       "zip_code": "10001", "ssn_last4": "3456"}),
                "another.name",
                "other@example.org",
            ),
            "other@example.org",
            "Confirm your email address for whatever.gov",
        ),
        // a free beneficiary, a taken username
        (
            "username taken",
            create_body(facts("1120"), "ada", "zoe@example.org"),
            "zoe@example.org",
            "Choose another username for whatever.gov",
        ),
        // a free beneficiary, an address in use: its owner is told
        (
            "email in use",
            create_body(
                json!({"last_name": "hopper", "birth_date": "1946-12-09",
                       "zip_code": "10001", "ssn_last4": "9999"}),
                "grace",
                "ADA@example.com",
            ),
            "ada@example.com",
            "Someone tried to create a whatever.gov account with your email address",
        ),
        // everything free
        (
            "created",
            create_body(facts("1120"), "zoe", "zoe2@example.org"),
            "zoe2@example.org",
            "Confirm your email address for whatever.gov",
        ),
    ];
    let mut answers = Vec::new();
    for (case, body, to, subject) in &cases {
        let hashes = app.state.passwords.hashes();
        let answer = create(&app, body).await;
        assert_eq!(app.state.passwords.hashes() - hashes, 1, "{case}: one hash");
        let got = mail.wait_for(to, 1).await;
        assert_eq!(&got.last().unwrap().subject, subject, "{case}");
        answers.push(answer);
    }
    for (answer, (case, ..)) in answers.iter().zip(&cases) {
        assert_eq!(answer, &answers[0], "{case} answers like the first case");
    }
    assert_eq!(answers[0].0, 202);
    // Only the last one made an account.
    let accounts: Vec<String> = sql
        .query("SELECT username FROM account", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(accounts, ["zoe"]);
    let reasons: Vec<String> = sql
        .query(
            "SELECT detail->>'reason' FROM security_event
              WHERE kind IN ('account_created', 'account_not_created') ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        reasons,
        [
            "no_match",
            "beneficiary_has_account",
            "username_taken",
            "email_in_use",
            "created"
        ]
    );
}

#[tokio::test]
async fn guessing_the_ssn_digits_of_one_person_is_throttled_from_anywhere() {
    let app = TestApp::start_with(|c| {
        c.client_addr.trust_forwarded_for = true;
        c.mail.smtp_url = "smtp://127.0.0.1:9".into(); // mail is not this test's concern
    })
    .await;
    let sql = app.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    let max = app.state.config.accounts.per_facts.max;
    assert_eq!(max, 5, "the default");
    let attempt = |ip: String, last4: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/accounts"))
                .header("x-forwarded-for", format!("{ip}, 130.176.0.1"))
                .json(&create_body(facts(last4), "zoe", "zoe@example.org"))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..max {
        // A different address each time: the per-client limit never holds.
        let resp = attempt(format!("203.0.113.{i}"), "0000").await;
        assert_eq!(resp.status(), 202);
    }
    // The right digits now come too late, from yet another address, and
    // "O'BRIEN " is the same person as "O'Brien".
    let mut body = create_body(facts("1120"), "zoe", "zoe@example.org");
    body["last_name"] = " O'BRIEN ".into();
    let resp = app
        .client
        .post(app.url("/api/accounts"))
        .header("x-forwarded-for", "198.51.100.1, 130.176.0.1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    let created: i64 = sql
        .query_one("SELECT count(*) FROM account", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, 0);
    let throttled: i64 = sql
        .query_one(
            "SELECT count(*) FROM security_event
              WHERE kind = 'account_creation_throttled' AND client_addr = '198.51.100.1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(throttled, 1);
    // Other people's facts are not held back.
    sql.execute(
        "INSERT INTO beneficiary (beneficiary_id, lname, birthdate, zip_code, ssn)
         VALUES (8, 'Lovelace', '1945-12-10', '10001', '900-12-3456')",
        &[],
    )
    .await
    .unwrap();
    let mut other = create_body(facts("3456"), "ada.l", "ada.l@example.org");
    other["last_name"] = "Lovelace".into();
    other["birth_date"] = "1945-12-10".into();
    other["zip_code"] = "10001".into();
    let (status, _) = create(&app, &other).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn an_expired_link_is_refused_and_verifies_nothing() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let app = TestApp::start_with(|c| c.mail.smtp_url = smtp).await;
    let sql = app.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    let (status, _) = create(&app, &create_body(facts("1120"), "zoe", "zoe@example.org")).await;
    assert_eq!(status, 202);
    let token = mail.wait_for("zoe@example.org", 1).await[0].token();
    // 24 hours and a second later.
    let expires_in: f64 = sql
        .query_one(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM account_token",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((expires_in - 86_400.0).abs() < 1.0, "{expires_in}");
    sql.execute(
        "UPDATE account_token SET expires_at = now() - interval '1 second'",
        &[],
    )
    .await
    .unwrap();
    let (status, body) = verify(&app, &token).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    let unverified: bool = sql
        .query_one("SELECT email_verified_at IS NULL FROM account", &[])
        .await
        .unwrap()
        .get(0);
    assert!(unverified);
    // An unknown token gets the same answer.
    assert_eq!(verify(&app, "not-a-token").await, (status, body));
}

#[tokio::test]
async fn each_field_is_judged_and_named() {
    let app = TestApp::start().await;
    let body = json!({
        "last_name": " ",
        "birth_date": "1950-02-30",
        "zip_code": "0213",
        "ssn_last4": "12a4",
        "username": "-zoe",
        "email": "zoe at example.org",
        "password": "short",
    });
    let (status, body) = create(&app, &body).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_fields");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "last_name",
            "birth_date",
            "zip_code",
            "ssn_last4",
            "username",
            "email",
            "password"
        ]
    );
    // A common password, and one built from the username, each with its reason.
    for (password, expected) in [
        ("password1234", "too common"),
        ("zoe.obrien-rules-2026", "Do not use your name"),
        ("my whatever.gov secret", "Do not use your name"),
    ] {
        let mut body = create_body(facts("1120"), "zoe.obrien", "zoe@example.org");
        body["password"] = password.into();
        let (status, body) = create(&app, &body).await;
        assert_eq!(status, 422, "{password}");
        assert_eq!(body["error"]["fields"][0]["field"], "password");
        let message = body["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{password}: {message}");
    }
}

#[tokio::test]
async fn the_api_role_appends_to_the_audit_log_and_cannot_read_or_change_it() {
    let owner = TestApp::start().await;
    let login = owner.db.login_in("whatever_api_role").await.unwrap();
    let api = login.config().connect().await.unwrap();
    api.execute(
        "INSERT INTO security_event (kind, client_addr) VALUES ('sign_in_failed', '192.0.2.1')",
        &[],
    )
    .await
    .unwrap();
    for sql in [
        "UPDATE security_event SET kind = 'nothing'",
        "DELETE FROM security_event",
        "TRUNCATE security_event",
        "SELECT * FROM security_event",
        // The SSN stays out of reach; only the matching function sees it.
        "SELECT ssn FROM beneficiary",
    ] {
        let err = api.batch_execute(sql).await.expect_err(sql);
        assert_eq!(
            err.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err}"
        );
    }
    let rows: i64 = owner
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM security_event WHERE kind = 'sign_in_failed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    // The matching function answers the API with an id or nothing.
    insert_beneficiary(&owner.sql().await, 7, SSN).await;
    let date = chrono::NaiveDate::from_ymd_opt(1950, 3, 4).unwrap();
    for (last4, expected) in [("1120", Some(7_i64)), ("1121", None), ("112", None)] {
        let id: Option<i64> = api
            .query_one(
                "SELECT match_beneficiary('o''brien', $1, '02134', $2)",
                &[&date, &last4],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(id, expected, "{last4}");
    }
}

/// Wrong SSN digits a beneficiary's facts may be given, in all: the
/// allowance `docs/accounts.md` states.
const LIFETIME_GUESSES: u32 = 5;

/// The wrong guesses counted against beneficiary `id`, read as the owner
/// (the API's role may not).
async fn match_failures(sql: &tokio_postgres::Client, id: i64) -> u32 {
    let failures: i32 = sql
        .query_one(
            "SELECT failures FROM identity_match_failure WHERE beneficiary_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    failures.try_into().unwrap()
}

/// Guessing the last four SSN digits through account creation, with the
/// hourly limits out of the way: once the lifetime allowance is spent, even
/// the right digits create no account.
#[tokio::test]
async fn guesses_past_the_lifetime_allowance_close_self_service_for_that_person() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| {
        c.mail.smtp_url = smtp;
        c.accounts.per_facts.max = 100;
        c.accounts.per_client.max = 100;
    })
    .await;
    insert_beneficiary(&owner.sql().await, 7, SSN).await;
    for guess in 0..LIFETIME_GUESSES {
        let digits = format!("{guess:04}");
        assert!(!SSN.ends_with(&digits));
        let body = create_body(facts(&digits), &format!("guess{guess}"), "who@example.org");
        let (status, answer) = create(&app, &body).await;
        assert_eq!(status, 202, "{answer}");
    }
    let (status, answer) = create(
        &app,
        &create_body(facts("1120"), "zoe.obrien", "zoe@example.org"),
    )
    .await;
    assert_eq!(status, 202, "the same answer as ever: {answer}");
    let sql = owner.sql().await;
    let accounts: i64 = sql
        .query_one("SELECT count(*) FROM account", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        accounts, 0,
        "the right digits after the allowance create nothing"
    );
    let failures = match_failures(&sql, 7).await;
    // Every attempt that names the person and matches nobody counts: the
    // wrong guesses, and the right one refused after them.
    assert_eq!(failures, LIFETIME_GUESSES + 1);
}

/// A wrong guess stays counted when the rest of the request fails and its
/// transaction is rolled back: here the audit row cannot be written.
#[tokio::test]
async fn a_wrong_guess_stays_counted_when_the_request_fails_after_the_match() {
    let mail = Maildev::start().await;
    let (owner, app, _login) = api_role_app(&mail).await;
    let sql = owner.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    sql.batch_execute("REVOKE INSERT ON security_event FROM whatever_api_role")
        .await
        .unwrap();
    let (status, body) = create(
        &app,
        &create_body(facts("0000"), "zoe.obrien", "zoe@example.org"),
    )
    .await;
    assert!(status >= 500, "the audit insert fails: {status} {body}");
    let failures = match_failures(&sql, 7).await;
    assert_eq!(failures, 1);
}

/// The hourly limit per set of facts keys the name in the form the
/// database compares it in: `O'BRİEN` (a dotted capital I, U+0130) is the
/// same person as `O'Brien` there, so it buys no second allowance.
#[tokio::test]
async fn a_dotted_capital_i_buys_no_second_allowance_of_guesses() {
    let app = TestApp::start_with(|c| {
        c.mail.smtp_url = "smtp://127.0.0.1:9".into(); // mail is not this test's concern
    })
    .await;
    insert_beneficiary(&app.sql().await, 7, SSN).await;
    let max = app.state.config.accounts.per_facts.max;
    for n in 0..max {
        let body = create_body(facts("0000"), &format!("zoe{n}"), "zoe@example.org");
        let (status, answer) = create(&app, &body).await;
        assert_eq!(status, 202, "{answer}");
    }
    let mut body = create_body(facts("1120"), "zoe", "zoe@example.org");
    body["last_name"] = "O'BR\u{130}EN".into();
    let (status, answer) = create(&app, &body).await;
    assert_eq!(status, 429, "{answer}");
}
