//! The site build against a real Postgres: which pages exist, what they say,
//! the JSON contract, escaping and determinism.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::*;
use serde_json::Value;
use whatever_test_db::TestDatabase;

async fn standard_site() -> (TestDatabase, BTreeMap<String, Vec<u8>>) {
    let db = TestDatabase::new().await.expect("test database");
    insert(&db, &standard_plans()).await;
    let site = build_in_memory(&db).await;
    (db, site)
}

fn page_keys(site: &BTreeMap<String, Vec<u8>>) -> BTreeSet<&str> {
    site.keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with("assets/"))
        .collect()
}

#[tokio::test]
async fn every_active_plan_and_zip_has_its_pages_and_nothing_else() {
    let (_db, site) = standard_site().await;
    let expected: BTreeSet<&str> = [
        "index.html",
        "404.html",
        "signin/index.html",
        "account/index.html",
        "account/create/index.html",
        "account/verify/index.html",
        "account/reset/index.html",
        "my-plan/index.html",
        "compare/index.html",
        "zip/00501/index.html",
        "zip/02134/index.html",
        "data/zip/00501.json",
        "data/zip/02134.json",
        "plans/H1234-567-8/index.html",
        "plans/S0001-001-0/index.html",
        "plans/S0002-001-0/index.html",
        "data/plans/H1234-567-8.json",
        "data/plans/S0001-001-0.json",
        "data/plans/S0002-001-0.json",
        "data/drugs/plans/H1234-567-8.json",
        "data/drugs/plans/S0001-001-0.json",
        "data/drugs/plans/S0002-001-0.json",
        // Drug data: without drugs, the benefit years and an empty shard list.
        "data/benefit-year.json",
        "data/drugs/index/shards.json",
    ]
    .into();
    assert_eq!(page_keys(&site), expected);
}

#[tokio::test]
async fn inactive_plans_appear_nowhere() {
    let (_db, site) = standard_site().await;
    for (key, bytes) in &site {
        if key.starts_with("assets/") {
            continue;
        }
        let body = String::from_utf8_lossy(bytes);
        assert!(
            !body.contains("S0003-001-0"),
            "{key} mentions the inactive plan"
        );
        assert!(
            !body.contains("Retired Plan"),
            "{key} names the inactive plan"
        );
    }
    // 99999 only has the inactive plan: no page, no data.
    assert!(!site.keys().any(|k| k.contains("99999")));
}

