//! Reads everything the public site shows, in one consistent snapshot and a
//! handful of set-based queries: never one query per zip or per plan.

use std::sync::LazyLock;

use tokio_postgres::IsolationLevel;
use whatever_database::plans::{PLAN_COLUMNS, plan_from_row};
use whatever_database::rules::{plan_id, zip};
use whatever_database::{DatabaseConfig, Plan};

use crate::{Error, Result};

/// Which plans may be published: active ones whose id passes the plan-id
/// rule ([`plan_id::PATTERN`], which Postgres applies as written). Each
/// active plan gets its index in `plan_id` byte order, the order every list
/// of the site uses; the same expression in every query of one snapshot
/// gives the same numbering.
static ACTIVE_PLANS: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
    WITH active AS (
        SELECT plan_id,
               (row_number() OVER (ORDER BY plan_id COLLATE "C") - 1)::int4 AS idx
        FROM plan
        WHERE status = 'active' AND plan_id ~ '{}'
    )"#,
        plan_id::PATTERN
    )
});

/// The zip codes a page is built for: five digits, nothing else can be a path.
static ZIP_FORMAT: LazyLock<String> = LazyLock::new(|| format!("'{}'", zip::PATTERN));

/// One zip code and the plans sold there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipPlans {
    /// Five digits, leading zeros kept.
    pub zip: String,
    /// Indexes into [`Snapshot::plans`], ascending (so sorted by plan id).
    pub plans: Vec<u32>,
}

/// Every row the site is rendered from.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Active plans with their features, sorted by plan id.
    pub plans: Vec<Plan>,
    /// Zip codes with at least one active plan, sorted.
    pub zips: Vec<ZipPlans>,
    /// Rows read from `plan_to_zip` (for reporting).
    pub plan_zip_rows: u64,
    /// Rows read from `plan_feature` (for reporting).
    pub feature_rows: u64,
    /// Active plans left out because their id cannot be a URL path segment.
    pub skipped_plan_ids: Vec<String>,
    /// Zip codes left out because they are not five digits.
    pub skipped_zips: Vec<String>,
    /// Drugs, formularies, prices and each plan's drug terms.
    pub drugs: super::drug_data::DrugData,
}

impl Snapshot {
    /// Rows left off the site: plans whose id breaks the plan-id rule and
    /// zip codes that are not five digits.
    pub fn skipped(&self) -> u64 {
        (self.skipped_plan_ids.len() + self.skipped_zips.len()) as u64
    }
}

/// Loads the snapshot inside one `REPEATABLE READ, READ ONLY` transaction, so
/// a sync committing meanwhile is seen entirely or not at all.
pub async fn load_snapshot(db: &DatabaseConfig) -> Result<Snapshot> {
    let active: &str = &ACTIVE_PLANS;
    let mut client = db.connect().await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(Error::query("starting the snapshot transaction"))?;

    let plan_rows = tx
        .query(
            &format!(
                "{active} SELECT {PLAN_COLUMNS}, a.idx FROM plan p \
                 JOIN active a ON a.plan_id = p.plan_id ORDER BY a.idx"
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading active plans"))?;
    let mut plans = Vec::with_capacity(plan_rows.len());
    for row in &plan_rows {
        let idx: i32 = row.get(9);
        if idx as usize != plans.len() {
            return Err(Error::Invalid(format!(
                "plan numbering is inconsistent at plan {:?}",
                row.get::<_, String>(0)
            )));
        }
        plans.push(plan_from_row(row));
    }
    drop(plan_rows);

    let feature_rows = tx
        .query(
            &format!(
                "{active} SELECT a.idx, f.feature_key, f.feature_value \
                 FROM plan_feature f JOIN active a ON a.plan_id = f.plan_id"
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading plan features"))?;
    for row in &feature_rows {
        let idx = plan_index(row.get(0), plans.len())?;
        let value: Option<String> = row.get(2);
        plans[idx]
            .summary
            .features
            .insert(row.get(1), value.unwrap_or_default());
    }
    let feature_count = feature_rows.len() as u64;
    drop(feature_rows);

    // Postgres groups the ~1M links into one array of plan indexes per zip,
    // so only ~42k small rows cross the wire.
    let zip_rows = tx
        .query(
            &format!(
                "{active} SELECT z.zip_code, array_agg(a.idx ORDER BY a.idx), count(*) \
                 FROM plan_to_zip z JOIN active a ON a.plan_id = z.plan_id \
                 WHERE z.zip_code ~ {ZIP_FORMAT} \
                 GROUP BY z.zip_code ORDER BY z.zip_code COLLATE \"C\"",
                ZIP_FORMAT = *ZIP_FORMAT
            ),
            &[],
        )
        .await
        .map_err(Error::query("loading the plans of each zip code"))?;
    let mut zips = Vec::with_capacity(zip_rows.len());
    let mut plan_zip_rows = 0u64;
    for row in &zip_rows {
        let indexes: Vec<i32> = row.get(1);
        let count: i64 = row.get(2);
        plan_zip_rows += count as u64;
        let plans = indexes
            .into_iter()
            .map(|i| plan_index(i, plans.len()).map(|i| i as u32))
            .collect::<Result<Vec<_>>>()?;
        zips.push(ZipPlans {
            zip: row.get(0),
            plans,
        });
    }
    drop(zip_rows);

    let skipped_plan_ids = tx
        .query(
            &format!(
                "{active} SELECT p.plan_id FROM plan p \
                 WHERE p.status = 'active' AND NOT EXISTS \
                 (SELECT 1 FROM active a WHERE a.plan_id = p.plan_id) \
                 ORDER BY p.plan_id COLLATE \"C\""
            ),
            &[],
        )
        .await
        .map_err(Error::query(
            "looking for plan ids that cannot be published",
        ))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let skipped_zips = tx
        .query(
            &format!(
                "SELECT DISTINCT zip_code FROM plan_to_zip WHERE zip_code !~ {ZIP_FORMAT} \
                 ORDER BY 1",
                ZIP_FORMAT = *ZIP_FORMAT
            ),
            &[],
        )
        .await
        .map_err(Error::query("looking for malformed zip codes"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let drugs = super::drug_data::load(&tx, &ACTIVE_PLANS, plans.len()).await?;
    tx.commit()
        .await
        .map_err(Error::query("ending the snapshot transaction"))?;

    Ok(Snapshot {
        plans,
        zips,
        plan_zip_rows,
        feature_rows: feature_count,
        skipped_plan_ids,
        skipped_zips,
        drugs,
    })
}

fn plan_index(idx: i32, len: usize) -> Result<usize> {
    usize::try_from(idx)
        .ok()
        .filter(|&i| i < len)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "plan index {idx} is outside the snapshot ({len} plans)"
            ))
        })
}
