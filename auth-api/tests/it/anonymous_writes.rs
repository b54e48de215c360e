//! What anonymous requests may write: passkey sign-ins started are limited
//! per client network, events anyone can cause (a refused link, a
//! throttled sign-in) are tallied per hour instead of written one row
//! each, and the audit log keeps client addresses for 90 days and events
//! for a year, pruned under the API's own database role.

use serde_json::{Value, json};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// `POST path` with `body`, as seen from client address `ip`.
async fn post_from(app: &TestApp, ip: &str, path: &str, body: &Value) -> u16 {
    app.anonymous()
        .from_ip(ip)
        .post(path, body)
        .await
        .status()
        .as_u16()
}

async fn count(sql: &tokio_postgres::Client, query: &str) -> i64 {
    sql.query_one(query, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn passkey_sign_ins_started_are_limited_per_network() {
    let app = TestApp::start_with(|c| c.client_addr.trust_forwarded_for = true).await;
    let limit = auth_api::auth::passkey::SIGN_IN_STARTS;
    let mut statuses = Vec::new();
    for n in 0..limit + 5 {
        let ip = format!("2001:db8:7:8::{:x}", n + 1);
        statuses.push(post_from(&app, &ip, "/api/login/passkey/start", &json!({})).await);
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(accepted, limit as usize, "{statuses:?}");
    assert!(statuses[limit as usize..].iter().all(|s| *s == 429));
    // Another network starts as before.
    assert_eq!(
        post_from(
            &app,
            "2001:db8:7:9::1",
            "/api/login/passkey/start",
            &json!({})
        )
        .await,
        200
    );
    let sql = app.sql().await;
    assert_eq!(
        count(&sql, "SELECT count(*) FROM webauthn_ceremony").await,
        i64::from(limit) + 1
    );
}

#[tokio::test]
async fn refused_links_and_throttled_sign_ins_are_tallied_not_written_each() {
    // As production runs: the API's role may append, never read back.
    let (owner, app, _login) = TestApp::as_api_role(|c| {
        c.client_addr.trust_forwarded_for = true;
        c.auth.throttle.per_user_client.max = 1;
    })
    .await;
    user_with_beneficiary(&owner.sql().await, "ada", "pw-ada-1234", 1).await;
    for n in 0..20 {
        let ip = format!("2001:db8:7:8::{:x}", n + 1);
        let token = format!("made-up-token-{n}");
        assert_eq!(
            post_from(
                &app,
                &ip,
                "/api/accounts/verify-email",
                &json!({"token": token})
            )
            .await,
            401
        );
        let body = json!({"username": "ada", "password": format!("guess-{n}")});
        let expected = if n == 0 { 401 } else { 429 };
        assert_eq!(post_from(&app, &ip, "/api/login", &body).await, expected);
    }
    let sql = owner.sql().await;
    let rows = sql
        .query(
            "SELECT kind, host(client_addr), hits FROM security_event
              WHERE kind IN ('token_refused', 'sign_in_throttled') ORDER BY kind",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(String, String, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        [
            ("sign_in_throttled".into(), "2001:db8:7:8::".into(), 19),
            ("token_refused".into(), "2001:db8:7:8::".into(), 20),
        ]
    );
}

#[tokio::test]
async fn the_audit_log_forgets_addresses_after_90_days_and_events_after_a_year() {
    let (owner, app, _login) = TestApp::as_api_role(|_| {}).await;
    let sql = owner.sql().await;
    sql.batch_execute(
        "INSERT INTO security_event (kind, client_addr, occurred_at) VALUES
           ('sign_in_failed', '192.0.2.1', now() - interval '89 days'),
           ('sign_in_failed', '192.0.2.2', now() - interval '91 days'),
           ('sign_in_failed', '192.0.2.3', now() - interval '366 days')",
    )
    .await
    .unwrap();
    let state = &app.state;
    let db = state.pool.get().await.unwrap();
    auth_api::auth::prune(&**db, &state.config.auth.throttle, &state.config.accounts)
        .await
        .unwrap();
    let rows = sql
        .query(
            "SELECT host(client_addr), (now() - occurred_at) > interval '90 days'
               FROM security_event WHERE kind = 'sign_in_failed' ORDER BY occurred_at DESC",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(Option<String>, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows, [(Some("192.0.2.1".into()), false), (None, true)]);
    // The API's role itself can delete nothing from the log.
    let denied = db
        .execute("DELETE FROM security_event", &[])
        .await
        .unwrap_err();
    assert_eq!(
        denied.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{denied}"
    );
}
