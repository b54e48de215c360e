//! `generator import-cms` against real Postgres: the seed's drug data,
//! written as CMS files and imported into a database that has only the
//! seed's plans, gives back exactly what the seed loaded; a broken file
//! names its file and line and changes nothing.

use std::path::Path;

use crate::sync_support::rows;
use generator::Error;
use generator::import_cms::{ImportOptions, ImportReport, import};
use generator::seed::{SeedArgs, seed};
use whatever_test_db::TestDatabase;

/// The tables the import writes, each as a query whose rows are compared.
const TABLES: &[(&str, &str)] = &[
    ("drug", "SELECT * FROM drug"),
    ("formulary", "SELECT * FROM formulary"),
    ("formulary_drug", "SELECT * FROM formulary_drug"),
    ("plan", "SELECT plan_id, formulary_id FROM plan"),
    ("plan_tier_cost", "SELECT * FROM plan_tier_cost"),
    ("drug_price", "SELECT * FROM drug_price"),
];

fn args(states: &str, cms_out: Option<&Path>) -> SeedArgs {
    SeedArgs {
        seed: 3,
        states: states.split(',').map(String::from).collect(),
        replace: false,
        cms_out: cms_out.map(Path::to_path_buf),
    }
}

/// Every row of every imported table, by table.
async fn contents(db: &TestDatabase) -> Vec<(&'static str, Vec<String>)> {
    let client = db.connect().await.unwrap();
    let mut out = Vec::new();
    for (table, sql) in TABLES {
        out.push((*table, rows(&client, sql).await));
    }
    out
}

/// Row counts of the imported tables.
async fn row_counts(db: &TestDatabase) -> Vec<(&'static str, usize)> {
    contents(db)
        .await
        .into_iter()
        .map(|(t, r)| (t, r.len()))
        .collect()
}

/// A database with the seed's plans and none of its drug data.
async fn plans_only(states: &str) -> TestDatabase {
    let db = TestDatabase::new().await.unwrap();
    seed(&args(states, None), db.config()).await.unwrap();
    db.connect()
        .await
        .unwrap()
        .batch_execute(
            "DELETE FROM formulary_drug; DELETE FROM plan_tier_cost; DELETE FROM drug_price;
             UPDATE plan SET formulary_id = NULL; DELETE FROM formulary; DELETE FROM drug;",
        )
        .await
        .unwrap();
    db
}

async fn run(dir: &Path, db: &TestDatabase) -> generator::Result<ImportReport> {
    import(dir, db.config(), &ImportOptions::default()).await
}

#[tokio::test]
async fn the_seeds_files_import_back_into_the_seeds_tables() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = TestDatabase::new().await.unwrap();
    let summary = seed(&args("RI,VT", Some(dir.path())), seeded.config())
        .await
        .unwrap();
    let files = summary.cms_files.clone().expect("the files were written");
    assert_eq!(files.drug_names, summary.drug);
    assert_eq!(files.formulary, summary.formulary_drug);

    let db = plans_only("RI,VT").await;
    assert!(
        row_counts(&db)
            .await
            .iter()
            .all(|(t, n)| *t == "plan" || *n == 0)
    );
    let report = run(dir.path(), &db).await.unwrap();
    assert_eq!(contents(&db).await, contents(&seeded).await);

    // Everything was new, and the report says so in the seed's numbers.
    for (table, count) in [
        ("drug", summary.drug),
        ("formulary", summary.formulary),
        ("formulary_drug", summary.formulary_drug),
        ("plan_tier_cost", summary.plan_tier_cost),
        ("drug_price", summary.drug_price),
    ] {
        let c = report.table(table);
        assert_eq!((c.inserted, c.updated, c.deleted), (count, 0, 0), "{table}");
    }
    let with_formulary = rows(
        &seeded.connect().await.unwrap(),
        "SELECT plan_id FROM plan WHERE formulary_id IS NOT NULL",
    )
    .await
    .len() as u64;
    assert!(with_formulary > 0);
    assert_eq!(report.table("plan").updated, with_formulary);
    assert_eq!(
        report.table("plan").unchanged,
        summary.plan - with_formulary
    );
    assert_eq!(
        report.files["basic drugs formulary"].rows,
        summary.formulary_drug
    );
    let line: serde_json::Value = serde_json::from_str(&report.to_line()).unwrap();
    assert_eq!(
        line["tables"]["drug"]["inserted"].as_u64(),
        Some(summary.drug)
    );

    // The same files again change nothing.
    let again = run(dir.path(), &db).await.unwrap();
    for (table, c) in &again.tables {
        assert_eq!((c.inserted, c.updated, c.deleted), (0, 0, 0), "{table}");
    }
    assert_eq!(contents(&db).await, contents(&seeded).await);
}

