//! The throttle counter as `/metrics` serves it, for the alarm on it.
//!
//! The metrics sidecar renames `login_throttled_total` and exports it to
//! CloudWatch, where `infra/cloudformation/api.yaml` alarms on it. The
//! infrastructure tests check that sidecar configuration against the lines
//! this test takes from the running API and keeps in
//! `infra/tests/fixtures/login_throttled.prom`: a change to the metric here
//! fails this test until the file is rewritten (`UPDATE_FIXTURES=1`), and
//! the rewritten file fails the infrastructure tests until the alarm
//! follows. Alone in its process (see `in_own_process`), so no other test's
//! throttling is counted.

use std::time::Duration;

use auth_api::config::Limit;
use whatever_test_app::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../infra/tests/fixtures/login_throttled.prom"
);

/// The `login_throttled_total` lines of a Prometheus text page: its
/// comments first, then its samples in sorted order (the exporter's order
/// is not fixed).
fn throttle_lines(page: &str) -> String {
    let (comments, mut samples): (Vec<&str>, Vec<&str>) = page
        .lines()
        .filter(|l| {
            l.starts_with("login_throttled_total")
                || l.starts_with("# HELP login_throttled_total ")
                || l.starts_with("# TYPE login_throttled_total ")
        })
        .partition(|l| l.starts_with('#'));
    samples.sort_unstable();
    let mut out = [comments, samples].concat().join("\n");
    out.push('\n');
    out
}

#[tokio::test]
async fn a_throttled_login_is_counted_by_its_limit_from_zero() {
    // The metrics recorder is process-wide: nothing else may record here.
    if !whatever_test_app::in_own_process(
        "login_throttle_metric::a_throttled_login_is_counted_by_its_limit_from_zero",
    ) {
        return;
    }
    let app = TestApp::start_with(|c| {
        c.auth.throttle.per_user_client = Limit {
            max: 1,
            window: Duration::from_secs(900),
        };
    })
    .await;
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_addr = admin.local_addr().unwrap();
    let task = tokio::spawn(auth_api::metrics::serve_admin(admin));
    let scrape = || async {
        app.client
            .get(format!("http://{admin_addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };

    // Before any login every limit is already there, at zero.
    let before = throttle_lines(&scrape().await);
    for limit in ["account", "account_client", "client"] {
        let line = format!("login_throttled_total{{limit=\"{limit}\"}} 0");
        assert!(before.contains(&line), "{before}");
    }

    assert_eq!(app.login("ada", "wrong-1").await.status(), 401);
    assert_eq!(app.login("ada", "wrong-2").await.status(), 429);
    let after = throttle_lines(&scrape().await);
    task.abort();
    assert!(
        after.contains("login_throttled_total{limit=\"account_client\"} 1\n"),
        "{after}"
    );

    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(FIXTURE, &after).unwrap();
    }
    let kept = std::fs::read_to_string(FIXTURE).unwrap_or_default();
    assert_eq!(
        kept, after,
        "{FIXTURE} is not what the API serves: rerun with UPDATE_FIXTURES=1, \
         then make infra/check pass"
    );
}
