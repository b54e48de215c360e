//! The second factor: an account created here must set up an authenticator
//! before it sees anything personal; then signing in takes a password and a
//! code; a code works once; a recovery code works once and its owner is
//! told. In the settings, the app is replaced with no moment without one,
//! removed only where the account may go without, and the recovery codes
//! replaced all at once. Codes are computed here from the shown secret with RFC 6238 written
//! out below (HMAC-SHA-1 from aws-lc-rs), not with the server's library.

use crate::maildev::Maildev;
use auth_api::auth::links::Purpose;
use aws_lc_rs::hmac;
use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// RFC 4648 base32 (as the setup answer shows the secret, spaces allowed).
pub(crate) fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = ALPHABET.find(c.to_ascii_uppercase()).expect("base32") as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// RFC 6238 / RFC 4226: HOTP(K, T) with T the 30-second step, 6 digits.
pub(crate) fn code_at_step(secret: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

pub(crate) fn step_now() -> u64 {
    chrono::Utc::now().timestamp() as u64 / 30
}

#[test]
fn the_test_s_own_totp_meets_rfc_6238() {
    // Appendix B, SHA-1, T = 59 s and T = 1111111109 s: 94287082, 07081804.
    assert_eq!(code_at_step(b"12345678901234567890", 59 / 30), "287082");
    assert_eq!(
        code_at_step(b"12345678901234567890", 1_111_111_109 / 30),
        "081804"
    );
    assert_eq!(base32_decode("MZXW 6YTB OI"), b"foobar");
}

fn cookie_value(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        .filter(|t| !t.is_empty())
}

/// `POST path` as `client`, carrying the pending sign-in's cookie too.
async fn post_pending(
    client: &Client,
    path: &str,
    pending: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .request(reqwest::Method::POST, path)
        .header("cookie", format!("__Host-whatever_pending={pending}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// An account created through the API, already verified.
async fn self_service_account(app: &TestApp, username: &str, password: &str, id: i64) {
    let sql = app.sql().await;
    user_with_beneficiary(&sql, username, password, id).await;
    sql.execute(
        "INSERT INTO account (username, beneficiary_id, email_verified_at) VALUES ($1, $2, now())",
        &[&username, &id],
    )
    .await
    .unwrap();
}

/// Sets up the authenticator of the session `token`; returns the secret and
/// the recovery codes, and the full session the confirmation gives.
async fn set_up_totp(app: &TestApp, token: &str) -> (Vec<u8>, Vec<String>, String) {
    let resp = app.user(token).post("/api/me/totp", &json!({})).await;
    assert_eq!(resp.status(), 200);
    let setup: Value = resp.json().await.unwrap();
    assert!(
        setup["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || setup["qr_svg"].as_str().unwrap().contains("<svg")
    );
    let secret = base32_decode(setup["secret"].as_str().unwrap());
    assert_eq!(secret.len(), 20, "160 bits");
    assert!(
        setup["uri"].as_str().unwrap().contains(&format!(
            "secret={}",
            setup["secret"].as_str().unwrap().replace(' ', "")
        )),
        "{setup}"
    );
    // A wrong code does not confirm it.
    let wrong = format!(
        "{:06}",
        (code_at_step(&secret, step_now()).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    let resp = app
        .user(token)
        .post("/api/me/totp/confirm", &json!({"code": wrong}))
        .await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .user(token)
        .post(
            "/api/me/totp/confirm",
            &json!({"code": code_at_step(&secret, step_now())}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let full = session_cookie(&resp).unwrap_or_else(|| token.to_string());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "added");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes, full)
}

/// The password step: the pending sign-in's cookie.
async fn password_step(app: &TestApp, username: &str, password: &str) -> String {
    let resp = app.login(username, password).await;
    assert_eq!(resp.status(), 200);
    assert!(
        session_cookie(&resp).is_none(),
        "no session before the second factor"
    );
    let pending = cookie_value(&resp, "__Host-whatever_pending").expect("a pending cookie");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "second_factor_required");
    pending
}

#[tokio::test]
async fn a_new_account_sets_up_totp_first_then_signs_in_with_it_and_a_code_works_once() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    // As the API's own database role: every grant these steps need is there.
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    self_service_account(&app, "zoe", "orchid lantern basin thirty", 7).await;

    let resp = app.login("zoe", "orchid lantern basin thirty").await;
    assert_eq!(resp.status(), 200);
    let restricted = session_cookie(&resp).unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["second_factor"], "setup_required");
    let resp = app.user(&restricted).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "second_factor_required");

    let (secret, codes, full) = set_up_totp(&app, &restricted).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.user(&full).get("/api/me/enrollment").await.status(),
        200
    );
    let told = mail.wait_for("zoe@example.com", 1).await;
    assert_eq!(
        told[0].subject,
        "An authenticator app was added to your whatever.gov account"
    );
    // Another setup, while one is confirmed, is a replacement: it needs the password.
    let resp = app.user(&full).post("/api/me/totp", &json!({})).await;
    assert_eq!(resp.status(), 422);

    // Password, then the next step's code (the current one went to the setup).
    let pending = password_step(&app, "zoe", "orchid lantern basin thirty").await;
    let code = code_at_step(&secret, step_now() + 1);
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let session = session_cookie(&resp).expect("a session");
    assert_eq!(
        app.user(&session).get("/api/me/enrollment").await.status(),
        200
    );

    // The same code again, from a fresh password step: refused (replay).
    let pending = password_step(&app, "zoe", "orchid lantern basin thirty").await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(resp.status(), 401);
    // A used pending sign-in is gone too.
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        "made-up",
        &json!({"code": code}),
    )
    .await;
    assert_eq!(resp.status(), 401);

    let sql = app.sql().await;
    let kinds = app.audit_kinds("zoe").await;
    assert_eq!(
        kinds,
        [
            "sign_in_succeeded",
            "factor_added",
            "sign_in_succeeded",
            "second_factor_failed"
        ]
    );
    // The wrong code counts against the login throttle like a wrong password.
    let failures: i64 = sql
        .query_one(
            "SELECT count(*) FROM login_failure WHERE account IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        failures, 2,
        "the pending password step and the refused code"
    );
}

#[tokio::test]
async fn a_recovery_code_gets_in_once_and_only_once_and_the_owner_is_told() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let app = TestApp::start_with(|c| c.mail.smtp_url = smtp).await;
    // An account from before second factors: it may set one up when asked.
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    // Its address proven, so it is told of changes.
    verify_address(&app.sql().await, "ada").await;
    let resp = app.login("ada", "pw-ada-1234").await;
    let body_token = session_cookie(&resp).unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["second_factor"], "setup_suggested");
    assert_eq!(
        app.user(&body_token)
            .get("/api/me/enrollment")
            .await
            .status(),
        200
    );
    let (_secret, codes, _) = set_up_totp(&app, &body_token).await;

    let pending = password_step(&app, "ada", "pw-ada-1234").await;
    // Typed in capitals with spaces: still the code.
    let typed = codes[3].replace('-', " ").to_uppercase();
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": typed}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(session_cookie(&resp).is_some());
    let told = mail.wait_for("ada@example.com", 2).await;
    assert_eq!(
        told[1].subject,
        "A recovery code was used to sign in to whatever.gov"
    );
    assert!(told[1].text.contains("you have 9 left"), "{}", told[1].text);

    let pending = password_step(&app, "ada", "pw-ada-1234").await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": codes[3]}),
    )
    .await;
    assert_eq!(resp.status(), 401, "used up");
    // Another code still works, within the same pending sign-in.
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": codes[4]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let left: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM recovery_code WHERE username = 'ada' AND used_at IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 8);
}

