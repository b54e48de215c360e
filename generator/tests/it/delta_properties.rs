//! A valid nightly delta with one line mutated (cut short, a value of the
//! wrong type, an unknown table or op, odd dates, a BOM, a NUL, trailing
//! text, huge numbers, a missing or extra column, ...) is either refused
//! naming exactly that line, with every table as it was, or it is still a
//! valid delta and the tables then hold exactly what it says. What it says
//! is worked out here, by a model of the tables written from the delta
//! format's contract, not by asking the code under test.
//!
//! Fixed seed, 64 cases by default; `PROPTEST_CASES=5000` runs more.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use generator::Error;
use generator::sync::{SyncOptions, sync};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use whatever_test_db::TestDatabase;

// ---- the model: the delta format's contract, written out -------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Id,
    Status,
    Money,
    Age,
    BigInt,
    Date,
    Zip,
    State,
}

struct TableSpec {
    name: &'static str,
    columns: &'static [(&'static str, Kind, bool)],
    key_len: usize,
}

use crate::sync_support;
use Kind::*;

/// The synced tables: columns in order (name, kind, nullable), key first.
const SPECS: &[TableSpec] = &[
    TableSpec {
        name: "plan",
        columns: &[
            ("plan_id", Id, false),
            ("plan_name", Text, false),
            ("insurer_name", Text, false),
            ("status", Status, false),
            ("description", Text, true),
            ("avg_monthly_cost", Money, false),
            ("avg_copay_amount", Money, false),
            ("annual_deductible", Money, false),
            ("min_age", Age, true),
            ("max_age", Age, true),
        ],
        key_len: 1,
    },
    TableSpec {
        name: "plan_feature",
        columns: &[
            ("plan_id", Id, false),
            ("feature_key", Id, false),
            ("feature_value", Text, true),
        ],
        key_len: 2,
    },
    TableSpec {
        name: "plan_to_zip",
        columns: &[("plan_id", Id, false), ("zip_code", Zip, false)],
        key_len: 2,
    },
    TableSpec {
        name: "beneficiary",
        columns: &[
            ("beneficiary_id", BigInt, false),
            ("fname", Text, true),
            ("lname", Text, true),
            ("sex", Text, true),
            ("ssn", Text, true),
            ("birthdate", Date, true),
            ("address", Text, true),
            ("city", Text, true),
            ("state", State, true),
            ("zip_code", Zip, true),
        ],
        key_len: 1,
    },
    TableSpec {
        name: "beneficiary_to_plan",
        columns: &[
            ("beneficiary_id", BigInt, false),
            ("plan_id", Id, false),
            ("start_date", Date, false),
            ("end_date", Date, true),
        ],
        key_len: 3,
    },
];

fn spec(name: &str) -> Option<&'static TableSpec> {
    SPECS.iter().find(|s| s.name == name)
}

/// A row as canonical text per column (`None` = NULL).
type Row = Vec<Option<String>>;

/// Every table: key → row.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    tables: BTreeMap<&'static str, BTreeMap<Row, Row>>,
}

/// Canonical text of one value, or why the contract does not allow it.
fn canonical(kind: Kind, nullable: bool, v: &Value) -> Result<Option<String>, String> {
    if v.is_null() {
        return if nullable {
            Ok(None)
        } else {
            Err("null in a required column".into())
        };
    }
    let text = |ok: fn(&str) -> bool| match v.as_str() {
        Some(s) if !s.contains('\0') && ok(s) => Ok(Some(s.to_string())),
        _ => Err(format!("{v} is not a valid {kind:?}")),
    };
    match kind {
        Text => text(|_| true),
        Id => text(|s| !s.trim().is_empty()),
        Status => text(|s| s == "active" || s == "inactive"),
        Zip => text(|s| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())),
        State => text(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())),
        Date => text(|s| {
            s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
                && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }),
        Money => {
            let f = v
                .as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e8);
            let cents = f.map(|f| f * 100.0);
            match cents {
                Some(c) if (c - c.round()).abs() < 1e-6 => {
                    Ok(Some(format!("{:.2}", c.round() / 100.0)))
                }
                _ => Err(format!("{v} is not dollars and cents")),
            }
        }
        Age => match v.as_i64() {
            Some(n @ 0..=150) => Ok(Some(n.to_string())),
            _ => Err(format!("{v} is not an age")),
        },
        BigInt => v
            .as_i64()
            .map(|n| Some(n.to_string()))
            .ok_or_else(|| format!("{v} is not a bigint")),
    }
}

