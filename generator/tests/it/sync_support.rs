//! Builders for delta lines and a few queries, shared by the sync tests.

use std::io::Write;

use generator::Error;
use generator::sync::{SyncReport, TableCounts};
use serde_json::{Value, json};
use tokio_postgres::Client;

/// What a sync reports for one table.
pub fn counts(inserted: u64, updated: u64, deleted: u64, unchanged: u64) -> TableCounts {
    TableCounts {
        inserted,
        updated,
        deleted,
        unchanged,
    }
}

/// The line numbers and the message of a rejected delta.
pub fn rejected(result: generator::Result<SyncReport>) -> (Vec<u64>, String) {
    match result {
        Err(error @ Error::Delta { .. }) => {
            let text = error.to_string();
            let Error::Delta { problems, .. } = error else {
                unreachable!()
            };
            (problems.iter().map(|p| p.line).collect(), text)
        }
        other => panic!("expected a rejected delta, got {other:?}"),
    }
}

/// A delta file on disk, removed when dropped.
pub fn delta_file(lines: &[Value]) -> tempfile::NamedTempFile {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    delta_text(&text)
}

/// A delta file with exactly this text.
pub fn delta_text(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file.flush().unwrap();
    file
}

/// A complete plan row with these values; other columns get defaults.
pub fn plan_row(plan_id: &str, name: &str, monthly: f64) -> Value {
    json!({
        "plan_id": plan_id, "plan_name": name, "insurer_name": "Acme Health",
        "status": "active", "description": "A plan.", "avg_monthly_cost": monthly,
        "avg_copay_amount": 7.5, "annual_deductible": 100, "min_age": 65, "max_age": null
    })
}

/// A complete beneficiary row.
pub fn beneficiary_row(id: i64, fname: &str) -> Value {
    json!({
        "beneficiary_id": id, "fname": fname, "lname": "Doe", "sex": "F",
        "ssn": "123-45-6789", "birthdate": "1950-03-04", "address": "1 Main St",
        "city": "Boston", "state": "MA", "zip_code": "02134"
    })
}

/// `{"op":"upsert","table":..,"row":..}`
pub fn upsert(table: &str, row: Value) -> Value {
    json!({"op": "upsert", "table": table, "row": row})
}

/// `{"op":"delete","table":..,"key":..}`
pub fn delete(table: &str, key: Value) -> Value {
    json!({"op": "delete", "table": table, "key": key})
}

/// Every row of a table as sorted strings, for whole-table assertions.
pub async fn rows(client: &Client, sql: &str) -> Vec<String> {
    let mut out: Vec<String> = client
        .query(&format!("SELECT row_to_json(t)::text FROM ({sql}) t"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.sort();
    out
}

/// A fingerprint of every synced table: equal before and after means
/// nothing changed.
pub async fn snapshot(client: &Client) -> Vec<String> {
    let mut all = Vec::new();
    for t in [
        "plan",
        "plan_feature",
        "plan_to_zip",
        "beneficiary",
        "beneficiary_to_plan",
    ] {
        for r in rows(client, &format!("SELECT * FROM {t}")).await {
            all.push(format!("{t}: {r}"));
        }
    }
    all
}

/// Inserts a baseline: plans S1 and S2 with a feature and zips each,
/// beneficiary 1 enrolled in S1.
pub async fn baseline(client: &Client) {
    client
        .batch_execute(
            "INSERT INTO plan VALUES
               ('S1', 'One', 'Acme Health', 'active', 'A plan.', 10, 7.5, 100, 65, NULL),
               ('S2', 'Two', 'Acme Health', 'active', 'A plan.', 20, 7.5, 100, 65, NULL);
             INSERT INTO plan_feature VALUES ('S1', 'mail_order', 'yes'), ('S2', 'mail_order', 'no');
             INSERT INTO plan_to_zip VALUES ('S1', '02134'), ('S1', '02135'), ('S2', '02134');
             INSERT INTO beneficiary VALUES
               (1, 'Ann', 'Doe', 'F', '123-45-6789', '1950-03-04', '1 Main St', 'Boston', 'MA', '02134');
             INSERT INTO beneficiary_to_plan VALUES (1, 'S1', '2025-01-01', NULL);",
        )
        .await
        .unwrap();
}