#[tokio::test]
async fn a_pending_sign_in_allows_five_tries_then_the_password_again() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    self_service_account(&app, "zoe", "orchid lantern basin thirty", 7).await;
    let restricted = app.token("zoe", "orchid lantern basin thirty").await;
    let (secret, _, _) = set_up_totp(&app, &restricted).await;
    let pending = password_step(&app, "zoe", "orchid lantern basin thirty").await;
    for _ in 0..5 {
        let resp = post_pending(
            &app.anonymous(),
            "/api/login/second-factor",
            &pending,
            &json!({"code": "000000"}),
        )
        .await;
        assert_eq!(resp.status(), 401);
    }
    // Even the right code is too late now.
    let code = code_at_step(&secret, step_now() + 1);
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sign in again"),
        "{body}"
    );
}

async fn account_of(app: &TestApp, token: &str) -> Value {
    let resp = app.user(token).get("/api/me/account").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn replacing_the_app_needs_the_password_and_the_old_one_works_until_the_new_one_is_confirmed()
{
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    // As the API's own database role: every grant these steps need is there.
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    self_service_account(&app, "zoe", "orchid lantern basin thirty", 7).await;
    let restricted = app.token("zoe", "orchid lantern basin thirty").await;
    let (old, codes, full) = set_up_totp(&app, &restricted).await;

    // Without the password (no body at all, or none in it), or with a wrong one: refused.
    let resp = app.user(&full).post_empty("/api/me/totp").await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "password", "{body}");
    let resp = app.user(&full).post("/api/me/totp", &json!({})).await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .user(&full)
        .post("/api/me/totp", &json!({"password": "not the password"}))
        .await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wrong_password");

    let resp = app
        .user(&full)
        .post(
            "/api/me/totp",
            &json!({"password": "orchid lantern basin thirty"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let setup: Value = resp.json().await.unwrap();
    let new = base32_decode(setup["secret"].as_str().unwrap());
    assert_eq!(new.len(), 20);
    assert_ne!(new, old);

    // Until the new app is confirmed, the old one is the account's app.
    let pending = password_step(&app, "zoe", "orchid lantern basin thirty").await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code_at_step(&old, step_now() + 1)}),
    )
    .await;
    assert_eq!(resp.status(), 200, "the old app still signs in");
    // A code from the old app does not confirm the new one.
    let resp = app
        .user(&full)
        .post(
            "/api/me/totp/confirm",
            &json!({"code": code_at_step(&old, step_now())}),
        )
        .await;
    assert_eq!(resp.status(), 422);

    let step = step_now();
    let resp = app
        .user(&full)
        .post(
            "/api/me/totp/confirm",
            &json!({"code": code_at_step(&new, step)}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "replaced"}));
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT secret, pending_secret, last_step FROM totp_factor WHERE username = 'zoe'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), new);
    assert_eq!(row.get::<_, Option<Vec<u8>>>(1), None);
    assert_eq!(
        row.get::<_, i64>(2),
        step as i64,
        "the replay guard is the new app's"
    );

    // From now on only the new app: a code of the old one for a step never
    // used is refused, the new one's for the same step accepted.
    let pending = password_step(&app, "zoe", "orchid lantern basin thirty").await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code_at_step(&old, step + 1)}),
    )
    .await;
    assert_eq!(resp.status(), 401, "the old app is gone");
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"code": code_at_step(&new, step + 1)}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // The recovery codes stay.
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &password_step(&app, "zoe", "orchid lantern basin thirty").await,
        &json!({"recovery_code": codes[0]}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    let told = mail.wait_for("zoe@example.com", 2).await;
    assert_eq!(
        told[1].subject,
        "An authenticator app was changed on your whatever.gov account"
    );
    let events = app.audit_kinds("zoe").await;
    assert_eq!(
        events[..6],
        [
            "sign_in_succeeded",
            "factor_added",
            "password_check_failed",
            "sign_in_succeeded",
            "factor_replaced",
            "second_factor_failed",
        ]
    );
}

