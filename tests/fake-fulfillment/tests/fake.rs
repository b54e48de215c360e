//! The fake over real HTTP: idempotency like a real service, run-time modes,
//! and the control endpoints the binary is driven by.

use std::time::{Duration, Instant};

use fake_fulfillment::{FakeFulfillment, Mode};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn send(fake: &FakeFulfillment, key: &str, body: &Value) -> reqwest::Result<StatusCode> {
    let resp = client()
        .post(format!("{}/requests", fake.url()))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await?;
    Ok(resp.status())
}

#[tokio::test]
async fn a_key_is_delivered_once_and_a_replay_is_accepted_again() {
    let fake = FakeFulfillment::start().await.unwrap();
    let body = json!({"plan_id": "S1", "zip": "02134"});
    assert_eq!(
        send(&fake, "k1", &body).await.unwrap(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&fake, "k1", &body).await.unwrap(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&fake, "k1", &json!({"other": 1})).await.unwrap(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        send(&fake, "k2", &body).await.unwrap(),
        StatusCode::ACCEPTED
    );
    assert_eq!(fake.received().len(), 4);
    assert_eq!(fake.delivery_count(), 2);
    assert_eq!(fake.deliveries()[0].body, body);

    let missing_key = client()
        .post(format!("{}/requests", fake.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing_key.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn failures_delays_and_hangs_are_served_then_recovered() {
    let fake = FakeFulfillment::start().await.unwrap();
    let body = json!({"n": 1});
    for status in [500, 503, 400, 422] {
        fake.set_mode(Mode::Fail { status });
        assert_eq!(send(&fake, "k", &body).await.unwrap().as_u16(), status);
    }
    assert_eq!(fake.delivery_count(), 0, "a failure delivers nothing");

    fake.set_mode(Mode::Slow { delay_ms: 300 });
    let started = Instant::now();
    assert_eq!(send(&fake, "k", &body).await.unwrap(), StatusCode::ACCEPTED);
    assert!(started.elapsed() >= Duration::from_millis(300));

    fake.set_mode(Mode::Hang);
    let hung = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .post(format!("{}/requests", fake.url()))
        .header("Idempotency-Key", "h")
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(hung.is_timeout());
    assert_eq!(fake.received().last().unwrap().answered, None);

    fake.set_mode(Mode::Succeed);
    assert_eq!(send(&fake, "h", &body).await.unwrap(), StatusCode::ACCEPTED);
    assert_eq!(fake.delivery_count(), 2);
}

#[tokio::test]
async fn the_control_endpoints_steer_and_report() {
    let fake = FakeFulfillment::start().await.unwrap();
    let control = |mode: Value| {
        client()
            .post(format!("{}/_control", fake.url()))
            .json(&mode)
            .send()
    };
    let resp = control(json!({"mode": "fail", "status": 503}))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(fake.mode(), Mode::Fail { status: 503 });
    assert_eq!(send(&fake, "k", &json!({})).await.unwrap().as_u16(), 503);

    let resp = control(json!({"mode": "explode"})).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    control(json!({"mode": "succeed"})).await.unwrap();
    send(&fake, "k", &json!({"a": 1})).await.unwrap();
    let report: Value = client()
        .get(format!("{}/_received", fake.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["deliveries"], 1);
    assert_eq!(report["received"].as_array().unwrap().len(), 2);
    assert_eq!(report["received"][0]["answered"], 503);
    assert_eq!(report["delivered"]["k"], json!({"a": 1}));

    client()
        .post(format!("{}/_reset", fake.url()))
        .send()
        .await
        .unwrap();
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn waiting_for_deliveries_times_out_honestly() {
    let fake = FakeFulfillment::start().await.unwrap();
    assert!(
        !fake
            .wait_for_deliveries(1, Duration::from_millis(100))
            .await
    );
    let waiter = fake.wait_for_deliveries(1, Duration::from_secs(5));
    let body = json!({});
    let sender = send(&fake, "k", &body);
    let (delivered, status) = tokio::join!(waiter, sender);
    assert_eq!(status.unwrap(), StatusCode::ACCEPTED);
    assert!(delivered);
}
