//! `GET /api/me/enrollment`: the signed-in beneficiary, their current plan
//! and their enrollment history.
//!
//! This is the API's hot path, so it costs one round trip to Postgres: a
//! prepared statement that checks the session is not revoked and returns the
//! beneficiary, the history and the current plan's id. The current plan
//! itself comes from [`PlanCache`]: plans change once a night, enrollments
//! any time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use whatever_database::Plan;

use crate::ApiError;
use crate::auth::session;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The beneficiary as the API shows them: every column but the SSN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// Identifier.
    pub beneficiary_id: i64,
    /// First name.
    pub fname: Option<String>,
    /// Last name.
    pub lname: Option<String>,
    /// Sex as recorded.
    pub sex: Option<String>,
    /// Date of birth.
    pub birthdate: Option<NaiveDate>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Two-letter state code.
    pub state: Option<String>,
    /// Zip code.
    pub zip_code: Option<String>,
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

/// Which nightly sync the plans in the database reflect: the time the last
/// delta was applied (`applied_delta`), or none before the first.
pub type PlansAsOf = Option<chrono::DateTime<chrono::Utc>>;

/// A plan, when it was read and as of which sync.
type CachedPlan = (Instant, PlansAsOf, Arc<Plan>);

/// Plans by id. Plans change only with the nightly sync, and every
/// enrollment query reads which sync the database is at, so a cached plan is
/// used only while no delta has been applied since it was read: a sync is
/// visible on the very next request. The short TTL covers the one other
/// writer, `generator seed --replace` on a development database. It saves
/// the hot path two queries.
#[derive(Clone)]
pub struct PlanCache {
    ttl: Duration,
    entries: Arc<RwLock<HashMap<String, CachedPlan>>>,
}

impl PlanCache {
    /// Keeps plans for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The plan, from memory if it was read at the same sync `as_of`, else
    /// from the database.
    pub async fn get(
        &self,
        db: &deadpool_postgres::ClientWrapper,
        plan_id: &str,
        as_of: PlansAsOf,
    ) -> Result<Option<Arc<Plan>>, ApiError> {
        if let Some((at, read_as_of, plan)) = self.entries.read().expect("cache lock").get(plan_id)
            && at.elapsed() < self.ttl
            && *read_as_of == as_of
        {
            return Ok(Some(plan.clone()));
        }
        // Right after a sync every reader misses at once: one prepared
        // round trip each keeps that moment short.
        let statement = db
            .prepare_cached(whatever_database::plans::PLAN_BY_ID_SQL.as_str())
            .await?;
        let Some(row) = db.query_opt(&statement, &[&plan_id]).await? else {
            return Ok(None);
        };
        let plan = whatever_database::plans::plan_from_full_row(&row);
        let plan = Arc::new(plan);
        let mut entries = self.entries.write().expect("cache lock");
        // A beneficiary is enrolled in one of a few thousand plans; evicting
        // the stale ones when the map grows keeps it that size.
        if entries.len() > 10_000 {
            entries
                .retain(|_, (at, read_as_of, _)| at.elapsed() < self.ttl && *read_as_of == as_of);
        }
        entries.insert(plan_id.to_string(), (Instant::now(), as_of, plan.clone()));
        Ok(Some(plan))
    }
}

/// Everything but the SSN, by explicit column list, and whether the
/// session (`$2`, NULL for none) was revoked: the whole request in one round
/// trip. Without such a user the row holds only `revoked`.
const QUERY: &str = r#"
SELECT e.*,
       EXISTS (SELECT 1 FROM revoked_session WHERE session_id = $2::text::uuid) AS revoked
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
SELECT b.beneficiary_id, b.fname, b.lname, b.sex, b.birthdate, b.address, b.city,
       b.state::text, b.zip_code,
       CURRENT_DATE AS today,
       COALESCE(h.plan_ids, '{}') AS plan_ids, COALESCE(h.plan_names, '{}') AS plan_names,
       COALESCE(h.starts, '{}') AS starts, COALESCE(h.ends, '{}') AS ends,
       (SELECT max(applied_at) FROM applied_delta) AS plans_as_of
  FROM "user" u
  JOIN beneficiary b ON b.beneficiary_id = u.beneficiary_id
  -- One pass over the beneficiary's rows, four parallel arrays in one order.
  LEFT JOIN LATERAL (
       SELECT array_agg(bp.plan_id ORDER BY bp.start_date DESC, bp.plan_id) AS plan_ids,
              array_agg(p.plan_name ORDER BY bp.start_date DESC, bp.plan_id) AS plan_names,
              array_agg(bp.start_date ORDER BY bp.start_date DESC, bp.plan_id) AS starts,
              array_agg(bp.end_date ORDER BY bp.start_date DESC, bp.plan_id) AS ends
         FROM beneficiary_to_plan bp LEFT JOIN plan p ON p.plan_id = bp.plan_id
        WHERE bp.beneficiary_id = b.beneficiary_id) h ON true
 WHERE u.username = $1) AS e ON true"#;

