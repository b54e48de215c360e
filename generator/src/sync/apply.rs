//! The one transaction that changes the live tables, set-based.
//!
//! Keeping only the last operation per key ([`super::latest`]) is exact for each
//! table on its own: an upsert replaces the whole row, so only the last
//! operation on a key decides what is left. Tables interact only through
//! their foreign keys, and the statements run in the order that keeps those
//! satisfied and reproduces file order:
//!
//! 1. deletes of child rows (features, zips, enrollments, formulary rows,
//!    tier costs, prices);
//! 2. what the cascades did: every child of a plan, beneficiary, formulary
//!    or drug the file deletes *anywhere* was removed at that line in file
//!    order;
//! 3. upserts of the tables without a cascading parent (formularies, drugs,
//!    plans, beneficiaries, benefit years), in that order;
//! 4. upserts of child rows, except those a later delete of their parent
//!    undid (see [`super::references::survives`]); they now find their
//!    parents, whatever line created them;
//! 5. deletes of those tables in reverse order (their children are gone
//!    already, and a plan goes before the formulary it names).
//!
//! Only row locks are taken (INSERT/UPDATE/DELETE): API reads never wait on
//! them. `lock_timeout` makes the sync fail rather than queue behind (and so
//! in front of) anyone holding a table lock.
//!
//! A paced apply ([`Pace`]) runs each statement in batches of the staged
//! table's blocks (a TID range scan, so a batch reads only its own rows) and
//! rests between them, all in the same transaction. Keys are unique in a
//! staged table, so the batches touch disjoint rows and add up to the one
//! statement a flat-out apply runs.

use std::collections::BTreeMap;
use std::time::Instant;

use indicatif::ProgressBar;
use tokio_postgres::Transaction;

use super::pace::Pace;
use super::references::survives;
use super::tables::{TABLES, Table, has_cascading_parent};
use crate::batch::TableCounts;
use crate::{Error, Result};

/// Runs steps 1-5 and returns the counts per table.
pub async fn apply(
    tx: &Transaction<'_>,
    progress: &ProgressBar,
    pace: Pace,
) -> Result<BTreeMap<String, TableCounts>> {
    let mut counts: BTreeMap<String, TableCounts> = TABLES
        .iter()
        .map(|t| (t.name.to_string(), TableCounts::default()))
        .collect();
    let (roots, children): (Vec<&Table>, Vec<&Table>) =
        TABLES.iter().partition(|t| !has_cascading_parent(t));

    let run = |staged: String, sql: String, what: String| Batched {
        tx,
        progress,
        pace,
        staged,
        sql,
        what,
    };
    // Steps 1 and 5: the rows whose last line in the file deletes them.
    let delete_last = |t: &'static Table| async move {
        let [n] = run(
            format!("sync_last_{}", t.name),
            delete_sql(t),
            format!("deleting {} rows", t.name),
        )
        .sums()
        .await?;
        Ok::<_, Error>(n as u64)
    };
    for child in &children {
        counts.get_mut(child.name).expect("every table").deleted += delete_last(child).await?;
        for parent in child.parents.iter().filter(|p| p.cascade) {
            let sql = format!(
                "WITH gone AS (DELETE FROM {c} t USING sync_deleted_{p} d
                               WHERE t.{col} = d.key AND {in_batch} RETURNING 1)
                 SELECT count(*) FROM gone",
                c = child.name,
                p = parent.table,
                col = parent.column,
                in_batch = in_batch("d"),
            );
            let [n] = run(
                format!("sync_deleted_{}", parent.table),
                sql,
                format!("deleting {} rows of deleted {}s", child.name, parent.table),
            )
            .sums()
            .await?;
            counts.get_mut(child.name).expect("every table").deleted += n as u64;
        }
    }
    for table in roots.iter().chain(&children) {
        let [inserted, updated, upserts] = run(
            format!("sync_last_{}", table.name),
            upsert_sql(table),
            format!("upserting {} rows", table.name),
        )
        .sums()
        .await?;
        let c = counts.get_mut(table.name).expect("every table");
        c.inserted += inserted as u64;
        c.updated += updated as u64;
        c.unchanged += (upserts - inserted - updated) as u64;
    }
    // Children before what they point at: a plan goes before the
    // formulary it names.
    for root in roots.iter().rev() {
        counts.get_mut(root.name).expect("every table").deleted += delete_last(root).await?;
    }
    Ok(counts)
}

/// One statement over a staged table, run batch by batch.
struct Batched<'a> {
    tx: &'a Transaction<'a>,
    progress: &'a ProgressBar,
    pace: Pace,
    /// The staged table whose blocks are split into batches.
    staged: String,
    /// The statement; `$1` and `$2` are a batch's first and end block
    /// (see [`in_batch`]), and it returns one row of counts.
    sql: String,
    /// What it does, for the progress bar and errors.
    what: String,
}

