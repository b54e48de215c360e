//! Password hashing: argon2id for everything new; hashes carried over from
//! the old system's bcrypt are kept only wrapped in argon2id.
//!
//! Every check does the same work whatever is stored, and whether the user
//! exists at all: one bcrypt at the old system's cost and one argon2id at
//! today's parameters. A legacy hash is wrapped as argon2id(bcrypt(password))
//! ([`wrap_legacy`], done to every bcrypt hash when the API starts), so it
//! costs exactly that; an argon2id hash gets a bcrypt it does not need; an
//! unknown user gets both. So the answer's timing tells nobody which kind of
//! account, if any, a username has.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU), so it runs on
//! the blocking pool and at most `LOGIN_CONCURRENCY` at a time: a login flood
//! queues behind the semaphore instead of starving the async runtime that
//! serves everyone else.
//!
//! Judging a new password's strength (`zxcvbn`, see
//! [`whatever_database::rules::password::judge`]) runs on the blocking pool
//! too, behind a semaphore of its own that does not queue: with every
//! permit taken the request is answered 503 with `Retry-After` at once, so a
//! flood of crafted passwords holds at most that many threads and never
//! grows a backlog.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use deadpool_postgres::Pool;
use tokio::sync::Semaphore;

use crate::ApiError;
use whatever_database::rules::password as password_rule;

// The parameters the demo seed hashes with too.
use whatever_database::rules::password::{
    ARGON2_LANES as LANES, ARGON2_MEMORY_KIB as MEMORY_KIB, ARGON2_PASSES as PASSES,
};

/// The bcrypt cost the old system used (the Node bcrypt default): what every
/// check spends on bcrypt, needed or not.
pub const LEGACY_BCRYPT_COST: u32 = 10;

/// How a wrapped legacy hash begins: `$bcrypt-argon2id$COST$SALT_HEX` then
/// the argon2id PHC string of the bcrypt hash (in its `$2b$` form).
const WRAPPED_PREFIX: &str = "$bcrypt-argon2id$";

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

/// The hashing one check performed (before any rehash of a right
/// password): what its time is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// The cost of the one bcrypt computed.
    pub bcrypt_cost: u32,
    /// Memory (KiB) and passes of the one argon2 computed.
    pub argon2_memory_kib: u32,
    /// Passes of that argon2.
    pub argon2_passes: u32,
}

/// Hashes and verifies passwords off the async runtime, a bounded number at
/// a time.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    judges: Arc<Semaphore>,
    checks: Arc<AtomicU64>,
    hashes: Arc<AtomicU64>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
/// Blocking: call it from a blocking thread (or a test).
pub fn hash_password(password: &str) -> String {
    argon2id_phc(password.as_bytes())
}

fn argon2id_phc(secret: &[u8]) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = argon2();
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut raw_salt)
        .expect("a generated salt decodes");
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        hash_into(&argon2, secret, raw_salt, out).map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .expect("argon2 hashing cannot fail with valid parameters");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).expect("our parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

/// Argon2's working memory (19 MiB a hash at today's parameters), kept for
/// the next hash instead of freed. Allocated anew for every hash, blocks of
/// this size end up held by the allocator's per-thread arenas on the
/// blocking pool's ever-changing threads: under a steady trickle of
/// sign-ins the API's resident memory climbed by hundreds of MiB. Kept
/// here, it is one buffer per hash that ever ran at once, which the
/// `LOGIN_CONCURRENCY` semaphore bounds.
static SCRATCH: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs argon2 into `out` on a scratch buffer from [`SCRATCH`].
fn hash_into(
    argon2: &Argon2<'_>,
    secret: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = argon2.params().block_count();
    let mut memory = SCRATCH
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let result = argon2.hash_password_into_with_memory(secret, salt, out, &mut memory[..]);
    SCRATCH
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(memory);
    result
}

/// Verified against when there is no argon2 hash to check (unknown users,
/// unwrapped bcrypt), so that those cost one argon2id too.
fn dummy_argon2() -> PasswordHash<'static> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc =
        DUMMY.get_or_init(|| hash_password("not a real password: nothing verifies against this"));
    PasswordHash::new(phc).expect("our own hash parses")
}

/// Wraps a legacy bcrypt hash into argon2id: the old password still
/// verifies, the bcrypt hash itself is no longer stored, and checking costs
/// what every other check costs. `None` if `bcrypt_hash` is not one.
/// Blocking, like [`hash_password`].
pub fn wrap_legacy(bcrypt_hash: &str) -> Option<String> {
    let parts = bcrypt::HashParts::from_str(bcrypt_hash).ok()?;
    let inner = argon2id_phc(parts.format_for_version(bcrypt::Version::TwoB).as_bytes());
    Some(format!(
        "{WRAPPED_PREFIX}{}${}{inner}",
        parts.get_cost(),
        hex::encode(parts.get_salt_raw())
    ))
}

