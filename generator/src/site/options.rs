//! The build's settings, read from the environment in this one place.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{Error, Result};

/// Used when `ENROLL_URL_PATTERN` is unset.
pub const DEFAULT_ENROLL_URL_PATTERN: &str = "https://enroll.whatever.gov/apply?plan={plan_id}";

/// Where the USWDS npm package puts its built files, from the workspace root.
const USWDS_IN_NODE_MODULES: &str = "node_modules/@uswds/uswds/dist";

/// Where the esbuild npm package puts its executable, from the workspace root.
const ESBUILD_IN_NODE_MODULES: &str = "node_modules/esbuild/bin/esbuild";

/// Characters left as they are in a plan id placed in a URL (RFC 3986 unreserved).
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a site build needs besides the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOptions {
    /// The enrollment link of a plan page; `{plan_id}` is replaced by the
    /// URL-encoded plan id.
    pub enroll_url_pattern: String,
    /// The USWDS `dist` directory (holding `css/`, `js/`, `fonts/`, `img/`).
    pub uswds_dist: PathBuf,
    /// The esbuild executable that bundles the site's scripts (`ESBUILD`);
    /// `None` looks for the npm package's when the build starts.
    pub esbuild: Option<PathBuf>,
}

impl SiteOptions {
    /// Reads `ENROLL_URL_PATTERN` (default [`DEFAULT_ENROLL_URL_PATTERN`]) and
    /// `USWDS_DIST` (default `node_modules/@uswds/uswds/dist` in the current
    /// directory or the nearest parent that has it). `ESBUILD` names the
    /// bundler's executable (default: the npm package's, found the same way).
    pub fn from_env() -> Result<Self> {
        let pattern = std::env::var("ENROLL_URL_PATTERN")
            .unwrap_or_else(|_| DEFAULT_ENROLL_URL_PATTERN.to_string());
        let uswds_dist = match std::env::var_os("USWDS_DIST") {
            Some(dir) => PathBuf::from(dir),
            None => find_uswds()?,
        };
        Self::new(pattern, uswds_dist)
    }

    /// Checks and builds the options; the pattern must be an http(s) URL
    /// containing `{plan_id}`.
    pub fn new(
        enroll_url_pattern: impl Into<String>,
        uswds_dist: impl Into<PathBuf>,
    ) -> Result<Self> {
        let enroll_url_pattern = enroll_url_pattern.into();
        let scheme_ok =
            enroll_url_pattern.starts_with("https://") || enroll_url_pattern.starts_with("http://");
        if !scheme_ok || !enroll_url_pattern.contains("{plan_id}") {
            return Err(Error::Invalid(format!(
                "ENROLL_URL_PATTERN {enroll_url_pattern:?} must be an http(s) URL containing {{plan_id}}, \
                 e.g. {DEFAULT_ENROLL_URL_PATTERN}"
            )));
        }
        Ok(Self {
            enroll_url_pattern,
            uswds_dist: uswds_dist.into(),
            esbuild: std::env::var_os("ESBUILD").map(PathBuf::from),
        })
    }

    /// The esbuild executable: [`Self::esbuild`], or the npm package's in the
    /// current directory or the nearest parent that has it.
    pub fn esbuild(&self) -> Result<PathBuf> {
        match &self.esbuild {
            Some(path) => Ok(path.clone()),
            None => find_installed(
                ESBUILD_IN_NODE_MODULES,
                "",
                "ESBUILD",
                "the esbuild executable",
            ),
        }
    }

    /// The enrollment URL of one plan.
    pub fn enroll_url(&self, plan_id: &str) -> String {
        let encoded = utf8_percent_encode(plan_id, URL_COMPONENT).to_string();
        self.enroll_url_pattern.replace("{plan_id}", &encoded)
    }
}

fn find_uswds() -> Result<PathBuf> {
    find_installed(
        USWDS_IN_NODE_MODULES,
        "css/uswds.min.css",
        "USWDS_DIST",
        "its dist directory",
    )
}

/// `rel` (an npm package's file or directory, holding `marker` when that is
/// not empty) in the current directory or the nearest parent that has it.
fn find_installed(rel: &str, marker: &str, variable: &str, what: &str) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(Error::io("reading the current directory", "."))?;
    // The workspace this binary was built from is the last resort, so
    // `cargo run` and the benches work from any directory.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    cwd.ancestors()
        .chain(std::iter::once(workspace.as_path()))
        .map(|dir| dir.join(rel))
        // `join("")` would add a trailing slash, which no file matches.
        .find(|path| match marker {
            "" => path.is_file(),
            marker => path.join(marker).is_file(),
        })
        .ok_or_else(|| {
            Error::Invalid(format!(
                "a front-end package is not installed: no {rel} in {} or its parents. \
                 Run `npm ci` at the workspace root, or set {variable} to {what}.",
                cwd.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enroll_urls_encode_the_plan_id() {
        let o = SiteOptions::new(DEFAULT_ENROLL_URL_PATTERN, "/x").unwrap();
        assert_eq!(
            o.enroll_url("S5601-012-0"),
            "https://enroll.whatever.gov/apply?plan=S5601-012-0"
        );
        assert_eq!(
            o.enroll_url("a&b c"),
            "https://enroll.whatever.gov/apply?plan=a%26b%20c"
        );
    }

    #[test]
    fn a_pattern_without_placeholder_is_refused() {
        let err = SiteOptions::new("https://enroll.example/", "/x").unwrap_err();
        assert!(err.to_string().contains("ENROLL_URL_PATTERN"), "{err}");
        assert!(SiteOptions::new("javascript:alert({plan_id})", "/x").is_err());
    }
}
