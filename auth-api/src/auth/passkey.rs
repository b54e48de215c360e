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

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tokio_postgres::GenericClient;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use super::links;
use crate::error::ApiError;

/// How long a ceremony waits for the authenticator's answer, in seconds.
pub const CEREMONY_SECS: i64 = 300;

/// How many passkey sign-ins one client network may start per
/// [`SIGN_IN_WINDOW`]: each start stores a ceremony for
/// [`CEREMONY_SECS`], and anyone may start one, so without a limit
/// anonymous requests could fill the table.
pub const SIGN_IN_STARTS: u32 = 30;

/// The window [`SIGN_IN_STARTS`] counts in.
pub const SIGN_IN_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// How many passkeys one account may register.
pub const MAX_PER_ACCOUNT: i64 = 10;

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

/// Starts a ceremony: stores `state` and returns its token.
pub async fn begin(
    db: &impl GenericClient,
    purpose: &str,
    username: Option<&str>,
    state: &impl Serialize,
) -> Result<String, ApiError> {
    let state = serde_json::to_value(state)
        .map_err(|e| ApiError::Internal(format!("keeping a WebAuthn ceremony: {e}")))?;
    let ceremony = links::generate()?;
    db.execute(
        "INSERT INTO webauthn_ceremony (token_hash, purpose, username, state, expires_at)
         VALUES ($1, $2, $3, $4, now() + $5::float8 * interval '1 second')",
        &[
            &links::digest(&ceremony),
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
pub async fn take<T: serde::de::DeserializeOwned>(
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
            &[&links::digest(ceremony), &purpose, &username],
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
    /// When it was registered.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The credential id, base64url: what removal names.
    pub id: String,
    /// When it last signed in, if ever.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The owner's label.
    pub name: String,
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

/// The passkey named by `id` (base64url) in a route's path, as stored.
pub fn credential_id(id: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .filter(|bytes| !bytes.is_empty() && bytes.len() <= 1023)
        .ok_or(ApiError::NotFound)
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
