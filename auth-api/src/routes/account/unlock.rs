//! The owner's way back in while strangers' guesses hold their account
//! ([`crate::auth::unlock`]): the link is mailed when the sign-in limit of
//! one account holds ([`offer_later`], called by `POST /api/login`), and
//! `POST /api/login/unlock` takes its token. The sign-in page at
//! `/signin/#token=…` reads the token from the link's fragment and posts it
//! here.

use std::net::IpAddr;

use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;

use crate::audit::{self, Event};
use crate::auth::{links, messages, unlock};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::routes::answers::Told;
use crate::routes::extract::{ClientIp, JsonBody};
use crate::state::AppState;

/// Mails `username`'s owner an unlock link, if the account exists, has a
/// verified address and has no live one, after the current request is
/// answered: the answer and its timing are the same for every username.
pub fn offer_later(state: &AppState, username: &str, client: IpAddr) {
    let state = state.clone();
    let username = username.to_string();
    tokio::spawn(async move {
        if let Err(error) = offer(&state, &username, client).await {
            tracing::warn!(%error, "unlock link not offered");
        }
    });
}

async fn offer(state: &AppState, username: &str, client: IpAddr) -> Result<(), ApiError> {
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let Some((to, token)) = unlock::offer(&*tx, username).await? else {
        return Ok(());
    };
    audit::record(
        &*tx,
        Event::SignInUnlockSent,
        Some(username),
        Some(client),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    let minutes = unlock::TTL.as_secs() / 60;
    let site = &state.config.mail.site_url;
    state.send_mail(to, messages::unlock_sign_in(site, &token, minutes));
    tracing::info!(user = %state.config.pseudonyms.log_tag(username), "unlock link mailed");
    Ok(())
}

/// The body of `POST /api/login/unlock`.
#[derive(Deserialize)]
pub struct UnlockRequest {
    token: String,
}

/// Uses an unlock link: the client's address becomes one its account signed
/// in from, which the account's own limit does not hold.
pub async fn use_link(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(UnlockRequest { token }): JsonBody<UnlockRequest>,
) -> Result<Resp, ApiError> {
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let Some(username) = unlock::unlock(&*tx, &state.config.pseudonyms, &token, client).await?
    else {
        audit::record(
            &*tx,
            Event::TokenRefused,
            None,
            Some(client),
            serde_json::json!({"purpose": "unlock_sign_in"}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%client, "unlock link refused");
        return Err(links::INVALID);
    };
    audit::record(
        &*tx,
        Event::SignInUnlocked,
        Some(&username),
        Some(client),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), %client, "sign-in unlocked");
    Ok(json_response(
        StatusCode::OK,
        &Told {
            message: "This device may sign in to your account now. Sign in below.",
            status: "unlocked",
        },
    ))
}