#[tokio::test]
async fn removing_the_app_is_refused_for_the_last_required_factor_and_takes_the_recovery_codes_otherwise()
 {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    // An account created here must keep a factor.
    self_service_account(&app, "zoe", "orchid lantern basin thirty", 7).await;
    let restricted = app.token("zoe", "orchid lantern basin thirty").await;
    let (_, _, zoe) = set_up_totp(&app, &restricted).await;
    assert_eq!(
        account_of(&app, &zoe).await["second_factor"]["totp_removable"],
        false
    );
    let resp = app
        .user(&zoe)
        .post(
            "/api/me/totp/remove",
            &json!({"password": "orchid lantern basin thirty"}),
        )
        .await;
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "last_factor");
    password_step(&app, "zoe", "orchid lantern basin thirty").await;

    // One from before second factors may go back to none.
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    verify_address(&app.sql().await, "ada").await;
    let ada = app.token("ada", "pw-ada-1234").await;
    set_up_totp(&app, &ada).await;
    assert_eq!(
        account_of(&app, &ada).await["second_factor"]["totp_removable"],
        true
    );
    let resp = app
        .user(&ada)
        .post("/api/me/totp/remove", &json!({"password": "pw-ada-12345"}))
        .await;
    assert_eq!(resp.status(), 403);
    let resp = app
        .user(&ada)
        .post("/api/me/totp/remove", &json!({"password": "pw-ada-1234"}))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "removed", "recovery_codes_deleted": true})
    );
    let sql = app.sql().await;
    for table in ["totp_factor", "recovery_code"] {
        let left: i64 = sql
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE username = 'ada'"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "{table}");
    }
    // The password alone signs in again.
    let resp = app.login("ada", "pw-ada-1234").await;
    assert!(session_cookie(&resp).is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["second_factor"], "setup_suggested");
    let resp = app
        .user(&ada)
        .post("/api/me/totp/remove", &json!({"password": "pw-ada-1234"}))
        .await;
    assert_eq!(resp.status(), 409, "nothing left to remove");

    let told = mail.wait_for("ada@example.com", 2).await;
    assert_eq!(
        told[1].subject,
        "An authenticator app was removed from your whatever.gov account"
    );
    assert!(told[1].text.contains("recovery codes no longer work"));
    let detail: Value = sql
        .query_one(
            "SELECT detail FROM security_event WHERE kind = 'factor_removed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        detail,
        json!({"factor": "totp", "recovery_codes_deleted": true})
    );
    assert!(
        app.audit_kinds("zoe")
            .await
            .iter()
            .all(|k| k != "factor_removed")
    );
}

