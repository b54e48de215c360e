//! Second factors in the settings: the authenticator app (setting one up,
//! replacing it, removing it) and new recovery codes. Passkeys are in
//! [`super::passkeys`].
//!
//! Setting up takes two steps: `POST /api/me/totp` stores a new secret that
//! counts for nothing yet and shows it; `POST /api/me/totp/confirm` with a
//! code from the app makes it count. An account that has a confirmed app
//! gets the new secret as a *pending replacement* beside the old one, once
//! it typed its current password: the old app keeps working until a code
//! from the new one confirms it, and the swap is one statement, so there is
//! no moment with no app (nor with two). An account that has a passkey
//! adds an app with a recent sign-in or its password, and keeps its
//! recovery codes.

use axum::extract::State;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::cookies;
use super::extract::{ClientIp, JsonBody, OptionalJsonBody, SettingUp, SignedIn};
use super::table::{Route, post};
use crate::audit::{self, Event};
use crate::auth::factors::{self, Change};
use crate::auth::reauth::WRONG_PASSWORD;
use crate::auth::session::{self, IssuedToken};
use crate::auth::{messages, recovery_codes, totp};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The routes of the authenticator app and the recovery codes.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/me/totp", setup),
        post("/api/me/totp/confirm", confirm),
        post("/api/me/totp/remove", remove),
        post("/api/me/recovery-codes", regenerate),
    ]
}

/// A confirmation without a setup (or replacement) to confirm.
fn no_setup() -> ApiError {
    ApiError::Conflict {
        code: "no_setup",
        message: "Start setting up an authenticator app first.".into(),
    }
}

