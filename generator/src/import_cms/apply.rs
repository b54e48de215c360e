//! The database side: the checked rows are COPYed into session-local
//! temporary tables (nothing live is touched), then one transaction makes
//! the live tables equal to them, set-based, counting what changed.
//!
//! The files are a full snapshot of the drug data, so the import replaces
//! it: rows the files no longer have are deleted, and a plan the plan
//! information file does not list is left without a formulary. Plans
//! themselves come from the nightly delta; the import only sets their
//! formulary and cost sharing, and refuses files naming a plan the database
//! does not have.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::SinkExt;
use indicatif::ProgressBar;
use tokio_postgres::{Client, Transaction};

use super::FileProblem;
use super::check::Staged;
use crate::batch::TableCounts;
use crate::{Error, Result};

/// A live table the import replaces, with its staged twin `cms_{name}`.
struct Target {
    name: &'static str,
    columns: &'static [&'static str],
    key_len: usize,
}

/// Parents first: formularies and drugs before the rows that point at them.
const TARGETS: &[Target] = &[
    Target {
        name: "formulary",
        columns: &["formulary_id"],
        key_len: 1,
    },
    Target {
        name: "drug",
        columns: &[
            "rxcui",
            "name",
            "generic_name",
            "strength",
            "dose_form",
            "is_generic",
            "is_insulin",
        ],
        key_len: 1,
    },
    Target {
        name: "formulary_drug",
        columns: &[
            "formulary_id",
            "rxcui",
            "tier",
            "prior_authorization",
            "step_therapy",
            "quantity_limit_amount",
            "quantity_limit_days",
        ],
        key_len: 2,
    },
    Target {
        name: "plan_tier_cost",
        columns: &[
            "plan_id",
            "tier",
            "pharmacy",
            "days_supply",
            "cost_type",
            "amount",
            "deductible_applies",
        ],
        key_len: 4,
    },
    Target {
        name: "drug_price",
        columns: &["rxcui", "days_supply", "full_cost"],
        key_len: 2,
    },
];

/// Creates the temporary tables and COPYs the staged rows into them.
pub async fn stage(client: &Client, staged: Staged, progress: &ProgressBar) -> Result<()> {
    let Staged {
        drug,
        formulary,
        formulary_drug,
        plan,
        plan_tier_cost,
        drug_price,
    } = staged;
    client
        .batch_execute(
            "DROP TABLE IF EXISTS cms_plan;
             CREATE TEMP TABLE cms_plan (line bigint NOT NULL, plan_id text NOT NULL, formulary_id text)",
        )
        .await
        .map_err(Error::query("creating cms_plan"))?;
    copy(client, "cms_plan", plan.into_bytes(), progress).await?;
    let rows = [formulary, drug, formulary_drug, plan_tier_cost, drug_price];
    for (target, rows) in TARGETS.iter().zip(rows) {
        let name = target.name;
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS cms_{name}; CREATE TEMP TABLE cms_{name} (LIKE {name})"
            ))
            .await
            .map_err(Error::query(format!("creating cms_{name}")))?;
        copy(client, &format!("cms_{name}"), rows.into_bytes(), progress).await?;
    }
    let analyzed: Vec<String> = std::iter::once("cms_plan".to_string())
        .chain(TARGETS.iter().map(|t| format!("cms_{}", t.name)))
        .collect();
    client
        .batch_execute(&format!("ANALYZE {}", analyzed.join(", ")))
        .await
        .map_err(Error::query("analyzing the staged files"))
}

