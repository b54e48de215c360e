//! The build over arbitrary text in every text column (plan and insurer
//! names, descriptions, feature keys and values): every object key is a
//! valid file name, every page still escapes what it shows (parsed with a
//! WHATWG tokenizer: no tag or attribute the templates do not have, no
//! inline script, and the text reads back as stored), and every JSON file
//! parses back to the same strings.
//!
//! Plan ids stay within `[A-Z0-9-]`: which ids may be published is a rule
//! of its own, tested with the sync.
//!
//! Fixed seed, 64 cases by default; `PROPTEST_CASES=5000` runs more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support;
use crate::support::{PlanFixture, plan};
use html5gum::{Token, Tokenizer};
use proptest::collection::btree_map;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use whatever_test_db::TestDatabase;

const ZIPS: [&str; 3] = ["02134", "00501", "99950"];

/// Text as a data source may send it: anything Postgres text holds (no
/// NUL), with a bias to what breaks markup.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>().prop_map(|s| s.replace('\0', "")),
        2 => prop::sample::select(vec![
            "<script>alert(1)</script>", "</script><script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>", "' onmouseover='alert(1)", "</textarea>",
            "<!--", "-->", "]]>", "&amp;", "&#x3C;script&#x3E;", "&lt;b&gt;", "{{ x }}",
            "{% raw %}", "${x}", "\u{2028}\u{2029}", "\r\n", "line\nbreak", " leading",
            "trailing ", "true", "yes", "No", "\u{feff}", "\u{202e}txet", "漢字 😀🇺🇸",
            "a\\b", "\t", "", "javascript:alert(1)", "<style>*{}</style>", "</title>",
            "<![CDATA[x]]>", "<svg/onload=alert(1)>", "\u{1}\u{7f}\u{9f}",
        ])
        .prop_map(String::from),
        1 => "[ -~]{0,60}",
    ]
}

fn plans() -> impl Strategy<Value = Vec<PlanFixture>> {
    prop::collection::vec(
        (
            "[A-Z0-9-]{0,28}",
            text(),
            text(),
            proptest::option::of(text()),
            btree_map(text(), text(), 0..4),
            prop::sample::subsequence(ZIPS.to_vec(), 1..=3),
        ),
        1..=3,
    )
    .prop_map(|plans| {
        plans
            .into_iter()
            .enumerate()
            .map(|(i, (id, name, insurer, description, features, zips))| {
                let mut p = plan(&format!("P{i}{id}")).name(&name).zips(&zips);
                p.insurer = insurer;
                p.description = description;
                p.features = features;
                p
            })
            .collect()
    })
}

/// What an HTML parser reads from a text node: line breaks normalized.
fn as_parsed(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Every tag and attribute name the templates write: nothing else may
/// appear in a page, whatever the data.
fn template_vocabulary() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let (mut tags, mut attributes) = (BTreeSet::new(), BTreeSet::new());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        // Template tags hide markup from the tokenizer; blank them out.
        let mut markup = String::new();
        let mut rest = source.as_str();
        while let Some(start) = rest.find(['{']) {
            markup.push_str(&rest[..start]);
            let after = &rest[start..];
            let close = match after.get(..2) {
                Some("{{") => "}}",
                Some("{%") => "%}",
                Some("{#") => "#}",
                _ => {
                    markup.push('{');
                    rest = &after[1..];
                    continue;
                }
            };
            let end = after.find(close).map_or(after.len(), |e| e + 2);
            markup.push('x');
            rest = &after[end..];
        }
        markup.push_str(rest);
        // Attributes written inside template blocks sit outside any tag in
        // the child template; find every `name="` as well.
        for (i, _) in source.match_indices("=\"") {
            let name: String = source[..i]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !name.is_empty() {
                attributes.insert(name.to_ascii_lowercase());
            }
        }
        for Ok(token) in Tokenizer::new(&markup) {
            if let Token::StartTag(tag) = token {
                tags.insert(String::from_utf8_lossy(&tag.name).into_owned());
                for name in tag.attributes.keys() {
                    attributes.insert(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
    }
    (tags, attributes)
}

/// A page as the browser's tokenizer reads it.
struct Page {
    /// Every text node, concatenated.
    text: String,
    /// The text inside each `<h1>`.
    h1: Vec<String>,
    /// (tag, attributes) of every start tag.
    tags: Vec<(String, BTreeMap<String, String>)>,
    /// Text found inside a `<script>` element.
    inline_script: String,
}

fn parse(html: &str) -> Page {
    let mut page = Page {
        text: String::new(),
        h1: Vec::new(),
        tags: Vec::new(),
        inline_script: String::new(),
    };
    let mut open: Vec<String> = Vec::new();
    for Ok(token) in Tokenizer::new(html) {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).into_owned();
                let attributes = tag
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect();
                if name == "h1" {
                    page.h1.push(String::new());
                }
                if !tag.self_closing {
                    open.push(name.clone());
                }
                page.tags.push((name, attributes));
            }
            Token::EndTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).into_owned();
                if let Some(i) = open.iter().rposition(|t| *t == name) {
                    open.truncate(i);
                }
            }
            Token::String(s) => {
                let s = String::from_utf8_lossy(&s);
                page.text.push_str(&s);
                if open.iter().any(|t| t == "h1") {
                    page.h1.last_mut().unwrap().push_str(&s);
                }
                if open.iter().any(|t| t == "script") {
                    page.inline_script.push_str(&s);
                }
            }
            _ => {}
        }
    }
    page
}

