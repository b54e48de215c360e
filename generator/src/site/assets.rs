//! Static assets with a content hash in their name, so the CDN can cache them
//! forever: our own stylesheet (`templates/assets/site.css`) and the built
//! front end (`templates/assets/dist/`: the script bundles, the USWDS
//! stylesheet compiled to what the pages use, its fonts and images), both
//! embedded in this binary.
//!
//! `dist/` is made by `npm run build` (scripts/assets.mjs: esbuild and sass)
//! and committed, so a build runs no node and needs no npm package: the
//! generator only names and writes those files. esbuild names each script
//! by its content already (the bundles import their chunks by those names);
//! the USWDS files share one hash over the whole set, which keeps the
//! relative URLs inside the stylesheet valid.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/site_assets.rs"));
}

/// Where the built front end is, among the embedded files.
const DIST: &str = "dist/";

/// What `npm run build` says of its output (`dist/manifest.json`); paths
/// are relative to `dist/`.
#[derive(Debug, Deserialize)]
struct Manifest {
    /// Page type to its script bundle, `js/zip-<hash>.js`.
    scripts: BTreeMap<String, String>,
    /// The compiled USWDS stylesheet, under `uswds/`.
    stylesheet: String,
    /// The font faces every page shows first (body text, headings), under
    /// `uswds/`.
    preload_fonts: Vec<String>,
}

