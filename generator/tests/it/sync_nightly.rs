//! `infra/pipeline/nightly` end to end: the real script, the generator
//! binary, a test database, and moto_server standing in for S3 and
//! CloudWatch (the metric the alarms watch is read back from it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::sync_support::*;
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

/// moto_server on a free local port, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server is installed (pip install 'moto[server]')");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, url }
    }

    /// Runs the AWS CLI against this server.
    fn aws(&self, args: &[&str]) -> Output {
        let out = Command::new("aws")
            .args(args)
            .envs(self.env())
            .output()
            .expect("the AWS CLI is installed");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    /// Every NightlyFailed value reported for Environment=test.
    fn nightly_failed_values(&self) -> Vec<f64> {
        self.metric_values("NightlyFailed")
    }

    /// Every value of a pipeline metric reported for Environment=test.
    fn metric_values(&self, name: &str) -> Vec<f64> {
        let now = chrono::Utc::now();
        let out = self.aws(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "WhateverGov/Pipeline",
            "--metric-name",
            name,
            "--dimensions",
            "Name=Environment,Value=test",
            "--statistics",
            "Maximum",
            "--period",
            "60",
            "--start-time",
            &(now - chrono::Duration::hours(1)).to_rfc3339(),
            "--end-time",
            &(now + chrono::Duration::hours(1)).to_rfc3339(),
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["Datapoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["Maximum"].as_f64().unwrap())
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/pipeline/nightly")
}

/// Runs the nightly script on `delta` with these settings besides the
/// database, the generator and moto's.
fn nightly_with(db: &TestDatabase, moto: &Moto, delta: &str, settings: &[(&str, &str)]) -> Output {
    Command::new("bash")
        .arg(script())
        .arg(delta)
        .envs(moto.env())
        .env("DATABASE_URL", db.url())
        .env("GENERATOR", env!("CARGO_BIN_EXE_generator"))
        .env("ENVIRONMENT", "test")
        .envs(settings.iter().copied())
        .output()
        .expect("bash runs")
}

/// Runs the nightly script with `build` in place of `publish`.
fn nightly(db: &TestDatabase, moto: &Moto, delta: &str, out_dir: &Path) -> Output {
    let out_dir = out_dir.to_str().expect("a UTF-8 temporary path");
    nightly_with(
        db,
        moto,
        delta,
        &[("NIGHTLY_PUBLISH", "build"), ("NIGHTLY_OUT_DIR", out_dir)],
    )
}

#[tokio::test]
async fn a_good_night_syncs_then_publishes_the_change_and_reports_success() {
    let db = TestDatabase::new().await.unwrap();
    let moto = Moto::start();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let file = delta_file(&[
        upsert("plan", plan_row("S1", "One <renamed> & repriced", 12.5)),
        delete("plan_to_zip", json!({"plan_id": "S1", "zip_code": "02135"})),
    ]);
    moto.aws(&["s3", "mb", "s3://feed"]);
    moto.aws(&["s3", "mb", "s3://site"]);
    moto.aws(&[
        "s3",
        "cp",
        file.path().to_str().unwrap(),
        "s3://feed/2026-11-28.jsonl",
    ]);

    let out = nightly_with(
        &db,
        &moto,
        "s3://feed/2026-11-28.jsonl",
        &[
            ("SITE_BUCKET", "site"),
            ("S3_ENDPOINT_URL", &moto.url),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for step in [
        "step fetch delta",
        "step migrate",
        "step sync",
        "step publish",
    ] {
        assert!(stderr.contains(step), "{step} missing: {stderr}");
    }
    assert!(stderr.contains("nightly: done"), "{stderr}");

    // The database has the change, and the bucket serves it.
    let name: String = c
        .query_one("SELECT plan_name FROM plan WHERE plan_id = 'S1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "One <renamed> & repriced");
    let get = |key: &str| {
        let target = tempfile::NamedTempFile::new().unwrap();
        moto.aws(&[
            "s3",
            "cp",
            &format!("s3://site/{key}"),
            target.path().to_str().unwrap(),
        ]);
        std::fs::read_to_string(target.path()).unwrap()
    };
    let plan: Value = serde_json::from_str(&get("data/plans/S1.json")).unwrap();
    assert_eq!(plan["plan_name"], "One <renamed> & repriced");
    assert_eq!(plan["avg_monthly_cost"], json!(12.5));
    assert!(get("plans/S1/index.html").contains("One &#60;renamed&#62; &#38; repriced"));
    let listing =
        String::from_utf8(moto.aws(&["s3", "ls", "--recursive", "s3://site/"]).stdout).unwrap();
    assert!(listing.contains("zip/02134/index.html"), "{listing}");
    assert!(
        !listing.contains("zip/02135/"),
        "a zip left without plans is not published: {listing}"
    );
    assert_eq!(moto.nightly_failed_values(), [0.0]);
}

#[tokio::test]
async fn rows_the_site_cannot_publish_are_reported_and_the_night_still_succeeds() {
    let db = TestDatabase::new().await.unwrap();
    let moto = Moto::start();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    // A row from before sync applied the plan-id rule.
    c.execute(
        "INSERT INTO plan VALUES ($1, 'Long', 'X', 'active', NULL, 1, 1, 1, NULL, NULL)",
        &[&"S".repeat(10_000)],
    )
    .await
    .unwrap();
    let file = delta_file(&[upsert("plan", plan_row("S1", "One renamed", 12.5))]);
    let site = tempfile::tempdir().unwrap();
    let out = nightly(&db, &moto, file.path().to_str().unwrap(), site.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("WARNING: 1 row(s) of the database left off the site"),
        "{stderr}"
    );
    // The build's summary is the last line (sync's comes before it).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["skipped"], 1);
    assert!(site.path().join("plans/S1/index.html").exists());
    assert_eq!(moto.metric_values("NightlySkippedRows"), [1.0]);
    assert_eq!(moto.nightly_failed_values(), [0.0]);
}

#[tokio::test]
async fn a_bad_delta_from_s3_fails_the_sync_step_publishes_nothing_and_reports_failure() {
    let db = TestDatabase::new().await.unwrap();
    let moto = Moto::start();
    let c = db.connect().await.unwrap();
    baseline(&c).await;
    let before = snapshot(&c).await;
    let file = delta_file(&[
        upsert("plan", plan_row("S1", "One renamed", 10.0)),
        json!({"op": "upsert", "table": "plan", "row": {"plan_id": "S2"}}),
    ]);
    moto.aws(&["s3", "mb", "s3://feed"]);
    moto.aws(&[
        "s3",
        "cp",
        file.path().to_str().unwrap(),
        "s3://feed/2026-11-28.jsonl",
    ]);
    let site = tempfile::tempdir().unwrap();
    let out_dir = site.path().join("site");

    let out = nightly(&db, &moto, "s3://feed/2026-11-28.jsonl", &out_dir);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("step fetch delta"), "{stderr}");
    assert!(
        stderr.contains("line 2: row of plan is missing column(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("FAILED at step 'sync'"), "{stderr}");
    assert!(
        !stderr.contains("step build"),
        "nothing is published after a failed sync"
    );
    assert!(!out_dir.exists());
    assert_eq!(snapshot(&c).await, before, "line 1 was not applied either");
    assert_eq!(moto.nightly_failed_values(), [1.0]);
}

#[tokio::test]
async fn a_missing_delta_fails_before_touching_the_database() {
    let db = TestDatabase::new().await.unwrap();
    let moto = Moto::start();
    let site = tempfile::tempdir().unwrap();
    let out = nightly(
        &db,
        &moto,
        "/nonexistent/delta.jsonl",
        &site.path().join("site"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no delta file at /nonexistent/delta.jsonl"),
        "{stderr}"
    );
    assert!(stderr.contains("FAILED at step 'fetch delta'"), "{stderr}");
    assert!(!stderr.contains("step migrate"), "{stderr}");
    assert_eq!(moto.nightly_failed_values(), [1.0]);
}

#[test]
fn usage_is_explained_without_a_delta() {
    let out = Command::new("bash").arg(script()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}