#[tokio::test]
async fn json_has_the_contract_shapes() {
    let (_db, site) = standard_site().await;
    let summary_keys: BTreeSet<&str> = [
        "plan_id",
        "plan_name",
        "insurer_name",
        "avg_monthly_cost",
        "avg_copay_amount",
        "annual_deductible",
        "min_age",
        "max_age",
        "features",
    ]
    .into();

    let raw = text(&site, "data/zip/02134.json");
    let zip: Value = serde_json::from_str(raw).unwrap();
    let object = zip.as_object().unwrap();
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["plans", "zip"]));
    assert_eq!(zip["zip"], "02134");
    let plans = zip["plans"].as_array().unwrap();
    let ids: Vec<_> = plans
        .iter()
        .map(|p| p["plan_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["H1234-567-8", "S0001-001-0", "S0002-001-0"],
        "sorted by plan_id"
    );
    for plan in plans {
        let keys: BTreeSet<&str> = plan
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, summary_keys);
    }
    // Money keeps two decimals in the raw text, keys come in contract order.
    assert!(raw.starts_with(r#"{"zip":"02134","plans":[{"plan_id":"H1234-567-8","plan_name":"Premium Gold","insurer_name":"Acme Health","avg_monthly_cost":1234.56,"avg_copay_amount":0.00,"annual_deductible":0.00,"min_age":null,"max_age":null,"features":{}}"#), "{raw}");
    assert!(raw.contains(r#""avg_monthly_cost":20.00,"avg_copay_amount":7.50,"annual_deductible":0.00,"min_age":65,"max_age":null,"features":{"dental":"false","mail_order_pharmacy":"true","preferred_pharmacy_network":"CVS, Walgreens"}"#), "{raw}");

    let raw = text(&site, "data/plans/S0001-001-0.json");
    let plan: Value = serde_json::from_str(raw).unwrap();
    let mut plan_keys = summary_keys.clone();
    plan_keys.insert("description");
    plan_keys.insert("formulary_id");
    plan_keys.insert("tier_costs");
    let keys: BTreeSet<&str> = plan
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, plan_keys);
    assert_eq!(plan["description"], "About S0001-001-0");
    assert!(raw.contains(r#""avg_copay_amount":7.50"#), "{raw}");
    // A missing description is an empty string, not null.
    let gold: Value = serde_json::from_str(text(&site, "data/plans/H1234-567-8.json")).unwrap();
    assert_eq!(gold["description"], "");
}

#[tokio::test]
async fn metacharacters_are_escaped_everywhere() {
    let (_db, site) = standard_site().await;
    let escaped_name =
        "&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;quotes&#34; &#39;apos&#39; café 🎉";
    for key in ["zip/02134/index.html", "plans/S0002-001-0/index.html"] {
        let html = text(&site, key);
        assert!(!html.contains("<script>alert(1)"), "{key} has the raw name");
        assert!(
            !html.contains("<b>bold</b>"),
            "{key} has a raw feature value"
        );
        assert!(html.contains(escaped_name), "{key} lacks the escaped name");
    }
    // Features are listed on the plan page only; the card links there.
    assert!(
        text(&site, "plans/S0002-001-0/index.html")
            .contains("&#60;b&#62;bold&#60;/b&#62; &#38; more"),
        "the plan page lacks the escaped feature"
    );
    let json = text(&site, "data/plans/S0002-001-0.json");
    let plan: Value = serde_json::from_str(json).unwrap();
    assert_eq!(plan["plan_name"], NASTY);
    // serde escapes quotes; `<` is harmless in JSON served as application/json.
    assert!(json.contains(r#"\"quotes\""#));
}

#[tokio::test]
async fn zip_page_lists_every_plan_cheapest_first_with_the_costs_that_decide() {
    let (_db, site) = standard_site().await;
    let html = text(&site, "zip/02134/index.html");
    assert!(html.contains(r#"data-page="zip" data-zip="02134""#));
    assert!(html.contains(r#"<h1 class="zip-heading">Plans available in ZIP code 02134</h1>"#));
    assert!(html.contains(r#"<p id="result-count" role="status" aria-live="polite">3 plans</p>"#));
    let positions: Vec<usize> = ["S0001-001-0", "S0002-001-0", "H1234-567-8"]
        .iter()
        .map(|id| {
            html.find(&format!(
                r#"<li class="plan-card" id="plan-{id}" data-plan-id="{id}">"#
            ))
            .unwrap_or_else(|| panic!("no card for {id}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not cheapest first: {positions:?}"
    );
    assert_eq!(html.matches(r#"<li class="plan-card"#).count(), 3);
    // $240.00 = 12 x $20.00 + $0.00; $650.00 = 12 x $12.50 + $500.00.
    let yearly = |amount: &str| {
        format!(
            r#"<dt>Premiums and deductible for the year</dt><dd><span class="plan-costs__yearly">{amount}</span> <span class="plan-card__note">Drug costs not included</span></dd>"#
        )
    };
    for expected in [
        r#"<a class="usa-link" href="/plans/S0001-001-0/">Cheap Basic Rx</a>"#,
        "<dt>Monthly premium</dt><dd>$20.00</dd>",
        "<dt>Annual deductible</dt><dd>$500.00</dd>",
        &yearly("$240.00"),
        &yearly("$650.00"),
        "<dt>Monthly premium</dt><dd>$1,234.56</dd>",
        &yearly("$14,814.72"),
        r#"<a class="usa-link plan-card__more" href="/plans/S0001-001-0/">All features and costs<span class="usa-sr-only"> of Cheap Basic Rx</span></a>"#,
        r#"<div class="plan-card__actions"></div>"#,
        // The column headings, once above the rows, for the eye: each row
        // labels its own figures for a screen reader.
        r#"<div class="plan-list__columns" aria-hidden="true"><span>Plan</span><span>Monthly premium</span><span>Annual deductible</span><span class="plan-list__yearly">Premiums and deductible for the year</span></div>"#,
        // The drug list and the filters, both drawn by the page script;
        // until then a placeholder each keeps their place.
        "<div id=\"drug-tools\" class=\"drug-tools\" hidden></div>\n<div class=\"panel-placeholder panel-placeholder--drugs\" aria-hidden=\"true\">",
        "<div id=\"plan-tools\" hidden></div>\n<div class=\"panel-placeholder panel-placeholder--filters\" aria-hidden=\"true\">",
    ] {
        assert!(html.contains(expected), "zip page lacks {expected}");
    }
    // Copays and features are on the plan page, not the card.
    for absent in ["Copay", "$7.50", "Mail order pharmacy", "CVS, Walgreens"] {
        assert!(!html.contains(absent), "zip page shows {absent}");
    }
    // None of these plans has a rating to draw.
    assert_eq!(html.matches("No star rating").count(), 3);
}

#[tokio::test]
async fn a_card_draws_its_star_rating_with_the_score_beside_read_as_words() {
    let db = TestDatabase::new().await.expect("test database");
    insert(
        &db,
        &[
            plan("S0101-001-0")
                .feature("star_rating", "3.5")
                .zips(&["02134"]),
            plan("S0102-001-0")
                .feature("star_rating", "4.0")
                .zips(&["02134"]),
            plan("S0103-001-0")
                .feature("star_rating", "<b>5</b>")
                .zips(&["02134"]),
        ],
    )
    .await;
    let site = build_in_memory(&db).await;
    let html = text(&site, "zip/02134/index.html");
    let card = |id: &str| {
        let start = html
            .find(&format!(r#"data-plan-id="{id}""#))
            .unwrap_or_else(|| panic!("no card for {id}"));
        let end = html[start..].find("</li>").unwrap() + start;
        &html[start..end]
    };
    // The rating follows the insurer's name, to the end of their line.
    let rating = |card: &str| {
        let start = card.find(r#"<span class="plan-card__rating">"#).unwrap();
        let end = card[start..].find("\n</p>").unwrap() + start;
        card[start..end].to_string()
    };
    const HALF: &str = r#"points="12,2 12,17.77"#;
    let fills = |card: &str| card.matches(r#"class="plan-stars__fill""#).count();

    let three_and_a_half = rating(card("S0101-001-0"));
    assert!(
        three_and_a_half
            .ends_with(r#"</span> 3.5<span class="usa-sr-only"> out of 5 stars</span></span>"#),
        "{three_and_a_half}"
    );
    assert!(three_and_a_half.contains(r#"<span class="plan-stars" aria-hidden="true">"#));
    assert_eq!(three_and_a_half.matches("<svg ").count(), 5);
    // Three full stars and a half one.
    assert_eq!(fills(&three_and_a_half), 4);
    assert_eq!(three_and_a_half.matches(HALF).count(), 1);

    let four = rating(card("S0102-001-0"));
    assert!(
        four.ends_with(r#"</span> 4<span class="usa-sr-only"> out of 5 stars</span></span>"#),
        "{four}"
    );
    assert_eq!(fills(&four), 4);
    assert_eq!(four.matches(HALF).count(), 0);

    // A value that is not a rating is not drawn as one.
    let unreadable = rating(card("S0103-001-0"));
    assert_eq!(
        unreadable,
        r#"<span class="plan-card__rating">No star rating</span>"#
    );
    assert!(!html.contains("<b>5</b>"));
}

#[tokio::test]
async fn plan_page_shows_every_feature_costs_enroll_link_and_mail_form() {
    let (_db, site) = standard_site().await;
    let html = text(&site, "plans/S0001-001-0/index.html");
    for expected in [
        r#"data-page="plan" data-plan-id="S0001-001-0""#,
        "<h1>Cheap Basic Rx</h1>",
        "Offered by Acme Health",
        "About S0001-001-0",
        r#"<a class="usa-button usa-button--big" href="https://enroll.example.gov/apply?plan=S0001-001-0">Enroll in this plan</a>"#,
        r#"<dt>Premiums and deductible for the year</dt><dd><span class="plan-costs__yearly">$240.00</span> <span class="plan-costs__note">Drug costs not included</span></dd>"#,
        "<dt>Eligible ages</dt><dd>Ages 65 and older</dd>",
        r#"<th scope="row" data-label="Feature">Mail order pharmacy</th><td data-label="Details">Yes</td>"#,
        r#"<th scope="row" data-label="Feature">Dental</th>"#,
        r#"<th scope="row" data-label="Feature">Preferred pharmacy network</th><td data-label="Details">CVS, Walgreens</td>"#,
        r#"<section id="my-plan-compare" hidden></section>"#,
        r#"<form id="mail-form" class="usa-form" novalidate hidden>"#,
        r#"<input type="hidden" name="plan_id" value="S0001-001-0">"#,
        r#"<option value="DC">District of Columbia</option>"#,
        r#"<option value="PR">Puerto Rico</option>"#,
        r#"<span class="usa-error-message" id="zip-error" hidden></span>"#,
        r#"<div id="mail-status" role="status" aria-live="polite"></div>"#,
        r#"<div class="plan-actions"></div>"#,
    ] {
        assert!(html.contains(expected), "plan page lacks {expected}");
    }
    // The empty "- Select -" option, then every code the API accepts: 50
    // states, DC, 5 territories, 3 freely associated states and 3 military
    // post office codes.
    assert_eq!(html.matches("<option value=\"").count(), 1 + 62);
    assert!(html.contains(r#"<option value="AP">Armed Forces Pacific</option>"#));
    let gold = text(&site, "plans/H1234-567-8/index.html");
    assert!(gold.contains("<dt>Eligible ages</dt><dd>All ages</dd>"));
    assert!(gold.contains("This plan lists no additional features."));
}

#[tokio::test]
async fn leading_zeros_are_kept_in_paths_and_content() {
    let (_db, site) = standard_site().await;
    let html = text(&site, "zip/00501/index.html");
    assert!(html.contains("Plans available in ZIP code 00501"));
    assert!(html.contains(r#"data-zip="00501""#));
    let json: Value = serde_json::from_str(text(&site, "data/zip/00501.json")).unwrap();
    assert_eq!(json["zip"], "00501");
    assert!(!site.contains_key("zip/501/index.html"));
}

#[tokio::test]
async fn every_page_links_hashed_assets_that_exist() {
    let (_db, site) = standard_site().await;
    for key in [
        "index.html",
        "404.html",
        "zip/02134/index.html",
        "plans/S0001-001-0/index.html",
        "signin/index.html",
    ] {
        let html = text(&site, key);
        let mut linked = 0;
        for piece in html.split(['"']) {
            if piece.starts_with("/assets/") && !piece.ends_with("/img") && piece.contains('.') {
                let object = piece.trim_start_matches('/');
                assert!(
                    site.contains_key(object),
                    "{key} links {piece}, which was not written"
                );
                linked += 1;
            }
        }
        assert!(linked >= 8, "{key} links only {linked} assets");
        assert!(!html.contains("<script>"), "{key} has an inline script");
        assert!(!html.contains("style="), "{key} has an inline style");
    }
    let css_key = site.keys().find(|k| k.ends_with("/css/uswds.css")).unwrap();
    let css = text(&site, css_key);
    let dir = css_key.trim_end_matches("css/uswds.css");
    for piece in css.split("url(").skip(1) {
        if let Some(rel) = piece.strip_prefix("../") {
            let rel = &rel[..rel.find([')', '?', '#', '"', '\'']).unwrap()];
            assert!(
                site.contains_key(&format!("{dir}{rel}")),
                "the stylesheet needs {rel}"
            );
        }
    }
}

#[tokio::test]
async fn two_builds_of_the_same_data_are_identical() {
    let (db, first) = standard_site().await;
    let second = build_in_memory(&db).await;
    assert_eq!(first.len(), second.len());
    for (key, bytes) in &first {
        assert!(
            second.get(key) == Some(bytes),
            "{key} differs between builds"
        );
    }
}

#[tokio::test]
async fn the_binary_builds_a_directory_and_prints_one_summary_line() {
    let db = TestDatabase::new().await.unwrap();
    insert(&db, &standard_plans()).await;
    let out = tempfile::tempdir().unwrap();
    let run = |dir: &Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_generator"))
            .args(["build", "--out"])
            .arg(dir)
            .env("DATABASE_URL", db.url())
            .env("ENROLL_URL_PATTERN", ENROLL)
            .output()
            .expect("run generator build");
        assert!(
            output.status.success(),
            "build failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let stdout = run(&out.path().join("a"));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {stdout}");
    let summary: Value = serde_json::from_str(lines[0]).unwrap();
    let files = list_files(&out.path().join("a"));
    assert_eq!(summary["uploaded"].as_u64().unwrap() as usize, files.len());
    assert_eq!(summary["rendered"], summary["uploaded"]);
    assert_eq!(summary["deleted"], 0);
    assert_eq!(summary["unchanged"], 0);
    assert_eq!(summary["invalidated_paths"], Value::Array(vec![]));
    assert_eq!(summary["skipped"], 0);
    assert!(summary["seconds"].as_f64().unwrap() > 0.0);
    assert!(files.contains_key("zip/00501/index.html"));
    assert!(files.contains_key("data/plans/S0002-001-0.json"));
    assert!(
        !files.keys().any(|k| k.contains(".tmp")),
        "temporary files left behind"
    );

    // Same data, another directory: byte for byte the same tree.
    run(&out.path().join("b"));
    assert_eq!(files, list_files(&out.path().join("b")));
}

#[tokio::test]
async fn the_binary_explains_a_bad_enroll_pattern() {
    let db = TestDatabase::new().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_generator"))
        .args(["build", "--out"])
        .arg(out.path())
        .env("DATABASE_URL", db.url())
        .env("ENROLL_URL_PATTERN", "https://enroll.example.gov/")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ENROLL_URL_PATTERN") && stderr.contains("{plan_id}"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn an_empty_database_builds_the_static_pages_only() {
    let db = TestDatabase::new().await.unwrap();
    let site = build_in_memory(&db).await;
    // The benefit year is data the migrations hold, and the drug index
    // lists its (here no) name shards: both exist before any plan does.
    let expected: BTreeSet<&str> = [
        "index.html",
        "404.html",
        "signin/index.html",
        "account/index.html",
        "account/create/index.html",
        "account/verify/index.html",
        "account/reset/index.html",
        "my-plan/index.html",
        "compare/index.html",
        "data/benefit-year.json",
        "data/drugs/index/shards.json",
    ]
    .into();
    assert_eq!(page_keys(&site), expected);
    let home = text(&site, "index.html");
    assert!(home.contains(r#"<form class="usa-form zip-form" action="/search" method="get">"#));
    assert!(home.contains(r#"<label class="usa-label" for="zip">Your 5-digit ZIP code</label>"#));
    assert!(
        home.contains(r#"data-auth="signed-out""#) && home.contains(r#"data-auth="signed-in""#)
    );
    assert!(text(&site, "404.html").contains("We can't find that page"));
}

#[tokio::test]
async fn unsafe_ids_and_malformed_zips_are_left_off() {
    let db = TestDatabase::new().await.unwrap();
    insert(&db, &[plan("S0001-001-0").zips(&["02134"])]).await;
    let client = db.connect().await.unwrap();
    // Rows that predate the V2 constraints (NOT VALID) can still hold these.
    client
        .batch_execute(
            "ALTER TABLE plan_to_zip DROP CONSTRAINT plan_to_zip_zip_format;
             INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                               avg_copay_amount, annual_deductible)
             VALUES ('../evil', 'Evil', 'X', 'active', 1, 1, 1);
             INSERT INTO plan_to_zip VALUES ('../evil', '02134'), ('S0001-001-0', '2134'),
                                            ('S0001-001-0', '../../x');",
        )
        .await
        .unwrap();
    let site = build_in_memory(&db).await;
    assert!(!site.keys().any(|k| k.contains("..")
        || k.contains("evil")
        || k.contains("2134/") && !k.contains("02134")));
    assert!(!text(&site, "zip/02134/index.html").contains("Evil"));
    let json: Value = serde_json::from_str(text(&site, "data/zip/02134.json")).unwrap();
    assert_eq!(json["plans"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn rows_the_site_cannot_publish_are_skipped_counted_and_the_rest_builds() {
    let db = TestDatabase::new().await.unwrap();
    insert(&db, &[plan("S0001-001-0").zips(&["02134"])]).await;
    let long_id = "S".repeat(10_000);
    let client = db.connect().await.unwrap();
    // Rows written before sync applied the plan-id rule.
    for id in [long_id.as_str(), "S0002.001", "../evil"] {
        client
            .execute(
                "INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost,
                                   avg_copay_amount, annual_deductible)
                 VALUES ($1, 'Bad id', 'X', 'active', 1, 1, 1)",
                &[&id],
            )
            .await
            .unwrap();
        client
            .execute("INSERT INTO plan_to_zip VALUES ($1, '02134')", &[&id])
            .await
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_generator"))
        .args(["build", "--out"])
        .arg(out.path())
        .env("DATABASE_URL", db.url())
        .env("ENROLL_URL_PATTERN", ENROLL)
        .output()
        .expect("run generator build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "build failed: {stderr}");
    let summary: Value =
        serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap();
    assert_eq!(summary["skipped"], 3, "{summary}");
    assert_eq!(
        stderr.matches("active plan left off the site").count(),
        3,
        "{stderr}"
    );
    let files = list_files(out.path());
    assert!(files.contains_key("plans/S0001-001-0/index.html"));
    assert!(
        !files
            .keys()
            .any(|k| k.contains("Bad") || k.contains("SSSS") || k.contains("S0002.001"))
    );
    let zip: Value = serde_json::from_slice(&files["data/zip/02134.json"]).unwrap();
    assert_eq!(zip["plans"].as_array().unwrap().len(), 1, "{zip}");
}

fn list_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let key = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}
