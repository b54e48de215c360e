//! How a request handler tells this process's worker that a request is
//! waiting.

use std::sync::Arc;

use tokio::sync::Notify;

/// Wakes this process's worker when a request is queued, so delivery starts
/// at once instead of at the next poll.
#[derive(Debug, Clone, Default)]
pub struct Wake(pub Arc<Notify>);

impl Wake {
    /// Signals that a new row is waiting.
    pub fn notify(&self) {
        self.0.notify_one();
    }
}