#[tokio::test]
async fn new_recovery_codes_replace_every_old_one_and_need_a_second_factor() {
    let mail = Maildev::start().await;
    let smtp = mail.smtp_url();
    let (_owner, app, _login) = TestApp::as_api_role(|c| c.mail.smtp_url = smtp).await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    verify_address(&app.sql().await, "ada").await;
    let ada = app.token("ada", "pw-ada-1234").await;
    let user = app.user(&ada);
    let regenerate = |password: &'static str| {
        let user = user.clone();
        async move {
            user.post("/api/me/recovery-codes", &json!({"password": password}))
                .await
        }
    };
    let resp = regenerate("pw-ada-1234").await;
    assert_eq!(resp.status(), 409, "no factor, no codes");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_second_factor");

    let (_, old, _) = set_up_totp(&app, &ada).await;
    assert_eq!(regenerate("pw-ada-4321").await.status(), 403);
    let resp = regenerate("pw-ada-1234").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let new: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new.len(), 10);
    let distinct: std::collections::HashSet<&String> = new.iter().chain(&old).collect();
    assert_eq!(distinct.len(), 20, "ten new codes, none of them old");
    assert_eq!(
        account_of(&app, &ada).await["second_factor"]["recovery_codes_left"],
        10
    );

    let pending = password_step(&app, "ada", "pw-ada-1234").await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": old[0]}),
    )
    .await;
    assert_eq!(resp.status(), 401, "the old codes are gone");
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": new[0]}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    let told = mail.wait_for("ada@example.com", 2).await;
    assert_eq!(
        told[1].subject,
        "New recovery codes for your whatever.gov account"
    );
    let detail: Value = app
        .sql()
        .await
        .query_one(
            "SELECT detail FROM security_event WHERE kind = 'recovery_codes_replaced'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(detail, json!({"recovery_codes": 10}));
}

