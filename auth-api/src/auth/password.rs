//! Password hashing: argon2id for everything new, bcrypt accepted once for
//! hashes carried over from the old system.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU), so it runs on
//! the blocking pool and at most `LOGIN_CONCURRENCY` at a time: a login flood
//! queues behind the semaphore instead of starving the async runtime that
//! serves everyone else.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::ApiError;

// The parameters the demo seed hashes with too.
use whatever_database::rules::password::{
    ARGON2_LANES as LANES, ARGON2_MEMORY_KIB as MEMORY_KIB, ARGON2_PASSES as PASSES,
};

/// What checking a password found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Wrong password, unknown user, or an unreadable stored hash.
    Rejected,
    /// Right password, stored hash current.
    Accepted,
    /// Right password, but the stored hash is legacy or weaker than today's
    /// parameters: store this argon2id hash instead.
    AcceptedRehash(String),
}

/// Hashes and verifies passwords off the async runtime, a bounded number at
/// a time.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so that an unknown
    /// user costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
/// Blocking: call it from a blocking thread (or a test).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters")
        .to_string()
}

/// Checks `password` against a stored PHC (argon2) or bcrypt hash.
/// Blocking, like [`hash_password`].
pub fn verify_blocking(password: &str, stored: &str) -> Verdict {
    if stored.starts_with("$2") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::AcceptedRehash(hash_password(password)),
            _ => Verdict::Rejected,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::Rejected;
    };
    // Argon2's verifier takes its parameters from the stored hash, so old,
    // weaker hashes still verify; they are upgraded right after.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verdict::Rejected;
    }
    if is_current(&parsed) {
        Verdict::Accepted
    } else {
        Verdict::AcceptedRehash(hash_password(password))
    }
}

/// Whether a verified argon2 hash is argon2id with at least today's cost.
fn is_current(hash: &PasswordHash<'_>) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    hash.algorithm.as_str() == "argon2id"
        && params.m_cost() >= MEMORY_KIB
        && params.t_cost() >= PASSES
}

impl Passwords {
    /// Allows `concurrency` hashes at once. Computes the dummy hash, which
    /// takes one hash's time.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: hash_password("not a real password: unknown users verify against this")
                .into(),
        }
    }

    /// Checks `password` against `stored`, or against the dummy hash when
    /// there is no such user (always [`Verdict::Rejected`] then, in the same
    /// time).
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verdict, ApiError> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("password hashing is shutting down".into()))?;
        let dummy = self.dummy_hash.clone();
        tokio::task::spawn_blocking(move || match stored {
            Some(stored) => verify_blocking(&password, &stored),
            None => {
                let _ = verify_blocking(&password, &dummy);
                Verdict::Rejected
            }
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password check panicked: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(verify_blocking("correct horse", &h), Verdict::Accepted);
        assert_eq!(verify_blocking("wrong", &h), Verdict::Rejected);
    }

    #[test]
    fn bcrypt_is_accepted_and_upgraded() {
        let legacy = bcrypt::hash("hunter2", 4).unwrap();
        match verify_blocking("hunter2", &legacy) {
            Verdict::AcceptedRehash(new) => {
                assert!(new.starts_with("$argon2id$"));
                assert_eq!(verify_blocking("hunter2", &new), Verdict::Accepted);
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
        assert_eq!(verify_blocking("nope", &legacy), Verdict::Rejected);
    }

    #[test]
    fn weak_argon2_is_upgraded() {
        let weak = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(matches!(
            verify_blocking("pw", &weak),
            Verdict::AcceptedRehash(_)
        ));
    }

    #[test]
    fn garbage_hash_rejects() {
        assert_eq!(verify_blocking("pw", "plaintext"), Verdict::Rejected);
    }
}
