//! Login users for demos and tests, with real password hashes.
//!
//! argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane) is slow on
//! purpose, so there are only a few dozen users, hashed in parallel. Their
//! salts come from the seed, which keeps the whole database deterministic.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rayon::prelude::*;
use whatever_database::rules::password::{ARGON2_LANES, ARGON2_MEMORY_KIB, ARGON2_PASSES};

use super::people::Beneficiary;
use super::rng::Rng;
use crate::{Error, Result};

/// The password of every seeded user. Public on purpose: the sample is for
/// demos and tests and holds no real person.
pub const DEMO_PASSWORD: &str = "whatever-demo-2026";

/// How many `demoNN` users there are.
pub const DEMO_USERS: usize = 25;

/// The user whose password is still a bcrypt hash from the old system.
pub const LEGACY_USER: &str = "legacy01";

/// The user whose beneficiary has no current plan.
pub const NO_PLAN_USER: &str = "demo-noplan";

/// argon2id with the parameters the auth-api hashes with
/// ([`whatever_database::rules::password`]), so seeded hashes are current.
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .expect("constant, valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// One row of `"user"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Login name.
    pub username: String,
    /// PHC string (`$argon2id$…`), or a legacy bcrypt hash (`$2b$…`).
    pub password: String,
    /// Contact address (on the reserved example.com domain).
    pub email: String,
    /// The beneficiary this login belongs to.
    pub beneficiary_id: i64,
}

/// Who gets a login: `with_plan` are beneficiaries with a current plan, in
/// the order demo users take them; `without_plan` one without.
pub fn make_users(
    seed: u64,
    with_plan: &[&Beneficiary],
    without_plan: Option<&Beneficiary>,
) -> Result<Vec<UserRow>> {
    let mut wanted: Vec<(String, i64, bool)> = with_plan
        .iter()
        .take(DEMO_USERS)
        .enumerate()
        .map(|(i, b)| (format!("demo{:02}", i + 1), b.beneficiary_id, false))
        .collect();
    if let Some(b) = with_plan.get(DEMO_USERS) {
        wanted.push((LEGACY_USER.to_string(), b.beneficiary_id, true));
    }
    if let Some(b) = without_plan {
        wanted.push((NO_PLAN_USER.to_string(), b.beneficiary_id, false));
    }
    let mut rng = Rng::derive(seed, "users");
    let salted: Vec<_> = wanted
        .into_iter()
        .map(|w| {
            let mut salt = [0u8; 16];
            rng.fill(&mut salt);
            (w, salt)
        })
        .collect();
    salted
        .into_par_iter()
        .map(|((username, beneficiary_id, legacy), salt)| {
            let password = if legacy {
                bcrypt_hash(&salt)?
            } else {
                argon2_hash(&salt)?
            };
            Ok(UserRow {
                email: format!("{username}@example.com"),
                username,
                password,
                beneficiary_id,
            })
        })
        .collect()
}

fn argon2_hash(salt: &[u8; 16]) -> Result<String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| Error::PasswordHash(e.to_string()))?;
    argon2id()
        .hash_password(DEMO_PASSWORD.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::PasswordHash(e.to_string()))
}

/// The cost the old system used (the Node bcrypt default).
const LEGACY_BCRYPT_COST: u32 = 10;

fn bcrypt_hash(salt: &[u8; 16]) -> Result<String> {
    bcrypt::hash_with_salt(DEMO_PASSWORD, LEGACY_BCRYPT_COST, *salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| Error::PasswordHash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_verify_and_use_the_owasp_parameters() {
        let hash = argon2_hash(&[7; 16]).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            argon2id()
                .verify_password(DEMO_PASSWORD.as_bytes(), &parsed)
                .is_ok()
        );
        assert!(argon2id().verify_password(b"wrong", &parsed).is_err());
        // Same salt, same hash: seeding is deterministic.
        assert_eq!(hash, argon2_hash(&[7; 16]).unwrap());
    }

    #[test]
    fn the_legacy_hash_is_bcrypt() {
        let hash = bcrypt_hash(&[1; 16]).unwrap();
        assert!(hash.starts_with("$2b$10$"), "{hash}");
        assert!(bcrypt::verify(DEMO_PASSWORD, &hash).unwrap());
    }
}
