//! `POST /api/accounts/verify-email`: the link mailed at account creation,
//! followed. The page at `/account/verify/` reads the token from the link's
//! fragment and posts it here.

use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;

use crate::audit::{self, Event};
use crate::auth::links::{self, Purpose};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::routes::answers::Told;
use crate::routes::extract::{ClientIp, JsonBody};
use crate::state::AppState;

/// The body of `POST /api/accounts/verify-email`.
#[derive(Deserialize)]
pub struct VerifyRequest {
    token: String,
}

/// Marks the address verified, once: the token is used up in the same
/// statement that checks it.
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(VerifyRequest { token }): JsonBody<VerifyRequest>,
) -> Result<Resp, ApiError> {
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let Some(username) = links::consume(&*tx, &token, Purpose::VerifyEmail).await? else {
        audit::record(
            &*tx,
            Event::TokenRefused,
            None,
            Some(client),
            serde_json::json!({"purpose": "verify_email"}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%client, "verification link refused");
        return Err(links::INVALID);
    };
    tx.execute(
        "UPDATE account SET email_verified_at = coalesce(email_verified_at, now())
          WHERE username = $1",
        &[&username],
    )
    .await?;
    audit::record(
        &*tx,
        Event::EmailVerified,
        Some(&username),
        Some(client),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "email verified");
    Ok(json_response(
        StatusCode::OK,
        &Told {
            message: "Your email address is confirmed. You can sign in now.",
            status: "verified",
        },
    ))
}
