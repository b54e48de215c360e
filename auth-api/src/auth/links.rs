//! Single-use links: 256 random bits, sent by mail, kept in `account_token`
//! only as their SHA-256 digest, with an expiry. Using one marks it used in
//! the same statement that checks it, so two requests racing with one link
//! cannot both succeed.

use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::ApiError;

/// What a token is for: the `purpose` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the account holder reads the mail sent to their address.
    VerifyEmail,
    /// Lets the account holder choose a new password.
    ResetPassword,
    /// Lets the account holder sign in from one device while strangers'
    /// guesses hold the account ([`crate::auth::unlock`]).
    UnlockSignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::UnlockSignIn => "unlock_sign_in",
        }
    }
}

/// The one answer to a token that is unknown, used or expired: which of the
/// three it was is nobody's business but the log's.
pub const INVALID: ApiError = ApiError::Unauthorized(
    "This link does not work any more: it was used already, or it expired. Ask for a new one.",
);

/// A fresh token, as the text that goes into the link.
pub fn generate() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the system random generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for `token`.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a token for `username` that works for `ttl`, and returns it.
pub async fn issue(
    db: &impl GenericClient,
    username: &str,
    purpose: Purpose,
    ttl: Duration,
) -> Result<String, ApiError> {
    let token = generate()?;
    db.execute(
        "INSERT INTO account_token (token_hash, username, purpose, expires_at)
         VALUES ($1, $2, $3, now() + $4::float8 * interval '1 second')",
        &[
            &digest(&token),
            &username,
            &purpose.as_str(),
            &ttl.as_secs_f64(),
        ],
    )
    .await?;
    Ok(token)
}

/// Whether a token for `purpose` was issued to `username` within `within`.
pub async fn issued_within(
    db: &impl GenericClient,
    username: &str,
    purpose: Purpose,
    within: Duration,
) -> Result<bool, ApiError> {
    Ok(db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM account_token
                             WHERE username = $1 AND purpose = $2
                               AND created_at > now() - $3::float8 * interval '1 second')",
            &[&username, &purpose.as_str(), &within.as_secs_f64()],
        )
        .await?
        .get(0))
}

/// Uses `token` up: the username it was issued to, if it exists, is for
/// `purpose`, has not been used and has not expired; `None` otherwise.
pub async fn consume(
    db: &impl GenericClient,
    token: &str,
    purpose: Purpose,
) -> Result<Option<String>, ApiError> {
    Ok(db
        .query_opt(
            "UPDATE account_token SET used_at = now()
              WHERE token_hash = $1 AND purpose = $2
                AND used_at IS NULL AND expires_at > now()
          RETURNING username",
            &[&digest(token), &purpose.as_str()],
        )
        .await?
        .map(|row| row.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_in_url_safe_text() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn the_stored_digest_is_sha256_of_the_token() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hex::encode(digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