/// A key S3 and every file system take: segments that are names (no
/// empty, `.`, `..`, separators, control characters), each at most 255
/// bytes, the whole at most 1,024, and nothing under `api/`.
fn check_key(key: &str) -> Result<(), TestCaseError> {
    prop_assert!(key.len() <= 1024, "key too long: {} bytes", key.len());
    prop_assert!(!key.starts_with("api/"), "{key:?} is under api/");
    for segment in key.split('/') {
        prop_assert!(
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.len() <= 255
                && !segment.chars().any(|c| c.is_control() || c == '\\'),
            "{key:?} has an unusable segment {segment:?}"
        );
    }
    Ok(())
}

fn check_site(
    plans: &[PlanFixture],
    site: &BTreeMap<String, Vec<u8>>,
    vocabulary: &(BTreeSet<String>, BTreeSet<String>),
) -> Result<(), TestCaseError> {
    for key in site.keys() {
        check_key(key)?;
    }
    for (key, bytes) in site.iter().filter(|(k, _)| k.ends_with(".html")) {
        let html = std::str::from_utf8(bytes)
            .map_err(|e| TestCaseError::fail(format!("{key} is not UTF-8: {e}")))?;
        let page = parse(html);
        for (tag, attributes) in &page.tags {
            prop_assert!(
                vocabulary.0.contains(tag),
                "{key}: a <{tag}> no template writes"
            );
            for name in attributes.keys() {
                prop_assert!(
                    vocabulary.1.contains(name),
                    "{key}: <{tag}> has an attribute {name:?} no template writes"
                );
            }
            if tag == "script" {
                prop_assert!(
                    attributes
                        .get("src")
                        .is_some_and(|s| s.starts_with("/assets/")),
                    "{key}: a script that is not one of our assets: {attributes:?}"
                );
            }
        }
        prop_assert!(
            page.inline_script.is_empty(),
            "{key}: inline script {:?}",
            page.inline_script
        );
    }
    for p in plans {
        let json_key = format!("data/plans/{}.json", p.id);
        let json: Value = serde_json::from_slice(
            site.get(&json_key)
                .ok_or_else(|| TestCaseError::fail(format!("{json_key} was not written")))?,
        )
        .map_err(|e| TestCaseError::fail(format!("{json_key}: {e}")))?;
        prop_assert_eq!(json["plan_id"].as_str(), Some(p.id.as_str()));
        prop_assert_eq!(json["plan_name"].as_str(), Some(p.name.as_str()));
        prop_assert_eq!(json["insurer_name"].as_str(), Some(p.insurer.as_str()));
        match &p.description {
            Some(d) => prop_assert_eq!(json["description"].as_str(), Some(d.as_str())),
            None => prop_assert!(
                json["description"].is_null() || json["description"] == "",
                "a NULL description reads back as {}",
                json["description"]
            ),
        }
        let features: BTreeMap<String, String> = json["features"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().unwrap_or("<not a string>").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        prop_assert_eq!(&features, &p.features, "{} features", json_key);

        let page_key = format!("plans/{}/index.html", p.id);
        let html = site
            .get(&page_key)
            .ok_or_else(|| TestCaseError::fail(format!("{page_key} was not written")))?;
        let page = parse(std::str::from_utf8(html).unwrap());
        prop_assert_eq!(&page.h1, &vec![as_parsed(&p.name)], "{} heading", page_key);
        let description = page
            .tags
            .iter()
            .find(|(t, a)| t == "meta" && a.get("name").is_some_and(|n| n == "description"))
            .and_then(|(_, a)| a.get("content").cloned());
        prop_assert_eq!(
            description,
            Some(format!(
                "{} from {}: costs, features and enrollment.",
                as_parsed(&p.name),
                as_parsed(&p.insurer)
            )),
            "{} meta description",
            page_key
        );
        prop_assert!(
            page.text.contains(&as_parsed(&p.insurer)),
            "{page_key}: insurer"
        );
        if let Some(d) = p.description.as_ref().filter(|d| !d.is_empty()) {
            prop_assert!(page.text.contains(&as_parsed(d)), "{page_key}: description");
        }
        for value in p.features.values() {
            let trimmed = value.trim().to_ascii_lowercase();
            if !["true", "yes", "false", "no"].contains(&trimmed.as_str()) {
                prop_assert!(
                    page.text.contains(&as_parsed(value)),
                    "{page_key}: feature value {value:?}"
                );
            }
        }
        for zip in &p.zips {
            let zip_json: Value = serde_json::from_slice(&site[&format!("data/zip/{zip}.json")])
                .map_err(|e| TestCaseError::fail(format!("data/zip/{zip}.json: {e}")))?;
            let listed = zip_json["plans"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["plan_id"] == p.id.as_str());
            prop_assert_eq!(
                listed.and_then(|s| s["plan_name"].as_str()),
                Some(p.name.as_str()),
                "{} in data/zip/{}.json",
                p.id,
                zip
            );
            let zip_page =
                parse(std::str::from_utf8(&site[&format!("zip/{zip}/index.html")]).unwrap());
            prop_assert!(
                zip_page.text.contains(&as_parsed(&p.name)),
                "zip/{zip}/index.html shows {:?}",
                p.name
            );
        }
    }
    Ok(())
}

#[test]
fn any_text_in_any_column_builds_escaped_pages_valid_names_and_exact_json() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(TestDatabase::new()).unwrap();
    let client = runtime.block_on(db.connect()).unwrap();
    let vocabulary = template_vocabulary();
    assert!(
        vocabulary.0.contains("h1") && vocabulary.0.contains("script"),
        "the templates were read: {vocabulary:?}"
    );

    let result = load_harness::properties::runner().run(&plans(), |plans| {
        let site = runtime.block_on(async {
            client
                .batch_execute("TRUNCATE plan, plan_feature, plan_to_zip CASCADE")
                .await
                .unwrap();
            support::insert(&db, &plans).await;
            support::build_in_memory(&db).await
        });
        check_site(&plans, &site, &vocabulary)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
