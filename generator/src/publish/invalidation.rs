//! Which CloudFront paths a publish invalidates: the changed and deleted
//! pages, collapsed to one wildcard per directory when a directory has many,
//! within CloudFront's limits.

use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// CloudFront takes at most this many paths in one CreateInvalidation call.
pub const MAX_PATHS_PER_CALL: usize = 1_000;

/// CloudFront allows this many wildcard paths in progress at once.
const MAX_WILDCARDS: usize = 15;

/// CloudFront allows this many non-wildcard paths in progress at once.
const MAX_EXPLICIT_PATHS: usize = 3_000;

/// Characters left as they are in a path; CloudFront wants the rest encoded.
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The viewer paths that may be cached for a key. The edge rewrites `/x/` to
/// `/x/index.html`, so a directory page is invalidated under both names.
pub fn viewer_paths(key: &str) -> Vec<String> {
    let encoded = utf8_percent_encode(key, PATH_SAFE).to_string();
    match encoded.strip_suffix("index.html") {
        Some(dir) if dir.is_empty() || dir.ends_with('/') => {
            vec![format!("/{dir}"), format!("/{encoded}")]
        }
        _ => vec![format!("/{encoded}")],
    }
}

/// The directory whose wildcard covers a key: a directory page counts in
/// its parent (`zip/02134/index.html` → `zip`), a file in its own directory
/// (`data/zip/02134.json` → `data/zip`). Top-level keys have none.
fn group(key: &str) -> Option<&str> {
    let dir = key.rsplit_once('/').map(|(dir, _)| dir)?;
    if key.ends_with("/index.html") {
        dir.rsplit_once('/').map(|(parent, _)| parent)
    } else {
        Some(dir)
    }
}

/// The paths to invalidate for these changed or deleted keys: each key's
/// viewer paths, except that a directory with more than `threshold` paths
/// becomes `/dir/*`; if that still exceeds CloudFront's in-progress limits,
/// everything becomes `/*`. Sorted, without duplicates.
pub fn paths<'a>(keys: impl IntoIterator<Item = &'a str>, threshold: usize) -> Vec<String> {
    let mut by_group: BTreeMap<Option<&str>, BTreeSet<String>> = BTreeMap::new();
    for key in keys {
        by_group
            .entry(group(key))
            .or_default()
            .extend(viewer_paths(key));
    }
    let mut result = BTreeSet::new();
    let mut wildcards = 0;
    for (group, paths) in by_group {
        match group {
            Some(dir) if paths.len() > threshold => {
                wildcards += 1;
                result.insert(format!("/{}/*", utf8_percent_encode(dir, PATH_SAFE)));
            }
            _ => result.extend(paths),
        }
    }
    if wildcards > MAX_WILDCARDS || result.len() - wildcards > MAX_EXPLICIT_PATHS {
        return vec!["/*".to_owned()];
    }
    result.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_pages_are_invalidated_under_both_names() {
        assert_eq!(viewer_paths("index.html"), ["/", "/index.html"]);
        assert_eq!(
            viewer_paths("zip/02134/index.html"),
            ["/zip/02134/", "/zip/02134/index.html"]
        );
        assert_eq!(
            viewer_paths("data/zip/02134.json"),
            ["/data/zip/02134.json"]
        );
        assert_eq!(viewer_paths("404.html"), ["/404.html"]);
        assert_eq!(viewer_paths("notindex.html"), ["/notindex.html"]);
        assert_eq!(viewer_paths("plans/a b/index.html")[0], "/plans/a%20b/");
    }

    #[test]
    fn few_changes_are_listed_one_by_one() {
        let paths = paths(
            ["zip/02134/index.html", "data/zip/02134.json", "index.html"],
            300,
        );
        assert_eq!(
            paths,
            [
                "/",
                "/data/zip/02134.json",
                "/index.html",
                "/zip/02134/",
                "/zip/02134/index.html"
            ]
        );
    }

    #[test]
    fn a_busy_directory_becomes_one_wildcard() {
        let keys: Vec<String> = (0..200).map(|i| format!("zip/{i:05}/index.html")).collect();
        let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
        all.push("data/zip/00001.json");
        all.push("index.html");
        let paths = paths(all, 300);
        assert_eq!(
            paths,
            ["/", "/data/zip/00001.json", "/index.html", "/zip/*"]
        );
    }

    #[test]
    fn too_many_wildcards_become_everything() {
        let keys: Vec<String> = (0..20)
            .flat_map(|d| (0..5).map(move |i| format!("d{d}/{i}.json")))
            .collect();
        assert_eq!(paths(keys.iter().map(String::as_str), 3), ["/*"]);
        assert_eq!(paths(keys.iter().map(String::as_str), 5).len(), 100);
    }
}