/// The bcrypt cost, bcrypt salt and argon2id PHC string of a wrapped hash.
fn unwrap_legacy(stored: &str) -> Option<(u32, [u8; 16], PasswordHash<'_>)> {
    let rest = stored.strip_prefix(WRAPPED_PREFIX)?;
    let (cost, rest) = rest.split_once('$')?;
    let (salt, rest) = rest.split_at_checked(32)?;
    let mut raw = [0u8; 16];
    hex::decode_to_slice(salt, &mut raw).ok()?;
    Some((cost.parse().ok()?, raw, PasswordHash::new(rest).ok()?))
}

/// Checks `password` against a stored hash: argon2 PHC, wrapped legacy, or
/// (until wrapped) bare bcrypt. Blocking, like [`hash_password`].
pub fn verify_blocking(password: &str, stored: &str) -> Verdict {
    check(password, Some(stored)).0
}

/// Checks `password` against `stored`, or against nothing when there is no
/// such user (always [`Verdict::Rejected`] then), and says what work that
/// took: the same for every kind of stored hash at today's parameters.
/// Blocking, like [`hash_password`].
pub fn check(password: &str, stored: Option<&str>) -> (Verdict, Work) {
    let mut work = Work {
        bcrypt_cost: LEGACY_BCRYPT_COST,
        argon2_memory_kib: MEMORY_KIB,
        argon2_passes: PASSES,
    };
    let verdict = match stored {
        Some(stored) if stored.starts_with(WRAPPED_PREFIX) => match unwrap_legacy(stored) {
            Some((cost, salt, inner)) => {
                work.bcrypt_cost = cost;
                let legacy = bcrypt::hash_with_salt(password, cost, salt)
                    .map(|parts| parts.format_for_version(bcrypt::Version::TwoB));
                // An error (a cost out of range) still pays for the argon2.
                let legacy = legacy.unwrap_or_default();
                if argon2_verify(legacy.as_bytes(), &inner, &mut work) && !legacy.is_empty() {
                    Verdict::AcceptedRehash(hash_password(password))
                } else {
                    Verdict::Rejected
                }
            }
            None => reject_with_dummy_work(password, &mut work),
        },
        Some(stored) if stored.starts_with("$2") => {
            if let Ok(parts) = bcrypt::HashParts::from_str(stored) {
                work.bcrypt_cost = parts.get_cost();
            }
            let right = matches!(bcrypt::verify(password, stored), Ok(true));
            argon2_verify(password.as_bytes(), &dummy_argon2(), &mut work);
            if right {
                Verdict::AcceptedRehash(hash_password(password))
            } else {
                Verdict::Rejected
            }
        }
        Some(stored) => match PasswordHash::new(stored) {
            Ok(parsed) => {
                dummy_bcrypt(password);
                if !argon2_verify(password.as_bytes(), &parsed, &mut work) {
                    Verdict::Rejected
                } else if is_current(&parsed) {
                    Verdict::Accepted
                } else {
                    Verdict::AcceptedRehash(hash_password(password))
                }
            }
            Err(_) => reject_with_dummy_work(password, &mut work),
        },
        None => reject_with_dummy_work(password, &mut work),
    };
    (verdict, work)
}

/// Verifies `secret` against an argon2 hash and notes the work in `work`.
fn argon2_verify(secret: &[u8], hash: &PasswordHash<'_>, work: &mut Work) -> bool {
    if let Ok(params) = Params::try_from(hash) {
        work.argon2_memory_kib = params.m_cost();
        work.argon2_passes = params.t_cost();
    }
    // The parameters come from the stored hash, so old, weaker hashes still
    // verify; they are upgraded right after.
    argon2_matches(secret, hash).unwrap_or(false)
}

/// Whether `secret` hashes to `hash`, computed on scratch memory; `None`
/// when the stored hash cannot be read. The comparison is constant-time
/// (`Output`'s equality).
fn argon2_matches(secret: &[u8], hash: &PasswordHash<'_>) -> Option<bool> {
    let (salt, expected) = (hash.salt?, hash.hash?);
    let params = Params::try_from(hash).ok()?;
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut raw_salt).ok()?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = out.get_mut(..expected.len())?;
    hash_into(&argon2, secret, raw_salt, out).ok()?;
    Some(Output::new(out).ok()? == expected)
}

