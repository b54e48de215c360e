//! Embeds the site's stylesheet (`templates/assets/site.css`) and its built
//! front end (`templates/assets/dist/`, made by `npm run build`) in the
//! binary, beside the askama templates that link to them, so a binary always
//! ships the CSS and JS its pages were written for, and a build needs no
//! npm package. The ES modules are sources of `dist/`, not embedded: a
//! change to one alone does not rebuild the generator.

use std::fmt::Write as _;
use std::path::Path;

/// What is embedded, relative to `templates/assets/`.
const EMBEDDED: &[&str] = &["site.css", "dist"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../templates/assets");

    let mut files = Vec::new();
    for rel in EMBEDDED {
        let path = root.join(rel);
        println!("cargo::rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(&root, &path, &mut files);
        } else if path.is_file() {
            files.push(entry(&root, &path));
        }
    }
    // Sorted so the generated table, and so the build, is deterministic.
    files.sort();

    let mut out = String::from(
        "/// The embedded files of `templates/assets/`: (path relative to it, bytes).\n",
    );
    out.push_str("pub static SITE_ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        println!("cargo::rerun-if-changed={abs}");
        writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),").unwrap();
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("site_assets.rs"), out)
        .expect("writing site_assets.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("reading a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            files.push(self::entry(root, &path));
        }
    }
}

/// (path relative to `root` with `/`, absolute path).
fn entry(root: &Path, path: &Path) -> (String, String) {
    let rel = path
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    let abs = path.canonicalize().unwrap().to_string_lossy().into_owned();
    (rel, abs)
}
