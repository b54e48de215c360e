//! The site's scripts as browsers get them: esbuild bundles and minifies one
//! entry per page type (`templates/assets/pages/*.mjs`) with the ES modules
//! they import, splitting what several pages share into chunks, each file
//! named by a hash of its content and with its source map beside it.
//!
//! The generator runs esbuild on every build, over the sources embedded in
//! this binary, so a site never ships scripts older than its pages, and no
//! bundle is kept in the repository or needs building before `cargo build`.
//! esbuild's npm package holds a native executable: a build needs the
//! package (`npm ci`), not node itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::{Error, Result};

/// Where the page entries are, relative to `templates/assets/`.
const ENTRY_DIR: &str = "pages/";

/// What esbuild wrote.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// (file name, bytes): entries, shared chunks and their source maps.
    pub files: Vec<(String, Vec<u8>)>,
    /// Page type (the entry's stem, `zip` for `pages/zip.mjs`) to the file
    /// name of its bundle.
    pub entries: BTreeMap<String, String>,
}

/// The part of esbuild's metafile read here.
#[derive(Deserialize)]
struct Metafile {
    outputs: BTreeMap<String, Output>,
}

#[derive(Deserialize)]
struct Output {
    #[serde(rename = "entryPoint")]
    entry_point: Option<String>,
}

/// Bundles the `.mjs` files of `sources` (paths relative to
/// `templates/assets/`) with the esbuild executable at `esbuild`.
pub fn bundle(esbuild: &Path, sources: &[(&str, &[u8])]) -> Result<Bundle> {
    let work = tempfile::tempdir().map_err(Error::io("creating a directory for", "esbuild"))?;
    let src = work.path().join("src");
    let mut entries = Vec::new();
    for (rel, bytes) in sources.iter().filter(|(rel, _)| rel.ends_with(".mjs")) {
        let path = src.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        }
        std::fs::write(&path, bytes).map_err(Error::io("writing", &path))?;
        if rel.starts_with(ENTRY_DIR) && !rel[ENTRY_DIR.len()..].contains('/') {
            entries.push(format!("src/{rel}"));
        }
    }
    if entries.is_empty() {
        return Err(Error::Invalid(format!(
            "templates/assets/{ENTRY_DIR} holds no page entry (*.mjs) to bundle"
        )));
    }
    // Paths relative to the working directory keep the source maps, and so
    // the build, the same from one machine to the next.
    let output = Command::new(esbuild)
        .current_dir(work.path())
        .args(&entries)
        .args([
            "--bundle",
            "--splitting",
            "--format=esm",
            "--target=es2020",
            "--minify",
            "--sourcemap",
            "--legal-comments=none",
            "--charset=utf8",
            "--entry-names=[name]-[hash]",
            "--chunk-names=[name]-[hash]",
            "--outdir=out",
            "--metafile=meta.json",
            "--log-level=warning",
        ])
        .output()
        .map_err(|e| {
            Error::Invalid(format!(
                "cannot run esbuild ({}): {e}. Run `npm ci` at the workspace root, or set ESBUILD.",
                esbuild.display()
            ))
        })?;
    if !output.status.success() {
        return Err(Error::Invalid(format!(
            "esbuild failed on templates/assets/:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let meta_path = work.path().join("meta.json");
    let meta = std::fs::read(&meta_path).map_err(Error::io("reading", &meta_path))?;
    let meta: Metafile = serde_json::from_slice(&meta)
        .map_err(|e| Error::Invalid(format!("esbuild's metafile: {e}")))?;

    let mut bundle = Bundle::default();
    for (out, info) in meta.outputs {
        let name = out
            .strip_prefix("out/")
            .filter(|n| !n.contains('/'))
            .ok_or_else(|| Error::Invalid(format!("esbuild wrote {out}, outside its directory")))?;
        let path = work.path().join(&out);
        let bytes = std::fs::read(&path).map_err(Error::io("reading", &path))?;
        // A module a page loads with `import()` is an entry point of its
        // own to esbuild; only the pages' entries are what templates load.
        let page = info.entry_point.as_deref().and_then(|entry| {
            entry
                .strip_prefix("src/")?
                .strip_prefix(ENTRY_DIR)?
                .strip_suffix(".mjs")
        });
        if let Some(page) = page {
            bundle.entries.insert(page.to_string(), name.to_string());
        }
        bundle.files.push((name.to_string(), bytes));
    }
    bundle.files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The npm package's executable, as `npm ci` installs it.
    fn esbuild() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/esbuild/bin/esbuild")
    }

    #[test]
    fn each_page_gets_one_minified_hashed_bundle_and_shared_code_a_chunk() {
        let sources: &[(&str, &[u8])] = &[
            (
                "shared.mjs",
                b"export function greeting(name) { return `Hello, ${name}`; }",
            ),
            (
                "pages/a.mjs",
                b"import { greeting } from \"../shared.mjs\";\nconsole.log(greeting(\"a\"));",
            ),
            (
                "pages/b.mjs",
                b"import { greeting } from \"../shared.mjs\";\nconsole.log(greeting(\"b\"));\nimport(\"../later.mjs\");",
            ),
            ("later.mjs", b"export const later = 1;"),
            ("site.css", b"body{}"),
        ];
        let bundle = bundle(&esbuild(), sources).unwrap();
        let names: Vec<_> = bundle.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(bundle.entries.len(), 2, "{names:?}");
        let a = &bundle.entries["a"];
        assert!(a.starts_with("a-") && a.ends_with(".js"), "{a}");
        assert!(names.contains(&format!("{a}.map").as_str()), "{names:?}");
        // a, b, the shared chunk, the module b loads later, and a map for each.
        assert_eq!(names.len(), 8, "{names:?}");
        assert!(names.iter().any(|n| n.starts_with("later-")), "{names:?}");
        let text = |name: &str| {
            String::from_utf8(bundle.files.iter().find(|f| f.0 == name).unwrap().1.clone()).unwrap()
        };
        let a_text = text(a);
        assert!(!a_text.contains("greeting"), "not minified: {a_text}");
        assert!(a_text.contains("import"), "the chunk is imported: {a_text}");
        assert!(a_text.contains(&format!("sourceMappingURL={a}.map")));

        // Same sources, same files; a changed source, a new name.
        let again = super::bundle(&esbuild(), sources).unwrap();
        assert_eq!(again.files, bundle.files);
        let mut changed = sources.to_vec();
        changed[1].1 =
            b"import { greeting } from \"../shared.mjs\";\nconsole.log(greeting(\"A\"));";
        let changed = super::bundle(&esbuild(), &changed).unwrap();
        assert_ne!(changed.entries["a"], bundle.entries["a"]);
        assert_eq!(changed.entries["b"], bundle.entries["b"]);
    }

    #[test]
    fn a_broken_import_names_the_module() {
        let sources: &[(&str, &[u8])] = &[("pages/a.mjs", b"import { x } from \"../gone.mjs\";")];
        let err = bundle(&esbuild(), sources).unwrap_err().to_string();
        assert!(err.contains("gone.mjs"), "{err}");
        let err = bundle(Path::new("/nonexistent/esbuild"), sources)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ESBUILD"), "{err}");
    }
}
