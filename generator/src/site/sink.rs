//! Where rendered objects go: a directory, memory, or a publisher.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Receives every rendered object of the site. Called from many rayon threads
/// at once, so implementations are `Sync`.
pub trait Sink: Sync {
    /// Stores one object under its site key, e.g. `zip/02134/index.html`.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
}

/// Writes each object to `root/key`, creating directories as needed.
///
/// A file is written under a temporary name and renamed into place, so a
/// server reading the directory never sees half a page. There is no fsync per
/// file: a build interrupted by a crash is simply run again.
#[derive(Debug)]
pub struct DirSink {
    root: PathBuf,
    temp_counter: AtomicU64,
}

impl DirSink {
    /// A sink writing under `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(Error::io("creating directory", &root))?;
        Ok(Self {
            root,
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The directory written into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf> {
        // Keys come from the renderer, but a key that could climb out of the
        // root must never reach the file system.
        let safe = !key.is_empty()
            && !key.starts_with('/')
            && key.split('/').all(|part| {
                !part.is_empty() && part != "." && part != ".." && !part.contains('\\')
            });
        if !safe {
            return Err(Error::Invalid(format!(
                "refusing to write site key {key:?}: not a plain relative path"
            )));
        }
        Ok(self.root.join(key))
    }
}

impl Sink for DirSink {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(key)?;
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object");
        let temp = path.with_file_name(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        let write = |temp: &Path| -> std::io::Result<()> {
            let mut file = std::fs::File::create(temp)?;
            file.write_all(bytes)
        };
        if let Err(e) = write(&temp) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::io("writing", &temp)(e));
            }
            // First object in its directory: create it and try again.
            let parent = path.parent().unwrap_or(&self.root);
            std::fs::create_dir_all(parent).map_err(Error::io("creating directory", parent))?;
            write(&temp).map_err(Error::io("writing", &temp))?;
        }
        std::fs::rename(&temp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Error::io("renaming into place", &path)(e)
        })
    }
}

/// Keeps every object in memory, sorted by key: for tests and for callers
/// that want to inspect a whole (small) site.
#[derive(Debug, Default)]
pub struct MemorySink {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything stored so far, by key.
    pub fn into_objects(self) -> BTreeMap<String, Vec<u8>> {
        self.objects.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of one object.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).cloned()
    }

    /// The keys stored so far, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panicking writer cannot leave a map half-updated.
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for MemorySink {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        match self.lock().entry(key.to_string()) {
            std::collections::btree_map::Entry::Occupied(_) => Err(Error::Invalid(format!(
                "site key {key:?} was written twice"
            ))),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(bytes.to_vec());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_sink_creates_directories_and_replaces_files() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path().join("site")).unwrap();
        sink.put("zip/00501/index.html", b"first").unwrap();
        sink.put("zip/00501/index.html", b"second").unwrap();
        sink.put("index.html", b"home").unwrap();
        let page = std::fs::read(dir.path().join("site/zip/00501/index.html")).unwrap();
        assert_eq!(page, b"second");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("site/zip/00501"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("index.html")]);
    }

    #[test]
    fn dir_sink_refuses_keys_that_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        for key in ["../x", "/etc/x", "a//b", "a/./b", "", "a/../../b"] {
            let err = sink.put(key, b"x").unwrap_err();
            assert!(err.to_string().contains("refusing"), "{key}: {err}");
        }
    }

    #[test]
    fn memory_sink_keeps_objects_and_refuses_duplicates() {
        let sink = MemorySink::new();
        sink.put("b", b"2").unwrap();
        sink.put("a", b"1").unwrap();
        assert!(sink.put("a", b"again").is_err());
        assert_eq!(sink.keys(), vec!["a", "b"]);
        assert_eq!(sink.get("a").unwrap(), b"1");
    }
}