#[tokio::test]
async fn files_that_drop_a_drug_and_a_plans_formulary_delete_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new().await.unwrap();
    seed(&args("RI", Some(dir.path())), db.config())
        .await
        .unwrap();
    let client = db.connect().await.unwrap();
    let drugs_before = rows(&client, "SELECT rxcui FROM drug").await.len();

    // The first drug's line and every formulary and price line of it go;
    // the last plan's line goes (the first one carries the prices).
    let first_drug = line_of(dir.path(), "drug names.txt", 2);
    let rxcui = first_drug.split('|').next().unwrap().to_string();
    let ndc = first_drug.split('|').nth(1).unwrap().to_string();
    keep_lines(dir.path(), "drug names.txt", |l| {
        !l.starts_with(&format!("{rxcui}|"))
    });
    keep_lines(dir.path(), "basic drugs formulary file.txt", |l| {
        l.split('|').nth(3) != Some(rxcui.as_str())
    });
    keep_lines(dir.path(), "pricing file.txt", |l| {
        l.split('|').nth(3) != Some(ndc.as_str())
    });
    let dropped_plan = read_lines(dir.path(), "plan information file.txt")
        .pop()
        .unwrap();
    let parts: Vec<&str> = dropped_plan.split('|').collect();
    let plan_id = format!(
        "{}-{}-{}",
        parts[0],
        parts[1],
        parts[2].parse::<u32>().unwrap()
    );
    keep_lines(dir.path(), "plan information file.txt", |l| {
        l != dropped_plan
    });
    keep_lines(dir.path(), "beneficiary cost file.txt", |l| {
        !l.starts_with(&format!("{}|{}|{}|", parts[0], parts[1], parts[2]))
    });

    let report = run(dir.path(), &db).await.unwrap();
    assert_eq!(report.table("drug").deleted, 1);
    assert_eq!(report.table("drug_price").deleted, 2);
    assert_eq!(report.table("plan").updated, 1);
    assert!(report.table("plan_tier_cost").deleted >= 5);
    assert_eq!(
        rows(&client, "SELECT rxcui FROM drug").await.len(),
        drugs_before - 1
    );
    assert!(
        rows(
            &client,
            &format!("SELECT 1 FROM formulary_drug WHERE rxcui = '{rxcui}'")
        )
        .await
        .is_empty()
    );
    assert_eq!(
        rows(
            &client,
            &format!("SELECT formulary_id FROM plan WHERE plan_id = '{plan_id}'")
        )
        .await,
        [r#"{"formulary_id":null}"#]
    );
    assert!(
        rows(
            &client,
            &format!("SELECT 1 FROM plan_tier_cost WHERE plan_id = '{plan_id}'")
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn a_broken_file_names_its_file_and_line_and_applies_nothing() {
    let good = tempfile::tempdir().unwrap();
    let db = TestDatabase::new().await.unwrap();
    seed(&args("RI", Some(good.path())), db.config())
        .await
        .unwrap();
    let before = contents(&db).await;
    let formulary = "basic drugs formulary file.txt";
    let cost = "beneficiary cost file.txt";

    type Edit = Box<dyn Fn(&Path)>;
    let cases: Vec<(Edit, &str, u64, &str)> = vec![
        (
            Box::new(move |d: &Path| set(d, formulary, 3, "TIER_LEVEL_VALUE", "7")),
            formulary,
            3,
            "TIER_LEVEL_VALUE \"7\" is not a tier from 1 to 6",
        ),
        (
            Box::new(move |d: &Path| set(d, formulary, 4, "RXCUI", "123")),
            formulary,
            4,
            "RXCUI 123 is not in the drug names file",
        ),
        (
            Box::new(move |d: &Path| {
                let line = line_of(d, formulary, 5);
                replace_line(d, formulary, 5, &line[..line.len() / 2]);
            }),
            formulary,
            5,
            "fields, the header has 11",
        ),
        (
            Box::new(move |d: &Path| set(d, cost, 2, "DED_APPLIES_YN", "X")),
            cost,
            2,
            "DED_APPLIES_YN \"X\" is not Y or N",
        ),
        (
            Box::new(move |d: &Path| set(d, formulary, 2, "PRIOR_AUTHORIZATION_YN", "yes")),
            formulary,
            2,
            "PRIOR_AUTHORIZATION_YN \"yes\" is not Y or N",
        ),
        (
            Box::new(move |d: &Path| {
                let line = line_of(d, cost, 3);
                insert_line(d, cost, 4, &line);
            }),
            cost,
            4,
            "duplicate: plan",
        ),
        (
            Box::new(move |d: &Path| {
                let line = line_of(d, formulary, 6);
                insert_line(d, formulary, 7, &line);
            }),
            formulary,
            7,
            "on line 6 already",
        ),
        (
            Box::new(move |d: &Path| {
                let plans = "plan information file.txt";
                let line = line_of(d, plans, 2);
                let (_, rest) = line.split_once('|').unwrap();
                insert_line(d, plans, 2, &format!("S0001|{rest}"));
            }),
            "plan information file.txt",
            2,
            "is not in the database",
        ),
    ];
    for (edit, file, line, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(good.path()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        edit(dir.path());
        match run(dir.path(), &db).await {
            Err(error @ Error::Import { .. }) => {
                let text = error.to_string();
                let Error::Import { problems, .. } = error else {
                    unreachable!()
                };
                let named: Vec<(&str, u64)> =
                    problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
                assert_eq!(named, [(file, line)], "{text}");
                assert!(text.contains(message), "{message}: {text}");
                assert!(text.contains(&format!("{file} line {line}")), "{text}");
            }
            other => panic!("{file} line {line}: expected a refusal, got {other:?}"),
        }
        assert_eq!(
            contents(&db).await,
            before,
            "{file} line {line} changed the database"
        );
    }
}

#[tokio::test]
async fn a_missing_or_doubled_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new().await.unwrap();
    seed(&args("VT", Some(dir.path())), db.config())
        .await
        .unwrap();
    std::fs::copy(
        dir.path().join("pricing file.txt"),
        dir.path().join("Pricing_File_PPUF_2026Q1.txt"),
    )
    .unwrap();
    let error = run(dir.path(), &db).await.unwrap_err().to_string();
    assert!(error.contains("more than one pricing file"), "{error}");
    std::fs::remove_file(dir.path().join("pricing file.txt")).unwrap();
    std::fs::remove_file(dir.path().join("Pricing_File_PPUF_2026Q1.txt")).unwrap();
    let error = run(dir.path(), &db).await.unwrap_err().to_string();
    assert!(error.contains("no pricing file"), "{error}");
}

// ---- editing files ----------------------------------------------------------

fn read_lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(dir: &Path, file: &str, lines: &[String]) {
    std::fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
}

/// Line `n` (1-based, the header is 1).
fn line_of(dir: &Path, file: &str, n: usize) -> String {
    read_lines(dir, file)[n - 1].clone()
}

fn replace_line(dir: &Path, file: &str, n: usize, text: &str) {
    let mut lines = read_lines(dir, file);
    lines[n - 1] = text.to_string();
    write_lines(dir, file, &lines);
}

/// Inserts `text` so that it becomes line `n`.
fn insert_line(dir: &Path, file: &str, n: usize, text: &str) {
    let mut lines = read_lines(dir, file);
    lines.insert(n - 1, text.to_string());
    write_lines(dir, file, &lines);
}

/// Sets `column` of line `n` to `value`.
fn set(dir: &Path, file: &str, n: usize, column: &str, value: &str) {
    let lines = read_lines(dir, file);
    let at = lines[0].split('|').position(|c| c == column).unwrap();
    let mut fields: Vec<&str> = lines[n - 1].split('|').collect();
    fields[at] = value;
    replace_line(dir, file, n, &fields.join("|"));
}

/// Keeps the header and the data lines for which `keep` holds.
fn keep_lines(dir: &Path, file: &str, keep: impl Fn(&str) -> bool) {
    let lines = read_lines(dir, file);
    let kept: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| *i == 0 || keep(l))
        .map(|(_, l)| l.clone())
        .collect();
    assert!(kept.len() < lines.len(), "{file}: nothing removed");
    write_lines(dir, file, &kept);
}
