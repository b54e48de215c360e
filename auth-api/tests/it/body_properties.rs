//! Whatever a client sends (any bytes as a body, any content type, garbage
//! in the session cookie, the bearer token or the idempotency key, a valid
//! body with one field turned into anything) the real API, over HTTP,
//! answers below 500 with JSON, errors in the one error shape, and keeps
//! running.
//!
//! Fixed seed, 64 cases by default; `PROPTEST_CASES=5000` runs more.

use std::time::Duration;

use crate::process_support::*;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

/// One request as a client could send it.
#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: String,
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
    authorization: Option<Vec<u8>>,
    cookie: Option<Vec<u8>>,
    idempotency_key: Option<Vec<u8>>,
    forwarded_for: Option<Vec<u8>>,
}

/// Bytes a header value may carry on the wire (visible ASCII, space, tab
/// and obs-text): everything a client library lets through.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![8 => 0x20u8..0x7f, 1 => 0x80u8..=0xff, 1 => Just(b'\t')],
        0..max,
    )
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        Just(Value::from("x".repeat(20_000))),
        Just(Value::from("\u{0}\u{202e}<script>'\"\\")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::from),
            btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body that is right for `route` (its fields valid).
fn valid_body(path: &str) -> Value {
    match path {
        "/api/login" => json!({"username": USERNAME, "password": PASSWORD}),
        _ => json!({
            "plan_id": PLAN_ID, "name": "Ann Doe", "address": "1 Main St",
            "city": "Boston", "state": "MA", "zip": "02134"
        }),
    }
}

/// The body: any bytes, any JSON, or a valid body with one field replaced,
/// removed, or one more field added.
fn body(path: String) -> impl Strategy<Value = Vec<u8>> {
    let valid = valid_body(&path);
    let fields: Vec<String> = valid
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mutated = (
        0..fields.len().max(1),
        prop_oneof![json_value().prop_map(Some), Just(None)],
        proptest::option::of((any::<String>(), json_value())),
    )
        .prop_map(move |(i, replacement, extra)| {
            let mut v = valid.clone();
            if let (Some(field), Some(object)) = (fields.get(i), v.as_object_mut()) {
                match replacement {
                    Some(value) => object.insert(field.clone(), value),
                    None => object.remove(field),
                };
                if let Some((name, value)) = extra {
                    object.insert(name, value);
                }
            }
            serde_json::to_vec(&v).unwrap()
        });
    prop_oneof![
        3 => mutated,
        2 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        2 => vec(any::<u8>(), 0..600),
        1 => Just(vec![b'{'; 20_000]),
        1 => Just(b"\xEF\xBB\xBF{\"username\":\"a\",\"password\":\"b\"}".to_vec()),
        1 => Just(Vec::new()),
    ]
}

