//! `generator publish` as CI runs it: the binary, its flags, its summary
//! line and its refusals, against moto_server.

use std::path::Path;
use std::process::{Command, Output};

use crate::publish_support::{Aws, FakeSite};

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

/// Keys and bytes of the bucket, without the manifest.
async fn bucket_objects(aws: &Aws, bucket: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    aws.contents(bucket, "")
        .await
        .into_iter()
        .filter(|(key, _)| key != generator::publish::manifest::MANIFEST_KEY)
        .map(|(key, stored)| (key, stored.bytes))
        .collect()
}

async fn key_count(aws: &Aws, bucket: &str) -> usize {
    let mut count = 0;
    let mut pages = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count += page.unwrap().contents().len();
    }
    count
}

#[tokio::test]
async fn a_publish_killed_half_way_is_repaired_by_the_next_run() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("cli-kill").await;
    let distribution = aws.distribution(&bucket).await;
    let args = ["--bucket", &bucket, "--distribution-id", &distribution];

    // Yesterday's site, fully published.
    let old = FakeSite::sample(150, 60);
    let old_dir = tempfile::tempdir().unwrap();
    old.write(old_dir.path());
    summary(&generator(&aws.moto.url, &args, old_dir.path()));
    let published = key_count(&aws, &bucket).await;

    // Tonight's, much larger: killed (SIGKILL, nothing flushed) once part
    // of it is in the bucket.
    let big = FakeSite::sample(1200, 300);
    let big_dir = tempfile::tempdir().unwrap();
    big.write(big_dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_generator"))
        .arg("publish")
        .args(args)
        .arg("--from")
        .arg(big_dir.path())
        .args(["--endpoint-url", &aws.moto.url])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the publish finished before it could be killed; make the site larger"
        );
        if key_count(&aws, &bucket).await > published + 50 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the publish made no progress"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let half = bucket_objects(&aws, &bucket).await;
    assert!(
        half.len() < big.objects().len(),
        "the kill came half-way: {} of {} objects",
        half.len(),
        big.objects().len()
    );

    // The next run publishes a site that differs again (some plans gone,
    // some repriced): the bucket converges to it exactly.
    let mut next = big.clone();
    next.plans.retain(|id, _| !id.ends_with("7-0"));
    for (n, (_, (cost, _))) in next.plans.iter_mut().enumerate() {
        if n % 5 == 0 {
            *cost += 1;
        }
    }
    let next_dir = tempfile::tempdir().unwrap();
    next.write(next_dir.path());
    summary(&generator(&aws.moto.url, &args, next_dir.path()));
    assert!(
        bucket_objects(&aws, &bucket).await == next.objects(),
        "after the re-run the bucket is exactly the new build"
    );
    let again = summary(&generator(&aws.moto.url, &args, next_dir.path()));
    assert_eq!(again["uploaded"], 0, "and the manifest knows it");
    assert_eq!(again["deleted"], 0);
}
