//! Passkeys (WebAuthn): registering one as a second factor
//! (`/api/me/passkeys/...`), and signing in with one alone
//! (`/api/login/passkey/...`). The ceremonies' state and the rules are the
//! domain's ([`crate::auth::passkey`]).

use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use super::extract::{ClientIp, JsonBody, OptionalJsonBody, SettingUp, SignedIn};
use super::table::{Route, post};
use super::{cookies, factors as factor_routes, login};
use crate::audit::{self, Event};
use crate::auth::factors::{self, Change};
use crate::auth::passkey::{
    Listed, MAX_PER_ACCOUNT, SIGN_IN_STARTS, SIGN_IN_WINDOW, begin, credential_id, take,
};
use crate::auth::session::{self, Way};
use crate::auth::{messages, recovery_codes, second_factor, throttle};
use crate::error::ApiError;
use crate::fulfillment::rate_limit;
use crate::http::{Resp, json_response};
use crate::state::AppState;

/// The passkey routes.
pub fn routes() -> Vec<Route> {
    vec![
        post("/api/login/passkey/start", sign_in_start),
        post("/api/login/passkey/finish", sign_in_finish),
        post("/api/me/passkeys/register/start", register_start),
        post("/api/me/passkeys/register/finish", register_finish),
        post("/api/me/passkeys/{id}/remove", remove),
    ]
}

/// The one answer to a sign-in that did not work, whatever the reason.
const NOT_ACCEPTED: ApiError = ApiError::Unauthorized(
    "That passkey was not accepted. Try again, or sign in with your password.",
);

/// The label a passkey gets when its owner gives none.
const DEFAULT_NAME: &str = "Passkey";

