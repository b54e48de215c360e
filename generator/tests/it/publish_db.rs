//! `generator publish` rendering straight from the database, as the nightly
//! pipeline runs it: the whole site the first time, then only what a data
//! change touched.

use std::process::Command;

use crate::publish_support::Aws;
use crate::support;
use whatever_test_db::TestDatabase;

fn publish(
    db: &TestDatabase,
    moto_url: &str,
    bucket: &str,
    distribution: &str,
) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_generator"))
        .args([
            "publish",
            "--bucket",
            bucket,
            "--distribution-id",
            distribution,
        ])
        .args(["--endpoint-url", moto_url])
        .env("DATABASE_URL", db.url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the generator binary runs");
    assert!(
        output.status.success(),
        "publish failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(stdout.trim()).unwrap()
}

#[tokio::test]
async fn publish_renders_the_database_and_then_uploads_only_what_changed() {
    let db = TestDatabase::new().await.unwrap();
    support::insert(&db, &support::standard_plans()).await;
    let aws = Aws::start().await;
    let bucket = aws.bucket("from-db").await;
    let distribution = aws.distribution(&bucket).await;

    let first = publish(&db, &aws.moto.url, &bucket, &distribution);
    let rendered = first["rendered"].as_u64().unwrap();
    assert_eq!(first["uploaded"].as_u64().unwrap(), rendered);
    let stored = aws.contents(&bucket, "").await;
    assert!(stored.contains_key("plans/S0001-001-0/index.html"));
    assert!(stored.contains_key("data/zip/00501.json"));
    assert!(
        !stored.keys().any(|k| k.contains("S0003-001-0")),
        "inactive plans are not published"
    );

    let client = db.connect().await.unwrap();
    client
        .execute(
            "UPDATE plan SET avg_monthly_cost = 21.00 WHERE plan_id = 'S0001-001-0'",
            &[],
        )
        .await
        .unwrap();
    let second = publish(&db, &aws.moto.url, &bucket, &distribution);
    let uploaded = second["uploaded"].as_u64().unwrap();
    assert!(
        uploaded > 0 && uploaded < rendered / 2,
        "uploaded {uploaded} of {rendered}"
    );
    let paths: Vec<String> = serde_json::from_value(second["invalidated_paths"].clone()).unwrap();
    assert!(
        paths.iter().any(|p| p == "/plans/S0001-001-0/"),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p == "/data/zip/00501.json"),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.contains("H1234")),
        "an untouched plan is not invalidated: {paths:?}"
    );
    let json = aws.contents(&bucket, "data/plans/").await;
    let body = String::from_utf8(json["data/plans/S0001-001-0.json"].bytes.clone()).unwrap();
    assert!(body.contains(r#""avg_monthly_cost":21.00"#), "{body}");

    let third = publish(&db, &aws.moto.url, &bucket, &distribution);
    assert_eq!(third["uploaded"], 0);
    assert_eq!(third["invalidated_paths"], serde_json::json!([]));
}
