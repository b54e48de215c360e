//! Passkeys over HTTP, against a software authenticator written out below
//! from the WebAuthn spec (a P-256 key from aws-lc-rs, CBOR by hand), not
//! with the server's library: registering one, signing in with it alone,
//! and the attacks the checks stop: a replayed answer, a cloned
//! authenticator (its counter going back), another origin, an unverified
//! user, another person's ceremony, and removing the last factor.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

const ORIGIN: &str = "http://localhost:8000";
const RP_ID: &str = "localhost";

// ---- a software authenticator ------------------------------------------------

/// CBOR (RFC 8949): the head of an item of `major` type with `arg`.
fn cbor_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend([m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        cbor_head(out, 0, n as u64);
    } else {
        cbor_head(out, 1, (-1 - n) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// One passkey on a device that verifies its user (flag UV) and counts its
/// signatures.
struct Authenticator {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Option<Vec<u8>>,
    counter: u32,
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

impl Authenticator {
    fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut credential_id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut credential_id).unwrap();
        Self {
            key,
            credential_id,
            user_handle: None,
            counter: 0,
        }
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false,
        }))
        .unwrap()
    }

    /// COSE_Key (RFC 9053) of the public key: EC2, ES256, P-256, x, y.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref(); // 0x04 || x || y
        let mut out = Vec::new();
        cbor_head(&mut out, 5, 5);
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut out, k);
            cbor_int(&mut out, v);
        }
        cbor_int(&mut out, -2);
        cbor_bytes(&mut out, &point[1..33]);
        cbor_int(&mut out, -3);
        cbor_bytes(&mut out, &point[33..65]);
        out
    }

    fn auth_data(&self, flags: u8, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        if attested {
            data.extend([0u8; 16]); // AAGUID: none
            data.extend((self.credential_id.len() as u16).to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(self.cose_key());
        }
        data
    }

    /// `navigator.credentials.create()` for the API's options, as the page
    /// sends the answer ("none" attestation).
    fn create(&mut self, options: &Value, origin: &str) -> Value {
        let public_key = &options["publicKey"];
        assert_eq!(public_key["rp"]["id"], RP_ID);
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required", "{selection}");
        assert_eq!(selection["userVerification"], "required", "{selection}");
        self.user_handle = Some(
            B64.decode(public_key["user"]["id"].as_str().unwrap())
                .unwrap(),
        );
        let challenge = public_key["challenge"].as_str().unwrap();
        let client_data = Self::client_data("webauthn.create", challenge, origin);
        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &self.auth_data(UP | UV | AT, true));
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(&attestation),
                "clientDataJSON": B64.encode(&client_data),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// `navigator.credentials.get()` for the API's options: a signature
    /// over the authenticator data and the client data's digest.
    fn get(&mut self, options: &Value, origin: &str, flags: u8) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = Self::client_data("webauthn.get", challenge, origin);
        self.counter += 1;
        let auth_data = self.auth_data(flags, false);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(&client_data),
                "signature": B64.encode(signature.as_ref()),
                "userHandle": self.user_handle.as_ref().map(|h| B64.encode(h)),
            },
            "extensions": {},
        })
    }
}