/// The body of `POST /api/me/totp`, which may be sent without one.
#[derive(Deserialize, Default)]
pub struct Setup {
    /// The current password: needed to replace a confirmed app, and to add
    /// one beside a passkey without a recent sign-in.
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/me/totp`: a new secret to add to an authenticator app, as
/// text, an `otpauth://` URI and a QR code (SVG). It counts once confirmed
/// with a code from the app ([`confirm`]). For an account that has a
/// confirmed app, it is a replacement, and needs the current password; for
/// one that has a passkey, a recent sign-in or the password.
async fn setup(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SettingUp(session): SettingUp,
    OptionalJsonBody(body): OptionalJsonBody<Setup>,
) -> Result<Resp, ApiError> {
    let username = session.claims.sub.clone();
    let typed = body.and_then(|b| b.password);
    if !factors::of(&**state.personal.get().await?, &username)
        .await?
        .totp
    {
        // A first factor needs nothing but the session; beside a passkey,
        // a recent sign-in or the password.
        state
            .reauth()
            .confirm_addition(&session.claims, typed.clone(), client, "add_authenticator")
            .await?;
    }
    let db = state.personal.get().await?;
    let secret = totp::new_secret()?;
    let stored = db
        .execute(
            "INSERT INTO totp_factor (username, secret) VALUES ($1, $2)
             ON CONFLICT (username) DO UPDATE
                SET secret = EXCLUDED.secret, created_at = now(), last_step = 0
              WHERE totp_factor.confirmed_at IS NULL",
            &[&username, &secret],
        )
        .await?;
    drop(db);
    if stored == 0 {
        let typed = typed.ok_or(ApiError::InvalidField {
            field: "password",
            message: "This account already has an authenticator app. To replace it, \
                      enter your current password."
                .into(),
        })?;
        let purpose = "replace_authenticator";
        if state
            .reauth()
            .check_current(&username, typed, client, purpose)
            .await?
            .is_none()
        {
            return Err(WRONG_PASSWORD);
        }
        let pending = state
            .personal
            .get()
            .await?
            .execute(
                "UPDATE totp_factor SET pending_secret = $2, pending_created_at = now()
                  WHERE username = $1 AND confirmed_at IS NOT NULL",
                &[&username, &secret],
            )
            .await?;
        if pending != 1 {
            return Err(ApiError::Conflict {
                code: "try_again",
                message: "Your authenticator app was changed meanwhile. Please start again.".into(),
            });
        }
    }
    let generator = totp::totp(&secret, &username)?;
    let (uri, qr_svg) = totp::enrollment(&generator)?;
    let resp = json_response(
        StatusCode::OK,
        &NewSecret {
            qr_svg,
            secret: totp::secret_text(&secret),
            uri,
        },
    );
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}

/// A new secret for the app, three ways.
#[derive(Serialize)]
struct NewSecret {
    qr_svg: String,
    secret: String,
    uri: String,
}

/// The body of `POST /api/me/totp/confirm`.
#[derive(Deserialize)]
pub struct Confirm {
    code: String,
}

/// `POST /api/me/totp/confirm`: the first code from the new app.
///
/// A first app counts from now on (`"status": "added"`); the answer
/// carries, for the account's first factor, ten new recovery codes (shown
/// this once; an account that has a passkey keeps its codes) and, for a
/// session that could only set up its factor, a full one. A replacement takes the old
/// app's place (`"status": "replaced"`): codes from the old one stop
/// working, the recovery codes stay.
async fn confirm(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SettingUp(session): SettingUp,
    JsonBody(Confirm { code }): JsonBody<Confirm>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let mut db = state.personal.get().await?;
    let username = session.claims.sub.clone();
    let row = db
        .query_opt(
            r#"SELECT t.secret, t.pending_secret, t.confirmed_at IS NOT NULL
                 FROM totp_factor t WHERE username = $1"#,
            &[&username],
        )
        .await?
        .ok_or_else(no_setup)?;
    let (secret, replacement, confirmed): (Vec<u8>, Option<Vec<u8>>, bool) =
        (row.get(0), row.get(1), row.get(2));
    let new_secret = match (confirmed, replacement) {
        (false, _) => secret,
        (true, Some(replacement)) => replacement,
        (true, None) => return Err(no_setup()),
    };
    let step =
        totp::check(&totp::totp(&new_secret, &username)?, &code, totp::now()).ok_or_else(|| {
            ApiError::InvalidField {
                field: "code",
                message: "That code is not right. Enter the 6-digit code your app shows now."
                    .into(),
            }
        })?;
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let tx = db.transaction().await?;
    let (body, fresh) = if confirmed {
        // The swap, compare-and-set on the secret the code was checked
        // against; the replay guard starts again at the new app's step.
        let swapped = tx
            .execute(
                "UPDATE totp_factor
                    SET secret = pending_secret, created_at = pending_created_at,
                        confirmed_at = now(), last_step = $2,
                        pending_secret = NULL, pending_created_at = NULL
                  WHERE username = $1 AND confirmed_at IS NOT NULL AND pending_secret = $3",
                &[&username, &step, &new_secret],
            )
            .await?;
        if swapped != 1 {
            return Err(no_setup());
        }
        audit::record(
            &*tx,
            Event::FactorReplaced,
            Some(&username),
            Some(client),
            serde_json::json!({"factor": "totp"}),
        )
        .await?;
        tx.commit().await?;
        state.notify(
            &username,
            messages::factor_replaced(&state.config.mail.site_url),
        );
        tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "authenticator app replaced");
        (
            Confirmed {
                recovery_codes: None,
                status: "replaced",
            },
            session.refreshed,
        )
    } else {
        factors::lock(&*tx, &username).await?;
        let had_factor = factors::of(&*tx, &username).await?.any();
        session::require_setup_open(&session, had_factor)?;
        let confirmed = tx
            .execute(
                "UPDATE totp_factor SET confirmed_at = now(), last_step = $2
                  WHERE username = $1 AND confirmed_at IS NULL AND secret = $3",
                &[&username, &step, &new_secret],
            )
            .await?;
        if confirmed != 1 {
            return Err(no_setup());
        }
        // Adding a factor never replaces the codes an account has.
        let codes = if had_factor {
            None
        } else {
            factors::first_added(&*tx, &username).await?;
            Some(recovery_codes::replace(&*tx, &username).await?)
        };
        audit::record(
            &*tx,
            Event::FactorAdded,
            Some(&username),
            Some(client),
            serde_json::json!({
                "factor": "totp",
                "recovery_codes": codes.as_ref().map_or(0, Vec::len),
            }),
        )
        .await?;
        tx.commit().await?;
        state.notify(
            &username,
            messages::factor_added(&state.config.mail.site_url),
        );
        tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "authenticator app added");
        let fresh = if session.claims.setup_only {
            Some(session::lift_setup_only(
                &auth.keys,
                &auth.session,
                &session.claims,
            )?)
        } else {
            session.refreshed
        };
        (
            Confirmed {
                recovery_codes: codes,
                status: "added",
            },
            fresh,
        )
    };
    let resp = json_response(StatusCode::OK, &body);
    Ok(cookies::refreshed(resp, fresh.as_ref()))
}

