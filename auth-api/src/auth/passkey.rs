//! Passkeys (WebAuthn): registering one as a second factor, and signing in
//! with one alone, which is multi-factor by itself (a device the person
//! holds, unlocked by their fingerprint, face or PIN: the library requires
//! user verification).
//!
//! Every ceremony takes two requests: the first returns options with a
//! fresh challenge and a `ceremony` token; the second brings the
//! authenticator's answer and the token. What the library needs to check
//! the answer is kept in `webauthn_ceremony` under the token's digest, for
//! five minutes and one answer, so any replica can take the second request.
//!
//! Passkeys are registered as discoverable credentials: at sign-in the
//! browser offers the person's passkeys for this site without a username
//! being typed, so the sign-in page never says whether a username exists.

use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use super::session::{self, SignedIn};
use super::{factors, recovery_codes, second_factor, throttle};
use crate::ApiError;
use crate::account::password::{self, Current};
use crate::account::{messages, token};
use crate::audit::{self, Event};
use crate::client_addr::ClientIp;
use crate::http::{JsonBody, Resp, json_response};
use crate::state::AppState;

/// How long a ceremony waits for the authenticator's answer, in seconds.
pub const CEREMONY_SECS: i64 = 300;

/// How many passkeys one account may register.
pub const MAX_PER_ACCOUNT: i64 = 10;

/// The one answer to a sign-in that did not work, whatever the reason.
const NOT_ACCEPTED: ApiError = ApiError::Unauthorized(
    "That passkey was not accepted. Try again, or sign in with your password.",
);

/// The relying party for the public site at `site_url`: its host is the
/// passkeys' scope (the RP ID) and its origin the only one accepted.
/// Browsers accept no IP address as an RP ID: locally, the site is
/// `http://localhost:8000`, never `http://127.0.0.1:8000`.
pub fn relying_party(site_url: &str) -> Result<Webauthn, String> {
    let origin = Url::parse(site_url).map_err(|e| format!("{site_url:?} is not a URL: {e}"))?;
    let Some(rp_id) = origin.domain() else {
        return Err(format!(
            "{site_url:?} has no domain name, and passkeys need one (browsers take no IP \
             address as their scope); locally, use http://localhost:PORT"
        ));
    };
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|b| b.rp_name("whatever.gov").build())
        .map_err(|e| format!("{site_url:?} cannot be a passkey origin: {e}"))
}

/// The label a passkey gets when its owner gives none.
const DEFAULT_NAME: &str = "Passkey";

/// Starts a ceremony: stores `state` and returns its token.
async fn begin(
    db: &impl GenericClient,
    purpose: &str,
    username: Option<&str>,
    state: &impl Serialize,
) -> Result<String, ApiError> {
    let state = serde_json::to_value(state)
        .map_err(|e| ApiError::Internal(format!("keeping a WebAuthn ceremony: {e}")))?;
    let ceremony = token::generate()?;
    db.execute(
        "INSERT INTO webauthn_ceremony (token_hash, purpose, username, state, expires_at)
         VALUES ($1, $2, $3, $4, now() + $5::float8 * interval '1 second')",
        &[
            &token::digest(&ceremony),
            &purpose,
            &username,
            &state,
            &(CEREMONY_SECS as f64),
        ],
    )
    .await?;
    Ok(ceremony)
}

/// Ends a ceremony: takes its state out, once. `None` if the token is
/// unknown, expired, used, for another purpose or (for registration)
/// another person's.
async fn take<T: serde::de::DeserializeOwned>(
    db: &impl GenericClient,
    ceremony: &str,
    purpose: &str,
    username: Option<&str>,
) -> Result<Option<T>, ApiError> {
    let row = db
        .query_opt(
            "DELETE FROM webauthn_ceremony
              WHERE token_hash = $1 AND purpose = $2 AND username IS NOT DISTINCT FROM $3
                AND expires_at > now()
          RETURNING state",
            &[&token::digest(ceremony), &purpose, &username],
        )
        .await?;
    row.map(|row| {
        serde_json::from_value(row.get(0))
            .map_err(|e| ApiError::Internal(format!("reading a WebAuthn ceremony: {e}")))
    })
    .transpose()
}

