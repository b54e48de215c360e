//! Recovery codes: ten single-use codes, each standing in for the second
//! factor once. Given when the first factor is confirmed, replaced on
//! request (`POST /api/me/recovery-codes`), deleted with the last factor.
//! Only their SHA-256 digests are stored.

use axum::extract::State;
use http::{StatusCode, header};
use serde::Deserialize;
use tokio_postgres::GenericClient;

use super::factors;
use super::session::SignedIn;
use super::totp;
use crate::ApiError;
use crate::account::messages;
use crate::account::password::{self, Current};
use crate::audit::{self, Event};
use crate::client_addr::ClientIp;
use crate::http::{JsonBody, Resp, json_response};
use crate::state::AppState;

/// The answer to recovery codes asked of an account without a second factor.
fn no_factor() -> ApiError {
    ApiError::Conflict {
        code: "no_second_factor",
        message: "Recovery codes go with a second way to sign in. \
                  Set up an authenticator app or a passkey first."
            .into(),
    }
}

/// Replaces every recovery code of `username` with ten new ones, within the
/// caller's transaction; returns them as they are shown, once.
pub async fn replace(db: &impl GenericClient, username: &str) -> Result<Vec<String>, ApiError> {
    let codes = totp::new_recovery_codes()?;
    let digests: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_digest(c)).collect();
    db.execute(
        "DELETE FROM recovery_code WHERE username = $1",
        &[&username],
    )
    .await?;
    db.execute(
        "INSERT INTO recovery_code (username, code_hash) SELECT $1, unnest($2::bytea[])",
        &[&username, &digests],
    )
    .await?;
    Ok(codes)
}

/// Deletes every recovery code of `username`: they stand in for a second
/// factor, and there is none left.
pub async fn delete(db: &impl GenericClient, username: &str) -> Result<u64, ApiError> {
    Ok(db
        .execute(
            "DELETE FROM recovery_code WHERE username = $1",
            &[&username],
        )
        .await?)
}

/// The body of `POST /api/me/recovery-codes`.
#[derive(Deserialize)]
pub struct Regenerate {
    password: String,
}

/// `POST /api/me/recovery-codes`: ten new codes, shown this once; the old
/// ones stop working. Needs the current password and a second factor.
pub async fn regenerate(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
    JsonBody(Regenerate { password: typed }): JsonBody<Regenerate>,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let username = session.claims.sub.clone();
    if !factors::of(&**db, &username).await?.any() {
        return Err(no_factor());
    }
    drop(db);
    let purpose = "recovery_codes";
    let Some(Current { email, .. }) =
        password::check_current(&state, &username, typed, client, purpose).await?
    else {
        return Err(password::WRONG_PASSWORD);
    };
    let mut db = state.personal.get().await?;
    let tx = db.transaction().await?;
    factors::lock(&*tx, &username).await?;
    // The factor may have been removed meanwhile: codes for nothing are not given.
    if !factors::of(&*tx, &username).await?.any() {
        return Err(no_factor());
    }
    let codes = replace(&*tx, &username).await?;
    audit::record(
        &*tx,
        Event::RecoveryCodesReplaced,
        Some(&username),
        Some(client),
        serde_json::json!({"recovery_codes": codes.len()}),
    )
    .await?;
    tx.commit().await?;
    if let Some(email) = email {
        let site = &state.config.mail.site_url;
        state.send_mail(email, messages::recovery_codes_replaced(site));
    }
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "recovery codes replaced");
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"recovery_codes": codes}),
    );
    if let Some(fresh) = session.refreshed {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}
