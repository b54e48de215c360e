//! The shared case tables of `tests/rules/` against the generator's side:
//! the routing cases against `serve`'s router, the plan-id and ZIP cases
//! against the rules as Postgres applies them in the site build, and the
//! browser side of the tables run under node against `rules.mjs` and the
//! data this generator writes into `rules-data.mjs`. (The Rust rules run
//! the same tables in whatever-database's unit tests; the CloudFront
//! function runs the routing table in `infra/check`.)

use std::path::PathBuf;

use generator::serve::routing::{Route, route};
use serde_json::Value;
use whatever_database::rules::{plan_id, zip};
use whatever_test_db::TestDatabase;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn table(name: &str) -> Vec<Value> {
    let path = repo().join("tests/rules").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// What the table expects, in the router's terms.
fn expected_route(expect: &Value) -> Route {
    match expect {
        Value::String(s) if s == "api" => Route::Api,
        Value::String(s) if s == "not_found" => Route::NotFound,
        Value::Object(o) if o.contains_key("key") => {
            Route::Object(o["key"].as_str().unwrap().into())
        }
        Value::Object(o) => Route::Redirect {
            status: o["redirect"].as_u64().unwrap() as u16,
            location: o["location"].as_str().unwrap().into(),
        },
        other => panic!("unknown expectation {other}"),
    }
}

#[test]
fn every_routing_case_holds_for_serve() {
    let cases = table("routing.json");
    assert!(cases.len() > 50);
    let mut failures = Vec::new();
    for case in &cases {
        let path = case["path"].as_str().unwrap();
        let query = case["query"].as_str();
        let got = route(path, query);
        if got != expected_route(&case["expect"]) {
            failures.push(format!(
                "{path}?{}: got {got:?}, want {}",
                query.unwrap_or(""),
                case["expect"]
            ));
        }
        if let Route::Redirect { location, .. } = &got {
            // Never a Location a browser reads as another host.
            assert!(
                location.starts_with('/') && !location[1..].starts_with(['/', '\\']),
                "{path}: {location}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_plan_id_case_holds_in_postgres() {
    let db = TestDatabase::new().await.unwrap();
    let client = db.connect().await.unwrap();
    let mut checked = 0;
    for case in table("plan-ids.json") {
        let id = case["id"].as_str().unwrap();
        // Postgres text cannot hold NUL, so no such id can reach the build.
        if id.contains('\0') {
            continue;
        }
        let row = client
            .query_one("SELECT $1::text ~ $2", &[&id, &plan_id::PATTERN])
            .await
            .unwrap();
        let matched: bool = row.get(0);
        assert_eq!(
            matched,
            case["publishable"].as_bool().unwrap(),
            "{:?}",
            case["why"]
        );
        checked += 1;
    }
    assert!(checked > 20);
}

#[tokio::test]
async fn every_zip_case_holds_in_postgres() {
    let db = TestDatabase::new().await.unwrap();
    let client = db.connect().await.unwrap();
    let cases = table("zips.json");
    assert!(cases.len() > 10);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let row = client
            .query_one("SELECT $1::text ~ $2", &[&text, &zip::PATTERN])
            .await
            .unwrap();
        let matched: bool = row.get(0);
        assert_eq!(matched, case["zip"].as_bool().unwrap(), "{:?}", case["why"]);
    }
}

#[test]
fn the_browser_rules_pass_the_same_tables_under_node() {
    let output = std::process::Command::new("node")
        .arg("--test")
        .arg(repo().join("tests/rules/rules.test.mjs"))
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("# pass 9") && stdout.contains("# fail 0"),
        "{stdout}"
    );
}
