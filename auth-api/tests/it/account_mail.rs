//! The mail around an account's life, attacked: what a creation request
//! tells whoever makes it, the account slot an unverified account holds,
//! one address buried in mail, reset links to addresses nobody verified,
//! the timing of "forgot password", and the owner's way back in while
//! strangers' guesses hold their account. Mail goes to a real maildev.

use std::time::Duration;

use auth_api::config::Limit;
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

use crate::maildev::{Maildev, Received};

/// The beneficiary [`insert_beneficiary`] writes (SSN ending in 1120),
/// asking for `username` at `email`.
fn create_body(ssn_last4: &str, username: &str, email: &str) -> Value {
    json!({
        "last_name": "O'Brien",
        "birth_date": "1950-03-04",
        "zip_code": "02134",
        "ssn_last4": ssn_last4,
        "username": username,
        "email": email,
        "password": "orchid lantern basin thirty",
    })
}

async fn create(app: &TestApp, body: &Value) -> (u16, Value) {
    app.anonymous().post_json("/api/accounts", body).await
}

/// `body`'s text with its link's token replaced by `TOKEN`.
fn without_token(mail: &Received) -> String {
    mail.text.replace(&mail.token(), "TOKEN")
}

/// Every message maildev holds for `to`, after waiting long enough for
/// mail sent after an answer to have arrived.
async fn settled(mail: &Maildev, to: &str) -> Vec<Received> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    mail.messages()
        .await
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
        .collect()
}

/// An account created here for beneficiary `id`, its address verified.
async fn verified_account(sql: &tokio_postgres::Client, username: &str, id: i64) {
    insert_user(sql, username, "orchid lantern basin thirty", Some(id)).await;
    sql.execute(
        "INSERT INTO account (username, beneficiary_id, email_verified_at) VALUES ($1, $2, now())",
        &[&username, &id],
    )
    .await
    .unwrap();
}

/// Someone who knows a beneficiary's last name, birth date and ZIP code
/// guesses the SSN digits: the message they get, and what its link says,
/// are the same whether the digits were wrong or right for a person who
/// has an account; that person is told at their verified address.
#[tokio::test]
async fn a_creation_request_tells_the_requester_nothing_about_the_digits() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    let sql = owner.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    sql.execute(
        "INSERT INTO beneficiary (beneficiary_id, lname, birthdate, zip_code, ssn)
         VALUES (8, 'Lovelace', '1945-12-10', '10001', '900-12-3456')",
        &[],
    )
    .await
    .unwrap();
    verified_account(&sql, "ada", 8).await;
    let lovelace = |digits: &str, email: &str| {
        let mut body = create_body(digits, "guesser", email);
        body["last_name"] = "Lovelace".into();
        body["birth_date"] = "1945-12-10".into();
        body["zip_code"] = "10001".into();
        body
    };

    let wrong = create(&app, &lovelace("0000", "wrong@example.org")).await;
    let right = create(&app, &lovelace("3456", "right@example.org")).await;
    let created = create(&app, &create_body("1120", "zoe", "zoe@example.org")).await;
    assert_eq!(wrong, right);
    assert_eq!(wrong, created);

    let wrong_mail = &mail.wait_for("wrong@example.org", 1).await[0];
    let right_mail = &mail.wait_for("right@example.org", 1).await[0];
    let created_mail = &mail.wait_for("zoe@example.org", 1).await[0];
    for other in [right_mail, created_mail] {
        assert_eq!(other.subject, wrong_mail.subject);
        assert_eq!(without_token(other), without_token(wrong_mail));
    }
    // The holder of the account is told, at their verified address only.
    let told = mail.wait_for("ada@example.com", 1).await;
    assert_eq!(
        told[0].subject,
        "Someone asked to create a whatever.gov account for you"
    );
    assert!(!told[0].text.contains("#token="));

    // Following the links: only the created account's works, and the two
    // others answer alike.
    let follow = |token: String| {
        let app = &app;
        async move {
            app.anonymous()
                .post_json("/api/accounts/verify-email", &json!({"token": token}))
                .await
        }
    };
    let (status, body) = follow(wrong_mail.token()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(follow(right_mail.token()).await, (status, body));
    assert_eq!(follow(created_mail.token()).await.0, 200);

    assert_eq!(settled(&mail, "wrong@example.org").await.len(), 1);
    assert_eq!(settled(&mail, "right@example.org").await.len(), 1);
    assert_eq!(settled(&mail, "ada@example.com").await.len(), 1);
}

