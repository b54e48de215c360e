//! Referential sanity, checked set-based against the collapsed delta and the
//! live tables before anything is written: every row the delta leaves in
//! place must point at a plan (and beneficiary) that exists afterwards.

use tokio_postgres::GenericClient;

use super::report::Problem;
use super::tables::{Parent, TABLES, Table, table};
use crate::{Error, Result};

/// At most this many problems per kind of check are listed.
const LIMIT: i64 = 20;

/// The problems found, first lines first, and how many there are in all.
pub async fn check(client: &impl GenericClient) -> Result<(Vec<Problem>, u64)> {
    let mut problems = Vec::new();
    let mut total = 0u64;
    for child in TABLES {
        for parent in child.parents {
            let rows = client
                .query(&dangling_sql(child, parent), &[&LIMIT])
                .await
                .map_err(Error::query(format!(
                    "checking that {} rows point at existing {} rows",
                    child.name, parent.table
                )))?;
            total += rows.first().map_or(0, |r| r.get::<_, i64>(3) as u64);
            for row in rows {
                let key: String = row.get(1);
                let deleted_at: Option<i64> = row.get(2);
                let whose = match deleted_at {
                    Some(line) => format!("which this delta deletes at line {line}"),
                    None => "which is neither in the database nor upserted by this delta".into(),
                };
                problems.push(Problem {
                    line: row.get::<_, i64>(0) as u64,
                    message: format!(
                        "{} row points at {} {key:?}, {whose}",
                        child.name, parent.table
                    ),
                });
            }
            if !parent.cascade {
                let rows = client
                    .query(&still_referenced_sql(child, parent), &[&LIMIT])
                    .await
                    .map_err(Error::query(format!(
                        "checking that deleted {} rows are not referenced by {}",
                        parent.table, child.name
                    )))?;
                total += rows.first().map_or(0, |r| r.get::<_, i64>(3) as u64);
                for row in rows {
                    let key: String = row.get(1);
                    let count: i64 = row.get(2);
                    problems.push(Problem {
                        line: row.get::<_, i64>(0) as u64,
                        message: format!(
                            "deletes {} {key:?}, but {count} {} row(s) still point at it \
                             (delete or change them in this delta too)",
                            parent.table, child.name
                        ),
                    });
                }
            }
        }
    }
    problems.sort_by_key(|p| p.line);
    Ok((problems, total))
}

/// Filter on `sync_last_{child} s` keeping the operations a cascade has not
/// undone: an upsert followed by a delete of its plan (or beneficiary) later
/// in the file is gone in file order, so it is neither checked nor applied.
pub fn survives(child: &Table) -> String {
    child
        .parents
        .iter()
        .filter(|p| p.cascade)
        .map(|p| {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM sync_deleted_{} d WHERE d.key = s.{} AND d.line > s.line)",
                p.table, p.column
            )
        })
        .collect()
}

/// Upserted child rows whose parent does not exist once the delta is applied.
fn dangling_sql(child: &Table, parent: &Parent) -> String {
    let p = table(parent.table).expect("parents are synced tables");
    let pkey = p.columns[0].name;
    format!(
        "SELECT s.line, s.{col}::text, lp.line, count(*) OVER () FROM sync_last_{c} s
         LEFT JOIN sync_last_{p} lp ON lp.{pkey} = s.{col}
         WHERE s.op = 'upsert'{survives} AND s.{col} IS NOT NULL
           AND CASE WHEN lp.op IS NULL
                    THEN NOT EXISTS (SELECT 1 FROM {p} live WHERE live.{pkey} = s.{col})
                    ELSE lp.op = 'delete' END
         ORDER BY s.line LIMIT $1",
        col = parent.column,
        c = child.name,
        p = p.name,
        survives = survives(child),
    )
}

/// Parents deleted by the delta that live child rows, untouched by the
/// delta, still point at (only where the key has no ON DELETE CASCADE).
fn still_referenced_sql(child: &Table, parent: &Parent) -> String {
    let p = table(parent.table).expect("parents are synced tables");
    let pkey = p.columns[0].name;
    let same_key: Vec<_> = child
        .key()
        .iter()
        .map(|k| format!("x.{0} = live.{0}", k.name))
        .collect();
    let cascaded: String = child
        .parents
        .iter()
        .filter(|q| q.cascade)
        .map(|q| {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM sync_deleted_{} d WHERE d.key = live.{})",
                q.table, q.column
            )
        })
        .collect();
    format!(
        "SELECT lp.line, lp.{pkey}::text, count(*), count(*) OVER () FROM sync_last_{p} lp
         JOIN {c} live ON live.{col} = lp.{pkey}
         WHERE lp.op = 'delete'
           AND NOT EXISTS (SELECT 1 FROM sync_last_{c} x WHERE {same_key}){cascaded}
         GROUP BY lp.line, lp.{pkey} ORDER BY lp.line LIMIT $1",
        p = p.name,
        c = child.name,
        col = parent.column,
        same_key = same_key.join(" AND "),
    )
}