/// Deletes ceremonies past their expiry.
pub async fn prune(db: &impl GenericClient) -> Result<u64, ApiError> {
    Ok(db
        .execute(
            "DELETE FROM webauthn_ceremony WHERE expires_at < now()",
            &[],
        )
        .await?)
}

/// A passkey as the settings page lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// The credential id, base64url: what removal names.
    pub id: String,
    /// The owner's label.
    pub name: String,
    /// When it was registered.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last signed in, if ever.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The passkeys of `username`, oldest first.
pub async fn list(db: &impl GenericClient, username: &str) -> Result<Vec<Listed>, ApiError> {
    let rows = db
        .query(
            "SELECT credential_id, name, created_at, last_used_at FROM passkey
              WHERE username = $1 ORDER BY created_at, credential_id",
            &[&username],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Listed {
            id: URL_SAFE_NO_PAD.encode(row.get::<_, Vec<u8>>(0)),
            name: row.get(1),
            created_at: row.get(2),
            last_used_at: row.get(3),
        })
        .collect())
}

/// `POST /api/me/passkeys/register/start`: options for
/// `navigator.credentials.create()`. Open to a session that may only set up
/// its second factor: a passkey is one.
pub async fn register_start(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Resp, ApiError> {
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
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
        .config
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
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"ceremony": ceremony, "options": options}),
    );
    if let Some(fresh) = session.refreshed {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
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
pub async fn register_finish(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
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
    let session = signed_in.confirm(&**db).await?;
    let username = session.claims.sub.clone();
    let registration: PasskeyRegistration =
        take(&**db, &body.ceremony, "register", Some(&username))
            .await?
            .ok_or(ApiError::InvalidField {
                field: "ceremony",
                message: "This passkey setup timed out. Please start again.".into(),
            })?;
    let passkey = state
        .config
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
    let email: Option<String> = tx
        .query_one(
            r#"SELECT email FROM "user" WHERE username = $1"#,
            &[&username],
        )
        .await?
        .get(0);
    tx.commit().await?;
    if let Some(email) = email {
        let site = &state.config.mail.site_url;
        state.send_mail(email, messages::passkey_added(site));
    }
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "passkey added");
    let listed = Listed {
        id: URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice()),
        name: name.to_string(),
        created_at: chrono::Utc::now(),
        last_used_at: None,
    };
    let mut answer = serde_json::json!({"passkey": listed});
    if let Some(codes) = codes {
        answer["recovery_codes"] = codes.into();
    }
    let mut resp = json_response(StatusCode::OK, &answer);
    let fresh = if session.claims.setup_only {
        Some(session::lift_setup_only(
            &auth.keys,
            &auth.session,
            &session.claims,
        )?)
    } else {
        session.refreshed
    };
    if let Some(fresh) = fresh {
        resp.headers_mut()
            .insert(header::SET_COOKIE, fresh.cookie());
    }
    Ok(resp)
}