/// The work of a check that cannot succeed, done anyway.
fn reject_with_dummy_work(password: &str, work: &mut Work) -> Verdict {
    dummy_bcrypt(password);
    argon2_verify(password.as_bytes(), &dummy_argon2(), work);
    Verdict::Rejected
}

/// One bcrypt at the legacy cost, result unused.
fn dummy_bcrypt(password: &str) {
    std::hint::black_box(bcrypt::hash_with_salt(password, LEGACY_BCRYPT_COST, [0; 16]).ok());
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
    /// Allows `concurrency` hashes and `judges` strength checks at once.
    /// Computes the dummy hash, which takes one hash's time.
    pub fn new(concurrency: usize, judges: usize) -> Self {
        dummy_argon2();
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            judges: Arc::new(Semaphore::new(judges.max(1))),
            checks: Arc::default(),
            hashes: Arc::default(),
        }
    }

    /// How many passwords this process has checked: the number of guesses
    /// that got past the throttle, counted where the hashing happens.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// How many new passwords this process has hashed ([`Passwords::hash`]).
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Runs `f` on the blocking pool, once a permit is free.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("password hashing is shutting down".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| ApiError::Internal(format!("password hashing panicked: {e}")))
    }

    /// Judges the strength of `normalized`, a new password that passed
    /// [`password_rule::precheck`], for an account whose context is
    /// `context` (see [`password_rule::judge`]): on the blocking pool, or
    /// [`ApiError::Busy`] at once when every permit is taken. The permit
    /// goes with the work, so a client that gives up does not free it
    /// before the work is done.
    pub async fn judge(
        &self,
        normalized: String,
        context: Vec<String>,
    ) -> Result<Result<(), password_rule::Refusal>, ApiError> {
        let Ok(permit) = self.judges.clone().try_acquire_owned() else {
            metrics::counter!("password_strength_busy_total").increment(1);
            tracing::warn!("password strength check busy");
            return Err(ApiError::Busy { retry_after: 1 });
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let context: Vec<&str> = context.iter().map(String::as_str).collect();
            password_rule::judge(&normalized, &context)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password strength check panicked: {e}")))
    }

    /// Checks `password` against `stored`, or against nothing when there is
    /// no such user (always [`Verdict::Rejected`] then, in the same time).
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verdict, ApiError> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("password_checks_total").increment(1);
        self.blocking(move || check(&password, stored.as_deref()).0)
            .await
    }

    /// Checks a password as a person typed it: NFKC-normalized first, as
    /// passwords are chosen and hashed; a wrong one typed in another form
    /// (or chosen before normalization, and not in NFKC) is checked as typed
    /// too, for an account that exists.
    pub async fn verify_typed(
        &self,
        typed: String,
        stored: Option<String>,
    ) -> Result<Verdict, ApiError> {
        let normalized = password_rule::normalize(&typed);
        let as_typed = (normalized != typed && stored.is_some()).then_some(typed);
        let verdict = self.verify(normalized, stored.clone()).await?;
        match as_typed {
            Some(typed) if verdict == Verdict::Rejected => self.verify(typed, stored).await,
            _ => Ok(verdict),
        }
    }

    /// Hashes a new password (already normalized, see
    /// [`whatever_database::rules::password::normalize`]) with argon2id.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("password_hashes_total").increment(1);
        self.blocking(move || hash_password(&password)).await
    }

    /// Wraps every bcrypt hash left in `"user"` into argon2id (see
    /// [`wrap_legacy`]) and returns how many it wrapped. Each update is a
    /// compare-and-set, so replicas doing it at once, or a password change
    /// meanwhile, are harmless.
    pub async fn wrap_legacy_hashes(&self, pool: &Pool) -> Result<u64, ApiError> {
        let legacy = pool
            .get()
            .await?
            .query(
                r#"SELECT username, password FROM "user" WHERE password LIKE '$2%'"#,
                &[],
            )
            .await?;
        let mut wrapped = 0;
        for row in legacy {
            let (username, old): (String, String) = (row.get(0), row.get(1));
            let from = old.clone();
            let Some(new) = self.blocking(move || wrap_legacy(&from)).await? else {
                continue;
            };
            wrapped += pool
                .get()
                .await?
                .execute(
                    r#"UPDATE "user" SET password = $1 WHERE username = $2 AND password = $3"#,
                    &[&new, &username, &old],
                )
                .await?;
        }
        Ok(wrapped)
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// Our hashing and checking (on scratch memory) agree with the argon2
    /// crate's own allocating hasher and verifier, both ways, for every
    /// variant, version, output length and lane count a stored hash may have.
    #[test]
    fn scratch_memory_hashes_agree_with_the_argon2_crate() {
        let ours = hash_password("correct horse");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"correct horsf", &parsed)
                .is_err()
        );

        for (algorithm, version, lanes, output) in [
            (Algorithm::Argon2id, Version::V0x13, 1, 32),
            (Algorithm::Argon2i, Version::V0x13, 2, 16),
            (Algorithm::Argon2d, Version::V0x10, 4, 64),
        ] {
            let params = Params::new(64, 1, lanes, Some(output)).unwrap();
            let theirs = Argon2::new(algorithm, version, params)
                .hash_password(b"pw", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            let parsed = PasswordHash::new(&theirs).unwrap();
            assert_eq!(argon2_matches(b"pw", &parsed), Some(true), "{theirs}");
            assert_eq!(argon2_matches(b"pv", &parsed), Some(false), "{theirs}");
        }
    }

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
    fn a_wrapped_legacy_hash_keeps_the_old_password_and_not_the_bcrypt_hash() {
        let legacy = bcrypt::hash("hunter2", 4).unwrap();
        let wrapped = wrap_legacy(&legacy).unwrap();
        assert!(wrapped.starts_with("$bcrypt-argon2id$4$"), "{wrapped}");
        assert!(
            !wrapped.contains(&legacy[29..]),
            "the bcrypt digest is gone"
        );
        match verify_blocking("hunter2", &wrapped) {
            Verdict::AcceptedRehash(new) => {
                assert!(new.starts_with("$argon2id$"), "{new}");
                assert_eq!(verify_blocking("hunter2", &new), Verdict::Accepted);
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
        assert_eq!(verify_blocking("hunter3", &wrapped), Verdict::Rejected);
        // $2a$ and $2y$ hashes of the old system differ from $2b$ only in name.
        let old_style = legacy.replacen("$2b$", "$2a$", 1);
        let wrapped = wrap_legacy(&old_style).unwrap();
        assert!(matches!(
            verify_blocking("hunter2", &wrapped),
            Verdict::AcceptedRehash(_)
        ));
        assert_eq!(wrap_legacy("$argon2id$not bcrypt"), None);
    }

    #[test]
    fn a_damaged_wrapped_hash_rejects() {
        let wrapped = wrap_legacy(&bcrypt::hash("hunter2", 4).unwrap()).unwrap();
        for broken in [
            wrapped.replacen("$4$", "$x$", 1),
            wrapped[..40].to_string(),
            wrapped.replace("$argon2id$", "$argon2i$"),
        ] {
            assert_eq!(
                verify_blocking("hunter2", &broken),
                Verdict::Rejected,
                "{broken}"
            );
        }
    }

    #[test]
    fn every_kind_of_account_costs_one_bcrypt_and_one_argon2id() {
        // What the old system stored: bcrypt at its own cost.
        let legacy = bcrypt::hash("pw", 10).unwrap();
        let stored = [
            ("unknown user", None),
            ("argon2id", Some(hash_password("pw"))),
            ("wrapped legacy", Some(wrap_legacy(&legacy).unwrap())),
            ("unwrapped legacy", Some(legacy.clone())),
            ("unreadable", Some("plaintext".to_string())),
        ];
        let expected = Work {
            bcrypt_cost: 10,
            argon2_memory_kib: 19 * 1024,
            argon2_passes: 2,
        };
        for (kind, stored) in &stored {
            for password in ["pw", "wrong"] {
                let (_, work) = check(password, stored.as_deref());
                assert_eq!(work, expected, "{kind}, password {password}");
            }
        }
    }

    #[tokio::test]
    async fn a_strength_check_with_every_permit_taken_is_turned_away_not_queued() {
        let passwords = Passwords::new(1, 1);
        let held = passwords.judges.clone().try_acquire_owned().unwrap();
        let error = passwords
            .judge("orchid lantern basin thirty".into(), vec![])
            .await
            .expect_err("judged while every permit was taken");
        assert!(
            matches!(error, ApiError::Busy { retry_after: 1 }),
            "{error:?}"
        );
        let resp = error.response();
        assert_eq!(resp.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[http::header::RETRY_AFTER], "1");
        drop(held);
        assert_eq!(
            passwords
                .judge("orchid lantern basin thirty".into(), vec![])
                .await
                .unwrap(),
            Ok(())
        );
    }

    #[test]
    fn garbage_hash_rejects() {
        assert_eq!(verify_blocking("pw", "plaintext"), Verdict::Rejected);
    }
}
