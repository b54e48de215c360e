//! Signing in and staying signed in: passwords, tokens, sessions and the
//! throttling of failed logins. HTTP Basic is not accepted anywhere.

pub mod keys;
pub mod login;
pub mod password;
pub mod session;
pub mod throttle;
pub mod token;

pub use crate::client_addr::PeerAddr;
pub use session::{Session, SignedIn};

use crate::state::AppState;

/// Every ten minutes, deletes revocations past their expiry and failures
/// older than the longest throttling window. Several replicas doing it is
/// harmless: the deletes are idempotent.
pub async fn prune_periodically(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let keep = state.config.auth.throttle.longest_window();
        let outcome = match state.pool.get().await {
            Ok(db) => session::prune(&**db, keep).await,
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(deleted) => tracing::debug!(deleted, "pruned expired auth rows"),
            Err(error) => tracing::warn!(%error, "pruning auth rows failed"),
        }
    }
}
