//! Signing in and staying signed in: passwords, tokens, sessions and the
//! throttling of failed logins. HTTP Basic is not accepted anywhere.

pub mod authenticator;
pub mod factors;
pub mod keys;
pub mod login;
pub mod passkey;
pub mod password;
pub mod recovery_codes;
pub mod second_factor;
pub mod session;
pub mod throttle;
pub mod token;
pub mod totp;

pub use crate::client_addr::PeerAddr;
pub use session::{Session, SignedIn};

use crate::state::AppState;

/// Upkeep of the auth tables. Once at start (unless
/// `WRAP_LEGACY_HASHES_AT_START=false`), wraps any legacy bcrypt hash into
/// argon2id. Then every ten minutes, deletes revocations past their expiry,
/// failures older than the longest throttling window and addresses not
/// signed in from for longer than `LOGIN_KNOWN_CLIENT_SECS`, identity
/// checks older than the account-creation windows and links expired for a
/// day. Several
/// replicas doing it is harmless: every write is idempotent.
pub async fn prune_periodically(state: AppState) {
    if state.config.auth.wrap_legacy_at_start {
        match state.passwords.wrap_legacy_hashes(&state.pool).await {
            Ok(wrapped) => tracing::info!(wrapped, "legacy bcrypt hashes wrapped into argon2id"),
            Err(error) => tracing::warn!(%error, "wrapping legacy bcrypt hashes failed"),
        }
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let limits = &state.config.auth.throttle;
        let outcome = match state.pool.get().await {
            Ok(db) => match session::prune(&**db, limits.longest_window()).await {
                Ok(n) => match throttle::prune_known_clients(&**db, limits.known_client).await {
                    Ok(m) => crate::account::prune(&**db, &state.config.accounts)
                        .await
                        .map(|k| n + m + k),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(deleted) => tracing::debug!(deleted, "pruned expired auth rows"),
            Err(error) => tracing::warn!(%error, "pruning auth rows failed"),
        }
    }
}
