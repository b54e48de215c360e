//! Where rendered objects go: a directory, memory, or a publisher.

use crate::Result;

/// Receives every rendered object of the site. Called from many rayon threads
/// at once, so implementations are `Sync`.
pub trait Sink: Sync {
    /// Stores one object under its site key, e.g. `zip/02134/index.html`.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
}
