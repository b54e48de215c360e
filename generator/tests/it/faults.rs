//! The generator's commands when Postgres is down as they start: a clear
//! error naming the database, a non-zero exit, and nothing half-written:
//! no output files, no rows, no objects in the bucket. The database is a
//! private cluster each test stops (never the shared server).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::publish_support::Aws;
use crate::sync_support;
use load_harness::postgres::PrivateCluster;

/// A private cluster with a migrated `whatever` database holding one
/// plan, then stopped.
fn stopped_cluster() -> PrivateCluster {
    let cluster = PrivateCluster::start().expect("a private Postgres cluster");
    let url = cluster.url("whatever");
    let migrate = generator(&url, &["migrate"]);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    cluster
        .psql(
            "whatever",
            "INSERT INTO plan VALUES ('S1', 'One', 'Acme Health', 'active', 'A plan.',
                                     10, 7.5, 100, 65, NULL);
             INSERT INTO plan_to_zip VALUES ('S1', '02134');",
        )
        .unwrap();
    cluster.stop().unwrap();
    cluster
}

/// Runs the binary with a bound on its time: a command that hangs on a
/// database that is down fails the test instead of stalling it.
fn generator(database_url: &str, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_generator"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the generator binary runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("generator {args:?} was still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Checks the failure: non-zero exit, no summary on stdout, and a message
/// that says the database could not be reached and where.
fn assert_failed_naming_the_database(out: &Output, cluster: &PrivateCluster) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "exit status {}: {stderr}",
        out.status
    );
    assert!(
        out.stdout.is_empty(),
        "no summary line: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let port = cluster.port().to_string();
    assert!(
        stderr.contains("Postgres") && stderr.contains(&port) && stderr.contains("connect"),
        "the message names the database that could not be reached (port {port}): {stderr}"
    );
}

/// Every file under `dir`, path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let key = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

#[test]
fn build_with_postgres_down_fails_naming_it_and_writes_nothing() {
    let cluster = stopped_cluster();
    let out_root = tempfile::tempdir().unwrap();

    // Into a new directory: nothing appears.
    let fresh = out_root.path().join("site");
    let out = generator(
        &cluster.url("whatever"),
        &["build", "--out", fresh.to_str().unwrap()],
    );
    assert_failed_naming_the_database(&out, &cluster);
    assert_eq!(files(&fresh), BTreeMap::new(), "no file was written");

    // Over an earlier site: it is left exactly as it was.
    let earlier = out_root.path().join("earlier");
    std::fs::create_dir_all(earlier.join("zip/02134")).unwrap();
    std::fs::write(earlier.join("index.html"), "earlier home").unwrap();
    std::fs::write(earlier.join("zip/02134/index.html"), "earlier zip").unwrap();
    let before = files(&earlier);
    let out = generator(
        &cluster.url("whatever"),
        &["build", "--out", earlier.to_str().unwrap()],
    );
    assert_failed_naming_the_database(&out, &cluster);
    assert_eq!(files(&earlier), before, "the earlier site is untouched");
}

#[tokio::test]
async fn sync_with_postgres_down_fails_naming_it_and_applies_nothing() {
    let cluster = tokio::task::spawn_blocking(stopped_cluster).await.unwrap();
    let delta = sync_support::delta_file(&[
        sync_support::upsert("plan", sync_support::plan_row("S2", "Two", 20.0)),
        sync_support::delete("plan", serde_json::json!({"plan_id": "S1"})),
    ]);
    let url = cluster.url("whatever");
    let path = delta.path().to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || generator(&url, &["sync", &path]))
        .await
        .unwrap();
    assert_failed_naming_the_database(&out, &cluster);

    // Back up, the database holds what it held and records no delta.
    cluster.start_again().unwrap();
    assert_eq!(
        cluster
            .psql(
                "whatever",
                "SELECT string_agg(plan_id, ',' ORDER BY plan_id) FROM plan"
            )
            .unwrap(),
        "S1"
    );
    assert_eq!(
        cluster
            .psql("whatever", "SELECT count(*) FROM applied_delta")
            .unwrap(),
        "0"
    );
}

#[tokio::test]
async fn publish_with_postgres_down_fails_naming_it_and_uploads_nothing() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("fault-publish").await;
    let distribution = aws.distribution(&bucket).await;
    let cluster = tokio::task::spawn_blocking(stopped_cluster).await.unwrap();
    let url = cluster.url("whatever");
    let moto = aws.moto.url.clone();
    let (b, d) = (bucket.clone(), distribution.clone());
    let out = tokio::task::spawn_blocking(move || {
        generator(
            &url,
            &[
                "publish",
                "--bucket",
                &b,
                "--distribution-id",
                &d,
                "--endpoint-url",
                &moto,
            ],
        )
    })
    .await
    .unwrap();
    assert_failed_naming_the_database(&out, &cluster);
    assert!(
        aws.contents(&bucket, "").await.is_empty(),
        "no object was uploaded"
    );
    assert!(
        aws.invalidations(&distribution).await.is_empty(),
        "nothing was invalidated"
    );
}