/// The URLs templates link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUrls {
    /// `/assets/uswds-<hash>/css/uswds.css`
    pub uswds_css: String,
    /// `/assets/uswds-<hash>/img`, for the banner and header icons.
    pub uswds_img: String,
    /// The font faces pages preload (body text, headings):
    /// `/assets/uswds-<hash>/fonts/…woff2`
    pub font_preloads: Vec<String>,
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
    /// The embedded stylesheet and built front end, named for the site.
    pub fn collect() -> Result<Self> {
        Self::from_files(embedded::SITE_ASSETS)
    }

    /// `site` holds files by their path relative to `templates/assets/`.
    fn from_files(site: &[(&str, &[u8])]) -> Result<Self> {
        let find = |rel: &str| site.iter().find(|(r, _)| *r == rel).map(|(_, b)| *b);
        let missing = |rel: &str, why: &str| {
            Error::Invalid(format!(
                "templates/assets/{rel} is missing: {why}. Run `npm run build` after `npm ci`."
            ))
        };
        let mut files = Vec::new();

        let css = find("site.css").ok_or_else(|| missing("site.css", "the pages link to it"))?;
        let key = format!("assets/{}", hashed_name("site.css", css));
        let site_css = format!("/{key}");
        files.push((key, css.to_vec()));

        let manifest_path = format!("{DIST}manifest.json");
        let manifest = find(&manifest_path)
            .ok_or_else(|| missing(&manifest_path, "it names the page scripts"))?;
        let manifest: Manifest = serde_json::from_slice(manifest).map_err(|e| {
            Error::Invalid(format!(
                "templates/assets/{manifest_path} is not valid: {e}"
            ))
        })?;
        let built: BTreeSet<&str> = site
            .iter()
            .filter_map(|(rel, _)| rel.strip_prefix(DIST))
            .collect();
        let named = manifest
            .scripts
            .values()
            .chain([&manifest.stylesheet])
            .chain(&manifest.preload_fonts);
        for rel in named {
            if !built.contains(rel.as_str()) {
                let path = format!("{DIST}{rel}");
                return Err(missing(&path, "dist/manifest.json names it"));
            }
        }
        if let Some(page) = PAGE_TYPES
            .iter()
            .find(|p| !manifest.scripts.contains_key(**p))
        {
            return Err(missing(
                &format!("pages/{page}.mjs"),
                "the pages load its bundle",
            ));
        }

        let uswds: Vec<(&str, &[u8])> = site
            .iter()
            .filter_map(|(rel, bytes)| {
                Some((rel.strip_prefix(DIST)?.strip_prefix("uswds/")?, *bytes))
            })
            .collect();
        let mut hasher = Sha256::new();
        for (rel, bytes) in &uswds {
            hasher.update((rel.len() as u64).to_le_bytes());
            hasher.update(rel.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        let dir = format!("assets/uswds-{}", &hex::encode(hasher.finalize())[..10]);
        let under_dir = |rel: &str| {
            let rel = rel.strip_prefix("uswds/").unwrap_or(rel);
            format!("/{dir}/{rel}")
        };
        let urls = AssetUrls {
            uswds_css: under_dir(&manifest.stylesheet),
            uswds_img: format!("/{dir}/img"),
            font_preloads: manifest
                .preload_fonts
                .iter()
                .map(|f| under_dir(f))
                .collect(),
            site_css,
            scripts: manifest
                .scripts
                .iter()
                .map(|(page, rel)| (page.clone(), format!("/assets/{rel}")))
                .collect(),
        };
        files.extend(
            uswds
                .into_iter()
                .map(|(rel, bytes)| (format!("{dir}/{rel}"), bytes.to_vec())),
        );
        // Scripts and their source maps keep esbuild's names: the bundles
        // import their chunks by them.
        files.extend(site.iter().filter_map(|(rel, bytes)| {
            let js = rel.strip_prefix(DIST)?.strip_prefix("js/")?;
            Some((format!("assets/js/{js}"), bytes.to_vec()))
        }));
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

    /// A built front end as `npm run build` lays it out.
    fn built(manifest: &str) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("site.css".into(), b"body{}".to_vec()),
            ("pages/zip.mjs".into(), b"import './x.mjs'".to_vec()),
            ("dist/manifest.json".into(), manifest.as_bytes().to_vec()),
            ("dist/js/chunk-BBBB.js".into(), b"export{}".to_vec()),
            ("dist/js/chunk-BBBB.js.map".into(), b"{}".to_vec()),
            (
                "dist/uswds/css/uswds.css".into(),
                b"x{background:url(../img/a.svg)}".to_vec(),
            ),
            ("dist/uswds/img/a.svg".into(), b"<svg/>".to_vec()),
            ("dist/uswds/fonts/f.woff2".into(), b"wOF2".to_vec()),
        ];
        for page in PAGE_TYPES {
            files.push((
                format!("dist/js/{page}-AAAA.js"),
                b"import\"./chunk-BBBB.js\"".to_vec(),
            ));
        }
        files
    }

    fn manifest(pages: &[&str]) -> String {
        let scripts: BTreeMap<_, _> = pages
            .iter()
            .map(|p| (p.to_string(), format!("js/{p}-AAAA.js")))
            .collect();
        serde_json::json!({
            "scripts": scripts,
            "stylesheet": "uswds/css/uswds.css",
            "preload_fonts": ["uswds/fonts/f.woff2"],
        })
        .to_string()
    }

    fn collect(files: &[(String, Vec<u8>)]) -> Result<Assets> {
        let site: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(r, b)| (r.as_str(), b.as_slice()))
            .collect();
        Assets::from_files(&site)
    }

    #[test]
    fn the_built_front_end_gets_hashed_urls_and_every_file_is_written() {
        let files = built(&manifest(PAGE_TYPES));
        let assets = collect(&files).unwrap();
        let urls = &assets.urls;
        let dir = urls.uswds_img.strip_suffix("/img").unwrap();
        assert!(dir.starts_with("/assets/uswds-"), "{dir}");
        assert_eq!(urls.uswds_css, format!("{dir}/css/uswds.css"));
        assert_eq!(urls.font_preloads, [format!("{dir}/fonts/f.woff2")]);
        assert!(urls.site_css.starts_with("/assets/site-"), "{urls:?}");
        assert_eq!(urls.page_js("zip"), "/assets/js/zip-AAAA.js");

        let keys: Vec<String> = assets.files.iter().map(|f| format!("/{}", f.0)).collect();
        let mut want: Vec<String> = vec![
            urls.site_css.clone(),
            urls.uswds_css.clone(),
            urls.font_preloads[0].clone(),
            format!("{dir}/img/a.svg"),
            "/assets/js/chunk-BBBB.js".into(),
            "/assets/js/chunk-BBBB.js.map".into(),
        ];
        want.extend(PAGE_TYPES.iter().map(|p| urls.page_js(p).to_string()));
        want.sort();
        // The sources and the manifest stay out of the site.
        assert_eq!(keys, want);

        // Same input, same names; a changed USWDS file moves the set, not
        // the scripts or our stylesheet.
        assert_eq!(collect(&files).unwrap().urls, assets.urls);
        let mut changed = files.clone();
        changed
            .iter_mut()
            .find(|f| f.0 == "dist/uswds/img/a.svg")
            .unwrap()
            .1 = b"<svg></svg>".to_vec();
        let changed = collect(&changed).unwrap().urls;
        assert_ne!(changed.uswds_css, urls.uswds_css);
        assert_eq!(changed.site_css, urls.site_css);
        assert_eq!(changed.scripts, urls.scripts);
    }

    #[test]
    fn a_missing_build_or_page_entry_says_how_to_fix_it() {
        let mut files = built(&manifest(PAGE_TYPES));
        files.retain(|f| f.0 != "dist/manifest.json");
        let err = collect(&files).unwrap_err().to_string();
        assert!(
            err.contains("dist/manifest.json") && err.contains("npm run build"),
            "{err}"
        );

        let without_plan: Vec<_> = PAGE_TYPES
            .iter()
            .copied()
            .filter(|p| *p != "plan")
            .collect();
        let err = collect(&built(&manifest(&without_plan)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("pages/plan.mjs"), "{err}");

        let mut files = built(&manifest(PAGE_TYPES));
        files.retain(|f| f.0 != "dist/js/zip-AAAA.js");
        let err = collect(&files).unwrap_err().to_string();
        assert!(err.contains("dist/js/zip-AAAA.js"), "{err}");
    }

    /// The committed build, as this binary embeds it, is whole: every page
    /// type has a bundle, every chunk a bundle imports and every file the
    /// stylesheet points at is there. (Whether it is the build of the
    /// current sources is node's to check: tests/site/assets-dist.test.mjs.)
    #[test]
    fn the_embedded_front_end_is_whole() {
        let assets = Assets::collect().unwrap();
        let by_key: BTreeMap<&str, &[u8]> = assets
            .files
            .iter()
            .map(|(k, b)| (k.as_str(), b.as_slice()))
            .collect();
        let text = |key: &str| String::from_utf8(by_key[key].to_vec()).unwrap();
        for page in PAGE_TYPES {
            let js = assets.urls.page_js(page).trim_start_matches('/');
            assert!(by_key.contains_key(js), "no bundle for {page}");
        }
        // Every script's static and dynamic imports (`from"./x.js"`,
        // `import"./x.js"`, `import("./x.js")`) and its source map.
        let scripts = by_key
            .keys()
            .filter(|k| k.starts_with("assets/js/") && k.ends_with(".js"));
        for js in scripts {
            assert!(
                by_key.contains_key(format!("{js}.map").as_str()),
                "{js} has no map"
            );
            for import in text(js).split("\"./").skip(1) {
                let name = &import[..import.find('"').unwrap()];
                let key = format!("assets/js/{name}");
                assert!(by_key.contains_key(key.as_str()), "{js} imports {name}");
            }
        }
        let css_key = assets.urls.uswds_css.trim_start_matches('/');
        let css_dir = css_key.rsplit_once("/css/").unwrap().0;
        let css = text(css_key);
        let mut refs = 0;
        for piece in css.split("url(").skip(1) {
            let rel = piece.trim_start_matches(['"', '\'']);
            let Some(rel) = rel.strip_prefix("../") else {
                continue;
            };
            let rel = &rel[..rel.find([')', '"', '\'', '?', '#']).unwrap()];
            assert!(
                by_key.contains_key(format!("{css_dir}/{rel}").as_str()),
                "the stylesheet needs {rel}"
            );
            refs += 1;
        }
        assert!(
            css.contains("font-display:swap"),
            "fonts show text while they load"
        );
        assert!(refs > 5, "{refs} files named by the stylesheet");
        assert!(!assets.urls.font_preloads.is_empty());
        for font in &assets.urls.font_preloads {
            assert!(by_key.contains_key(font.trim_start_matches('/')), "{font}");
        }
        for image in [
            "us_flag_small.png",
            "favicons/favicon-40.png",
            "usa-icons/close.svg",
        ] {
            assert!(
                by_key.contains_key(format!("{css_dir}/img/{image}").as_str()),
                "{image}"
            );
        }
    }
}
