//! Forged, expired and foreign tokens are refused; rotated keys keep old
//! tokens valid.

use auth_api::auth::keys::{Keyring, generate_pem};
use auth_api::auth::token::{self, Claims};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

fn claims_for(sub: &str, exp_in: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    let id = uuid::Uuid::new_v4();
    Claims {
        iss: token::ISSUER.into(),
        aud: token::AUDIENCE.into(),
        sub: sub.into(),
        jti: id,
        sid: id,
        iat: now,
        exp: now + exp_in,
        auth_time: now,
        setup_only: false,
    }
}

async fn app_with_two_users() -> TestApp {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    insert_beneficiary(&db, 2, "999-99-9999").await;
    insert_user(&db, "mallory", "pw-mallory-1234", Some(2)).await;
    app
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let resp = app.user(token).get("/api/me/enrollment").await;
    assert_eq!(resp.status(), 401, "{what} was accepted");
    assert!(resp.headers().get("www-authenticate").is_none());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{what}");
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = app_with_two_users().await;
    let keys = &app.state.config.auth.keys;
    let valid = token::sign(keys, &claims_for("ada", 60)).unwrap();
    assert_eq!(
        app.user(&valid).get("/api/me/enrollment").await.status(),
        200,
        "control"
    );
    let expired = token::sign(keys, &claims_for("ada", -60)).unwrap();
    assert_refused(&app, &expired, "an expired token").await;
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let app = app_with_two_users().await;
    let token = app.token("mallory", "pw-mallory-1234").await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = "ada".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert_refused(&app, &forged, "a token with an edited subject").await;
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig));
    assert_refused(&app, &bad_sig, "a token with a flipped signature bit").await;
    assert_refused(&app, "not.a.jwt", "garbage").await;
}

#[tokio::test]
async fn alg_none_and_hs256_with_the_public_key_are_refused() {
    let app = app_with_two_users().await;
    let keys = &app.state.config.auth.keys;
    let kid = keys.current_kid().to_string();
    let claims = claims_for("ada", 600);
    let payload = B64.encode(serde_json::to_vec(&claims).unwrap());

    let none_header = B64.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
    assert_refused(&app, &format!("{none_header}.{payload}."), "alg none").await;

    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid);
    let confused = jsonwebtoken::encode(
        &hs,
        &claims,
        &EncodingKey::from_secret(keys.current_public_key()),
    )
    .unwrap();
    assert_refused(&app, &confused, "HS256 keyed with the public key").await;
}

#[tokio::test]
async fn tokens_from_an_unknown_key_are_refused() {
    let app = app_with_two_users().await;
    let stranger = Keyring::ephemeral().unwrap();
    let token = token::sign(&stranger, &claims_for("ada", 600)).unwrap();
    assert_refused(&app, &token, "a token signed by an unknown key").await;

    // Same key material under our kid: still someone else's signature.
    let parts: Vec<String> = token.split('.').map(String::from).collect();
    let header = B64.encode(format!(
        r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#,
        app.state.config.auth.keys.current_kid()
    ));
    assert_refused(
        &app,
        &format!("{header}.{}.{}", parts[1], parts[2]),
        "a relabelled token",
    )
    .await;
}

#[tokio::test]
async fn a_rotated_key_still_verifies_old_tokens() {
    let old_pem = generate_pem().unwrap();
    let new_pem = generate_pem().unwrap();
    let old_keys = Keyring::from_pem(&old_pem, None).unwrap();
    let before = TestApp::start_with(|c| c.auth.keys = old_keys.clone()).await;
    let db = before.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    let old_token = before.token("ada", "pw-ada-1234").await;

    // The next deployment signs with the new key and still accepts the old.
    let rotated = Keyring::from_pem(&new_pem, Some(&old_pem)).unwrap();
    let after = before.replica(|c| c.auth.keys = rotated.clone()).await;
    assert_eq!(
        after
            .user(&old_token)
            .get("/api/me/enrollment")
            .await
            .status(),
        200
    );
    let new_token = after.token("ada", "pw-ada-1234").await;
    let kid = jsonwebtoken::decode_header(&new_token)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid, rotated.current_kid());
    assert_ne!(kid, old_keys.current_kid());

    // Once the old key is dropped, its tokens die.
    let later = before
        .replica(|c| c.auth.keys = Keyring::from_pem(&new_pem, None).unwrap())
        .await;
    assert_eq!(
        later
            .user(&new_token)
            .get("/api/me/enrollment")
            .await
            .status(),
        200
    );
    assert_eq!(
        later
            .user(&old_token)
            .get("/api/me/enrollment")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn tokens_for_another_issuer_or_audience_or_without_them_are_refused() {
    let pem = generate_pem().unwrap();
    let keys = Keyring::from_pem(&pem, None).unwrap();
    let app = TestApp::start_with(|c| c.auth.keys = keys.clone()).await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    // Signed with the service's own key, so only the claims can be at fault.
    let sign = |payload: serde_json::Value| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.current_kid().to_string());
        jsonwebtoken::encode(
            &header,
            &payload,
            &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let good = serde_json::to_value(claims_for("ada", 600)).unwrap();
    assert_eq!(
        app.user(&sign(good.clone()))
            .get("/api/me/enrollment")
            .await
            .status(),
        200,
        "control"
    );
    let cases = [
        ("iss", Some("https://www.whatever.gov.evil.example")),
        ("aud", Some("https://www.whatever.gov/other")),
        ("iss", None),
        ("aud", None),
    ];
    for (claim, value) in cases {
        let mut payload = good.clone();
        match value {
            Some(v) => payload[claim] = v.into(),
            None => {
                payload.as_object_mut().unwrap().remove(claim);
            }
        }
        let what = format!("a token with {claim} = {value:?}");
        assert_refused(&app, &sign(payload), &what).await;
    }
}
