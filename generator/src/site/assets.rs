//! Static assets with a content hash in their name, so the CDN can cache them
//! forever: our own CSS/JS (embedded from `templates/assets/`) and the US Web
//! Design System files (read from its npm package).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/site_assets.rs"));
}

/// The USWDS images the templates link to directly (the rest are found in
/// the stylesheet).
const USWDS_TEMPLATE_FILES: &[&str] = &[
    "css/uswds.min.css",
    "js/uswds.min.js",
    "img/us_flag_small.png",
    "img/icon-dot-gov.svg",
    "img/icon-https.svg",
    "img/usa-icons/close.svg",
    "img/usa-icons-bg/search--white.svg",
];

/// The URLs templates link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUrls {
    /// `/assets/uswds-<hash>/css/uswds.min.css`
    pub uswds_css: String,
    /// `/assets/uswds-<hash>/js/uswds.min.js`
    pub uswds_js: String,
    /// `/assets/uswds-<hash>/img`, for the banner and header icons.
    pub uswds_img: String,
    /// `/assets/site-<hash>.css`
    pub site_css: String,
    /// `/assets/site-<hash>.js`
    pub site_js: String,
    /// `/assets/rules-<hash>.js`: the product rules `site.js` applies.
    pub rules_js: String,
    /// `/assets/drugs-<hash>.mjs`: the drug list and its estimates (an ES
    /// module that imports the others by their hashed names).
    pub drugs_js: String,
    /// `/assets/account-<hash>.js`: the account pages' script, on those pages only.
    pub account_js: String,
}

/// Every asset object to write, and the URLs pages use.
#[derive(Debug, Clone)]
pub struct Assets {
    /// (site key, bytes), sorted by key.
    pub files: Vec<(String, Vec<u8>)>,
    /// Where the pages find them.
    pub urls: AssetUrls,
}

impl Assets {
    /// Hashes the embedded site assets and the USWDS files under `uswds_dist`.
    pub fn collect(uswds_dist: &Path) -> Result<Self> {
        Self::from_parts(embedded::SITE_ASSETS, uswds_dist)
    }

