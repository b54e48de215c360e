//! Static assets with a content hash in their name, so the CDN can cache them
//! forever: our own stylesheet (embedded from `templates/assets/`), the
//! script bundles esbuild makes of our ES modules ([`super::bundle`]), and
//! the US Web Design System files (read from its npm package).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::bundle::Bundle;
use crate::{Error, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/site_assets.rs"));
}

/// The USWDS images the templates link to directly (the rest are found in
/// the stylesheet).
const USWDS_TEMPLATE_FILES: &[&str] = &[
    "css/uswds.min.css",
    "img/us_flag_small.png",
    "img/favicons/favicon-40.png",
    "img/icon-dot-gov.svg",
    "img/icon-https.svg",
    "img/usa-icons/close.svg",
    "img/usa-icons-bg/search--white.svg",
];

/// Where the bundled scripts live under the site's root.
const SCRIPT_DIR: &str = "assets/js";

/// The URLs templates link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUrls {
    /// `/assets/uswds-<hash>/css/uswds.min.css`
    pub uswds_css: String,
    /// `/assets/uswds-<hash>/img`, for the banner and header icons.
    pub uswds_img: String,
    /// `/assets/site-<hash>.css`
    pub site_css: String,
    /// Page type (`zip`, `plan`, …: the entries of `templates/assets/pages/`)
    /// to the URL of its script bundle, `/assets/js/zip-<hash>.js`.
    pub scripts: BTreeMap<String, String>,
}

impl AssetUrls {
    /// The script bundle of a page type. Templates name only types that
    /// exist: [`Assets::collect`] refuses a build that lacks one of
    /// [`PAGE_TYPES`], so the empty fallback is never served.
    pub fn page_js(&self, page: &str) -> &str {
        self.scripts
            .get(page)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// The page types the templates load a bundle for.
pub const PAGE_TYPES: &[&str] = &[
    "account", "compare", "home", "myplan", "plan", "signin", "zip",
];

/// Every asset object to write, and the URLs pages use.
#[derive(Debug, Clone)]
pub struct Assets {
    /// (site key, bytes), sorted by key.
    pub files: Vec<(String, Vec<u8>)>,
    /// Where the pages find them.
    pub urls: AssetUrls,
}

impl Assets {
    /// Bundles the embedded scripts with esbuild, hashes the embedded
    /// stylesheet, and collects the USWDS files under `uswds_dist`.
    pub fn collect(esbuild: &Path, uswds_dist: &Path) -> Result<Self> {
        let bundle = super::bundle::bundle(esbuild, embedded::SITE_ASSETS)?;
        Self::from_parts(embedded::SITE_ASSETS, bundle, uswds_dist)
    }

    fn from_parts(site: &[(&str, &[u8])], bundle: Bundle, uswds_dist: &Path) -> Result<Self> {
        let mut files = Vec::new();
        let (_, css) = site
            .iter()
            .find(|(rel, _)| *rel == "site.css")
            .ok_or_else(|| {
                Error::Invalid("templates/assets/site.css is missing: the pages link to it".into())
            })?;
        let key = format!("assets/{}", hashed_name("site.css", css));
        let site_css = format!("/{key}");
        files.push((key, css.to_vec()));

        // esbuild names each file by its content already.
        files.extend(
            bundle
                .files
                .into_iter()
                .map(|(name, bytes)| (format!("{SCRIPT_DIR}/{name}"), bytes)),
        );
        let scripts: BTreeMap<String, String> = bundle
            .entries
            .into_iter()
            .map(|(page, name)| (page, format!("/{SCRIPT_DIR}/{name}")))
            .collect();
        if let Some(missing) = PAGE_TYPES.iter().find(|p| !scripts.contains_key(**p)) {
            return Err(Error::Invalid(format!(
                "templates/assets/pages/{missing}.mjs is missing: the pages load it"
            )));
        }

        let uswds = read_uswds(uswds_dist)?;
        // One hash over the whole set keeps the relative URLs inside the
        // stylesheet valid while still changing whenever any file does.
        let mut hasher = Sha256::new();
        for (rel, bytes) in &uswds {
            hasher.update((rel.len() as u64).to_le_bytes());
            hasher.update(rel.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        let dir = format!("assets/uswds-{}", &hex::encode(hasher.finalize())[..10]);
        let urls = AssetUrls {
            uswds_css: format!("/{dir}/css/uswds.min.css"),
            uswds_img: format!("/{dir}/img"),
            site_css,
            scripts,
        };
        files.extend(
            uswds
                .into_iter()
                .map(|(rel, bytes)| (format!("{dir}/{rel}"), bytes)),
        );
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self { files, urls })
    }
}

/// `site.css` → `site-<first 10 hex of sha256>.css`; a sub-directory is kept.
pub fn hashed_name(rel: &str, bytes: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(bytes));
    let hash = &hash[..10];
    let (dir, file) = match rel.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), rel),
    };
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{dir}{stem}-{hash}.{ext}"),
        _ => format!("{dir}{file}-{hash}"),
    }
}