/// The enrollment of `username`; `None` when no such user has a
/// beneficiary. With `session`, a revoked session is refused
/// ([`session::UNAUTHORIZED`]) by the same query.
///
/// The statement is prepared once per pooled connection: this is the API's
/// hot path, and preparing it on every call would double its round trips
/// and plan it every time.
pub async fn load(
    db: &deadpool_postgres::ClientWrapper,
    plans: &PlanCache,
    username: &str,
    session: Option<uuid::Uuid>,
) -> Result<Option<EnrollmentView>, ApiError> {
    let statement = db.prepare_cached(QUERY).await?;
    let session = session.map(|id| id.to_string());
    let row = db.query_one(&statement, &[&username, &session]).await?;
    if row.get::<_, bool>("revoked") {
        return Err(session::UNAUTHORIZED);
    }
    let Some(beneficiary_id) = row.get::<_, Option<i64>>(0) else {
        return Ok(None);
    };
    let beneficiary = Beneficiary {
        beneficiary_id,
        fname: row.get(1),
        lname: row.get(2),
        sex: row.get(3),
        birthdate: row.get(4),
        address: row.get(5),
        city: row.get(6),
        state: row.get(7),
        zip_code: row.get(8),
    };
    // "Today" is the database's, like every other date rule in the schema.
    let today: NaiveDate = row.get(9);
    let ids: Vec<String> = row.get(10);
    let names: Vec<Option<String>> = row.get(11);
    let starts: Vec<NaiveDate> = row.get(12);
    let ends: Vec<Option<NaiveDate>> = row.get(13);
    let plans_as_of: PlansAsOf = row.get(14);
    let mut current_id: Option<String> = None;
    let history: Vec<Enrollment> = ids
        .into_iter()
        .zip(names)
        .zip(starts.into_iter().zip(ends))
        .map(|((plan_id, plan_name), (start_date, end_date))| {
            let status = if start_date > today {
                "upcoming"
            } else if end_date.is_some_and(|end| end < today) {
                "ended"
            } else if current_id.is_none() {
                // Rows come latest start first: the first covering row is
                // the current plan (DESIGN.md).
                current_id = Some(plan_id.clone());
                "current"
            } else {
                "superseded"
            };
            Enrollment {
                plan_id,
                plan_name,
                start_date,
                end_date,
                status: status.to_string(),
            }
        })
        .collect();
    let current_plan = match &current_id {
        Some(id) => {
            let plan = plans.get(db, id, plans_as_of).await?;
            if plan.is_none() {
                tracing::warn!(plan_id = %id, "current plan missing from the plan table");
            }
            plan.map(|p| (*p).clone())
        }
        None => None,
    };
    Ok(Some(EnrollmentView {
        beneficiary,
        current_plan,
        history,
    }))
}

/// Answers `GET /api/me/enrollment`.
pub async fn get(state: &AppState, headers: &HeaderMap) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    // The signature is checked before a connection is taken: a flood of
    // forged tokens costs CPU, never the pool.
    let session = session::verify_token(&auth.keys, &auth.session, headers)?;
    let db = state.pool.get().await?;
    let view = load(
        &db,
        &state.plans,
        &session.claims.sub,
        Some(session.claims.sid),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    drop(db);
    let mut resp = json_response(StatusCode::OK, &view);
    if let Some(fresh) = session.refreshed {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}