/// An app added (with the recovery codes of a first factor) or replaced.
#[derive(Serialize)]
struct Confirmed {
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
    status: &'static str,
}

/// The body of `POST /api/me/totp/remove`.
#[derive(Deserialize)]
pub struct Remove {
    password: String,
}

/// `POST /api/me/totp/remove`: removes the authenticator app, given the
/// current password. Refused (409 `last_factor`) for the last factor of an
/// account that must keep one. With no factor left, the recovery codes go
/// too.
async fn remove(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
    JsonBody(Remove { password: typed }): JsonBody<Remove>,
) -> Result<Resp, ApiError> {
    let username = session.claims.sub.clone();
    let mut change = state
        .reauth()
        .confirm_change(&username, typed, client, Change::RemoveTotp)
        .await?;
    let tx = change.transaction().await?;
    tx.execute("DELETE FROM totp_factor WHERE username = $1", &[&username])
        .await?;
    let codes_deleted = factors::removed(&*tx, &username, client, "totp").await?;
    tx.commit().await?;
    state.notify(
        &username,
        messages::factor_removed(&state.config.mail.site_url, codes_deleted),
    );
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), codes_deleted, "authenticator app removed");
    Ok(removed(codes_deleted, session.refreshed.as_ref()))
}

/// The answer to a removed factor (the app or a passkey), with the
/// session's refreshed cookie.
pub(super) fn removed(codes_deleted: bool, refreshed: Option<&IssuedToken>) -> Resp {
    let resp = json_response(
        StatusCode::OK,
        &Removed {
            recovery_codes_deleted: codes_deleted,
            status: "removed",
        },
    );
    cookies::refreshed(resp, refreshed)
}

/// A factor removed, and whether the recovery codes went with it.
#[derive(Serialize)]
struct Removed {
    recovery_codes_deleted: bool,
    status: &'static str,
}

/// The body of `POST /api/me/recovery-codes`.
#[derive(Deserialize)]
pub struct Regenerate {
    password: String,
}

/// `POST /api/me/recovery-codes`: ten new codes, shown this once; the old
/// ones stop working. Needs the current password and a second factor.
async fn regenerate(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
    JsonBody(Regenerate { password: typed }): JsonBody<Regenerate>,
) -> Result<Resp, ApiError> {
    let username = session.claims.sub.clone();
    let mut change = state
        .reauth()
        .confirm_change(&username, typed, client, Change::NewRecoveryCodes)
        .await?;
    let tx = change.transaction().await?;
    let codes = recovery_codes::replace(&*tx, &username).await?;
    audit::record(
        &*tx,
        Event::RecoveryCodesReplaced,
        Some(&username),
        Some(client),
        serde_json::json!({"recovery_codes": codes.len()}),
    )
    .await?;
    tx.commit().await?;
    state.notify(
        &username,
        messages::recovery_codes_replaced(&state.config.mail.site_url),
    );
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "recovery codes replaced");
    let resp = json_response(
        StatusCode::OK,
        &NewCodes {
            recovery_codes: codes,
        },
    );
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}

/// New recovery codes, shown this once.
#[derive(Serialize)]
struct NewCodes {
    recovery_codes: Vec<String>,
}
