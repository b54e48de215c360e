//! Staging: every rendered object is hashed and parked on disk, so a site of
//! a few GB never sits in memory and the upload reads each file once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::headers::{cache_control, content_type, object_hash};
use crate::site::sink::Sink;
use crate::{Error, Result};

/// One staged object: where its bytes are and what it will be stored as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedObject {
    /// The staged copy of the bytes.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of bytes and headers (see [`object_hash`]).
    pub sha256: String,
    /// `Content-Type` to store.
    pub content_type: &'static str,
    /// `Cache-Control` to store.
    pub cache_control: &'static str,
}

/// A whole rendered site, staged: site key → object. The files live as long
/// as this value.
#[derive(Debug)]
pub struct Staged {
    _dir: Option<tempfile::TempDir>,
    /// Every object, sorted by key.
    pub objects: BTreeMap<String, StagedObject>,
}

impl Staged {
    /// Total size of the staged objects.
    pub fn bytes(&self) -> u64 {
        self.objects.values().map(|o| o.size).sum()
    }
}

/// A [`Sink`] that hashes each object and writes it to a temporary directory.
pub struct StagingSink {
    dir: tempfile::TempDir,
    next: AtomicU64,
    objects: Mutex<BTreeMap<String, StagedObject>>,
}

impl StagingSink {
    /// A sink staging into a fresh temporary directory (under `TMPDIR`).
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("publish-stage-")
            .tempdir()
            .map_err(Error::io(
                "creating a staging directory in",
                std::env::temp_dir(),
            ))?;
        Ok(Self {
            dir,
            next: AtomicU64::new(0),
            objects: Mutex::new(BTreeMap::new()),
        })
    }

    /// Everything put so far.
    pub fn finish(self) -> Staged {
        let objects = self.objects.into_inner().unwrap_or_else(|e| e.into_inner());
        Staged {
            _dir: Some(self.dir),
            objects,
        }
    }
}

impl Sink for StagingSink {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        check_key(key)?;
        let content_type = content_type(key);
        let cache_control = cache_control(key);
        let sha256 = object_hash(bytes, content_type, cache_control);
        // Numbered names: no directories to create, no key can escape the dir.
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(n.to_string());
        std::fs::write(&path, bytes).map_err(Error::io("writing", &path))?;
        let object = StagedObject {
            path,
            size: bytes.len() as u64,
            sha256,
            content_type,
            cache_control,
        };
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        if objects.insert(key.to_owned(), object).is_some() {
            return Err(Error::Invalid(format!(
                "the site rendered {key:?} twice; every object must have one key"
            )));
        }
        Ok(())
    }
}

/// Stages a site already built into `dir` (by `generator build`): the files
/// are hashed where they are, not copied.
pub fn stage_dir(dir: &Path) -> Result<Staged> {
    let mut objects = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current).map_err(Error::io("reading", &current))?;
        for entry in entries {
            let entry = entry.map_err(Error::io("reading", &current))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(Error::io("reading", &path))?;
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let key = site_key(dir, &path)?;
            check_key(&key)?;
            let bytes = std::fs::read(&path).map_err(Error::io("reading", &path))?;
            let content_type = content_type(&key);
            let cache_control = cache_control(&key);
            let object = StagedObject {
                sha256: object_hash(&bytes, content_type, cache_control),
                size: bytes.len() as u64,
                path,
                content_type,
                cache_control,
            };
            objects.insert(key, object);
        }
    }
    Ok(Staged {
        _dir: None,
        objects,
    })
}

fn site_key(root: &Path, path: &Path) -> Result<String> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    parts.map(|p| p.join("/")).ok_or_else(|| {
        Error::Invalid(format!(
            "{} is not a UTF-8 path; site keys must be UTF-8",
            path.display()
        ))
    })
}

/// Keys the CDN cannot serve, or that would overwrite the publisher's own
/// state, are refused before anything is uploaded.
fn check_key(key: &str) -> Result<()> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.ends_with('/')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        || key.starts_with("_publish/")
        || key.starts_with("api/");
    if bad {
        return Err(Error::Invalid(format!(
            "{key:?} cannot be published: keys are relative paths without empty, '.' or '..' \
             parts, outside _publish/ (the manifest) and api/ (the API's paths)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn staging_from_many_threads_keeps_every_object_on_disk() {
        let sink = StagingSink::new().unwrap();
        (0..200).into_par_iter().for_each(|i| {
            sink.put(
                &format!("zip/{i:05}/index.html"),
                format!("<p>{i}</p>").as_bytes(),
            )
            .unwrap();
        });
        let staged = sink.finish();
        assert_eq!(staged.objects.len(), 200);
        let object = &staged.objects["zip/00042/index.html"];
        assert_eq!(std::fs::read(&object.path).unwrap(), b"<p>42</p>");
        assert_eq!(object.size, 9);
        assert_eq!(object.content_type, "text/html; charset=utf-8");
    }

    #[test]
    fn a_key_rendered_twice_is_an_error() {
        let sink = StagingSink::new().unwrap();
        sink.put("index.html", b"a").unwrap();
        let err = sink.put("index.html", b"b").unwrap_err().to_string();
        assert!(err.contains("\"index.html\" twice"), "{err}");
    }

    #[test]
    fn keys_outside_the_public_site_are_refused() {
        let sink = StagingSink::new().unwrap();
        for key in [
            "",
            "/index.html",
            "_publish/manifest.json",
            "api/x",
            "a//b",
            "a/../b",
            "zip/",
        ] {
            assert!(sink.put(key, b"x").is_err(), "{key:?} was accepted");
        }
    }

    #[test]
    fn a_built_directory_stages_with_the_same_hashes_as_the_sink() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plans/S1-001-0")).unwrap();
        std::fs::write(dir.path().join("plans/S1-001-0/index.html"), "plan").unwrap();
        std::fs::write(dir.path().join("index.html"), "home").unwrap();
        let from_dir = stage_dir(dir.path()).unwrap();
        let sink = StagingSink::new().unwrap();
        sink.put("plans/S1-001-0/index.html", b"plan").unwrap();
        sink.put("index.html", b"home").unwrap();
        let from_sink = sink.finish();
        let hashes = |s: &Staged| {
            s.objects
                .iter()
                .map(|(k, o)| (k.clone(), o.sha256.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(hashes(&from_dir), hashes(&from_sink));
        assert_eq!(from_dir.bytes(), 8);
    }
}