// ---- the API ---------------------------------------------------------------

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Registers `device` for the session `token`; returns the answer.
async fn register(
    app: &TestApp,
    token: &str,
    device: &mut Authenticator,
    name: &str,
) -> (u16, Value) {
    let (status, start) = json_of(
        app.user(token)
            .post("/api/me/passkeys/register/start", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{start}");
    let credential = device.create(&start["options"], ORIGIN);
    json_of(
        app.user(token)
            .post(
                "/api/me/passkeys/register/finish",
                &json!({"ceremony": start["ceremony"], "name": name, "credential": credential}),
            )
            .await,
    )
    .await
}

/// A passkey sign-in with `device`; returns the finish answer and its
/// session cookie.
async fn sign_in(
    app: &TestApp,
    device: &mut Authenticator,
    origin: &str,
    flags: u8,
) -> (u16, Value, Option<String>) {
    let (status, start) = json_of(
        app.anonymous()
            .post("/api/login/passkey/start", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{start}");
    let credential = device.get(&start["options"], origin, flags);
    let resp = app
        .anonymous()
        .post(
            "/api/login/passkey/finish",
            &json!({"ceremony": start["ceremony"], "credential": credential}),
        )
        .await;
    let cookie = session_cookie(&resp);
    let (status, body) = json_of(resp).await;
    (status, body, cookie)
}

async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    app.sql()
        .await
        .query(
            "SELECT detail FROM security_event WHERE kind = $1 ORDER BY id",
            &[&kind],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_registered_passkey_signs_in_alone_and_the_session_sees_the_enrollment() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "pia", "correct horse battery", 71).await;
    insert_plan(&db, "S1111-001-0", "Passkey Plan").await;
    enroll(&db, 71, "S1111-001-0", -10, None).await;
    let token = app.token("pia", "correct horse battery").await;
    let mut device = Authenticator::new();

    let (status, added) = register(&app, &token, &mut device, "Work laptop").await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["passkey"]["name"], "Work laptop");
    assert_eq!(added["passkey"]["id"], B64.encode(&device.credential_id));
    // The first second factor of the account comes with recovery codes.
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10);

    let (status, body, cookie) = sign_in(&app, &mut device, ORIGIN, UP | UV).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "pia");
    let session = cookie.expect("a session cookie");
    let enrollment = app.user(&session).get("/api/me/enrollment").await;
    assert_eq!(enrollment.status(), 200);
    let enrollment: Value = enrollment.json().await.unwrap();
    assert_eq!(enrollment["current_plan"]["plan_name"], "Passkey Plan");

    // The settings list it, used now.
    let account: Value = app
        .user(&session)
        .get("/api/me/account")
        .await
        .json()
        .await
        .unwrap();
    let listed = &account["second_factor"]["passkeys"][0];
    assert_eq!(listed["name"], "Work laptop");
    assert!(listed["last_used_at"].is_string(), "{account}");

    // A password sign-in now asks for the second factor, and offers the passkey.
    let resp = app.login("pia", "correct horse battery").await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "second_factor_required");
    assert_eq!(body["methods"], json!(["passkey", "recovery_code"]));

    let added = events(&app, "factor_added").await;
    assert_eq!(
        added,
        vec![json!({"factor": "passkey", "recovery_codes": 10})]
    );
    let signed_in = events(&app, "sign_in_succeeded").await;
    assert!(
        signed_in.iter().any(|d| d["method"] == "passkey"),
        "{signed_in:?}"
    );
}

#[tokio::test]
async fn an_answer_is_accepted_once_and_a_cloned_authenticator_is_refused() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_user(&db, "quinn", "correct horse battery", None).await;
    let token = app.token("quinn", "correct horse battery").await;
    let mut device = Authenticator::new();
    assert_eq!(register(&app, &token, &mut device, "Phone").await.0, 200);

    // Replay: the same signed answer to the same ceremony, twice.
    let (_, start) = json_of(
        app.anonymous()
            .post("/api/login/passkey/start", &json!({}))
            .await,
    )
    .await;
    let credential = device.get(&start["options"], ORIGIN, UP | UV);
    let finish = json!({"ceremony": start["ceremony"], "credential": credential});
    let first = app
        .anonymous()
        .post("/api/login/passkey/finish", &finish)
        .await;
    assert_eq!(first.status(), 200);
    let again = app
        .anonymous()
        .post("/api/login/passkey/finish", &finish)
        .await;
    assert_eq!(again.status(), 401);
    assert!(session_cookie(&again).is_none());

    // A copy of the key whose counter is behind the one the server saw.
    let (status, _, _) = sign_in(&app, &mut device, ORIGIN, UP | UV).await;
    assert_eq!(status, 200);
    device.counter -= 2;
    let (status, body, cookie) = sign_in(&app, &mut device, ORIGIN, UP | UV).await;
    assert_eq!(status, 401, "{body}");
    assert!(cookie.is_none());
    assert_eq!(body["error"]["code"], "unauthorized");
    let failed = events(&app, "sign_in_failed").await;
    assert_eq!(failed.last().unwrap()["reason"], "assertion_refused");
}

