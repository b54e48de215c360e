//! `GET /api/me/enrollment`: the signed-in beneficiary, their current plan
//! and their enrollment history, in one round trip ([`crate::enrollment`]).

use axum::extract::State;
use http::StatusCode;

use super::cookies;
use super::extract::SignedInUnconfirmed;
use super::table::{Route, get};
use crate::enrollment;
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The enrollment route.
pub fn routes() -> Vec<Route> {
    vec![get("/api/me/enrollment", enrollment)]
}

/// Answers from the personal pool; the query checks revocation itself.
async fn enrollment(
    State(state): State<AppState>,
    signed_in: SignedInUnconfirmed,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let view = enrollment::load(&db, signed_in.username(), Some(signed_in.session_param()))
        .await?
        .ok_or(ApiError::NotFound)?;
    drop(db);
    let resp = json_response(StatusCode::OK, &view);
    Ok(cookies::refreshed(resp, signed_in.refreshed()))
}
