//! Accounts people create and manage themselves: creation with proof of
//! identity ([`create`]), email verification ([`verify`]), the unlock link
//! of a held sign-in ([`unlock`]) and what the settings page shows of an
//! account (`GET /api/me/account`).

pub mod create;
pub mod unlock;
pub mod verify;

use std::sync::LazyLock;

use axum::extract::State;
use http::StatusCode;
use serde::Serialize;

use super::cookies;
use super::extract::SettingUp;
use super::table::{Route, get, post};
use crate::auth::factors::{self, Factors};
use crate::auth::passkey::{self, Listed};
use crate::auth::session;
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The account routes.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/accounts", create::create),
        post("/api/accounts/verify-email", verify::verify_email),
        post("/api/login/unlock", unlock::use_link),
        get("/api/me/account", account),
        post("/api/me/email/confirm", verify::confirm_address),
    ]
}

/// What the settings page shows of an account: its address, unused
/// recovery codes and second factors.
static ACCOUNT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT u.email, verified_email(u.username) IS NOT NULL,
                  (SELECT count(*) FROM recovery_code r
                    WHERE r.username = u.username AND r.used_at IS NULL),
                  {}
             FROM "user" u WHERE u.username = $1"#,
        factors::columns("u.username")
    )
});

/// `GET /api/me/account`: what the settings page shows about the account.
/// `second_factor.totp_removable` says whether the app may be removed
/// (not when it is the last factor of an account that must keep one).
async fn account(
    State(state): State<AppState>,
    SettingUp(session): SettingUp,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let username = &session.claims.sub;
    let row = db
        .query_opt(&*ACCOUNT_SQL, &[username])
        .await?
        .ok_or(session::UNAUTHORIZED)?;
    let (email, email_verified, left): (Option<String>, bool, i64) =
        (row.get(0), row.get(1), row.get(2));
    let factors = Factors::from_row(&row, 3);
    let passkeys = passkey::list(&**db, username).await?;
    let resp = json_response(
        StatusCode::OK,
        &Account {
            email,
            email_verified,
            second_factor: SecondFactors {
                passkeys,
                recovery_codes_left: left,
                totp: factors.totp,
                totp_removable: factors.totp && factors.may_remove_one(),
            },
            setup_only: session.claims.setup_only,
            username,
        },
    );
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}

/// What the settings page shows of an account.
#[derive(Serialize)]
struct Account<'a> {
    email: Option<String>,
    /// Whether the address is proven (see `verified_email`): only a
    /// verified address gets reset links and notices.
    email_verified: bool,
    second_factor: SecondFactors,
    setup_only: bool,
    username: &'a str,
}

/// An account's second factors.
#[derive(Serialize)]
struct SecondFactors {
    passkeys: Vec<Listed>,
    recovery_codes_left: i64,
    totp: bool,
    totp_removable: bool,
}