async fn copy(client: &Client, table: &str, rows: Vec<u8>, progress: &ProgressBar) -> Result<()> {
    progress.set_message(format!("staging {table}"));
    let sink = client
        .copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN"))
        .await
        .map_err(Error::query(format!("starting COPY into {table}")))?;
    futures::pin_mut!(sink);
    let mut rows = Bytes::from(rows);
    while !rows.is_empty() {
        let chunk = rows.split_to(rows.len().min(1 << 20));
        sink.send(chunk)
            .await
            .map_err(Error::query(format!("copying into {table}")))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(Error::query(format!("finishing COPY into {table}")))?;
    Ok(())
}

/// Plans the plan information file lists that the database does not have,
/// first lines first (at most `limit`), and how many in all.
pub async fn unknown_plans(
    tx: &Transaction<'_>,
    file: &str,
    limit: i64,
) -> Result<(Vec<FileProblem>, u64)> {
    let rows = tx
        .query(
            "SELECT s.line, s.plan_id, count(*) OVER () FROM cms_plan s
             WHERE NOT EXISTS (SELECT 1 FROM plan p WHERE p.plan_id = s.plan_id)
             ORDER BY s.line LIMIT $1",
            &[&limit],
        )
        .await
        .map_err(Error::query("checking that the plans exist"))?;
    let total = rows.first().map_or(0, |r| r.get::<_, i64>(2) as u64);
    let problems = rows
        .iter()
        .map(|r| FileProblem {
            file: file.to_string(),
            line: r.get::<_, i64>(0) as u64,
            message: format!(
                "plan {} is not in the database (plans come from the nightly delta)",
                r.get::<_, String>(1)
            ),
        })
        .collect();
    Ok((problems, total))
}

/// Makes the live tables equal to the staged ones; what changed, per table.
pub async fn apply(
    tx: &Transaction<'_>,
    progress: &ProgressBar,
) -> Result<BTreeMap<String, TableCounts>> {
    let mut counts: BTreeMap<String, TableCounts> = BTreeMap::new();
    let (roots, children) = TARGETS.split_at(2);
    for target in roots {
        progress.set_message(format!("upserting {}", target.name));
        *counts.entry(target.name.into()).or_default() = upsert(tx, target).await?;
    }
    progress.set_message("setting each plan's formulary");
    let row = tx
        .query_one(
            "WITH wanted AS (
               SELECT p.plan_id, s.formulary_id FROM plan p LEFT JOIN cms_plan s USING (plan_id)),
             changed AS (
               UPDATE plan p SET formulary_id = w.formulary_id FROM wanted w
               WHERE p.plan_id = w.plan_id AND p.formulary_id IS DISTINCT FROM w.formulary_id
               RETURNING 1)
             SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM plan)",
            &[],
        )
        .await
        .map_err(Error::query("setting each plan's formulary"))?;
    let (updated, plans) = (row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64);
    counts.insert(
        "plan".into(),
        TableCounts {
            updated,
            unchanged: plans - updated,
            ..TableCounts::default()
        },
    );
    for target in children {
        progress.set_message(format!("upserting {}", target.name));
        *counts.entry(target.name.into()).or_default() = upsert(tx, target).await?;
    }
    // Children before what they point at.
    for target in children.iter().chain(roots.iter().rev()) {
        progress.set_message(format!(
            "deleting {} rows the files no longer have",
            target.name
        ));
        let same_key: Vec<String> = target.columns[..target.key_len]
            .iter()
            .map(|k| format!("s.{k} = t.{k}"))
            .collect();
        let sql = format!(
            "WITH gone AS (DELETE FROM {name} t WHERE NOT EXISTS
                             (SELECT 1 FROM cms_{name} s WHERE {same_key}) RETURNING 1)
             SELECT count(*) FROM gone",
            name = target.name,
            same_key = same_key.join(" AND "),
        );
        let gone: i64 = tx
            .query_one(&sql, &[])
            .await
            .map_err(Error::query(format!("deleting {} rows", target.name)))?
            .get(0);
        counts.entry(target.name.into()).or_default().deleted += gone as u64;
    }
    Ok(counts)
}

/// INSERT .. ON CONFLICT DO UPDATE of every staged row, skipping rows that
/// would not change; `xmax = 0` on a returned row means it was inserted.
async fn upsert(tx: &Transaction<'_>, target: &Target) -> Result<TableCounts> {
    let cols = target.columns.join(", ");
    let key = target.columns[..target.key_len].join(", ");
    let rest = &target.columns[target.key_len..];
    let on_conflict = if rest.is_empty() {
        "DO NOTHING".to_string()
    } else {
        let set: Vec<String> = rest.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        let old: Vec<String> = rest.iter().map(|c| format!("t.{c}")).collect();
        let new: Vec<String> = rest.iter().map(|c| format!("EXCLUDED.{c}")).collect();
        format!(
            "DO UPDATE SET {} WHERE ({}) IS DISTINCT FROM ({})",
            set.join(", "),
            old.join(", "),
            new.join(", ")
        )
    };
    let sql = format!(
        "WITH written AS (
           INSERT INTO {name} AS t ({cols}) SELECT {cols} FROM cms_{name} ORDER BY {key}
           ON CONFLICT ({key}) {on_conflict}
           RETURNING (t.xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                (SELECT count(*) FROM cms_{name})
         FROM written",
        name = target.name,
    );
    let row = tx
        .query_one(&sql, &[])
        .await
        .map_err(Error::query(format!("upserting {} rows", target.name)))?;
    let (inserted, updated, staged) = (
        row.get::<_, i64>(0) as u64,
        row.get::<_, i64>(1) as u64,
        row.get::<_, i64>(2) as u64,
    );
    Ok(TableCounts {
        inserted,
        updated,
        deleted: 0,
        unchanged: staged - inserted - updated,
    })
}