/// The USWDS files the pages need, by path relative to `dist`, sorted.
fn read_uswds(dist: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let css_path = dist.join("css/uswds.min.css");
    let css = std::fs::read_to_string(&css_path).map_err(|e| {
        Error::Invalid(format!(
            "cannot read the US Web Design System stylesheet {}: {e}. \
             Run `npm ci` at the workspace root or set USWDS_DIST to its dist directory.",
            css_path.display()
        ))
    })?;
    let mut wanted: BTreeSet<String> = USWDS_TEMPLATE_FILES.iter().map(|s| s.to_string()).collect();
    wanted.extend(stylesheet_references(&css));
    wanted
        .into_iter()
        .map(|rel| {
            let path: PathBuf = dist.join(&rel);
            let bytes = std::fs::read(&path).map_err(Error::io("reading USWDS file", &path))?;
            Ok((rel, bytes))
        })
        .collect()
}

/// Paths (relative to the dist directory) of the files a stylesheet in
/// `dist/css/` points at with `url(../...)`, without query or fragment.
fn stylesheet_references(css: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for piece in css.split("url(").skip(1) {
        let piece = piece.trim_start_matches(['"', '\'']);
        let Some(rest) = piece.strip_prefix("../") else {
            continue;
        };
        let end = rest.find([')', '"', '\'', '?', '#']).unwrap_or(rest.len());
        let rel = &rest[..end];
        if !rel.is_empty() && !rel.split('/').any(|p| p == ".." || p.is_empty()) {
            found.insert(rel.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_stem_extension_and_directory() {
        let h = &hex::encode(Sha256::digest(b"x"))[..10];
        assert_eq!(hashed_name("site.css", b"x"), format!("site-{h}.css"));
        assert_eq!(
            hashed_name("img/logo.svg", b"x"),
            format!("img/logo-{h}.svg")
        );
        assert_eq!(hashed_name("LICENSE", b"x"), format!("LICENSE-{h}"));
    }

    #[test]
    fn stylesheet_references_are_found_once_without_queries() {
        let css = r#"a{background:url(../img/a.svg)}b{src:url("../fonts/f.woff2?v=1#x")}
                     c{background:url(data:image/png;base64,xyz)}d{background:url('../img/a.svg')}
                     e{background:url(../../etc/passwd)}"#;
        let refs: Vec<_> = stylesheet_references(css).into_iter().collect();
        assert_eq!(refs, vec!["fonts/f.woff2", "img/a.svg"]);
    }

    #[test]
    fn assets_get_hashed_urls_and_every_file_is_written() {
        let dist = tempfile::tempdir().unwrap();
        let write = |rel: &str, body: &[u8]| {
            let path = dist.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        };
        write("css/uswds.min.css", b"x{background:url(../img/extra.svg)}");
        write("img/extra.svg", b"<svg/>");
        for rel in USWDS_TEMPLATE_FILES.iter().skip(1) {
            write(rel, rel.as_bytes());
        }
        let site: &[(&str, &[u8])] = &[("site.css", b"body{}"), ("pages/zip.mjs", b"")];
        let assets = Assets::from_parts(site, fake_bundle(), dist.path()).unwrap();
        assert!(assets.urls.site_css.starts_with("/assets/site-"));
        assert!(assets.urls.uswds_css.ends_with("/css/uswds.min.css"));
        let keys: Vec<_> = assets.files.iter().map(|f| f.0.as_str()).collect();
        let dir = assets
            .urls
            .uswds_img
            .trim_start_matches('/')
            .trim_end_matches("/img");
        assert!(
            keys.contains(&format!("{dir}/img/extra.svg").as_str()),
            "{keys:?}"
        );
        assert!(keys.contains(&assets.urls.site_css.trim_start_matches('/')));
        assert_eq!(assets.urls.page_js("zip"), "/assets/js/zip-AAAA.js");
        for page in PAGE_TYPES {
            assert!(keys.contains(&assets.urls.page_js(page).trim_start_matches('/')));
        }
        assert!(keys.contains(&"assets/js/chunk-BBBB.js"));
        assert_eq!(
            keys.len(),
            USWDS_TEMPLATE_FILES.len() + 1 + 1 + PAGE_TYPES.len() + 1
        );

        // Same input, same names; changed input, new names.
        let again = Assets::from_parts(site, fake_bundle(), dist.path()).unwrap();
        assert_eq!(again.urls, assets.urls);
        write("img/extra.svg", b"<svg></svg>");
        let changed = Assets::from_parts(site, fake_bundle(), dist.path()).unwrap();
        assert_ne!(changed.urls.uswds_css, assets.urls.uswds_css);
        assert_eq!(changed.urls.site_css, assets.urls.site_css);
    }

    #[test]
    fn a_missing_uswds_or_page_entry_says_how_to_fix_it() {
        let site: &[(&str, &[u8])] = &[("site.css", b"")];
        let err =
            Assets::from_parts(site, fake_bundle(), Path::new("/nonexistent/dist")).unwrap_err();
        assert!(err.to_string().contains("USWDS_DIST"), "{err}");
        let mut bundle = fake_bundle();
        bundle.entries.remove("plan");
        let err = Assets::from_parts(site, bundle, Path::new("/nonexistent/dist")).unwrap_err();
        assert!(err.to_string().contains("pages/plan.mjs"), "{err}");
    }

    /// What esbuild returns for the page types and one shared chunk.
    fn fake_bundle() -> Bundle {
        let mut bundle = Bundle::default();
        for page in PAGE_TYPES {
            let name = format!("{page}-AAAA.js");
            bundle
                .files
                .push((name.clone(), b"import\"./chunk-BBBB.js\"".to_vec()));
            bundle.entries.insert(page.to_string(), name);
        }
        bundle
            .files
            .push(("chunk-BBBB.js".into(), b"export{}".to_vec()));
        bundle
    }
}
