//! Pseudonyms for usernames: a keyed HMAC-SHA-256.
//!
//! The throttling tables and the logs need to tell accounts apart without
//! holding usernames. People type passwords into the username field, so an
//! unkeyed digest would be a fast hash of some passwords, checkable offline
//! by anyone who reads the table or the logs. With a secret key it is not:
//! without the key a pseudonym says nothing.

use std::sync::Arc;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The shortest key accepted: as long as the HMAC-SHA-256 output.
pub const MIN_KEY_BYTES: usize = 32;

/// Turns usernames into pseudonyms under one secret key.
#[derive(Clone)]
pub struct Pseudonyms {
    key: Arc<hmac::Key>,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(<secret key>)")
    }
}

impl Pseudonyms {
    /// Keys pseudonyms with `secret`, or `None` if it is shorter than
    /// [`MIN_KEY_BYTES`].
    pub fn new(secret: &[u8]) -> Option<Self> {
        (secret.len() >= MIN_KEY_BYTES).then(|| Self {
            key: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        })
    }

    /// A random key that lives as long as the process: pseudonyms then differ
    /// between replicas and restarts, so failures are counted per process.
    pub fn ephemeral() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut secret = [0u8; MIN_KEY_BYTES];
        SystemRandom::new().fill(&mut secret)?;
        Ok(Self::new(&secret).expect("the key has the minimum length"))
    }

    /// The value an account is counted under: HMAC-SHA-256(key, username).
    pub fn account(&self, username: &str) -> Vec<u8> {
        hmac::sign(&self.key, username.as_bytes()).as_ref().to_vec()
    }

    /// A short tag for logs: lets an operator follow one account's events
    /// without the username appearing anywhere.
    pub fn log_tag(&self, username: &str) -> String {
        hex::encode(&self.account(username)[..6])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        assert!(Pseudonyms::new(&[7; MIN_KEY_BYTES - 1]).is_none());
        assert!(Pseudonyms::new(&[7; MIN_KEY_BYTES]).is_some());
    }

    #[test]
    fn matches_hmac_sha256_computed_from_its_definition() {
        // RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)), K zero-padded to 64 bytes.
        let key = [0x0b_u8; 32];
        let p = Pseudonyms::new(&key).unwrap();
        let expected = {
            use sha2::{Digest, Sha256};
            let mut ipad = [0x36_u8; 64];
            let mut opad = [0x5c_u8; 64];
            for (i, k) in key.iter().enumerate() {
                ipad[i] ^= k;
                opad[i] ^= k;
            }
            let inner = Sha256::new()
                .chain_update(ipad)
                .chain_update(b"ada")
                .finalize();
            Sha256::new()
                .chain_update(opad)
                .chain_update(inner)
                .finalize()
                .to_vec()
        };
        assert_eq!(p.account("ada"), expected);
        assert_eq!(p.log_tag("ada"), hex::encode(&expected[..6]));
    }
}