/// The accounts created here, by username.
async fn accounts(sql: &tokio_postgres::Client) -> Vec<String> {
    sql.query("SELECT username FROM account ORDER BY username", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Someone takes a beneficiary's slot with an account they never verify;
/// the slot frees itself when its link expires, by the API's upkeep or at
/// the next attempt, and the real person creates their account.
async fn squatter_then_real_person(sweep: bool) {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    let sql = owner.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    let squat = create_body("1120", "squatter", "squat@example.org");
    assert_eq!(create(&app, &squat).await.0, 202);
    mail.wait_for("squat@example.org", 1).await;

    // While the link lives, the slot is taken.
    let real = create_body("1120", "zoe.obrien", "zoe@example.org");
    assert_eq!(create(&app, &real).await.0, 202);
    assert_eq!(accounts(&sql).await, ["squatter"]);
    // Its address was never verified: it is told nothing about the attempt.
    assert_eq!(settled(&mail, "squat@example.org").await.len(), 1);

    // 24 hours on.
    sql.execute(
        "UPDATE account SET created_at = created_at - interval '24 hours 1 second'",
        &[],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE account_token SET expires_at = now() - interval '1 second'",
        &[],
    )
    .await
    .unwrap();
    if sweep {
        // The upkeep the API runs every ten minutes, as the API's role.
        let db = app.state.pool.get().await.unwrap();
        let config = &app.state.config;
        auth_api::auth::prune(&**db, &config.auth.throttle, &config.accounts)
            .await
            .unwrap();
        assert!(accounts(&sql).await.is_empty());
        let left: i64 = sql
            .query_one(
                r#"SELECT (SELECT count(*) FROM "user" WHERE username = 'squatter')
                        + (SELECT count(*) FROM account_token WHERE username = 'squatter')"#,
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "the account and its tokens are gone");
    }

    assert_eq!(create(&app, &real).await.0, 202);
    assert_eq!(accounts(&sql).await, ["zoe.obrien"]);
    let link = mail.wait_for("zoe@example.org", 2).await;
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/accounts/verify-email",
            &json!({"token": link[1].token()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.login("zoe.obrien", "orchid lantern basin thirty")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login("squatter", "orchid lantern basin thirty")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn an_unverified_account_is_swept_when_its_link_expires() {
    squatter_then_real_person(true).await;
}

#[tokio::test]
async fn an_expired_unverified_account_gives_way_at_the_next_attempt() {
    squatter_then_real_person(false).await;
}

/// Fifty creation requests naming one victim's address, from a client the
/// hourly limits do not hold: the victim gets the cap's messages, however
/// the address is written.
#[tokio::test]
async fn fifty_creation_requests_to_one_address_bring_at_most_the_cap() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| {
        c.mail.smtp_url = smtp;
        c.accounts.per_facts.max = 100;
        c.accounts.per_client.max = 100;
    })
    .await;
    let cap = app.state.config.accounts.per_recipient.max;
    assert_eq!(cap, 3, "the default");
    insert_beneficiary(&owner.sql().await, 7, SSN).await;
    for n in 0..50 {
        let to = match n % 3 {
            0 => "victim@example.org",
            1 => " Victim@Example.ORG",
            _ => "VICTIM@example.org ",
        };
        let mut body = create_body("0000", &format!("user{n}"), to);
        body["last_name"] = "Nobody".into();
        let (status, answer) = create(&app, &body).await;
        assert_eq!(status, 202, "{answer}");
    }
    let got = settled(&mail, "victim@example.org").await;
    assert_eq!(got.len(), cap as usize, "messages to the victim");
}

/// A legacy account (no `account` row, as the demo users and
/// operator-made accounts) whose address nobody verified gets no reset
/// link and no notices there; once its owner, signed in, proves the
/// address, it does.
#[tokio::test]
async fn a_legacy_address_gets_a_reset_link_only_once_verified() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let forgot = || {
        let app = &app;
        async move {
            app.anonymous()
                .post_json("/api/password/forgot", &json!({"email": "ada@example.com"}))
                .await
        }
    };

    assert_eq!(forgot().await.0, 202);
    let first = mail.wait_for("ada@example.com", 1).await;
    assert_eq!(
        first[0].subject,
        "We could not send a whatever.gov password reset link"
    );
    assert!(!first[0].text.contains("#token="), "{}", first[0].text);

    // A change of password is not told to an address nobody verified.
    let ada = app.sign_in("ada", "pw-ada-1234").await;
    let (status, body) = ada
        .post_json(
            "/api/me/password",
            &json!({"current_password": "pw-ada-1234", "new_password": "quilt harbor seventy ember"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(settled(&mail, "ada@example.com").await.len(), 1);

    let (status, account) = ada.get_json("/api/me/account").await;
    assert_eq!(status, 200);
    assert_eq!(account["email_verified"], false);
    let (status, body) = ada.post_json("/api/me/email/confirm", &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let link = mail.wait_for("ada@example.com", 2).await;
    assert_eq!(
        link[1].subject,
        "Confirm your email address for whatever.gov"
    );
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/accounts/verify-email",
            &json!({"token": link[1].token()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ada.get_json("/api/me/account").await.1["email_verified"],
        true
    );

    assert_eq!(forgot().await.0, 202);
    let reset = mail.wait_for("ada@example.com", 3).await;
    assert_eq!(reset[2].subject, "Reset your whatever.gov password");
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": reset[2].token(), "password": "harbor quilt ember ninety"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let told = mail.wait_for("ada@example.com", 4).await;
    assert_eq!(told[3].subject, "Your whatever.gov password was changed");
    assert_eq!(
        app.audit_kinds("ada").await,
        [
            "password_reset_withheld",
            "sign_in_succeeded",
            "password_changed",
            "address_confirmation_sent",
            "email_verified",
            "password_reset_requested",
            "password_reset"
        ]
    );
}

/// A legacy account with an authenticator app gets a reset link at an
/// address nobody verified: whoever reads that mail still needs the app.
#[tokio::test]
async fn a_legacy_account_with_a_second_factor_gets_its_reset_link() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    let sql = owner.sql().await;
    user_with_beneficiary(&sql, "ada", "pw-ada-1234", 1).await;
    sql.execute(
        "INSERT INTO totp_factor (username, secret, confirmed_at) VALUES ('ada', '\\x00', now())",
        &[],
    )
    .await
    .unwrap();
    let (status, _) = app
        .anonymous()
        .post_json("/api/password/forgot", &json!({"email": "ada@example.com"}))
        .await;
    assert_eq!(status, 202);
    let link = mail.wait_for("ada@example.com", 1).await;
    assert_eq!(link[0].subject, "Reset your whatever.gov password");
    assert!(link[0].text.contains("/account/reset/#token="));
}

/// "Forgot password" answers before it looks the address up: with the
/// tables a known address writes to locked, the answer still comes at once,
/// and the link goes once they are free.
#[tokio::test]
async fn forgot_password_answers_before_the_work_a_known_address_costs() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let app = TestApp::start_with(|c| c.mail.smtp_url = smtp).await;
    let sql = app.sql().await;
    user_with_beneficiary(&sql, "ada", "pw-ada-1234", 1).await;
    sql.execute(
        "INSERT INTO verified_address (username, email) VALUES ('ada', 'ada@example.com')",
        &[],
    )
    .await
    .unwrap();

    let lock = app.sql().await;
    lock.batch_execute("BEGIN; LOCK TABLE account_token, security_event IN EXCLUSIVE MODE")
        .await
        .unwrap();
    for email in ["nobody@example.com", "ada@example.com"] {
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            app.anonymous()
                .post_json("/api/password/forgot", &json!({"email": email})),
        )
        .await
        .unwrap_or_else(|_| panic!("{email}: no answer while the link's tables are locked"));
        assert_eq!(answer.0, 202, "{email}: {}", answer.1);
    }
    let tokens: i64 = sql
        .query_one("SELECT count(*) FROM account_token", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 0, "nothing written yet");
    lock.batch_execute("COMMIT").await.unwrap();
    let link = mail.wait_for("ada@example.com", 1).await;
    assert_eq!(link[0].subject, "Reset your whatever.gov password");
}

/// `POST /api/login` from `ip`.
async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str) -> reqwest::Response {
    let body = json!({"username": username, "password": password});
    app.anonymous().from_ip(ip).post("/api/login", &body).await
}

/// Strangers guess at an account that never signed in until its own limit
/// holds it for a day; its owner is mailed a link, opens it on their
/// device, and signs in from there at once. The guessers stay held.
#[tokio::test]
async fn the_owner_of_a_held_account_gets_back_in_by_mail() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (owner, app, _login) = TestApp::as_api_role(|c| {
        c.mail.smtp_url = smtp;
        c.client_addr.trust_forwarded_for = true;
        c.auth.throttle.per_account = Limit {
            max: 3,
            window: Duration::from_secs(86_400),
        };
    })
    .await;
    let sql = owner.sql().await;
    insert_beneficiary(&sql, 7, SSN).await;
    verified_account(&sql, "zoe", 7).await;
    let password = "orchid lantern basin thirty";

    for i in 0..3 {
        let resp = login_from(&app, &format!("203.0.113.{i}"), "zoe", "guess guess").await;
        assert_eq!(resp.status(), 401);
    }
    // The owner, from a device the account never signed in from.
    let home = "198.51.100.7";
    let resp = login_from(&app, home, "zoe", password).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_000..=86_400).contains(&retry), "{retry}");
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("we sent a link"), "{message}");
    let link = mail.wait_for("zoe@example.com", 1).await;
    assert_eq!(
        link[0].subject,
        "Many failed sign-ins to your whatever.gov account"
    );
    assert!(link[0].text.contains("/signin/#token="), "{}", link[0].text);
    // More holds while the link lives send no more mail.
    assert_eq!(
        login_from(&app, "203.0.113.9", "zoe", "guess")
            .await
            .status(),
        429
    );
    assert_eq!(settled(&mail, "zoe@example.com").await.len(), 1);

    let unlock = |ip: &'static str, token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/login/unlock"))
                .header("x-forwarded-for", format!("{ip}, 130.176.0.1"))
                .json(&json!({"token": token}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(unlock(home, "not-the-token".into()).await, 401);
    assert_eq!(unlock(home, link[0].token()).await, 200);
    assert_eq!(unlock("203.0.113.9", link[0].token()).await, 401, "once");
    assert_eq!(
        login_from(&app, "203.0.113.10", "zoe", password)
            .await
            .status(),
        429,
        "other addresses stay held, even with the password"
    );
    // (The sign-in then resets the account's count, as every sign-in does.)
    assert_eq!(login_from(&app, home, "zoe", password).await.status(), 200);
    assert_eq!(
        owner.audit_kinds("zoe").await,
        [
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_unlock_sent",
            "sign_in_unlocked",
            "sign_in_succeeded"
        ]
    );

    // A username nobody has is held alike, and nobody is mailed.
    for i in 0..3 {
        login_from(&app, &format!("203.0.113.{}", 20 + i), "nobody", "guess").await;
    }
    let resp = login_from(&app, home, "nobody", "guess").await;
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], message);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let links: i64 = sql
        .query_one(
            "SELECT count(*) FROM account_token WHERE purpose = 'unlock_sign_in'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(links, 1);
}
