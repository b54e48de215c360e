//! Accounts people create and manage themselves: creation with proof of
//! identity ([`create`]), email verification ([`verify`]), the single-use
//! links both rely on ([`token`]), the throttling of identity checks
//! ([`limits`]), passwords forgotten and changed ([`password`]) and the
//! sessions a person can end ([`sessions`]).

pub mod create;
pub mod limits;
pub mod messages;
pub mod password;
pub mod sessions;
pub mod token;
pub mod verify;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// Deletes identity checks no limit counts any more, links a day past their
/// expiry (refused either way; the day leaves them to look into), and
/// pending sign-ins and passkey ceremonies past theirs.
pub async fn prune(
    db: &impl tokio_postgres::GenericClient,
    config: &crate::config::AccountConfig,
) -> Result<u64, crate::ApiError> {
    let attempts = limits::prune(db, config).await?;
    let tokens = db
        .execute(
            "DELETE FROM account_token WHERE expires_at < now() - interval '1 day'",
            &[],
        )
        .await?;
    let pending = db
        .execute("DELETE FROM pending_sign_in WHERE expires_at < now()", &[])
        .await?;
    let ceremonies = crate::auth::passkey::prune(db).await?;
    Ok(attempts + tokens + pending + ceremonies)
}

/// The account routes, merged into the API's route table.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/accounts", post(create::create))
        .route("/api/accounts/verify-email", post(verify::verify_email))
        .route("/api/password/forgot", post(password::forgot))
        .route("/api/password/reset", post(password::reset))
        .route("/api/me/password", post(password::change))
        .route("/api/me/sessions", get(sessions::sessions))
        .route("/api/me/sessions/end-all", post(sessions::end_all))
        .route("/api/me/sessions/{id}/end", post(sessions::end_one))
}
