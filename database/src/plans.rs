//! Reading plans in the shape of [`Plan`], shared by the site build (in bulk)
//! and the API (one at a time).

use std::collections::BTreeMap;

use tokio_postgres::{GenericClient, Row};

use crate::{Error, Money, Plan, PlanSummary, Result};

/// The `plan` columns [`plan_from_row`] expects, in order, with money as
/// whole cents so no float ever touches an amount.
pub const PLAN_COLUMNS: &str = "p.plan_id, p.plan_name, p.insurer_name, \
     (p.avg_monthly_cost * 100)::int8, (p.avg_copay_amount * 100)::int8, \
     (p.annual_deductible * 100)::int8, p.min_age, p.max_age, p.description";

/// Builds a plan (without features) from a row selected with [`PLAN_COLUMNS`]
/// as its first columns. Missing text becomes empty, missing money zero.
pub fn plan_from_row(row: &Row) -> Plan {
    plan_from_row_at(row, 0)
}

/// [`plan_from_row`] for a row whose [`PLAN_COLUMNS`] start at column
/// `first`.
fn plan_from_row_at(row: &Row, first: usize) -> Plan {
    let money = |i: usize| Money(row.get::<_, Option<i64>>(first + i).unwrap_or(0));
    let text = |i: usize| row.get::<_, Option<String>>(first + i).unwrap_or_default();
    Plan {
        summary: PlanSummary {
            plan_id: row.get(first),
            plan_name: text(1),
            insurer_name: text(2),
            avg_monthly_cost: money(3),
            avg_copay_amount: money(4),
            annual_deductible: money(5),
            min_age: row.get(first + 6),
            max_age: row.get(first + 7),
            features: BTreeMap::new(),
        },
        description: text(8),
    }
}

/// [`PLAN_COLUMNS`] and the plan's feature keys and values as two arrays in
/// one order: the whole [`Plan`], read by [`plan_from_full_row`]. For a
/// `plan p` in the `FROM` of the statement it is part of.
pub static PLAN_FULL_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{PLAN_COLUMNS},
         ARRAY(SELECT f.feature_key FROM plan_feature f
                WHERE f.plan_id = p.plan_id ORDER BY f.feature_key),
         ARRAY(SELECT COALESCE(f.feature_value, '') FROM plan_feature f
                WHERE f.plan_id = p.plan_id ORDER BY f.feature_key)"
    )
});

/// One plan and its features in one statement (`$1` = plan id), read by
/// [`plan_from_full_row`].
pub static PLAN_BY_ID_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM plan p WHERE p.plan_id = $1",
        *PLAN_FULL_COLUMNS
    )
});

/// A plan with its features from a row that starts with
/// [`PLAN_FULL_COLUMNS`].
pub fn plan_from_full_row(row: &Row) -> Plan {
    plan_from_full_row_at(row, 0)
}

/// [`plan_from_full_row`] for a row whose [`PLAN_FULL_COLUMNS`] start at
/// column `first`.
pub fn plan_from_full_row_at(row: &Row, first: usize) -> Plan {
    let mut plan = plan_from_row_at(row, first);
    let keys: Vec<String> = row.get(first + 9);
    let values: Vec<String> = row.get(first + 10);
    plan.summary.features = keys.into_iter().zip(values).collect();
    plan
}

/// One plan with its features, whatever its status (a beneficiary may be
/// enrolled in a plan that is no longer offered). `None` if unknown.
pub async fn plan_by_id(client: &impl GenericClient, plan_id: &str) -> Result<Option<Plan>> {
    let row = client
        .query_opt(PLAN_BY_ID_SQL.as_str(), &[&plan_id])
        .await
        .map_err(Error::query(format!("loading plan {plan_id}")))?;
    Ok(row.as_ref().map(plan_from_full_row))
}
