//! One line of a delta: parsed, checked, and turned into canonical text.
//!
//! Values are canonicalised here (integers without sign or leading zeros,
//! money with at most two decimals, dates as `YYYY-MM-DD`) so that two
//! spellings of the same key compare equal as text in the staging table.

use serde::Deserialize;
use serde_json::{Map, Value};
use whatever_database::rules::pharmacy::{DaysSupply, Pharmacy};
use whatever_database::rules::{plan_id, rxcui, states, zip};

use super::tables::{Column, Kind, TABLES, Table, table};
use crate::drugs::money::hundredths;

/// Upsert (the row as a whole) or delete (by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Insert the row, or replace every column of the row with that key.
    Upsert,
    /// Delete the row with that key, if there is one.
    Delete,
}

impl Op {
    /// How the staging table spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
}

/// A valid line, ready to stage.
#[derive(Debug, Clone)]
pub struct Change {
    /// The table it changes.
    pub table: &'static Table,
    /// What it does.
    pub op: Op,
    /// Canonical text of each column in table order (`None` = SQL NULL); a
    /// delete carries only the key columns.
    pub values: Vec<Option<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    op: String,
    table: String,
    #[serde(default)]
    row: Option<Map<String, Value>>,
    #[serde(default)]
    key: Option<Map<String, Value>>,
}

/// Parses and checks one line (without its line break). The error says what
/// is wrong, for a message prefixed with the line number.
pub fn parse(bytes: &[u8]) -> Result<Change, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (at byte {})", e.valid_up_to()))?;
    let envelope: Envelope = serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof => format!("not valid JSON: {e}"),
            _ => format!("expected {{\"op\":..,\"table\":..,\"row\" or \"key\":{{..}}}}: {e}"),
        }
    })?;
    let table = table(&envelope.table).ok_or_else(|| unknown_table(&envelope.table))?;
    match (envelope.op.as_str(), envelope.row, envelope.key) {
        ("upsert", Some(row), None) => {
            let values = columns(table, table.columns, &row, "row")?;
            publishable_plan_ids(table, &values)?;
            Ok(Change {
                table,
                op: Op::Upsert,
                values,
            })
        }
        ("delete", None, Some(key)) => Ok(Change {
            table,
            op: Op::Delete,
            values: columns(table, table.key(), &key, "key")?,
        }),
        ("upsert", _, _) => Err("an upsert needs a \"row\" object and no \"key\"".into()),
        ("delete", _, _) => Err("a delete needs a \"key\" object and no \"row\"".into()),
        (other, _, _) => Err(format!(
            "unknown op {} (expected \"upsert\" or \"delete\")",
            shown(other)
        )),
    }
}

fn unknown_table(name: &str) -> String {
    let known: Vec<_> = TABLES.iter().map(|t| t.name).collect();
    if name == "user" {
        return "the \"user\" table is not synced (accounts belong to the auth-api)".into();
    }
    format!(
        "unknown table {} (expected one of {})",
        shown(name),
        known.join(", ")
    )
}

