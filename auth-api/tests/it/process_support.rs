//! What the robustness tests of the auth-api share: the binary itself (run
//! as production runs it), a member to sign in as, and the JSON error shape
//! every failure must have.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub use load_harness::process::ApiProcess;

/// The member every test signs in as.
pub const USERNAME: &str = "robust01";
/// Their password.
pub const PASSWORD: &str = "robust-password-2026";
/// Their plan.
pub const PLAN_ID: &str = "S7001-001-0";

/// The `auth-api` binary of this build.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_auth-api"))
}

/// The argon2id hash of `password`, from `auth-api hash-password`.
pub fn hash_password(password: &str) -> String {
    let mut child = Command::new(binary())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("auth-api hash-password runs");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hash-password failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// SQL that adds a plan, a beneficiary enrolled in it since last year, and
/// the user [`USERNAME`] / [`PASSWORD`] linked to them; `count` more users
/// `soak0000`.. with the same password each get a beneficiary of their own.
pub fn member_sql(count: u32) -> String {
    let hash = hash_password(PASSWORD).replace('\'', "''");
    format!(
        "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description,
                           avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age)
         VALUES ('{PLAN_ID}', 'Robust Basic Rx', 'Acme Health', 'active', 'A plan.',
                 31.50, 7.00, 100.00, 65, NULL);
         INSERT INTO beneficiary (beneficiary_id, fname, lname, sex, ssn, birthdate,
                                  address, city, state, zip_code)
         SELECT n, 'Ann', 'Doe', 'F', '078-05-1120', '1950-03-04', '1 Main St',
                'Boston', 'MA', '02134'
         FROM generate_series(1, {count} + 1) n;
         INSERT INTO beneficiary_to_plan (beneficiary_id, plan_id, start_date, end_date)
         SELECT n, '{PLAN_ID}', CURRENT_DATE - 365, NULL FROM generate_series(1, {count} + 1) n;
         INSERT INTO \"user\" (username, password, email, beneficiary_id)
         VALUES ('{USERNAME}', '{hash}', 'robust01@example.com', 1);
         INSERT INTO \"user\" (username, password, email, beneficiary_id)
         SELECT 'soak' || lpad(n::text, 4, '0'), '{hash}', 'soak' || n || '@example.com', n + 1
         FROM generate_series(0, {count} - 1) n;"
    )
}

/// Signs in and returns the session token (the value of the session
/// cookie, whatever its name), usable as a bearer token.
pub async fn sign_in(client: &reqwest::Client, api: &ApiProcess, username: &str) -> String {
    let resp = client
        .post(api.url("/api/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .expect("login answers");
    assert_eq!(resp.status(), 200, "login of {username}");
    session_token(resp.headers()).expect("a session cookie")
}

/// The token in the first `Set-Cookie` whose name mentions a session.
pub fn session_token(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .find(|(name, value)| name.contains("session") && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// Checks the shape every error answer has:
/// `{"error":{"code":"...","message":"..."}}` served as JSON. Returns the
/// code.
pub fn assert_error_shape(status: u16, content_type: &str, body: &[u8]) -> String {
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered with content type {content_type:?}"
    );
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{status} body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let code = value["error"]["code"].as_str();
    let message = value["error"]["message"].as_str();
    assert!(
        code.is_some_and(|c| !c.is_empty()) && message.is_some_and(|m| !m.is_empty()),
        "{status} body is not the error shape: {value}"
    );
    code.unwrap().to_string()
}
