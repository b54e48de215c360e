//! Liveness and readiness for the load balancer.

use axum::extract::State;
use http::StatusCode;

use super::answers::Status;
use super::table::{Route, get};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The load balancer's two routes.
pub fn routes() -> Vec<Route> {
    vec![get("/healthz", healthz), get("/readyz", readyz)]
}

/// `GET /healthz`: the process is up. Never touches the database, so a
/// database outage does not get healthy replicas killed.
async fn healthz() -> Resp {
    json_response(StatusCode::OK, &Status::new("ok"))
}

/// `GET /readyz`: the database answers within the pool's wait bound, and
/// the process is not shutting down (after SIGTERM it answers 503 at once,
/// so the load balancer stops routing here while requests still succeed).
async fn readyz(State(state): State<AppState>) -> Result<Resp, ApiError> {
    if state.is_draining() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    let client = state.pool.get().await?;
    client.query_one("SELECT 1", &[]).await?;
    Ok(json_response(StatusCode::OK, &Status::new("ready")))
}