#[tokio::test]
async fn an_account_s_factors_are_asked_in_one_place() {
    use auth_api::auth::factors::{Factors, of};
    let app = TestApp::start().await;
    let sql = app.sql().await;
    user_with_beneficiary(&sql, "ada", "pw-ada-1234", 1).await;
    self_service_account(&app, "zoe", "orchid lantern basin thirty", 7).await;
    let none = |required| Factors {
        totp: false,
        passkeys: 0,
        required,
    };
    assert_eq!(of(&sql, "ada").await.unwrap(), none(false));
    assert_eq!(of(&sql, "zoe").await.unwrap(), none(true));
    assert_eq!(of(&sql, "nobody").await.unwrap(), none(false));
    // An app set up but not confirmed counts for nothing.
    sql.execute(
        "INSERT INTO totp_factor (username, secret) VALUES ('zoe', '\\x00')",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(of(&sql, "zoe").await.unwrap(), none(true));
    sql.execute(
        "UPDATE totp_factor SET confirmed_at = now() WHERE username = 'zoe'",
        &[],
    )
    .await
    .unwrap();
    let zoe = of(&sql, "zoe").await.unwrap();
    assert_eq!(
        zoe,
        Factors {
            totp: true,
            passkeys: 0,
            required: true
        }
    );
    assert!(!zoe.may_remove_one());
}

#[tokio::test]
async fn a_completed_two_step_sign_in_leaves_nothing_counted_against_the_address() {
    let app = TestApp::start_with(|c| {
        c.mail.smtp_url = "smtp://127.0.0.1:9".into();
        // Three failures a minute from one address, then a wait.
        c.auth.throttle.per_client.max = 3;
    })
    .await;
    user_with_beneficiary(&app.sql().await, "ada", "pw-ada-1234", 1).await;
    let ada = app.token("ada", "pw-ada-1234").await;
    let (secret, codes, _) = set_up_totp(&app, &ada).await;
    // More two-step sign-ins from one address than it may fail: the app's
    // next code, then recovery codes (each step's code is accepted once).
    let second_steps = std::iter::once(json!({"code": code_at_step(&secret, step_now() + 1)}))
        .chain(codes[1..4].iter().map(|c| json!({"recovery_code": c})));
    for (n, body) in second_steps.enumerate() {
        let pending = password_step(&app, "ada", "pw-ada-1234").await;
        let resp = post_pending(
            &app.anonymous(),
            "/api/login/second-factor",
            &pending,
            &body,
        )
        .await;
        assert_eq!(resp.status(), 200, "sign-in {n}");
    }
    let counted: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM login_failure", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(counted, 0, "every password step was taken back");
}

/// A code that is not the app's for the steps around now (so no check
/// accepts it, whatever the clock's drift).
fn wrong_code(secret: &[u8]) -> String {
    let taken: Vec<String> = (step_now() - 2..=step_now() + 2)
        .map(|step| code_at_step(secret, step))
        .collect();
    (0..)
        .map(|n| format!("{:06}", (123_457 * n + 99_991) % 1_000_000))
        .find(|code| !taken.contains(code))
        .unwrap()
}

#[tokio::test]
async fn a_setup_only_session_adds_only_a_first_factor_and_dies_when_another_adds_one() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    let password = "orchid lantern basin thirty";
    self_service_account(&app, "zoe", password, 7).await;
    // Someone who has the password signs in before the owner adds a factor.
    let intruder = app.token("zoe", password).await;
    let owner = app.token("zoe", password).await;

    // Even before any factor, a setup-only session changes nothing else.
    let refused = [
        app.user(&intruder)
            .post(
                "/api/me/password",
                &json!({"current_password": password, "new_password": "a brand new passphrase 7"}),
            )
            .await,
        app.user(&intruder)
            .post_empty("/api/me/sessions/end-all")
            .await,
        app.user(&intruder).get("/api/me/sessions").await,
    ];
    for resp in refused {
        assert_eq!(resp.status(), 403, "{}", resp.url());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "second_factor_required");
    }

    // The owner adds the app; the intruder's session is over.
    let (_, codes, full) = set_up_totp(&app, &owner).await;
    // Routes for a full session refuse it as setup-only (403); those a
    // setup-only session may use, it can use no more (401).
    let attempts = [
        ("/api/me/recovery-codes", json!({"password": password}), 403),
        ("/api/me/totp", json!({"password": password}), 401),
        ("/api/me/passkeys/register/start", json!({}), 401),
        (
            "/api/me/password",
            json!({"current_password": password, "new_password": "a brand new passphrase 7"}),
            403,
        ),
        ("/api/me/sessions/end-all", json!({}), 403),
        ("/api/me/totp/remove", json!({"password": password}), 403),
    ];
    for (path, body, status) in attempts {
        let resp = app.user(&intruder).post(path, &body).await;
        assert_eq!(resp.status(), status, "{path}");
    }
    assert_eq!(
        app.user(&intruder).get("/api/me/account").await.status(),
        401
    );
    // The owner's session and codes are as they were.
    assert_eq!(
        app.user(&full).get("/api/me/enrollment").await.status(),
        200
    );
    let account = account_of(&app, &full).await;
    assert_eq!(account["second_factor"]["recovery_codes_left"], 10);
    let pending = password_step(&app, "zoe", password).await;
    let resp = post_pending(
        &app.anonymous(),
        "/api/login/second-factor",
        &pending,
        &json!({"recovery_code": codes[0]}),
    )
    .await;
    assert_eq!(resp.status(), 200, "the owner's codes still work");
}

