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

/// One plan with its features, whatever its status (a beneficiary may be
/// enrolled in a plan that is no longer offered). `None` if unknown.
pub async fn plan_by_id(client: &impl GenericClient, plan_id: &str) -> Result<Option<Plan>> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plan p WHERE p.plan_id = $1");
    let Some(row) = client
        .query_opt(&sql, &[&plan_id])
        .await
        .map_err(Error::query(format!("loading plan {plan_id}")))?
    else {
        return Ok(None);
    };
    let mut plan = plan_from_row(&row);
    let features = client
        .query(
            "SELECT feature_key, feature_value FROM plan_feature WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map_err(Error::query(format!("loading features of plan {plan_id}")))?;
    plan.summary.features = features
        .iter()
        .map(|r| (r.get(0), r.get::<_, Option<String>>(1).unwrap_or_default()))
        .collect();
    Ok(Some(plan))
}
