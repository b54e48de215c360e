//! Usernames in the throttle table and the logs are keyed pseudonyms:
//! nobody without the key can test a guess (or a password typed into the
//! username field) against them.

mod common;

use auth_api::auth::pseudonym::Pseudonyms;
use common::*;
use sha2::{Digest, Sha256};

const KEY_A: [u8; 32] = [0xa5; 32];
const KEY_B: [u8; 32] = [0x5a; 32];

/// HMAC-SHA-256 from its definition (RFC 2104), independent of the API's
/// implementation.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> Vec<u8> {
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
    let app = TestApp::start_with(|c| c.auth.pseudonyms = Pseudonyms::new(&KEY_A).unwrap()).await;
    let under_b = app
        .replica(|c| c.auth.pseudonyms = Pseudonyms::new(&KEY_B).unwrap())
        .await;
    let under_a_again = app
        .replica(|c| c.auth.pseudonyms = Pseudonyms::new(&KEY_A).unwrap())
        .await;
    let db = app.sql().await;

    assert_eq!(app.login(typed, "x").await.status(), 401);
    assert_eq!(under_b.login(typed, "x").await.status(), 401);
    assert_eq!(under_a_again.login(typed, "x").await.status(), 401);

    let stored = stored_accounts(&db).await;
    let unkeyed = Sha256::digest(typed.as_bytes()).to_vec();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0], hmac_sha256(&KEY_A, typed.as_bytes()));
    assert_ne!(stored[0], unkeyed, "an unkeyed digest can be brute-forced");
    assert_ne!(stored[1], stored[0], "another key, another pseudonym");
    assert_eq!(stored[1], hmac_sha256(&KEY_B, typed.as_bytes()));
    assert_eq!(stored[2], stored[0], "the same key, the same pseudonym");

    let logs = logs();
    assert!(!logs.contains(typed), "the username was logged");
    assert!(logs.contains(&hex::encode(&stored[0][..6])), "{logs}");
    assert!(
        !logs.contains(&hex::encode(&unkeyed[..6])),
        "unkeyed tag logged"
    );
}
