//! A signed-in beneficiary's own enrollment: who they are, their current
//! plan and their enrollment history (`GET /api/me/enrollment`).
//!
//! This is the API's hot path, so it costs one round trip to Postgres: a
//! prepared statement that checks the session is not revoked (with the
//! rule's own SQL, [`session::revoked_sql`]) and returns the beneficiary,
//! the history and the current plan with its features.

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use whatever_database::Plan;

use crate::auth::session;
use crate::error::ApiError;

/// The beneficiary as the pages show them: the name they are greeted by.
/// Nothing else about the person (birthdate, sex, address, ids) leaves the
/// database on this route: a page that needs more must ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// First name.
    pub fname: Option<String>,
    /// Last name.
    pub lname: Option<String>,
}

/// One enrollment row, latest start first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The plan.
    pub plan_id: String,
    /// Its name, if the plan is still known.
    pub plan_name: Option<String>,
    /// First day covered.
    pub start_date: NaiveDate,
    /// Last day covered; `None` = open-ended.
    pub end_date: Option<NaiveDate>,
    /// `current` (the row that is the current plan), `upcoming` (starts
    /// later), `ended` (ended before today) or `superseded` (covers today
    /// but a later-starting row is current).
    pub status: String,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentView {
    /// Who.
    pub beneficiary: Beneficiary,
    /// The plan covering today, in the public site's `Plan` shape.
    pub current_plan: Option<Plan>,
    /// Every enrollment row.
    pub history: Vec<Enrollment>,
}

/// The name, the history and the current plan, by explicit column list,
/// and whether the session (`$2`, NULL for none) was revoked: the whole
/// request in one round trip. Without such a user the row holds only
/// `revoked`.
///
/// The status of each enrollment row and the current plan, with its
/// features, come from the same statement: nothing about a plan is kept
/// between requests, so a nightly sync shows on the very next one, and the
/// moment after a sync costs no more than any other (a cache emptied by the
/// sync would send every reader back to the database at once).
static QUERY: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
SELECT e.*, {revoked} AS revoked
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
SELECT b.beneficiary_id, b.fname, b.lname,
       COALESCE(h.plan_ids, '{{}}') AS plan_ids, COALESCE(h.plan_names, '{{}}') AS plan_names,
       COALESCE(h.starts, '{{}}') AS starts, COALESCE(h.ends, '{{}}') AS ends,
       COALESCE(h.statuses, '{{}}') AS statuses, h.current_plan_id,
       cp.*
  FROM "user" u
  JOIN beneficiary b ON b.beneficiary_id = u.beneficiary_id
  -- One pass over the beneficiary's rows, parallel arrays in one order.
  LEFT JOIN LATERAL (
       SELECT array_agg(r.plan_id ORDER BY r.start_date DESC, r.plan_id) AS plan_ids,
              array_agg(r.plan_name ORDER BY r.start_date DESC, r.plan_id) AS plan_names,
              array_agg(r.start_date ORDER BY r.start_date DESC, r.plan_id) AS starts,
              array_agg(r.end_date ORDER BY r.start_date DESC, r.plan_id) AS ends,
              array_agg(r.status ORDER BY r.start_date DESC, r.plan_id) AS statuses,
              min(r.plan_id) FILTER (WHERE r.status = 'current') AS current_plan_id
         FROM (SELECT bp.plan_id, p.plan_name, bp.start_date, bp.end_date,
                      -- Of the rows covering today, the one that started
                      -- last is the current plan (docs/ARCHITECTURE.md).
                      CASE WHEN bp.start_date > CURRENT_DATE THEN 'upcoming'
                           WHEN bp.end_date < CURRENT_DATE THEN 'ended'
                           WHEN row_number() OVER (
                                  PARTITION BY bp.start_date <= CURRENT_DATE
                                           AND (bp.end_date IS NULL OR bp.end_date >= CURRENT_DATE)
                                  ORDER BY bp.start_date DESC, bp.plan_id) = 1 THEN 'current'
                           ELSE 'superseded' END AS status
                 FROM beneficiary_to_plan bp LEFT JOIN plan p ON p.plan_id = bp.plan_id
                WHERE bp.beneficiary_id = b.beneficiary_id) r) h ON true
  LEFT JOIN LATERAL (
       SELECT {plan} FROM plan p WHERE p.plan_id = h.current_plan_id) cp ON true
 WHERE u.username = $1) AS e ON true"#,
        plan = *whatever_database::plans::PLAN_FULL_COLUMNS,
        revoked = session::revoked_sql(2),
    )
});

/// Where the current plan's [`whatever_database::plans::PLAN_FULL_COLUMNS`]
/// start in a row of [`QUERY`]: after the beneficiary's three columns and
/// the six of the history.
const PLAN_COLUMN: usize = 9;

/// The enrollment of `username`; `None` when no such user has a
/// beneficiary. With `session` (a session id, as [`session::revoked_sql`]
/// takes it), a revoked session is refused ([`session::UNAUTHORIZED`]) by
/// the same query.
///
/// The statement is prepared once per pooled connection: this is the API's
/// hot path, and preparing it on every call would double its round trips
/// and plan it every time.
pub async fn load(
    db: &deadpool_postgres::ClientWrapper,
    username: &str,
    session: Option<String>,
) -> Result<Option<EnrollmentView>, ApiError> {
    let statement = db.prepare_cached(QUERY.as_str()).await?;
    let row = db.query_one(&statement, &[&username, &session]).await?;
    if session.is_some() && row.get::<_, bool>("revoked") {
        return Err(session::UNAUTHORIZED);
    }
    if row.get::<_, Option<i64>>(0).is_none() {
        return Ok(None);
    }
    let beneficiary = Beneficiary {
        fname: row.get(1),
        lname: row.get(2),
    };
    let ids: Vec<String> = row.get("plan_ids");
    let names: Vec<Option<String>> = row.get("plan_names");
    let starts: Vec<NaiveDate> = row.get("starts");
    let ends: Vec<Option<NaiveDate>> = row.get("ends");
    let statuses: Vec<String> = row.get("statuses");
    let history: Vec<Enrollment> = ids
        .into_iter()
        .zip(names)
        .zip(starts.into_iter().zip(ends).zip(statuses))
        .map(
            |((plan_id, plan_name), ((start_date, end_date), status))| Enrollment {
                plan_id,
                plan_name,
                start_date,
                end_date,
                status,
            },
        )
        .collect();
    let current_id: Option<String> = row.get("current_plan_id");
    let found: Option<String> = row.get(PLAN_COLUMN);
    let current_plan = match (&current_id, found) {
        (Some(_), Some(_)) => Some(whatever_database::plans::plan_from_full_row_at(
            &row,
            PLAN_COLUMN,
        )),
        (Some(id), None) => {
            tracing::warn!(plan_id = %id, "current plan missing from the plan table");
            None
        }
        (None, _) => None,
    };
    Ok(Some(EnrollmentView {
        beneficiary,
        current_plan,
        history,
    }))
}
