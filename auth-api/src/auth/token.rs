//! Session tokens: EdDSA-signed JWTs.
//!
//! Verification pins the algorithm (`EdDSA` only, so `alg: none` and
//! HS256-with-the-public-key tricks fail), picks the key by `kid` among the
//! current and previous keys, and requires `exp`, `iat`, `sub`, `jti`, and
//! this service's `iss` and `aud`: a token some other issuer signed, or one
//! meant for another audience, is refused even if a key matches.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::Keyring;

/// Who issues session tokens (`iss`).
pub const ISSUER: &str = "https://www.whatever.gov";

/// Who session tokens are for (`aud`): this API and nothing else.
pub const AUDIENCE: &str = "https://www.whatever.gov/api";

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer: [`ISSUER`].
    pub iss: String,
    /// The audience: [`AUDIENCE`].
    pub aud: String,
    /// The username.
    pub sub: String,
    /// This token's unique id.
    pub jti: Uuid,
    /// The session this token belongs to: the `jti` of the token issued at
    /// login, carried by every token refreshed from it. Logout revokes it.
    pub sid: Uuid,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// When the password was checked (Unix seconds); bounds the session.
    pub auth_time: i64,
    /// A session that may do nothing but set up its second factor: an
    /// account that must have one and has none yet. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub setup_only: bool,
}

/// Why a token was refused. Callers answer every kind with the same 401.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The header has no `kid`, or names a key we do not hold.
    #[error("unknown signing key")]
    UnknownKey,
    /// Malformed, badly signed, wrong algorithm, expired or missing claims.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Signs `claims` with the current key, naming it in the header.
pub fn sign(keys: &Keyring, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    let (kid, key) = keys.signing();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, key)
}

/// Checks `token`'s signature and claims.
pub fn verify(keys: &Keyring, token: &str) -> Result<Claims, TokenError> {
    let header = jsonwebtoken::decode_header(token)?;
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.verifying(kid))
        .ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "jti", "iss", "aud"]);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    // Tokens are short-lived; a little clock skew between replicas is all
    // the leeway they get.
    validation.leeway = 5;
    Ok(jsonwebtoken::decode::<Claims>(token, key, &validation)?.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        let id = Uuid::new_v4();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "ada".into(),
            jti: id,
            sid: id,
            iat: now,
            exp: now + exp_in,
            auth_time: now,
            setup_only: false,
        }
    }

    #[test]
    fn a_signed_token_verifies() {
        let keys = Keyring::ephemeral().unwrap();
        let c = claims(60);
        assert_eq!(verify(&keys, &sign(&keys, &c).unwrap()).unwrap(), c);
    }

    #[test]
    fn another_keyring_refuses_it() {
        let token = sign(&Keyring::ephemeral().unwrap(), &claims(60)).unwrap();
        let other = Keyring::ephemeral().unwrap();
        assert!(matches!(
            verify(&other, &token),
            Err(TokenError::UnknownKey)
        ));
    }

    #[test]
    fn another_issuer_or_audience_is_refused() {
        let keys = Keyring::ephemeral().unwrap();
        let mut wrong_iss = claims(60);
        wrong_iss.iss = "https://evil.example".into();
        assert!(verify(&keys, &sign(&keys, &wrong_iss).unwrap()).is_err());
        let mut wrong_aud = claims(60);
        wrong_aud.aud = "https://www.whatever.gov/other".into();
        assert!(verify(&keys, &sign(&keys, &wrong_aud).unwrap()).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = Keyring::ephemeral().unwrap();
        let token = sign(&keys, &claims(-60)).unwrap();
        assert!(verify(&keys, &token).is_err());
    }
}
