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
    let money = |i: usize| Money(row.get::<_, Option<i64>>(i).unwrap_or(0));
    let text = |i: usize| row.get::<_, Option<String>>(i).unwrap_or_default();
    Plan {
        summary: PlanSummary {
            plan_id: row.get(0),
            plan_name: text(1),
            insurer_name: text(2),
            avg_monthly_cost: money(3),
            avg_copay_amount: money(4),
            annual_deductible: money(5),
            min_age: row.get(6),
            max_age: row.get(7),
            features: BTreeMap::new(),
        },
        description: text(8),
    }
}

/// One plan and its features in one statement (`$1` = plan id), read by
/// [`plan_from_full_row`]. Public so a caller with a statement cache can
/// prepare it once.
pub static PLAN_BY_ID_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {PLAN_COLUMNS},
                ARRAY(SELECT f.feature_key FROM plan_feature f
                       WHERE f.plan_id = p.plan_id ORDER BY f.feature_key),
                ARRAY(SELECT COALESCE(f.feature_value, '') FROM plan_feature f
                       WHERE f.plan_id = p.plan_id ORDER BY f.feature_key)
           FROM plan p WHERE p.plan_id = $1"
    )
});

/// A plan with its features from a row of [`PLAN_BY_ID_SQL`].
pub fn plan_from_full_row(row: &Row) -> Plan {
    let mut plan = plan_from_row(row);
    let keys: Vec<String> = row.get(9);
    let values: Vec<String> = row.get(10);
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