enum Change {
    Upsert(&'static TableSpec, Row),
    Delete(&'static TableSpec, Row),
}

/// Reads one line as the contract defines it; `None` for a blank line.
fn read_line(bytes: &[u8], first: bool) -> Result<Option<Change>, String> {
    let mut bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if first {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let o = v.as_object().ok_or("not an object")?;
    if o.keys()
        .any(|k| !["op", "table", "row", "key"].contains(&k.as_str()))
    {
        return Err("unknown envelope field".into());
    }
    let table = o.get("table").and_then(Value::as_str).ok_or("no table")?;
    let spec = spec(table).ok_or("unknown table")?;
    let (columns, object, upsert) = match (
        o.get("op").and_then(Value::as_str),
        o.get("row"),
        o.get("key"),
    ) {
        (Some("upsert"), Some(row), None) => (spec.columns, row, true),
        (Some("delete"), None, Some(key)) => (&spec.columns[..spec.key_len], key, false),
        _ => return Err("bad op, row or key".into()),
    };
    let object = object.as_object().ok_or("row/key is not an object")?;
    if object.len() != columns.len() || columns.iter().any(|(c, _, _)| !object.contains_key(*c)) {
        return Err("not exactly the table's columns".into());
    }
    let values = columns
        .iter()
        .map(|(c, kind, nullable)| canonical(*kind, *nullable, &object[*c]))
        .collect::<Result<Row, _>>()?;
    let pair = |a: &str, b: &str| {
        let i = columns.iter().position(|(c, _, _)| *c == a)?;
        let j = columns.iter().position(|(c, _, _)| *c == b)?;
        Some((values[i].clone()?, values[j].clone()?))
    };
    if let Some((min, max)) = pair("min_age", "max_age")
        && min.parse::<i64>().unwrap() > max.parse::<i64>().unwrap()
    {
        return Err("min_age above max_age".into());
    }
    if let Some((start, end)) = pair("start_date", "end_date")
        && end < start
    {
        return Err("end_date before start_date".into());
    }
    Ok(Some(if upsert {
        Change::Upsert(spec, values)
    } else {
        Change::Delete(spec, values)
    }))
}

impl Model {
    fn rows(&mut self, table: &'static str) -> &mut BTreeMap<Row, Row> {
        self.tables.entry(table).or_default()
    }

    /// Applies a whole delta in file order, all or nothing.
    fn apply(&self, delta: &[Vec<u8>]) -> Result<Model, String> {
        let mut m = self.clone();
        for (i, line) in delta.iter().enumerate() {
            let change = read_line(line, i == 0).map_err(|e| format!("line {}: {e}", i + 1))?;
            match change {
                None => {}
                Some(Change::Upsert(spec, row)) => {
                    m.rows(spec.name).insert(row[..spec.key_len].to_vec(), row);
                }
                Some(Change::Delete(spec, key)) => {
                    m.rows(spec.name).remove(&key);
                    // Children of a deleted parent go with it.
                    let children: &[(&'static str, usize)] = match spec.name {
                        "plan" => &[("plan_feature", 0), ("plan_to_zip", 0)],
                        "beneficiary" => &[("beneficiary_to_plan", 0)],
                        _ => &[],
                    };
                    for (child, column) in children {
                        m.rows(child).retain(|_, r| r[*column] != key[0]);
                    }
                }
            }
        }
        // Every reference holds at the end.
        let plans: Vec<Row> = m.rows("plan").keys().cloned().collect();
        let people: Vec<Row> = m.rows("beneficiary").keys().cloned().collect();
        let has = |keys: &[Row], v: &Option<String>| keys.iter().any(|k| &k[0] == v);
        for child in ["plan_feature", "plan_to_zip", "beneficiary_to_plan"] {
            let column = if child == "beneficiary_to_plan" { 1 } else { 0 };
            for row in m.tables.get(child).into_iter().flat_map(|t| t.values()) {
                if !has(&plans, &row[column]) {
                    return Err(format!("{child} row {row:?} points at a missing plan"));
                }
                if child == "beneficiary_to_plan" && !has(&people, &row[0]) {
                    return Err(format!(
                        "{child} row {row:?} points at a missing beneficiary"
                    ));
                }
            }
        }
        Ok(m)
    }
}

// ---- the baseline and the valid delta ----------------------------------------

fn baseline_rows() -> Vec<(&'static str, Value)> {
    vec![
        (
            "plan",
            json!({"plan_id":"S1","plan_name":"One","insurer_name":"Acme Health","status":"active","description":"A plan.","avg_monthly_cost":10,"avg_copay_amount":7.5,"annual_deductible":100,"min_age":65,"max_age":null}),
        ),
        (
            "plan",
            json!({"plan_id":"S2","plan_name":"Two","insurer_name":"Acme Health","status":"active","description":"A plan.","avg_monthly_cost":20,"avg_copay_amount":7.5,"annual_deductible":100,"min_age":65,"max_age":null}),
        ),
        (
            "plan_feature",
            json!({"plan_id":"S1","feature_key":"mail_order","feature_value":"yes"}),
        ),
        (
            "plan_feature",
            json!({"plan_id":"S2","feature_key":"mail_order","feature_value":"no"}),
        ),
        ("plan_to_zip", json!({"plan_id":"S1","zip_code":"02134"})),
        ("plan_to_zip", json!({"plan_id":"S1","zip_code":"02135"})),
        ("plan_to_zip", json!({"plan_id":"S2","zip_code":"02134"})),
        (
            "beneficiary",
            json!({"beneficiary_id":1,"fname":"Ann","lname":"Doe","sex":"F","ssn":"123-45-6789","birthdate":"1950-03-04","address":"1 Main St","city":"Boston","state":"MA","zip_code":"02134"}),
        ),
        (
            "beneficiary_to_plan",
            json!({"beneficiary_id":1,"plan_id":"S1","start_date":"2025-01-01","end_date":null}),
        ),
    ]
}

/// Every line is valid, and no line depends on another: each refers only
/// to rows of the baseline that the delta keeps, so a mutation of one line
/// can only make that line wrong.
fn valid_delta() -> Vec<Value> {
    use sync_support::{delete, upsert};
    vec![
        upsert(
            "plan",
            json!({"plan_id":"P9","plan_name":"Nine","insurer_name":"Acme Health","status":"active","description":"New.","avg_monthly_cost":12.5,"avg_copay_amount":0,"annual_deductible":250,"min_age":65,"max_age":90}),
        ),
        upsert(
            "plan",
            json!({"plan_id":"S2","plan_name":"Two <renamed> & \"quoted\"","insurer_name":"Acme Health","status":"inactive","description":null,"avg_monthly_cost":21.25,"avg_copay_amount":7.5,"annual_deductible":99999999.99,"min_age":null,"max_age":null}),
        ),
        upsert(
            "plan_feature",
            json!({"plan_id":"S1","feature_key":"network","feature_value":"CVS, Walgreens"}),
        ),
        upsert("plan_to_zip", json!({"plan_id":"S2","zip_code":"00501"})),
        delete("plan_to_zip", json!({"plan_id":"S1","zip_code":"02135"})),
        upsert(
            "beneficiary",
            json!({"beneficiary_id":2,"fname":"Zoë","lname":"O'Brien","sex":"F","ssn":"078-05-1120","birthdate":"1948-02-29","address":"2 Elm St","city":"New York","state":"NY","zip_code":"10001"}),
        ),
        upsert(
            "beneficiary_to_plan",
            json!({"beneficiary_id":1,"plan_id":"S2","start_date":"2026-01-01","end_date":"2026-12-31"}),
        ),
        delete(
            "plan_feature",
            json!({"plan_id":"S2","feature_key":"mail_order"}),
        ),
        upsert(
            "beneficiary",
            json!({"beneficiary_id":1,"fname":"Anne","lname":"Doe","sex":"F","ssn":"123-45-6789","birthdate":"1950-03-04","address":"1 Main St","city":"Boston","state":"MA","zip_code":"02134"}),
        ),
        delete(
            "beneficiary_to_plan",
            json!({"beneficiary_id":1,"plan_id":"S1","start_date":"2025-01-01"}),
        ),
    ]
}

// ---- mutations ---------------------------------------------------------------

/// Stands for a raw JSON number no `Value` can hold, until the line is text.
const RAW: &str = "\u{1}raw\u{1}";

#[derive(Debug, Clone)]
enum Mutation {
    /// The line cut short at some byte.
    Truncate(Index),
    /// One column (of the row or key) given another value.
    Set(Index, Value),
    /// One column given a number spelled as written.
    SetRaw(Index, &'static str),
    /// One column removed.
    Drop(Index),
    /// A column the table does not have.
    Extra(String),
    /// Another table name.
    Table(&'static str),
    /// Another op.
    Op(&'static str),
    /// A byte-order mark in front.
    Bom,
    /// A raw NUL byte somewhere.
    Nul(Index),
    /// A byte that is not UTF-8 somewhere.
    NotUtf8(Index),
    /// Text after the JSON.
    Trailing(&'static str),
    /// Text before the JSON.
    Leading(&'static str),
    /// The line replaced by blanks.
    Blank(&'static str),
}

fn values() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            Value::Null, json!(true), json!(0), json!(-1), json!(1.5), json!(0.29), json!(65),
            json!(150), json!(151), json!(12.345), json!(99999999.99), json!(100000000),
            json!(""), json!(" "), json!("S1"), json!("S2"), json!("P9"), json!("NOPE"),
            json!("02134"), json!("00501"), json!("2134"), json!("ABCDE"), json!("MA"),
            json!("ma"), json!("M"), json!("active"), json!("inactive"), json!("Active"),
            json!("2024-02-29"), json!("2023-02-29"), json!("2025-13-01"), json!("2025-1-1"),
            json!("0001-01-01"), json!("9999-12-31"), json!("2025-01-01T00:00:00Z"),
            json!(" 2025-01-01"), json!("+2025-01-01"), json!("\u{feff}x"), json!("a\u{0}b"),
            json!("<script>alert(1)</script>"), json!([]), json!({}), json!(["S1"]),
            json!({"plan_id": "S1"}), json!("x".repeat(5000)), json!("10.00"), json!(7),
        ]),
        1 => any::<String>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Truncate),
        6 => (any::<Index>(), values()).prop_map(|(i, v)| Mutation::Set(i, v)),
        2 => (any::<Index>(), prop::sample::select(vec![
            "1e400", "-1e400", "99999999999999999999", "9223372036854775807",
            "9223372036854775808", "-9223372036854775809", "-0", "1e2", "1E-2", "0.1",
            "12.30", "1.000", "1e-300", "0.0000001", "100000000.00",
        ])).prop_map(|(i, raw)| Mutation::SetRaw(i, raw)),
        1 => any::<Index>().prop_map(Mutation::Drop),
        1 => "[a-z_]{1,12}".prop_map(Mutation::Extra),
        1 => prop::sample::select(vec!["plans", "user", "", "PLAN", "plan ", "applied_delta", "drug"])
            .prop_map(Mutation::Table),
        1 => prop::sample::select(vec!["insert", "UPSERT", "", "merge", "delete", "upsert "])
            .prop_map(Mutation::Op),
        1 => Just(Mutation::Bom),
        1 => any::<Index>().prop_map(Mutation::Nul),
        1 => any::<Index>().prop_map(Mutation::NotUtf8),
        1 => prop::sample::select(vec![" x", "}", ",", "   ", "\r", "{}", "// note", "\t", "\u{a0}"])
            .prop_map(Mutation::Trailing),
        1 => prop::sample::select(vec![" ", "\t", "[", "\u{feff}", "x"]).prop_map(Mutation::Leading),
        1 => prop::sample::select(vec!["", "   ", "\t", "\r"]).prop_map(Mutation::Blank),
    ]
}

fn insert_at(mut bytes: Vec<u8>, at: &Index, what: &[u8]) -> Vec<u8> {
    let i = at.index(bytes.len() + 1);
    bytes.splice(i..i, what.iter().copied());
    bytes
}

/// The line `line` with `mutation` applied.
fn mutate(line: &Value, mutation: &Mutation) -> Vec<u8> {
    let mut v = line.clone();
    let part = if v.get("row").is_some() { "row" } else { "key" };
    let columns: Vec<String> = v[part].as_object().unwrap().keys().cloned().collect();
    let text = |v: &Value| serde_json::to_string(v).unwrap().into_bytes();
    match mutation {
        Mutation::Truncate(at) => {
            let mut bytes = text(&v);
            bytes.truncate(at.index(bytes.len()));
            bytes
        }
        Mutation::Set(at, value) => {
            v[part][&columns[at.index(columns.len())]] = value.clone();
            text(&v)
        }
        Mutation::SetRaw(at, raw) => {
            v[part][&columns[at.index(columns.len())]] = Value::from(RAW);
            let placeholder = serde_json::to_string(RAW).unwrap();
            serde_json::to_string(&v)
                .unwrap()
                .replace(&placeholder, raw)
                .into_bytes()
        }
        Mutation::Drop(at) => {
            v[part]
                .as_object_mut()
                .unwrap()
                .remove(&columns[at.index(columns.len())]);
            text(&v)
        }
        Mutation::Extra(name) => {
            v[part][name] = json!("extra");
            text(&v)
        }
        Mutation::Table(name) => {
            v["table"] = json!(name);
            text(&v)
        }
        Mutation::Op(op) => {
            v["op"] = json!(op);
            text(&v)
        }
        Mutation::Bom => [b"\xEF\xBB\xBF".to_vec(), text(&v)].concat(),
        Mutation::Nul(at) => insert_at(text(&v), at, b"\0"),
        Mutation::NotUtf8(at) => insert_at(text(&v), at, b"\xFF"),
        Mutation::Trailing(t) => [text(&v), t.as_bytes().to_vec()].concat(),
        Mutation::Leading(t) => [t.as_bytes().to_vec(), text(&v)].concat(),
        Mutation::Blank(t) => t.as_bytes().to_vec(),
    }
}

// ---- the database side -------------------------------------------------------

/// Empties the synced tables and the applied-delta record, then loads the
/// baseline, so every case starts from the same state.
async fn reset(client: &tokio_postgres::Client) {
    client
        .batch_execute(
            "TRUNCATE plan, plan_feature, plan_to_zip, beneficiary, beneficiary_to_plan,
                      applied_delta CASCADE",
        )
        .await
        .unwrap();
    for (table, row) in baseline_rows() {
        client
            .execute(
                &format!("INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, $1::text::json)"),
                &[&row.to_string()],
            )
            .await
            .unwrap();
    }
}

/// What the database holds, read into the model's shape (money with two
/// decimals, everything else as Postgres prints it).
async fn read_back(client: &tokio_postgres::Client) -> Model {
    let mut m = Model::default();
    for spec in SPECS {
        let rows = client
            .query(
                &format!("SELECT row_to_json(t)::text FROM {} t", spec.name),
                &[],
            )
            .await
            .unwrap();
        for r in rows {
            let v: Value = serde_json::from_str(r.get::<_, &str>(0)).unwrap();
            let row: Row = spec
                .columns
                .iter()
                .map(|(c, kind, _)| match &v[*c] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) if *kind == Money => {
                        Some(format!("{:.2}", n.as_f64().unwrap()))
                    }
                    other => Some(other.to_string()),
                })
                .collect();
            m.rows(spec.name).insert(row[..spec.key_len].to_vec(), row);
        }
    }
    m
}

fn baseline_model() -> Model {
    let lines: Vec<Vec<u8>> = baseline_rows()
        .into_iter()
        .map(|(table, row)| sync_support::upsert(table, row).to_string().into_bytes())
        .collect();
    Model::default()
        .apply(&lines)
        .expect("the baseline is valid")
}

#[test]
fn a_mutated_line_is_refused_by_its_number_or_applied_exactly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(TestDatabase::new()).unwrap();
    let client = runtime.block_on(db.connect()).unwrap();
    let base = valid_delta();
    let baseline = baseline_model();

    // The unmutated delta is valid and applies what the model says.
    runtime.block_on(reset(&client));
    let lines: Vec<Vec<u8>> = base.iter().map(|l| l.to_string().into_bytes()).collect();
    let file = delta_file(&lines);
    runtime
        .block_on(sync(file.path(), db.config(), &SyncOptions::default()))
        .expect("the valid delta applies");
    assert_eq!(
        runtime.block_on(read_back(&client)),
        baseline.apply(&lines).unwrap()
    );

    let (refused, applied) = (AtomicU32::new(0), AtomicU32::new(0));
    let strategy = (0..base.len(), mutation());
    let result = load_harness::properties::runner().run(&strategy, |(k, mutation)| {
        let mut lines: Vec<Vec<u8>> = base.iter().map(|l| l.to_string().into_bytes()).collect();
        lines[k] = mutate(&base[k], &mutation);
        let line_number = k as u64 + 1;
        runtime.block_on(async {
            reset(&client).await;
            let before = sync_support::snapshot(&client).await;
            let file = delta_file(&lines);
            let outcome = sync(file.path(), db.config(), &SyncOptions::default()).await;
            match outcome {
                Err(Error::Delta { problems, .. }) => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    let named: Vec<u64> = problems.iter().map(|p| p.line).collect();
                    prop_assert_eq!(
                        &named,
                        &vec![line_number],
                        "refused, but not naming exactly line {}: {:?}",
                        line_number,
                        problems
                    );
                    prop_assert_eq!(
                        sync_support::snapshot(&client).await,
                        before,
                        "a refused delta changed the database"
                    );
                }
                Ok(_) => {
                    applied.fetch_add(1, Ordering::Relaxed);
                    let expected = baseline.apply(&lines).map_err(|e| {
                        TestCaseError::fail(format!(
                            "sync accepted line {line_number} {:?}, which the delta format does not allow: {e}",
                            String::from_utf8_lossy(&lines[k])
                        ))
                    })?;
                    prop_assert_eq!(read_back(&client).await, expected, "the database after the delta");
                }
                Err(other) => {
                    return Err(TestCaseError::fail(format!("sync failed otherwise: {other}")));
                }
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (refused, applied) = (refused.into_inner(), applied.into_inner());
    eprintln!("{refused} mutated deltas refused, {applied} applied");
    assert!(refused > 0 && applied > 0, "both outcomes were exercised");
}

/// The lines as a delta file, byte for byte (a mutated line need not be
/// UTF-8).
fn delta_file(lines: &[Vec<u8>]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    for l in lines {
        file.write_all(l).unwrap();
        file.write_all(b"\n").unwrap();
    }
    file.flush().unwrap();
    file
}
