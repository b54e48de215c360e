//! The publisher's record of what the bucket holds, kept in the bucket at
//! `_publish/manifest.json` (never served: the CDN refuses `/_publish/*`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where the manifest lives, relative to the prefix.
pub const MANIFEST_KEY: &str = "_publish/manifest.json";

/// The manifest format this code writes and reads.
const VERSION: u32 = 1;

/// What the bucket holds, as far as the last publish knows.
///
/// `objects` are keys known to be live with that hash *and* invalidated at
/// the edge. `pending` are keys a publish started to change and may not have
/// finished (uploaded, deleted or invalidated): their state is unknown, so
/// the next publish uploads or deletes them again and invalidates them. This
/// is what lets a publish killed at any point converge on the next run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// Site key → SHA-256 of bytes and headers.
    pub objects: BTreeMap<String, String>,
    /// Keys in an unknown state.
    #[serde(default)]
    pub pending: BTreeSet<String>,
}

impl Manifest {
    /// An empty manifest of the current version.
    pub fn new() -> Self {
        Self {
            version: VERSION,
            ..Self::default()
        }
    }

    /// Reads a manifest; an unknown version is an error, so an old publisher
    /// never misreads a newer format.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| Error::Invalid(format!("{MANIFEST_KEY} is not a valid manifest: {e}")))?;
        if manifest.version != VERSION {
            return Err(Error::Invalid(format!(
                "{MANIFEST_KEY} has version {}, this publisher reads version {VERSION}",
                manifest.version
            )));
        }
        Ok(manifest)
    }

    /// The manifest as JSON.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }

    /// Every key the bucket may hold.
    pub fn live_keys(&self) -> BTreeSet<&str> {
        self.objects
            .keys()
            .chain(self.pending.iter())
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_versions() {
        let mut m = Manifest::new();
        m.objects.insert("index.html".into(), "ab".into());
        m.pending.insert("zip/02134/index.html".into());
        assert_eq!(Manifest::from_slice(&m.to_vec()).unwrap(), m);
        let err = Manifest::from_slice(br#"{"version":9,"objects":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 9"), "{err}");
        assert!(Manifest::from_slice(b"<html>").is_err());
        assert_eq!(m.live_keys().len(), 2);
    }
}
