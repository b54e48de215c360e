//! The Ed25519 keys that sign and verify session tokens.
//!
//! One key signs (the current one); verification also accepts the previous
//! one, so a rotation does not sign anybody out: tokens signed before the
//! switch stay valid until they expire. Each key is named by a `kid`, a short
//! hash of its public key, written in every token header so the verifier
//! picks the right key without trying them all.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a PEM document holding an Ed25519 private key.
    #[error("not an Ed25519 private key in PKCS#8 PEM form ({0})")]
    NotEd25519(String),
    /// The system random generator failed.
    #[error("could not generate a key: {0}")]
    Generate(String),
}

/// One key: what signs, what verifies, and its name.
struct Key {
    kid: String,
    public: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8(der).map_err(|e| KeyError::NotEd25519(e.to_string()))?;
        let public = pair.public_key().as_ref();
        Ok(Self {
            kid: key_id(public),
            public: public.to_vec(),
            encoding: EncodingKey::from_ed_der(der),
            decoding: DecodingKey::from_ed_der(public),
        })
    }

    fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes())
            .map_err(|e| KeyError::NotEd25519(e.to_string()))?;
        Self::from_pkcs8_der(encoding.inner())
    }
}

/// `kid`: the first 16 hex digits of the SHA-256 of the raw public key.
/// Public, stable across restarts, and different for every key.
fn key_id(public_key: &[u8]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// The signing key and the keys accepted for verification.
#[derive(Clone)]
pub struct Keyring {
    current: Arc<Key>,
    previous: Option<Arc<Key>>,
    ephemeral: bool,
}

impl std::fmt::Debug for Keyring {
    // Only the public names: a derived Debug would print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.kid)
            .field("previous", &self.previous.as_ref().map(|k| &k.kid))
            .field("ephemeral", &self.ephemeral)
            .finish()
    }
}

impl Keyring {
    /// Builds a keyring from PKCS#8 PEM documents: the current (signing)
    /// key and optionally the previous one.
    pub fn from_pem(current: &str, previous: Option<&str>) -> Result<Self, KeyError> {
        Ok(Self {
            current: Arc::new(Key::from_pem(current)?),
            previous: previous.map(Key::from_pem).transpose()?.map(Arc::new),
            ephemeral: false,
        })
    }

    /// A fresh random key held only in memory: its tokens die with the process.
    pub fn ephemeral() -> Result<Self, KeyError> {
        let der = generate_pkcs8()?;
        Ok(Self {
            current: Arc::new(Key::from_pkcs8_der(&der)?),
            previous: None,
            ephemeral: true,
        })
    }

    /// Whether the signing key was generated at start-up.
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// The `kid` of the signing key.
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// The raw 32-byte public key of the signing key.
    pub fn current_public_key(&self) -> &[u8] {
        &self.current.public
    }

    /// The signing key and its `kid`.
    pub(crate) fn signing(&self) -> (&str, &EncodingKey) {
        (&self.current.kid, &self.current.encoding)
    }

    /// The verification key named `kid`, if it is one we accept.
    pub(crate) fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.kid == kid)
            .map(|k| &k.decoding)
    }
}

/// A new Ed25519 private key as a PKCS#8 DER document.
pub fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
    Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map(|doc| doc.as_ref().to_vec())
        .map_err(|e| KeyError::Generate(e.to_string()))
}

/// A new Ed25519 private key as a PKCS#8 PEM document, the form
/// `JWT_SIGNING_KEY_FILE` holds (`openssl genpkey -algorithm ed25519` makes
/// the same).
pub fn generate_pem() -> Result<String, KeyError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(generate_pkcs8()?);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pem_loads_and_keeps_its_kid() {
        let pem = generate_pem().unwrap();
        let a = Keyring::from_pem(&pem, None).unwrap();
        let b = Keyring::from_pem(&pem, None).unwrap();
        assert_eq!(a.current_kid(), b.current_kid());
        assert_eq!(a.current_kid().len(), 16);
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }

    #[test]
    fn previous_key_verifies_but_does_not_sign() {
        let old = generate_pem().unwrap();
        let new = generate_pem().unwrap();
        let old_kid = Keyring::from_pem(&old, None)
            .unwrap()
            .current_kid()
            .to_string();
        let ring = Keyring::from_pem(&new, Some(&old)).unwrap();
        assert_ne!(ring.signing().0, old_kid);
        assert!(ring.verifying(&old_kid).is_some());
        assert!(ring.verifying("0000000000000000").is_none());
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let err = Keyring::from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("Ed25519"), "{err}");
    }
}
