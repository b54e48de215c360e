//! `generator publish` as CI runs it: the binary, its flags, its summary
//! line and its refusals, against moto_server.

mod publish_support;

use std::path::Path;
use std::process::{Command, Output};

use publish_support::{Aws, FakeSite};

fn generator(moto_url: &str, args: &[&str], site: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_generator"))
        .arg("publish")
        .args(args)
        .arg("--from")
        .arg(site)
        .args(["--endpoint-url", moto_url])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the generator binary runs")
}

fn summary(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "publish failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout is one summary line: {stdout:?}");
    serde_json::from_str(lines[0]).unwrap()
}

#[tokio::test]
async fn the_binary_publishes_then_finds_nothing_to_do() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("cli-publish").await;
    let distribution = aws.distribution(&bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let site = FakeSite::sample(5, 3);
    site.write(dir.path());
    let args = ["--bucket", &bucket, "--distribution-id", &distribution];

    let dry = summary(&generator(
        &aws.moto.url,
        &[&args[..], &["--dry-run"]].concat(),
        dir.path(),
    ));
    assert_eq!(dry["uploaded"], 0);
    assert!(
        aws.contents(&bucket, "").await.is_empty(),
        "a dry run uploads nothing"
    );

    let first = summary(&generator(&aws.moto.url, &args, dir.path()));
    let count = site.objects().len();
    assert_eq!(first["rendered"], count);
    assert_eq!(first["uploaded"], count);
    assert!(first["seconds"].as_f64().unwrap() > 0.0);
    assert!(!first["invalidated_paths"].as_array().unwrap().is_empty());
    assert_eq!(
        aws.contents(&bucket, "").await.len(),
        count + 1,
        "site and manifest"
    );

    let second = summary(&generator(&aws.moto.url, &args, dir.path()));
    assert_eq!(second["uploaded"], 0);
    assert_eq!(second["deleted"], 0);
    assert_eq!(second["unchanged"], count);
    assert_eq!(second["invalidated_paths"], serde_json::json!([]));
    assert_eq!(aws.invalidations(&distribution).await.len(), 1);
}

#[tokio::test]
async fn the_binary_refuses_an_empty_site_and_says_how_to_override() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("cli-refuse").await;
    let full = tempfile::tempdir().unwrap();
    FakeSite::sample(5, 3).write(full.path());
    summary(&generator(
        &aws.moto.url,
        &["--bucket", &bucket],
        full.path(),
    ));

    let empty = tempfile::tempdir().unwrap();
    FakeSite::sample(0, 1).write(empty.path());
    let output = generator(&aws.moto.url, &["--bucket", &bucket], empty.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no plans/ pages"), "{stderr}");
    assert!(stderr.contains("--allow-mass-delete"), "{stderr}");
    assert!(output.stdout.is_empty(), "no summary for a refused publish");

    let bad = generator(
        &aws.moto.url,
        &["--bucket", &bucket, "--max-delete-share", "2"],
        empty.path(),
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a share between 0 and 1"));
}