/// Checks that `object` has exactly `expected` and canonicalises each value.
fn columns(
    table: &Table,
    expected: &[Column],
    object: &Map<String, Value>,
    what: &str,
) -> Result<Vec<Option<String>>, String> {
    if let Some(extra) = object
        .keys()
        .find(|k| !expected.iter().any(|c| c.name == k.as_str()))
    {
        return Err(format!(
            "{what} of {} has an unknown column {}",
            table.name,
            shown(extra)
        ));
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|c| !c.optional && !object.contains_key(c.name))
        .map(|c| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{what} of {} is missing column(s) {} (every column must be present; use null for none)",
            table.name,
            missing.join(", ")
        ));
    }
    let values = expected
        .iter()
        .map(|c| {
            value(c, object.get(c.name).unwrap_or(&Value::Null))
                .map_err(|e| format!("{}.{}: {e}", table.name, c.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    cross_checks(table, &values)?;
    Ok(values)
}

/// An upserted row may only name plans the site can publish: a plan it
/// could not give a page would otherwise stop the next build.
fn publishable_plan_ids(table: &Table, values: &[Option<String>]) -> Result<(), String> {
    for (column, value) in table.columns.iter().zip(values) {
        if let (Kind::PlanId, Some(id)) = (column.kind, value)
            && !plan_id::is_publishable(id)
        {
            return Err(format!(
                "{}.{}: expected a plan id the site can publish ({}), got {} ({} characters)",
                table.name,
                column.name,
                plan_id::DESCRIPTION,
                shown(id),
                id.chars().count()
            ));
        }
    }
    Ok(())
}

/// Rules that span two columns of an upserted row.
fn cross_checks(table: &Table, values: &[Option<String>]) -> Result<(), String> {
    let pair = |a: &str, b: &str| {
        let i = table.column(a)?.0;
        let j = table.column(b)?.0;
        Some((values.get(i)?.as_deref()?, values.get(j)?.as_deref()?))
    };
    if let Some((min, max)) = pair("min_age", "max_age") {
        let (min, max): (i64, i64) = (min.parse().unwrap_or(0), max.parse().unwrap_or(0));
        if min > max {
            return Err(format!(
                "{}: min_age {min} is above max_age {max}",
                table.name
            ));
        }
    }
    if let Some(("coinsurance", amount)) = pair("cost_type", "amount")
        && hundredths(amount).is_none_or(|h| h > 10_000)
    // 100.00 %, in hundredths
    {
        return Err(format!(
            "{}: a coinsurance amount is a percent, at most 100, got {amount}",
            table.name
        ));
    }
    if let (Some((amount, _)), Some((days, _))) = (
        table.column("quantity_limit_amount"),
        table.column("quantity_limit_days"),
    ) && values.len() == table.columns.len()
        && values[amount].is_some() != values[days].is_some()
    {
        return Err(format!(
            "{}: quantity_limit_amount and quantity_limit_days go together (both or neither)",
            table.name
        ));
    }
    if let Some((i, _)) = table.column("quantity_limit_amount")
        && let Some(Some(amount)) = values.get(i)
        && hundredths(amount) == Some(0)
    {
        return Err(format!(
            "{}: quantity_limit_amount must be above 0 (use null for no limit)",
            table.name
        ));
    }
    // ISO dates order as text.
    if let Some((start, end)) = pair("start_date", "end_date")
        && end < start
    {
        return Err(format!(
            "{}: end_date {end} is before start_date {start}",
            table.name
        ));
    }
    Ok(())
}

/// Checks one value and returns its canonical text.
fn value(column: &Column, v: &Value) -> Result<Option<String>, String> {
    if v.is_null() {
        return if column.nullable {
            Ok(None)
        } else {
            Err("must not be null".into())
        };
    }
    let got = || describe(v, column.sensitive);
    let text = match column.kind {
        Kind::Text
        | Kind::Id
        | Kind::PlanId
        | Kind::Status
        | Kind::Date
        | Kind::Zip
        | Kind::State
        | Kind::Rxcui
        | Kind::Pharmacy
        | Kind::CostType => v
            .as_str()
            .ok_or_else(|| format!("expected a string, got {}", got()))?,
        Kind::Money => {
            return money(v)
                .map(Some)
                .map_err(|e| format!("{e}, got {}", got()));
        }
        Kind::Age => {
            return match v.as_i64() {
                Some(n @ 0..=150) => Ok(Some(n.to_string())),
                _ => Err(format!(
                    "expected a whole number of years (0 to 150), got {}",
                    got()
                )),
            };
        }
        Kind::BigInt => {
            return v
                .as_i64()
                .map(|n| Some(n.to_string()))
                .ok_or_else(|| format!("expected a whole number, got {}", got()));
        }
        Kind::Bool => {
            return v
                .as_bool()
                .map(|b| Some(b.to_string()))
                .ok_or_else(|| format!("expected true or false, got {}", got()));
        }
        Kind::Tier | Kind::DaysSupply | Kind::Days | Kind::Year => {
            let (ok, expected): (fn(i64) -> bool, _) = match column.kind {
                Kind::Tier => (|n| (1..=6).contains(&n), "a tier from 1 to 6"),
                Kind::DaysSupply => (
                    |n| DaysSupply::from_days(n).is_some(),
                    DaysSupply::DESCRIPTION,
                ),
                Kind::Days => (
                    |n| (1..=3660).contains(&n),
                    "a number of days from 1 to 3660",
                ),
                _ => (|n| (2006..=2100).contains(&n), "a year from 2006 to 2100"),
            };
            return match v.as_i64() {
                Some(n) if ok(n) => Ok(Some(n.to_string())),
                _ => Err(format!("expected {expected}, got {}", got())),
            };
        }
    };
    if text.contains('\0') {
        return Err("contains a NUL character (\\u0000), which Postgres text cannot hold".into());
    }
    let ok = match column.kind {
        Kind::Id | Kind::PlanId => !text.trim().is_empty(),
        Kind::Status => text == "active" || text == "inactive",
        Kind::Zip => zip::is_zip(text),
        Kind::State => states::is_state_code(text),
        Kind::Date => is_date(text),
        Kind::Rxcui => rxcui::is_rxcui(text),
        Kind::Pharmacy => Pharmacy::parse(text).is_some(),
        Kind::CostType => text == "copay" || text == "coinsurance",
        _ => true,
    };
    if !ok {
        let expected = match column.kind {
            Kind::Id | Kind::PlanId => "a non-blank string",
            Kind::Status => "\"active\" or \"inactive\"",
            Kind::Zip => "5 digits as a string, e.g. \"02134\"",
            Kind::State => "a USPS state code, e.g. \"MA\"",
            Kind::Rxcui => "an RxNorm id of 1 to 10 digits as a string, e.g. \"197361\"",
            Kind::Pharmacy => Pharmacy::DESCRIPTION,
            Kind::CostType => "\"copay\" or \"coinsurance\"",
            _ => "a date as \"YYYY-MM-DD\"",
        };
        return Err(format!("expected {expected}, got {}", got()));
    }
    Ok(Some(text.to_owned()))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// A JSON number of dollars with at most two decimals, as canonical text.
/// serde_json reads it as an f64, whose shortest round-trip spelling (what
/// `Display` prints) has exactly the decimals the file had.
fn money(v: &Value) -> Result<String, &'static str> {
    const EXPECTED: &str =
        "expected a number of dollars with at most 2 decimals, from 0 to 99999999.99";
    let Value::Number(n) = v else {
        return Err(EXPECTED);
    };
    let text = match (n.as_u64(), n.as_f64()) {
        (Some(whole), _) => whole.to_string(),
        (None, Some(f)) if f.is_finite() => f.to_string(),
        _ => return Err(EXPECTED),
    };
    if text.starts_with('-') || text.contains(['e', 'E']) {
        return Err(EXPECTED);
    }
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
    if decimals.len() > 2 || whole.len() > 8 {
        return Err(EXPECTED);
    }
    Ok(text)
}

/// A value for an error message: shown if harmless, described if personal.
fn describe(v: &Value, sensitive: bool) -> String {
    match v {
        Value::String(s) if sensitive => format!("a string of {} characters", s.chars().count()),
        Value::String(s) => shown(s),
        Value::Number(_) if sensitive => "a number".into(),
        Value::Bool(_) if sensitive => "a boolean".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// A string quoted for a message, cut short if long.
fn shown(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{"op":"upsert","table":"plan","row":{"plan_id":"S1","plan_name":"n","insurer_name":"i","status":"active","description":null,"avg_monthly_cost":12.5,"avg_copay_amount":7,"annual_deductible":0.05,"min_age":65,"max_age":null}}"#;

    fn err(line: &str) -> String {
        parse(line.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_full_plan_row_is_canonicalised() {
        let c = parse(PLAN.as_bytes()).unwrap();
        assert_eq!(c.table.name, "plan");
        assert_eq!(c.op, Op::Upsert);
        assert_eq!(c.values[4], None);
        assert_eq!(c.values[5].as_deref(), Some("12.5"));
        assert_eq!(c.values[6].as_deref(), Some("7"));
        assert_eq!(c.values[7].as_deref(), Some("0.05"));
        assert_eq!(c.values[8].as_deref(), Some("65"));
    }

    #[test]
    fn a_delete_carries_only_the_key() {
        let c = parse(
            br#"{"op":"delete","table":"beneficiary_to_plan","key":{"beneficiary_id":7,"plan_id":"S1","start_date":"2025-01-01"}}"#,
        )
        .unwrap();
        assert_eq!(c.op, Op::Delete);
        assert_eq!(c.values.len(), 3);
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        assert!(err("{\"op\":").starts_with("not valid JSON"));
        assert!(err(r#"{"op":"merge","table":"plan","row":{}}"#).contains("unknown op \"merge\""));
        assert!(
            err(r#"{"op":"upsert","table":"plans","row":{}}"#).contains("unknown table \"plans\"")
        );
        assert!(err(r#"{"op":"upsert","table":"user","row":{}}"#).contains("not synced"));
        assert!(err(r#"{"op":"upsert","table":"plan","key":{}}"#).contains("needs a \"row\""));
        assert!(
            err(r#"{"op":"upsert","table":"plan","row":{},"x":1}"#).contains("unknown field `x`")
        );
        let missing = err(&PLAN.replace(r#""min_age":65,"#, ""));
        assert!(missing.contains("missing column(s) min_age"), "{missing}");
        let extra = err(&PLAN.replace(r#""min_age":65,"#, r#""min_age":65,"colour":"red","#));
        assert!(extra.contains("unknown column \"colour\""), "{extra}");
        let money = err(&PLAN.replace("12.5", "12.345"));
        assert!(
            money.contains("plan.avg_monthly_cost") && money.contains("12.345"),
            "{money}"
        );
        assert!(err(&PLAN.replace("12.5", "\"12.50\"")).contains("at most 2 decimals"));
        assert!(err(&PLAN.replace("12.5", "-1")).contains("at most 2 decimals"));
        assert!(err(&PLAN.replace("12.5", "123456789")).contains("at most 2 decimals"));
        assert!(
            err(&PLAN.replace("\"active\"", "\"retired\"")).contains("\"active\" or \"inactive\"")
        );
        assert!(err(&PLAN.replace("\"S1\"", "\"  \"")).contains("non-blank"));
        assert!(err(&PLAN.replace("\"n\"", "null")).contains("plan.plan_name: must not be null"));
        assert!(err(&PLAN.replace(":65", ":\"65\"")).contains("whole number of years"));
        assert!(err(&PLAN.replace("\"max_age\":null", "\"max_age\":60")).contains("above max_age"));
        assert!(err(&PLAN.replace("\"n\"", "\"a\\u0000b\"")).contains("NUL"));
        assert!(parse(b"\xff\xfe").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn zips_dates_and_states_are_strict() {
        let zip = |z: &str| {
            parse(
                format!(r#"{{"op":"delete","table":"plan_to_zip","key":{{"plan_id":"S1","zip_code":{z}}}}}"#)
                    .as_bytes(),
            )
        };
        assert!(zip("\"02134\"").is_ok());
        assert!(zip("\"2134\"").unwrap_err().contains("5 digits"));
        assert!(zip("2134").unwrap_err().contains("expected a string"));
        let enrol = |d: &str| {
            parse(
                format!(r#"{{"op":"upsert","table":"beneficiary_to_plan","row":{{"beneficiary_id":1,"plan_id":"S1","start_date":{d},"end_date":null}}}}"#)
                    .as_bytes(),
            )
        };
        assert!(enrol("\"2024-02-29\"").is_ok());
        assert!(enrol("\"2023-02-29\"").unwrap_err().contains("YYYY-MM-DD"));
        assert!(enrol("\"2023-2-1\"").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn personal_values_are_described_not_shown() {
        let line = r#"{"op":"upsert","table":"beneficiary","row":{"beneficiary_id":1,"fname":null,"lname":null,"sex":null,"ssn":123456789,"birthdate":null,"address":null,"city":null,"state":"ma","zip_code":null}}"#;
        let e = err(line);
        assert!(
            e.contains("beneficiary.ssn") && !e.contains("123456789"),
            "{e}"
        );
        let e = err(&line.replace("123456789", "null"));
        assert!(
            e.contains("beneficiary.state") && !e.contains("\"ma\""),
            "{e}"
        );
    }
}