impl Batched<'_> {
    /// Runs every batch, resting after each as the pace asks; the counts
    /// summed over the batches.
    async fn sums<const N: usize>(self) -> Result<[i64; N]> {
        let mut sums = [0i64; N];
        let batches = batches(self.tx, &self.staged, self.pace.batch_rows()).await?;
        for (n, (first, end)) in batches.iter().enumerate() {
            self.progress.set_message(match batches.len() {
                1 => self.what.clone(),
                all => format!("{} ({} of {all})", self.what, n + 1),
            });
            let started = Instant::now();
            let row = self
                .tx
                .query_one(&self.sql, &[first, end])
                .await
                .map_err(Error::query(format!(
                    "{} (blocks {first} to {end} of {})",
                    self.what, self.staged
                )))?;
            for (i, sum) in sums.iter_mut().enumerate() {
                *sum += row.get::<_, i64>(i);
            }
            self.pace.rest(started.elapsed()).await;
        }
        Ok(sums)
    }
}

/// The rows of `alias` in the batch of blocks `$1` (first) to `$2`
/// (excluded).
fn in_batch(alias: &str) -> String {
    format!(
        "{alias}.ctid >= format('(%s,0)', $1::bigint)::tid \
         AND {alias}.ctid < format('(%s,0)', $2::bigint)::tid"
    )
}

/// `staged`'s blocks, split into ranges of about `batch_rows` rows, or one
/// range for all of them. The block count is exact (nothing writes to a
/// staged table any more); the rows per block come from the ANALYZE
/// staging ran.
async fn batches(
    tx: &Transaction<'_>,
    staged: &str,
    batch_rows: Option<u64>,
) -> Result<Vec<(i64, i64)>> {
    let row = tx
        .query_one(
            "SELECT pg_relation_size($1::text::regclass)
                      / current_setting('block_size')::bigint,
                    greatest(reltuples, 0)::float8
               FROM pg_class WHERE oid = $1::text::regclass",
            &[&staged],
        )
        .await
        .map_err(Error::query(format!("sizing {staged}")))?;
    Ok(ranges(row.get(0), row.get(1), batch_rows))
}

/// Splits `blocks` holding about `rows` rows into ranges of about
/// `batch_rows` rows; without `batch_rows`, into one range.
fn ranges(blocks: i64, rows: f64, batch_rows: Option<u64>) -> Vec<(i64, i64)> {
    let per_batch = match batch_rows {
        Some(batch_rows) if rows >= 1.0 => {
            ((batch_rows as f64 * blocks as f64 / rows).ceil() as i64).max(1)
        }
        _ => blocks.max(1),
    };
    (0..blocks)
        .step_by(per_batch as usize)
        .map(|first| (first, (first + per_batch).min(blocks)))
        .collect()
}

fn delete_sql(t: &Table) -> String {
    let same_key: Vec<_> = t
        .key()
        .iter()
        .map(|k| format!("t.{0} = s.{0}", k.name))
        .collect();
    format!(
        "WITH gone AS (DELETE FROM {name} t USING sync_last_{name} s
                       WHERE s.op = 'delete' AND {same_key} AND {in_batch} RETURNING 1)
         SELECT count(*) FROM gone",
        name = t.name,
        same_key = same_key.join(" AND "),
        in_batch = in_batch("s"),
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
           SELECT {cols} FROM sync_last_{name} s
            WHERE s.op = 'upsert' AND {in_batch}{survives}{already_there}
           ORDER BY {key}
           ON CONFLICT ({key}) {on_conflict}
           RETURNING (t.xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                (SELECT count(*) FROM sync_last_{name} s
                  WHERE s.op = 'upsert' AND {in_batch}{survives})
         FROM written",
        name = t.name,
        in_batch = in_batch("s"),
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
    fn batches_cover_every_block_once() {
        for (blocks, rows) in [(0, 0.0), (1, 5.0), (7, 0.0), (1000, 500_000.0), (999, 1e9)] {
            let ranges = ranges(blocks, rows, Some(20_000));
            let mut next = 0;
            for (first, end) in &ranges {
                assert_eq!(*first, next, "{blocks} blocks: {ranges:?}");
                assert!(end > first, "{blocks} blocks: {ranges:?}");
                next = *end;
            }
            assert_eq!(next, blocks, "{blocks} blocks: {ranges:?}");
        }
        // 500 rows a block: 40 blocks hold a batch.
        assert_eq!(ranges(1000, 500_000.0, Some(20_000)).len(), 25);
        assert_eq!(ranges(1000, 500_000.0, None), [(0, 1000)]);
        assert_eq!(
            ranges(1000, 500_000.0, Some(500)),
            (0..1000).map(|b| (b, b + 1)).collect::<Vec<_>>()
        );
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