/// What a session token could look like to a forger: random bytes, three
/// dot-separated base64url parts, or an unsigned token.
fn token_garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        header_bytes(300),
        "[A-Za-z0-9_-]{10,40}\\.[A-Za-z0-9_-]{10,80}\\.[A-Za-z0-9_-]{0,90}"
            .prop_map(|s| s.into_bytes()),
        Just(b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb2J1c3QwMSJ9.".to_vec()),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let route = prop_oneof![
        3 => Just(("POST", "/api/login".to_string())),
        3 => Just(("POST", "/api/fulfillment".to_string())),
        2 => Just(("GET", "/api/me/enrollment".to_string())),
        1 => Just(("POST", "/api/logout".to_string())),
        1 => "[A-Za-z0-9%._~-]{0,80}".prop_map(|id| ("GET", format!("/api/fulfillment/{id}"))),
        1 => (
            prop::sample::select(vec!["PUT", "DELETE", "PATCH", "OPTIONS"]),
            prop::sample::select(vec!["/api/login", "/api/fulfillment", "/api/me/enrollment", "/readyz"])
        ).prop_map(|(m, p)| (m, p.to_string())),
    ];
    let content_type = proptest::option::of(prop_oneof![
        4 => Just(b"application/json".to_vec()),
        1 => prop::sample::select(vec![
            "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;",
            "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "", "application/jsonx", "application/json, text/html",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        1 => header_bytes(80),
    ]);
    let authorization = proptest::option::of(prop_oneof![
        token_garbage().prop_map(|t| [b"Bearer ".to_vec(), t].concat()),
        header_bytes(120).prop_map(|t| [b"Basic ".to_vec(), t].concat()),
        header_bytes(120),
    ]);
    let cookie = proptest::option::of(prop_oneof![
        token_garbage().prop_map(|t| [b"whatever_session=".to_vec(), t].concat()),
        header_bytes(300),
    ]);
    (route, content_type, authorization, cookie).prop_flat_map(
        |((method, path), content_type, authorization, cookie)| {
            (
                body(path.clone()),
                proptest::option::of(header_bytes(300)),
                proptest::option::of(header_bytes(80)),
            )
                .prop_map(move |(body, idempotency_key, forwarded_for)| Case {
                    method,
                    path: path.clone(),
                    content_type: content_type.clone(),
                    body,
                    authorization: authorization.clone(),
                    cookie: cookie.clone(),
                    idempotency_key,
                    forwarded_for,
                })
        },
    )
}

async fn check(
    client: &reqwest::Client,
    api: &ApiProcess,
    case: Case,
) -> Result<(), TestCaseError> {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let oversized = case.body.len() > auth_api::http::MAX_BODY_BYTES;
    let mut request = client
        .request(method, api.url(&case.path))
        .body(case.body.clone());
    let headers = [
        ("content-type", &case.content_type),
        ("authorization", &case.authorization),
        ("cookie", &case.cookie),
        ("idempotency-key", &case.idempotency_key),
        ("x-forwarded-for", &case.forwarded_for),
    ];
    for (name, value) in headers {
        if let Some(value) = value {
            let value = reqwest::header::HeaderValue::from_bytes(value)
                .map_err(|e| TestCaseError::reject(format!("not sendable: {e}")))?;
            request = request.header(name, value);
        }
    }
    let resp = match request.send().await {
        Ok(resp) => resp,
        // A body over the limit may be refused before it has all arrived:
        // the server answers and closes, and the client, still writing,
        // can see the reset instead of the answer. Nothing was processed.
        Err(_) if oversized => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(format!("no answer: {e}"))),
    };
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp
        .bytes()
        .await
        .map_err(|e| TestCaseError::fail(format!("the body broke off: {e}")))?;
    prop_assert!(
        status < 500,
        "answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if status >= 400 {
        let shape = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_error_shape(status, &content_type, &body)
        }));
        prop_assert!(shape.is_ok(), "{status} without the error shape");
    } else {
        prop_assert!(
            content_type.starts_with("application/json")
                && serde_json::from_slice::<Value>(&body).is_ok(),
            "{status} is not JSON: {content_type} {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

#[test]
fn any_body_and_header_gets_a_json_answer_below_500() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(async {
        let db = TestDatabase::new().await.unwrap();
        db.connect()
            .await
            .unwrap()
            .batch_execute(&member_sql(0))
            .await
            .unwrap();
        db
    });
    let url = db.url();
    let mut api = ApiProcess::start(binary(), &[("DATABASE_URL", url.as_str())])
        .expect("the auth-api starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut runner = load_harness::properties::runner();
    let result = runner.run(&case(), |case| runtime.block_on(check(&client, &api, case)));
    assert!(api.is_running(), "the API process is still running");
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // Still serving as before.
    let ready = runtime.block_on(async {
        client
            .get(api.url("/readyz"))
            .send()
            .await
            .map(|r| r.status())
    });
    assert_eq!(ready.ok().map(|s| s.as_u16()), Some(200));
}