/// The body of `POST /api/me/passkeys/register/start`, which may be sent
/// without one.
#[derive(Deserialize, Default)]
pub struct RegisterStart {
    /// The current password: needed for an account that has a factor,
    /// unless the session signed in recently.
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/me/passkeys/register/start`: options for
/// `navigator.credentials.create()`. Open to a session that may only set up
/// its second factor: a passkey is one. An account that has a factor
/// already adds one with a recent sign-in or its password.
async fn register_start(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SettingUp(session): SettingUp,
    OptionalJsonBody(body): OptionalJsonBody<RegisterStart>,
) -> Result<Resp, ApiError> {
    let typed = body.and_then(|b| b.password);
    state
        .reauth()
        .confirm_addition(&session.claims, typed, client, "add_passkey")
        .await?;
    let db = state.personal.get().await?;
    let username = &session.claims.sub;
    // A random user handle, made once per account: the authenticator keeps
    // it and hands it back at sign-in.
    let handle: String = db
        .query_one(
            "WITH made AS (
                 INSERT INTO passkey_user (username, user_handle) VALUES ($1, $2::text::uuid)
                 ON CONFLICT (username) DO NOTHING
                 RETURNING user_handle
             )
             SELECT user_handle::text FROM made
             UNION ALL
             SELECT user_handle::text FROM passkey_user WHERE username = $1",
            &[username, &Uuid::new_v4().to_string()],
        )
        .await?
        .get(0);
    let handle = Uuid::parse_str(&handle)
        .map_err(|e| ApiError::Internal(format!("a stored user handle: {e}")))?;
    let existing: Vec<Vec<u8>> = db
        .query(
            "SELECT credential_id FROM passkey WHERE username = $1",
            &[username],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if existing.len() as i64 >= MAX_PER_ACCOUNT {
        return Err(ApiError::Conflict {
            code: "too_many_passkeys",
            message: format!(
                "This account has {MAX_PER_ACCOUNT} passkeys, the most it may have. \
                 Remove one you no longer use first."
            ),
        });
    }
    let (options, registration) = state
        .relying_party
        .start_passkey_registration(handle, username, username, Some(existing))
        .map_err(|e| ApiError::Internal(format!("starting a passkey registration: {e}")))?;
    let mut options = serde_json::to_value(options)
        .map_err(|e| ApiError::Internal(format!("passkey options: {e}")))?;
    // Discoverable, so that it can sign in without a username being typed.
    // (The library asks for none; what it checks is the same either way.)
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let ceremony = begin(&**db, "register", Some(username), &registration).await?;
    let resp = json_response(StatusCode::OK, &Ceremony { ceremony, options });
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}

/// The first half of a ceremony: its token, and the options for the browser.
#[derive(Serialize)]
struct Ceremony<T> {
    ceremony: String,
    options: T,
}

/// The body of `POST /api/me/passkeys/register/finish`.
#[derive(Deserialize)]
pub struct RegisterFinish {
    ceremony: String,
    #[serde(default)]
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

/// `POST /api/me/passkeys/register/finish`: the authenticator's answer. The
/// passkey counts from now on. The account's first second factor also gets
/// ten recovery codes (shown this once), and a session that could only set
/// up its factor becomes a full one.
async fn register_finish(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SettingUp(session): SettingUp,
    JsonBody(body): JsonBody<RegisterFinish>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    let name = if name.is_empty() { DEFAULT_NAME } else { name };
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::InvalidField {
            field: "name",
            message: "Give the passkey a name of at most 64 characters, on one line.".into(),
        });
    }
    let mut db = state.personal.get().await?;
    let username = session.claims.sub.clone();
    let registration: PasskeyRegistration =
        take(&**db, &body.ceremony, "register", Some(&username))
            .await?
            .ok_or(ApiError::InvalidField {
                field: "ceremony",
                message: "This passkey setup timed out. Please start again.".into(),
            })?;
    let passkey = state
        .relying_party
        .finish_passkey_registration(&body.credential, &registration)
        .map_err(|error| {
            tracing::info!(%error, "passkey registration refused");
            ApiError::InvalidField {
                field: "credential",
                message: "Your device's answer could not be checked. Please try again.".into(),
            }
        })?;
    let stored = serde_json::to_value(&passkey)
        .map_err(|e| ApiError::Internal(format!("keeping a passkey: {e}")))?;
    let tx = db.transaction().await?;
    factors::lock(&*tx, &username).await?;
    let had_factor = factors::of(&*tx, &username).await?.any();
    session::require_setup_open(&session, had_factor)?;
    let inserted = tx
        .execute(
            "INSERT INTO passkey (credential_id, username, name, passkey) VALUES ($1, $2, $3, $4)
             ON CONFLICT (credential_id) DO NOTHING",
            &[&passkey.cred_id().as_slice(), &username, &name, &stored],
        )
        .await?;
    if inserted != 1 {
        return Err(ApiError::Conflict {
            code: "already_registered",
            message: "This passkey is registered already.".into(),
        });
    }
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
            "factor": "passkey",
            "recovery_codes": codes.as_ref().map_or(0, Vec::len),
        }),
    )
    .await?;
    tx.commit().await?;
    state.notify(
        &username,
        messages::passkey_added(&state.config.mail.site_url),
    );
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "passkey added");
    let listed = Listed {
        id: URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice()),
        name: name.to_string(),
        created_at: chrono::Utc::now(),
        last_used_at: None,
    };
    let resp = json_response(
        StatusCode::OK,
        &Registered {
            passkey: listed,
            recovery_codes: codes,
        },
    );
    let fresh = if session.claims.setup_only {
        Some(session::lift_setup_only(
            &auth.keys,
            &auth.session,
            &session.claims,
        )?)
    } else {
        session.refreshed
    };
    Ok(cookies::refreshed(resp, fresh.as_ref()))
}

/// A passkey registered, with the recovery codes of a first factor.
#[derive(Serialize)]
struct Registered {
    passkey: Listed,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
}

/// `POST /api/login/passkey/start`: options for `navigator.credentials.get()`
/// that let the person pick any of their passkeys for this site. Anyone may
/// ask, [`SIGN_IN_STARTS`] times a minute per client network (429 past
/// that); nothing about any account is in the answer.
async fn sign_in_start(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
) -> Result<Resp, ApiError> {
    let db = state.pool.get().await?;
    rate_limit::check_as(
        &**db,
        &state.config.pseudonyms,
        "passkey-sign-in-start",
        client,
        SIGN_IN_STARTS,
        SIGN_IN_WINDOW,
    )
    .await?;
    let (mut options, authentication) = state
        .relying_party
        .start_discoverable_authentication()
        .map_err(|e| ApiError::Internal(format!("starting a passkey sign-in: {e}")))?;
    // The library asks for the browser's autofill ("conditional") form; the
    // page asks when the person presses its button instead.
    options.mediation = None;
    let ceremony = begin(&**db, "sign_in", None, &authentication).await?;
    // As a JSON value, whose keys come out sorted as they always have.
    let options = serde_json::to_value(options)
        .map_err(|e| ApiError::Internal(format!("passkey options: {e}")))?;
    Ok(json_response(
        StatusCode::OK,
        &Ceremony { ceremony, options },
    ))
}

/// The body of `POST /api/login/passkey/finish`.
#[derive(Deserialize)]
pub struct SignInFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

/// `POST /api/login/passkey/finish`: the authenticator's answer; opens a
/// session like a password and a second factor would. Any failure gets the
/// one answer (401, "That passkey was not accepted"); the log and the
/// audit trail say which.
async fn sign_in_finish(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignInFinish>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let rp = &state.relying_party;
    let db = state.pool.get().await?;
    let Some(authentication) =
        take::<DiscoverableAuthentication>(&**db, &body.ceremony, "sign_in", None).await?
    else {
        return Err(ApiError::Unauthorized(
            "This passkey sign-in timed out. Please try again.",
        ));
    };
    let Ok((handle, credential_id)) = rp.identify_discoverable_authentication(&body.credential)
    else {
        return refuse(&**db, client, "no_user_handle", None).await;
    };
    let found = db
        .query_opt(
            "SELECT p.username, p.passkey FROM passkey p JOIN passkey_user u USING (username)
              WHERE p.credential_id = $1 AND u.user_handle = $2::text::uuid",
            &[&credential_id, &handle.to_string()],
        )
        .await?;
    let Some(found) = found else {
        return refuse(&**db, client, "unknown_passkey", None).await;
    };
    let username: String = found.get(0);
    let mut passkey: Passkey = serde_json::from_value(found.get(1))
        .map_err(|e| ApiError::Internal(format!("reading a stored passkey: {e}")))?;
    let result = match rp.finish_discoverable_authentication_v2(
        &body.credential,
        authentication,
        &passkey,
    ) {
        Ok(result) => result,
        Err(error) => {
            tracing::info!(%error, "passkey assertion refused");
            return refuse(&**db, client, "assertion_refused", Some(&username)).await;
        }
    };
    // The signature counter and backup state move on; a counter that went
    // backwards was refused above (a cloned authenticator).
    passkey.update_credential(&result);
    let stored = serde_json::to_value(&passkey)
        .map_err(|e| ApiError::Internal(format!("keeping a passkey: {e}")))?;
    db.execute(
        "UPDATE passkey SET passkey = $2, last_used_at = now() WHERE credential_id = $1",
        &[&credential_id, &stored],
    )
    .await?;
    let pending = cookies::read(&headers, cookies::PENDING);
    let attempt = second_factor::finish_pending(&**db, pending, &username).await?;
    throttle::second_factor_succeeded(&**db, &state.config.pseudonyms, &username, client, attempt)
        .await?;
    let issued = session::start(
        &**db,
        &auth.keys,
        &auth.session,
        &username,
        false,
        client,
        Way::Passkey,
    )
    .await?;
    tracing::info!(
        user = %state.config.pseudonyms.log_tag(&username),
        session = %issued.claims.sid,
        "signed in with a passkey"
    );
    // A password step waiting for its second factor is done with.
    Ok(login::signed_in(&username, &issued))
}

/// Answers a refused passkey sign-in with `NOT_ACCEPTED`, having logged
/// and audited why.
async fn refuse(
    db: &impl GenericClient,
    client: std::net::IpAddr,
    reason: &'static str,
    username: Option<&str>,
) -> Result<Resp, ApiError> {
    tracing::info!(%client, reason, "passkey sign-in refused");
    audit::record(
        db,
        Event::SignInFailed,
        username,
        Some(client),
        serde_json::json!({"method": "passkey", "reason": reason}),
    )
    .await?;
    Err(NOT_ACCEPTED)
}

/// The body of `POST /api/me/passkeys/{id}/remove`.
#[derive(Deserialize)]
pub struct Remove {
    password: String,
}

/// `POST /api/me/passkeys/{id}/remove`: removes one of the account's
/// passkeys, given the current password. With no factor left (an account
/// from before second factors may go back to none), the recovery codes go
/// too.
async fn remove(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    JsonBody(Remove { password: typed }): JsonBody<Remove>,
) -> Result<Resp, ApiError> {
    let id = credential_id(&id)?;
    let username = session.claims.sub.clone();
    let mut change = state
        .reauth()
        .confirm_change(&username, typed, client, Change::RemovePasskey(id.clone()))
        .await?;
    let tx = change.transaction().await?;
    tx.execute("DELETE FROM passkey WHERE credential_id = $1", &[&id])
        .await?;
    let codes_deleted = factors::removed(&*tx, &username, client, "passkey").await?;
    tx.commit().await?;
    state.notify(
        &username,
        messages::passkey_removed(&state.config.mail.site_url),
    );
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), codes_deleted, "passkey removed");
    Ok(factor_routes::removed(
        codes_deleted,
        session.refreshed.as_ref(),
    ))
}