#[tokio::test]
async fn codes_are_held_back_by_the_login_throttle_and_one_pending_sign_in_lives() {
    let app = TestApp::start_with(|c| {
        c.mail.smtp_url = "smtp://127.0.0.1:9".into();
        c.client_addr.trust_forwarded_for = true;
        c.auth.throttle.per_account.max = 10;
    })
    .await;
    let password = "orchid lantern basin thirty";
    self_service_account(&app, "zoe", password, 7).await;
    let restricted = app.token("zoe", password).await;
    let (secret, _, _) = set_up_totp(&app, &restricted).await;
    let wrong = wrong_code(&secret);

    // Someone with the password opens nine pending sign-ins from nine
    // addresses, then tries five codes on each.
    let from = |n: usize| format!("198.51.100.{}, 130.176.0.1", n + 10);
    let mut pendings = Vec::new();
    for n in 0..9 {
        let resp = app
            .client
            .post(app.url("/api/login"))
            .header("x-forwarded-for", from(n))
            .json(&json!({"username": "zoe", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        pendings.push(cookie_value(&resp, "__Host-whatever_pending").unwrap());
    }
    let (mut checked, mut ended, mut throttled) = (0, 0, 0);
    for (n, pending) in pendings.iter().enumerate() {
        for _ in 0..5 {
            let resp = app
                .client
                .post(app.url("/api/login/second-factor"))
                .header("x-forwarded-for", from(n))
                .header("cookie", format!("__Host-whatever_pending={pending}"))
                .json(&json!({"code": wrong}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            let message = body["error"]["message"].as_str().unwrap_or_default();
            match status {
                401 if message.contains("code is not right") => checked += 1,
                401 if message.contains("sign in again") => ended += 1,
                429 => throttled += 1,
                _ => panic!("{status} {body}"),
            }
        }
    }
    // Only the newest pending sign-in counts; the nine password steps and
    // its codes share the account's ten tries.
    assert_eq!(ended, 8 * 5, "older pending sign-ins are over");
    assert_eq!(checked, 1, "one try was left for a code");
    assert_eq!(throttled, 4);
}

#[tokio::test]
async fn a_reset_or_a_change_ends_the_other_reset_links_and_pending_sign_ins() {
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    let password = "orchid lantern basin thirty";
    self_service_account(&app, "zoe", password, 7).await;
    let restricted = app.token("zoe", password).await;
    let (_, codes, _) = set_up_totp(&app, &restricted).await;
    let sql = app.sql().await;
    let hour = std::time::Duration::from_secs(3600);
    let issue = || auth_api::auth::links::issue(&sql, "zoe", Purpose::ResetPassword, hour);
    let reset = |token: String, new: &'static str| {
        let app = &app;
        async move {
            app.anonymous()
                .post_json(
                    "/api/password/reset",
                    &json!({"token": token, "password": new}),
                )
                .await
        }
    };
    // Second steps with recovery codes: each works once, whatever the clock.
    let second_step = |pending: String, code: String| {
        let app = &app;
        async move {
            post_pending(
                &app.anonymous(),
                "/api/login/second-factor",
                &pending,
                &json!({"recovery_code": code}),
            )
            .await
        }
    };

    // An intruder's password step and reset link, then the owner's reset.
    let pending = password_step(&app, "zoe", password).await;
    let theirs = issue().await.unwrap();
    let mine = issue().await.unwrap();
    let (status, body) = reset(mine, "a brand new passphrase 7").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["factors"]["totp"], true, "{body}");
    let (status, _) = reset(theirs, "the intruder's own choice 9").await;
    assert_eq!(status, 401, "the other link is over");
    let resp = second_step(pending, codes[0].clone()).await;
    assert_eq!(resp.status(), 401, "so is the pending sign-in");

    // A change does the same.
    let owner = {
        let pending = password_step(&app, "zoe", "a brand new passphrase 7").await;
        let resp = second_step(pending, codes[1].clone()).await;
        assert_eq!(resp.status(), 200);
        session_cookie(&resp).unwrap()
    };
    let pending = password_step(&app, "zoe", "a brand new passphrase 7").await;
    let theirs = issue().await.unwrap();
    let resp = app
        .user(&owner)
        .post(
            "/api/me/password",
            &json!({"current_password": "a brand new passphrase 7", "new_password": "yet another passphrase 8"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(reset(theirs, "the intruder's own choice 9").await.0, 401);
    let resp = second_step(pending, codes[2].clone()).await;
    assert_eq!(resp.status(), 401);
}