    fn from_parts(site: &[(&str, &[u8])], uswds_dist: &Path) -> Result<Self> {
        let mut files = Vec::new();
        let mut site_css = None;
        let mut site_js = None;
        let mut rules_js = None;
        let mut drugs_js = None;
        let mut account_js = None;
        for (rel, bytes) in link_modules(site)? {
            let bytes = match rel.as_str() {
                "rules.js" => super::rules::fill(&bytes)?,
                _ => bytes,
            };
            let key = format!("assets/{}", hashed_name(&rel, &bytes));
            match rel.as_str() {
                "site.css" => site_css = Some(format!("/{key}")),
                "site.js" => site_js = Some(format!("/{key}")),
                "rules.js" => rules_js = Some(format!("/{key}")),
                "drugs.mjs" => drugs_js = Some(format!("/{key}")),
                "account.js" => account_js = Some(format!("/{key}")),
                _ => {}
            }
            files.push((key, bytes));
        }
        let missing = |name: &str| {
            Error::Invalid(format!(
                "templates/assets/{name} is missing: the pages link to it"
            ))
        };
        let site_css = site_css.ok_or_else(|| missing("site.css"))?;
        let site_js = site_js.ok_or_else(|| missing("site.js"))?;
        let rules_js = rules_js.ok_or_else(|| missing("rules.js"))?;
        let drugs_js = drugs_js.ok_or_else(|| missing("drugs.mjs"))?;
        let account_js = account_js.ok_or_else(|| missing("account.js"))?;

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
            uswds_js: format!("/{dir}/js/uswds.min.js"),
            uswds_img: format!("/{dir}/img"),
            site_css,
            site_js,
            rules_js,
            drugs_js,
            account_js,
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

/// The site's files with each ES module's imports of its siblings
/// (`from "./drug-estimate.mjs"`, the names node's test runner resolves)
/// rewritten to their hashed names, so a module and what it imports are
/// cached, and replaced, together. Modules are linked after what they import.
fn link_modules(site: &[(&str, &[u8])]) -> Result<Vec<(String, Vec<u8>)>> {
    let is_module = |rel: &str| rel.ends_with(".mjs") && !rel.contains('/');
    let mut hashed: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut linked: Vec<Option<Vec<u8>>> = vec![None; site.len()];
    loop {
        let mut progress = false;
        for (i, (rel, bytes)) in site.iter().enumerate() {
            if linked[i].is_some() {
                continue;
            }
            if !is_module(rel) {
                linked[i] = Some(bytes.to_vec());
                progress = true;
                continue;
            }
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Error::Invalid(format!("templates/assets/{rel} is not UTF-8")))?;
            let imports = sibling_imports(text);
            if let Some(missing) = imports.iter().find(|m| !site.iter().any(|(r, _)| r == *m)) {
                return Err(Error::Invalid(format!(
                    "templates/assets/{rel} imports ./{missing}, which is not an asset"
                )));
            }
            if imports.iter().all(|m| hashed.contains_key(m)) {
                let mut out = text.to_string();
                for m in &imports {
                    out = out.replace(&format!("\"./{m}\""), &format!("\"./{}\"", hashed[m]));
                }
                hashed.insert(*rel, hashed_name(rel, out.as_bytes()));
                linked[i] = Some(out.into_bytes());
                progress = true;
            }
        }
        if linked.iter().all(Option::is_some) {
            break;
        }
        if !progress {
            return Err(Error::Invalid(
                "the ES modules of templates/assets/ import each other in a cycle".into(),
            ));
        }
    }
    Ok(site
        .iter()
        .zip(linked)
        .map(|((rel, _), bytes)| (rel.to_string(), bytes.unwrap_or_default()))
        .collect())
}

/// The sibling modules a module imports: every `"./name.mjs"` it quotes.
fn sibling_imports(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for piece in text.split("\"./").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let name = &piece[..end];
        if name.ends_with(".mjs")
            && name.len() > 4
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !found.contains(&name)
        {
            found.push(name);
        }
    }
    found
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
    fn modules_import_their_siblings_by_hashed_name() {
        let engine = b"export const f = 1;";
        let site: &[(&str, &[u8])] = &[
            (
                "a.mjs",
                b"import { g } from \"./b.mjs\"; import(\"./b.mjs\");",
            ),
            (
                "b.mjs",
                b"import { f } from \"./engine.mjs\"; export const g = f;",
            ),
            ("engine.mjs", engine),
            ("site.js", b"\"./a.mjs\""),
        ];
        let linked: std::collections::HashMap<_, _> =
            link_modules(site).unwrap().into_iter().collect();
        let engine_name = hashed_name("engine.mjs", engine);
        let b = String::from_utf8(linked["b.mjs"].clone()).unwrap();
        assert_eq!(
            b,
            format!("import {{ f }} from \"./{engine_name}\"; export const g = f;")
        );
        let b_name = hashed_name("b.mjs", b.as_bytes());
        let a = String::from_utf8(linked["a.mjs"].clone()).unwrap();
        assert_eq!(
            a,
            format!("import {{ g }} from \"./{b_name}\"; import(\"./{b_name}\");")
        );
        // Only modules are linked.
        assert_eq!(linked["site.js"], b"\"./a.mjs\"");

        let cycle: &[(&str, &[u8])] = &[("a.mjs", b"\"./b.mjs\""), ("b.mjs", b"\"./a.mjs\"")];
        assert!(
            link_modules(cycle)
                .unwrap_err()
                .to_string()
                .contains("cycle")
        );
        let dangling: &[(&str, &[u8])] = &[("a.mjs", b"\"./gone.mjs\"")];
        assert!(
            link_modules(dangling)
                .unwrap_err()
                .to_string()
                .contains("gone.mjs")
        );
    }

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
        let site: &[(&str, &[u8])] = &[
            ("drugs.mjs", b"import { f } from \"./engine.mjs\";"),
            ("engine.mjs", b"export const f = 1;"),
            ("account.js", b"//a"),
            ("rules.js", b"f(/*@rules@*/ null)"),
            ("site.css", b"body{}"),
            ("site.js", b"//"),
        ];
        let assets = Assets::from_parts(site, dist.path()).unwrap();
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
        assert!(keys.contains(&assets.urls.site_js.trim_start_matches('/')));
        assert!(keys.contains(&assets.urls.rules_js.trim_start_matches('/')));
        assert!(keys.contains(&assets.urls.drugs_js.trim_start_matches('/')));
        assert!(keys.contains(&assets.urls.account_js.trim_start_matches('/')));
        assert_eq!(keys.len(), USWDS_TEMPLATE_FILES.len() + 1 + 6);

        // Same input, same names; changed input, new names.
        let again = Assets::from_parts(site, dist.path()).unwrap();
        assert_eq!(again.urls, assets.urls);
        write("img/extra.svg", b"<svg></svg>");
        let changed = Assets::from_parts(site, dist.path()).unwrap();
        assert_ne!(changed.urls.uswds_css, assets.urls.uswds_css);
        assert_eq!(changed.urls.site_css, assets.urls.site_css);
    }

    #[test]
    fn a_missing_uswds_says_how_to_fix_it() {
        let site: &[(&str, &[u8])] = &[
            ("drugs.mjs", b""),
            ("account.js", b""),
            ("rules.js", b"/*@rules@*/ null"),
            ("site.css", b""),
            ("site.js", b""),
        ];
        let err = Assets::from_parts(site, Path::new("/nonexistent/dist")).unwrap_err();
        assert!(err.to_string().contains("USWDS_DIST"), "{err}");
    }
}
