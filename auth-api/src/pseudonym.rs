//! Keyed pseudonyms: HMAC-SHA-256 under one secret key
//! (`PSEUDONYM_KEY_FILE`), the only form in which the API keeps what it
//! must recognise again but may not hold.
//!
//! The login throttle and the logs tell accounts apart by a pseudonym of
//! the username; the fulfillment caps and idempotency records count
//! recipients (name and address), client networks, idempotency keys and
//! request bodies by pseudonyms of those. People type passwords into the
//! username field, and names and addresses are few enough to guess: an
//! unkeyed digest of any of them could be confirmed offline by anyone who
//! reads the tables or the logs. Under a secret key it cannot; without the
//! key a pseudonym says nothing.
//!
//! Every use goes through [`Pseudonyms::keyed`]. The fulfillment inputs
//! start with a label of their use (`fulfillment-recipient:` and so on), so
//! one value counted in two places never has the same pseudonym in both.

use std::sync::Arc;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The shortest key accepted: as long as the HMAC-SHA-256 output.
pub const MIN_KEY_BYTES: usize = 32;

/// Turns values into pseudonyms under one secret key.
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
    /// between replicas and restarts, so every count keyed by them (failed
    /// logins, mail caps, idempotency keys) is kept per process.
    pub fn ephemeral() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut secret = [0u8; MIN_KEY_BYTES];
        SystemRandom::new().fill(&mut secret)?;
        Ok(Self::new(&secret).expect("the key has the minimum length"))
    }

    /// The pseudonym of `input`: HMAC-SHA-256(key, input), 32 bytes.
    pub fn keyed(&self, input: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, input).as_ref().to_vec()
    }

    /// The value an account is counted under: the pseudonym of the
    /// username itself, unlabelled (the form `login_failure.account` and
    /// `login_known_client.account` hold).
    pub fn account(&self, username: &str) -> Vec<u8> {
        self.keyed(username.as_bytes())
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
