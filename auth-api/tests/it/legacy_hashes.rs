//! Legacy bcrypt hashes are wrapped into argon2id when the API starts: the
//! old password still signs in (and is then upgraded), and the bcrypt hash
//! itself is no longer stored.

use std::time::Duration;

use auth_api::auth::password::{Verdict, check, verify_blocking};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

async fn stored_hash(db: &tokio_postgres::Client, username: &str) -> String {
    db.query_one(
        r#"SELECT password FROM "user" WHERE username = $1"#,
        &[&username],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn legacy_hashes_are_wrapped_at_start_and_still_sign_in() {
    let app = TestApp::start_with(|c| c.auth.wrap_legacy_at_start = true).await;
    let db = app.sql().await;
    insert_beneficiary(&db, 7, SSN).await;
    // As the old system stored it (Node bcrypt, cost 10, `$2a$`).
    let legacy = bcrypt::hash("old secret", 10)
        .unwrap()
        .replacen("$2b$", "$2a$", 1);
    insert_user_with_hash(&db, "grace", &legacy, Some(7)).await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 8).await;
    let ada_before = stored_hash(&db, "ada").await;

    // What the server runs at start.
    let upkeep = tokio::spawn(auth_api::server::prune_periodically(app.state.clone()));
    let mut wrapped = stored_hash(&db, "grace").await;
    for _ in 0..100 {
        if wrapped != legacy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        wrapped = stored_hash(&db, "grace").await;
    }
    upkeep.abort();
    assert!(wrapped.starts_with("$bcrypt-argon2id$10$"), "{wrapped}");
    assert!(
        !wrapped.contains(&legacy[29..]),
        "the bcrypt digest is still stored"
    );
    assert_eq!(
        stored_hash(&db, "ada").await,
        ada_before,
        "argon2id hashes are left alone"
    );

    // A wrapped hash costs what every other check costs.
    let (_, legacy_work) = check("wrong", Some(&wrapped));
    let (_, argon2_work) = check("wrong", Some(&ada_before));
    let (_, unknown_work) = check("wrong", None);
    assert_eq!(legacy_work, argon2_work);
    assert_eq!(legacy_work, unknown_work);

    assert_eq!(app.login("grace", "not it").await.status(), 401);
    assert_eq!(
        stored_hash(&db, "grace").await,
        wrapped,
        "a failure leaves it"
    );
    assert_eq!(app.login("grace", "old secret").await.status(), 200);
    let upgraded = stored_hash(&db, "grace").await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(verify_blocking("old secret", &upgraded), Verdict::Accepted);
    assert_eq!(app.login("grace", "old secret").await.status(), 200);
}

#[tokio::test]
async fn wrapping_twice_changes_nothing() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_beneficiary(&db, 7, SSN).await;
    let legacy = bcrypt::hash("old secret", 4).unwrap();
    insert_user_with_hash(&db, "grace", &legacy, Some(7)).await;

    let passwords = &app.state.passwords;
    assert_eq!(
        passwords.wrap_legacy_hashes(&app.state.pool).await.unwrap(),
        1
    );
    let wrapped = stored_hash(&db, "grace").await;
    assert_eq!(
        passwords.wrap_legacy_hashes(&app.state.pool).await.unwrap(),
        0
    );
    assert_eq!(stored_hash(&db, "grace").await, wrapped);
}
