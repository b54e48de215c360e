//! Usernames in the throttle table and the logs, and what the mail caps
//! and idempotency records count (recipients, networks, keys, bodies), are
//! keyed pseudonyms: nobody without the key can test a guess (a password
//! typed into the username field, a name and address) against them.

use auth_api::client_addr::ClientAddrConfig;
use auth_api::pseudonym::Pseudonyms;
use serde_json::json;
use sha2::{Digest, Sha256};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

const KEY_A: [u8; 32] = [0xa5; 32];
const KEY_B: [u8; 32] = [0x5a; 32];

/// HMAC-SHA-256 from its definition (RFC 2104), independent of the API's
/// implementation; `key` at most one block (64 bytes).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    assert!(
        key.len() <= 64,
        "longer keys are hashed first; not needed here"
    );
    let pad = |byte: u8| {
        let mut block = [byte; 64];
        for (b, k) in block.iter_mut().zip(key) {
            *b ^= k;
        }
        block
    };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[test]
fn the_reference_hmac_gives_the_rfc_4231_answer() {
    // RFC 4231, test case 2.
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

async fn stored_accounts(db: &tokio_postgres::Client) -> Vec<Vec<u8>> {
    db.query("SELECT account FROM login_failure ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn failures_are_stored_and_logged_under_a_keyed_pseudonym() {
    // Something a person might type into the username field by mistake.
    let typed = "Tr0ub4dor&3";
    let app = TestApp::start_with(|c| c.pseudonyms = Pseudonyms::new(&KEY_A).unwrap()).await;
    let under_b = app
        .replica(|c| c.pseudonyms = Pseudonyms::new(&KEY_B).unwrap())
        .await;
    let under_a_again = app
        .replica(|c| c.pseudonyms = Pseudonyms::new(&KEY_A).unwrap())
        .await;
    let db = app.sql().await;

    assert_eq!(app.login(typed, "x").await.status(), 401);
    assert_eq!(under_b.login(typed, "x").await.status(), 401);
    assert_eq!(under_a_again.login(typed, "x").await.status(), 401);

    let stored = stored_accounts(&db).await;
    // Every spelling of a username counts as one account: the pseudonym is
    // of the name with its ASCII letters in lower case.
    let folded = "tr0ub4dor&3";
    let unkeyed = Sha256::digest(folded.as_bytes()).to_vec();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0], hmac_sha256(&KEY_A, folded.as_bytes()));
    assert_ne!(stored[0], unkeyed, "an unkeyed digest can be brute-forced");
    assert_ne!(stored[1], stored[0], "another key, another pseudonym");
    assert_eq!(stored[1], hmac_sha256(&KEY_B, folded.as_bytes()));
    assert_eq!(stored[2], stored[0], "the same key, the same pseudonym");

    let logs = logs();
    assert!(!logs.contains(typed), "the username was logged");
    assert!(!logs.contains(folded), "the username was logged");
    assert!(logs.contains(&hex::encode(&stored[0][..6])), "{logs}");
    assert!(
        !logs.contains(&hex::encode(&unkeyed[..6])),
        "unkeyed tag logged"
    );
}

/// `fulfillment-body:` and each field with its length (8 bytes, big-endian).
fn body_input(fields: &[&str]) -> Vec<u8> {
    let mut input = b"fulfillment-body:".to_vec();
    for field in fields {
        input.extend_from_slice(&(field.len() as u64).to_be_bytes());
        input.extend_from_slice(field.as_bytes());
    }
    input
}

fn sorted(mut rows: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    rows.sort();
    rows
}

#[tokio::test]
async fn mail_caps_and_idempotency_records_hold_keyed_pseudonyms_only() {
    let plan = "S5601-012-0";
    let app = TestApp::start_with(|c| {
        c.pseudonyms = Pseudonyms::new(&KEY_A).unwrap();
        c.fulfillment.worker_enabled = false;
        c.client_addr = ClientAddrConfig {
            trust_forwarded_for: true,
            trusted_proxy_hops: 1,
        };
    })
    .await;
    let db = app.sql().await;
    insert_plan(&db, plan, "Basic Rx").await;

    let resp = app
        .client
        .post(app.url("/api/fulfillment"))
        .header("x-forwarded-for", "2001:db8:1:2::7, 130.176.0.9")
        .header("idempotency-key", "order-1")
        .json(&json!({"plan_id": plan, "name": "Zoë O'Brien",
                      "address": "1 Main Street, Apt. 2", "city": "Boston",
                      "state": "MA", "zip": "02134"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);

    // What each record stands for, written out by hand: the client's /64,
    // the recipient as the caps normalize it, the key bound to that /64,
    // and every field of the request.
    let network = b"fulfillment-rate:2001:db8:1:2::/64".as_slice();
    let recipient = b"fulfillment-recipient:obrien zoe|1 main st 2|02134".as_slice();
    let key = b"fulfillment-idempotency:2001:db8:1:2::/64:order-1".as_slice();
    let body = body_input(&[
        plan,
        "Zoë O'Brien",
        "1 Main Street, Apt. 2",
        "Boston",
        "MA",
        "02134",
    ]);

    let counters: Vec<Vec<u8>> = db
        .query("SELECT client_hash FROM fulfillment_rate_limit", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        sorted(counters.clone()),
        sorted(vec![
            hmac_sha256(&KEY_A, network),
            hmac_sha256(&KEY_A, recipient)
        ])
    );
    let row = db
        .query_one(
            "SELECT key_hash, body_hash FROM fulfillment_idempotency",
            &[],
        )
        .await
        .unwrap();
    let (stored_key, stored_body): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
    assert_eq!(stored_key, hmac_sha256(&KEY_A, key));
    assert_eq!(stored_body, hmac_sha256(&KEY_A, &body));

    // None of them is a digest anyone could recompute from a guess.
    let stored = [&counters[..], &[stored_key, stored_body]].concat();
    for input in [network, recipient, key, body.as_slice()] {
        let unkeyed = Sha256::digest(input).to_vec();
        assert!(!stored.contains(&unkeyed), "unkeyed digest stored");
    }
}
