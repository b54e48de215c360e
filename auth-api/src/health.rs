//! Liveness and readiness for the load balancer.

use http::StatusCode;
use serde_json::json;

use crate::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// `GET /healthz`: the process is up. Never touches the database, so a
/// database outage does not get healthy replicas killed.
pub fn healthz() -> Resp {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers within the pool's wait bound.
pub async fn readyz(state: &AppState) -> Result<Resp, ApiError> {
    let client = state.pool.get().await?;
    client.query_one("SELECT 1", &[]).await?;
    Ok(json_response(StatusCode::OK, &json!({"status": "ready"})))
}
