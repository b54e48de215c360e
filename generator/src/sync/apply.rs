//! The one transaction that changes the live tables, set-based.
//!
//! Collapsing to the last operation per key (stage.rs) is exact for each
//! table on its own: an upsert replaces the whole row, so only the last
//! operation on a key decides what is left. Tables interact only through
//! their foreign keys, and the statements run in the order that keeps those
//! satisfied and reproduces file order:
//!
//! 1. deletes of child rows (features, zips, enrollments);
//! 2. what the cascades did: every child of a plan or beneficiary the file
//!    deletes *anywhere* was removed at that line in file order;
//! 3. upserts of plans and beneficiaries;
//! 4. upserts of child rows, except those a later delete of their parent
//!    undid (see [`super::references::survives`]); they now find their
//!    parents, whatever line created them;
//! 5. deletes of plans and beneficiaries (their children are gone already).
//!
//! Only row locks are taken (INSERT/UPDATE/DELETE): API reads never wait on
//! them. `lock_timeout` makes the sync fail rather than queue behind (and so
//! in front of) anyone holding a table lock.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use tokio_postgres::Transaction;

use super::references::survives;
use super::report::TableCounts;
use super::tables::{TABLES, Table};
use crate::{Error, Result};

/// Runs steps 1-5 and returns the counts per table.
pub async fn apply(
    tx: &Transaction<'_>,
    progress: &ProgressBar,
) -> Result<BTreeMap<String, TableCounts>> {
    let mut counts: BTreeMap<String, TableCounts> = TABLES
        .iter()
        .map(|t| (t.name.to_string(), TableCounts::default()))
        .collect();
    let (roots, children): (Vec<&Table>, Vec<&Table>) =
        TABLES.iter().partition(|t| t.parents.is_empty());

    for child in &children {
        progress.set_message(format!("deleting {} rows", child.name));
        let n = count(tx, &delete_sql(child), child).await?;
        counts.get_mut(child.name).expect("every table").deleted += n;
        for parent in child.parents.iter().filter(|p| p.cascade) {
            let sql = format!(
                "WITH gone AS (DELETE FROM {c} t USING sync_deleted_{p} d
                               WHERE t.{col} = d.key RETURNING 1)
                 SELECT count(*) FROM gone",
                c = child.name,
                p = parent.table,
                col = parent.column
            );
            let n = count(tx, &sql, child).await?;
            counts.get_mut(child.name).expect("every table").deleted += n;
        }
    }
    for table in roots.iter().chain(&children) {
        progress.set_message(format!("upserting {} rows", table.name));
        let row = tx
            .query_one(&upsert_sql(table), &[])
            .await
            .map_err(Error::query(format!("upserting {} rows", table.name)))?;
        let (inserted, updated, upserts): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let c = counts.get_mut(table.name).expect("every table");
        c.inserted += inserted as u64;
        c.updated += updated as u64;
        c.unchanged += (upserts - inserted - updated) as u64;
    }
    for root in &roots {
        progress.set_message(format!("deleting {} rows", root.name));
        let n = count(tx, &delete_sql(root), root).await?;
        counts.get_mut(root.name).expect("every table").deleted += n;
    }
    Ok(counts)
}

async fn count(tx: &Transaction<'_>, sql: &str, table: &Table) -> Result<u64> {
    let row = tx
        .query_one(sql, &[])
        .await
        .map_err(Error::query(format!("deleting {} rows", table.name)))?;
    Ok(row.get::<_, i64>(0) as u64)
}

fn delete_sql(t: &Table) -> String {
    let same_key: Vec<_> = t
        .key()
        .iter()
        .map(|k| format!("t.{0} = s.{0}", k.name))
        .collect();
    format!(
        "WITH gone AS (DELETE FROM {name} t USING sync_last_{name} s
                       WHERE s.op = 'delete' AND {same_key} RETURNING 1)
         SELECT count(*) FROM gone",
        name = t.name,
        same_key = same_key.join(" AND ")
    )
}

/// INSERT .. ON CONFLICT DO UPDATE, skipping rows that would not change
/// (no dead tuple, no WAL, and they count as unchanged). `xmax = 0` on a
/// returned row means it was inserted, not updated.
fn upsert_sql(t: &Table) -> String {
    let names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
    let key: Vec<_> = t.key().iter().map(|c| c.name).collect();
    let rest = &names[t.key_len..];
    let same_key: Vec<_> = key.iter().map(|k| format!("x.{k} = s.{k}")).collect();
    // A key-only row that is already there can only be left alone. Finding
    // those with a join (an index-only scan on a vacuumed table) costs
    // about half of letting each one fail its speculative insertion.
    let (already_there, on_conflict) = if rest.is_empty() {
        (
            format!(
                " AND NOT EXISTS (SELECT 1 FROM {} x WHERE {})",
                t.name,
                same_key.join(" AND ")
            ),
            "DO NOTHING".to_string(),
        )
    } else {
        let set: Vec<_> = rest.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        let old: Vec<_> = rest.iter().map(|c| format!("t.{c}")).collect();
        let new: Vec<_> = rest.iter().map(|c| format!("EXCLUDED.{c}")).collect();
        (
            String::new(),
            format!(
                "DO UPDATE SET {} WHERE ({}) IS DISTINCT FROM ({})",
                set.join(", "),
                old.join(", "),
                new.join(", ")
            ),
        )
    };
    let survives = survives(t);
    format!(
        "WITH written AS (
           INSERT INTO {name} AS t ({cols})
           SELECT {cols} FROM sync_last_{name} s WHERE s.op = 'upsert'{survives}{already_there}
           ORDER BY {key}
           ON CONFLICT ({key}) {on_conflict}
           RETURNING (t.xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                (SELECT count(*) FROM sync_last_{name} s WHERE s.op = 'upsert'{survives})
         FROM written",
        name = t.name,
        cols = names.join(", "),
        key = key.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::tables::table;

    #[test]
    fn a_table_of_key_columns_only_is_inserted_or_left_alone() {
        let sql = upsert_sql(table("plan_to_zip").unwrap());
        assert!(
            sql.contains("ON CONFLICT (plan_id, zip_code) DO NOTHING"),
            "{sql}"
        );
        assert!(sql.contains("sync_deleted_plan d WHERE d.key = s.plan_id AND d.line > s.line"));
        assert!(sql.contains(
            "NOT EXISTS (SELECT 1 FROM plan_to_zip x WHERE x.plan_id = s.plan_id AND x.zip_code = s.zip_code)"
        ));
    }

    #[test]
    fn an_update_only_happens_when_a_value_differs() {
        let sql = upsert_sql(table("plan_feature").unwrap());
        assert!(
            sql.contains("DO UPDATE SET feature_value = EXCLUDED.feature_value WHERE (t.feature_value) IS DISTINCT FROM (EXCLUDED.feature_value)"),
            "{sql}"
        );
    }
}