/// `POST /api/login/passkey/start`: options for `navigator.credentials.get()`
/// that let the person pick any of their passkeys for this site. Anyone may
/// ask; nothing about any account is in the answer.
pub async fn sign_in_start(State(state): State<AppState>) -> Result<Resp, ApiError> {
    let (mut options, authentication) = state
        .config
        .relying_party
        .start_discoverable_authentication()
        .map_err(|e| ApiError::Internal(format!("starting a passkey sign-in: {e}")))?;
    // The library asks for the browser's autofill ("conditional") form; the
    // page asks when the person presses its button instead.
    options.mediation = None;
    let db = state.pool.get().await?;
    let ceremony = begin(&**db, "sign_in", None, &authentication).await?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({"ceremony": ceremony, "options": options}),
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
pub async fn sign_in_finish(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: http::HeaderMap,
    JsonBody(body): JsonBody<SignInFinish>,
) -> Result<Resp, ApiError> {
    let auth = &state.config.auth;
    let rp = &state.config.relying_party;
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
    let attempt = second_factor::finish_pending(&**db, &headers, &username).await?;
    throttle::second_factor_succeeded(&**db, &state.config.pseudonyms, &username, client, attempt)
        .await?;
    let issued = session::open(&auth.keys, &auth.session, &username)?;
    session::record(&**db, &auth.session, &issued.claims, client).await?;
    audit::record(
        &**db,
        Event::SignInSucceeded,
        Some(&username),
        Some(client),
        serde_json::json!({"session": issued.claims.sid, "method": "passkey"}),
    )
    .await?;
    tracing::info!(
        user = %state.config.pseudonyms.log_tag(&username),
        session = %issued.claims.sid,
        "signed in with a passkey"
    );
    let mut resp = json_response(
        StatusCode::OK,
        &serde_json::json!({"username": username, "expires_at": issued.expires_at()}),
    );
    let headers = resp.headers_mut();
    headers.append(header::SET_COOKIE, issued.cookie());
    // A password step waiting for its second factor is done with.
    headers.append(header::SET_COOKIE, second_factor::clearing_pending_cookie());
    Ok(resp)
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

/// The passkey named by `id` (base64url) in a route's path, as stored.
fn credential_id(id: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .filter(|bytes| !bytes.is_empty() && bytes.len() <= 1023)
        .ok_or(ApiError::NotFound)
}

/// The body of `POST /api/me/passkeys/{id}/remove`.
#[derive(Deserialize)]
pub struct Remove {
    password: String,
}

/// Whether the passkey `id` of `username` may be removed: it is theirs, and
/// not the last factor of an account that must keep one.
async fn removable(db: &impl GenericClient, username: &str, id: &[u8]) -> Result<(), ApiError> {
    let owned = db
        .query_opt(
            "SELECT 1 FROM passkey WHERE credential_id = $1 AND username = $2",
            &[&id, &username],
        )
        .await?
        .is_some();
    if !owned {
        return Err(ApiError::NotFound);
    }
    if !factors::of(db, username).await?.may_remove_one() {
        return Err(ApiError::Conflict {
            code: "last_factor",
            message: "Your account must keep a second way to sign in, and this passkey is \
                      its only one. Add another passkey or an authenticator app first."
                .into(),
        });
    }
    Ok(())
}

/// `POST /api/me/passkeys/{id}/remove`: removes one of the account's
/// passkeys, given the current password. With no factor left (an account
/// from before second factors may go back to none), the recovery codes go
/// too.
pub async fn remove(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    signed_in: SignedIn,
    Path(id): Path<String>,
    JsonBody(Remove { password: typed }): JsonBody<Remove>,
) -> Result<Resp, ApiError> {
    let id = credential_id(&id)?;
    let db = state.personal.get().await?;
    let session = signed_in.confirm(&**db).await?;
    let username = session.claims.sub.clone();
    // Refused before the password is asked: nothing is learnt from it.
    removable(&**db, &username, &id).await?;
    drop(db);
    let Some(Current { email, .. }) =
        password::check_current(&state, &username, typed, client, "remove_passkey").await?
    else {
        return Err(password::WRONG_PASSWORD);
    };
    let mut db = state.personal.get().await?;
    let tx = db.transaction().await?;
    factors::lock(&*tx, &username).await?;
    removable(&*tx, &username, &id).await?;
    tx.execute("DELETE FROM passkey WHERE credential_id = $1", &[&id])
        .await?;
    let codes_deleted = factors::removed(&*tx, &username, client, "passkey").await?;
    tx.commit().await?;
    if let Some(email) = email {
        let site = &state.config.mail.site_url;
        state.send_mail(email, messages::passkey_removed(site));
    }
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), codes_deleted, "passkey removed");
    Ok(factors::removed_response(codes_deleted, session.refreshed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_site_host() {
        let rp = relying_party("https://www.whatever.gov").unwrap();
        assert_eq!(
            rp.get_allowed_origins()[0].as_str(),
            "https://www.whatever.gov/"
        );
        relying_party("http://localhost:8000").unwrap();
    }

    #[test]
    fn an_ip_address_cannot_scope_passkeys() {
        let error = relying_party("http://127.0.0.1:8000").unwrap_err();
        assert!(error.contains("localhost"), "{error}");
        assert!(relying_party("not a url").is_err());
    }

    #[test]
    fn a_credential_id_in_a_path_is_base64url() {
        assert_eq!(credential_id("AQID").unwrap(), vec![1, 2, 3]);
        for bad in ["", "!!", "AQID=", &"A".repeat(2000)] {
            assert!(
                matches!(credential_id(bad), Err(ApiError::NotFound)),
                "{bad}"
            );
        }
    }
}