#[tokio::test]
async fn another_origin_an_unverified_user_and_an_unknown_key_are_refused_alike() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_user(&db, "remy", "correct horse battery", None).await;
    let token = app.token("remy", "correct horse battery").await;
    let mut device = Authenticator::new();

    // Registering from another origin is refused, and nothing is stored.
    let (_, start) = json_of(
        app.user(&token)
            .post("/api/me/passkeys/register/start", &json!({}))
            .await,
    )
    .await;
    let credential = device.create(&start["options"], "https://phish.example");
    let (status, body) = json_of(
        app.user(&token)
            .post(
                "/api/me/passkeys/register/finish",
                &json!({"ceremony": start["ceremony"], "credential": credential}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "credential");
    let stored: i64 = db
        .query_one("SELECT count(*) FROM passkey", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0);

    assert_eq!(register(&app, &token, &mut device, "").await.0, 200);
    let name: String = db
        .query_one("SELECT name FROM passkey", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Passkey", "an empty name gets the default");

    let (phished, ..) = sign_in(&app, &mut device, "https://phish.example", UP | UV).await;
    let (unverified, ..) = sign_in(&app, &mut device, ORIGIN, UP).await;
    let mut stranger = Authenticator::new();
    stranger.user_handle = device.user_handle.clone();
    let (unknown, unknown_body, _) = sign_in(&app, &mut stranger, ORIGIN, UP | UV).await;
    assert_eq!((phished, unverified, unknown), (401, 401, 401));
    assert_eq!(
        unknown_body["error"]["message"],
        "That passkey was not accepted. Try again, or sign in with your password."
    );
    // And the real one still works.
    assert_eq!(sign_in(&app, &mut device, ORIGIN, UP | UV).await.0, 200);
}

#[tokio::test]
async fn a_ceremony_belongs_to_the_person_who_started_it() {
    let app = TestApp::start().await;
    let db = app.sql().await;
    insert_user(&db, "sam", "correct horse battery", None).await;
    insert_user(&db, "tess", "correct horse battery", None).await;
    let sam = app.token("sam", "correct horse battery").await;
    let tess = app.token("tess", "correct horse battery").await;
    let (_, start) = json_of(
        app.user(&sam)
            .post("/api/me/passkeys/register/start", &json!({}))
            .await,
    )
    .await;
    let mut device = Authenticator::new();
    let credential = device.create(&start["options"], ORIGIN);
    // Tess finishes Sam's ceremony: her passkey would carry Sam's user handle.
    let (status, body) = json_of(
        app.user(&tess)
            .post(
                "/api/me/passkeys/register/finish",
                &json!({"ceremony": start["ceremony"], "credential": credential}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "ceremony");
    let stored: i64 = db
        .query_one("SELECT count(*) FROM passkey", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn the_last_factor_of_an_account_that_needs_one_stays() {
    // As production runs: every statement in the API's own role.
    let (owner, app, _login) = TestApp::as_api_role(|_| {}).await;
    let db = owner.sql().await;
    user_with_beneficiary(&db, "uma", "correct horse battery", 72).await;
    // An account made through the API must keep a second factor.
    db.execute(
        "INSERT INTO account (username, beneficiary_id, email_verified_at) VALUES ('uma', 72, now())",
        &[],
    )
    .await
    .unwrap();
    let token = app.token("uma", "correct horse battery").await;
    let mut phone = Authenticator::new();
    let mut laptop = Authenticator::new();
    let (status, added) = register(&app, &token, &mut phone, "Phone").await;
    assert_eq!(status, 200, "{added}");
    let phone_id = added["passkey"]["id"].as_str().unwrap().to_string();
    // The setup-only session became a full one: take the new cookie's token.
    let (_, _, token) = sign_in(&app, &mut phone, ORIGIN, UP | UV).await;
    let token = token.unwrap();
    let (status, added) = register(&app, &token, &mut laptop, "Laptop").await;
    assert_eq!(status, 200);
    assert!(
        added.get("recovery_codes").is_none(),
        "only the first factor gets codes"
    );
    let laptop_id = added["passkey"]["id"].as_str().unwrap().to_string();

    let remove = |id: String| {
        let (app, token) = (&app, token.clone());
        async move {
            json_of(
                app.user(&token)
                    .post(
                        &format!("/api/me/passkeys/{id}/remove"),
                        &json!({"password": "correct horse battery"}),
                    )
                    .await,
            )
            .await
        }
    };
    // Not without the password: a stolen session cannot take a factor away.
    let (status, body) = json_of(
        app.user(&token)
            .post(
                &format!("/api/me/passkeys/{phone_id}/remove"),
                &json!({"password": "not it"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "wrong_password");
    let (status, body) = remove(phone_id.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recovery_codes_deleted"], false);
    let (status, body) = remove(laptop_id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "last_factor");
    // A removed passkey signs in no more, nor can it be removed again.
    assert_eq!(sign_in(&app, &mut phone, ORIGIN, UP | UV).await.0, 401);
    assert_eq!(remove(phone_id).await.0, 404);
    assert_eq!(
        events(&owner, "factor_removed").await,
        vec![json!({"factor": "passkey", "recovery_codes_deleted": false})]
    );
}

/// A full session of `username` that signed in `secs_ago`, signed with the
/// server's key as a sign-in then would have issued it.
fn signed_in_ago(app: &TestApp, username: &str, secs_ago: i64) -> String {
    use auth_api::auth::token::{self, AUDIENCE, Claims, ISSUER};
    let now = chrono::Utc::now().timestamp();
    let sid = uuid::Uuid::new_v4();
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: username.into(),
        jti: sid,
        sid,
        iat: now,
        exp: now + 600,
        auth_time: now - secs_ago,
        setup_only: false,
    };
    token::sign(&app.state.config.auth.keys, &claims).unwrap()
}

#[tokio::test]
async fn a_factor_beside_a_passkey_needs_a_recent_sign_in_and_leaves_the_codes_alone() {
    use crate::second_factor::{base32_decode, code_at_step, step_now};
    let app = TestApp::start_with(|c| c.mail.smtp_url = "smtp://127.0.0.1:9".into()).await;
    let db = app.sql().await;
    user_with_beneficiary(&db, "pia", "correct horse battery", 71).await;
    let token = app.token("pia", "correct horse battery").await;
    let mut device = Authenticator::new();
    let (status, added) = register(&app, &token, &mut device, "Work laptop").await;
    assert_eq!(status, 200, "{added}");
    let codes = added["recovery_codes"].as_array().unwrap().clone();

    // A session signed in an hour ago (left open, or its cookie stolen)
    // adds nothing without the password.
    let stale = signed_in_ago(&app, "pia", 3600);
    for path in ["/api/me/totp", "/api/me/passkeys/register/start"] {
        let (status, body) = json_of(app.user(&stale).post(path, &json!({})).await).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "reauthentication_required");
    }
    let (status, body) = json_of(
        app.user(&stale)
            .post("/api/me/totp", &json!({"password": "not it"}))
            .await,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "wrong_password");

    // With the password it may; the app comes without new codes.
    let (status, setup) = json_of(
        app.user(&stale)
            .post(
                "/api/me/totp",
                &json!({"password": "correct horse battery"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{setup}");
    let secret = base32_decode(setup["secret"].as_str().unwrap());
    let (status, body) = json_of(
        app.user(&stale)
            .post(
                "/api/me/totp/confirm",
                &json!({"code": code_at_step(&secret, step_now())}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "added");
    assert!(body.get("recovery_codes").is_none(), "{body}");
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM recovery_code WHERE username = 'pia' AND used_at IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 10);
    assert_eq!(
        events(&app, "factor_added").await[1],
        json!({"factor": "totp", "recovery_codes": 0})
    );

    // A session that signed in with the passkey a moment ago may add one.
    let (status, _, recent) = sign_in(&app, &mut device, ORIGIN, UP | UV).await;
    assert_eq!(status, 200);
    let mut second = Authenticator::new();
    let (status, added) = register(&app, &recent.unwrap(), &mut second, "Phone").await;
    assert_eq!(status, 200, "{added}");

    // A reset leaves the factors and lists them for the owner to check.
    let link = auth_api::auth::links::issue(
        &db,
        "pia",
        auth_api::auth::links::Purpose::ResetPassword,
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let (status, body) = app
        .anonymous()
        .post_json(
            "/api/password/reset",
            &json!({"token": link, "password": "a brand new passphrase 7"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["factors"]["totp"], true);
    let names: Vec<&str> = body["factors"]["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Work laptop", "Phone"]);
    assert_eq!(codes.len(), 10);
}
