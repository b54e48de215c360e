//! The build's settings, read from the environment in this one place.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{Error, Result};

/// Used when `ENROLL_URL_PATTERN` is unset.
pub const DEFAULT_ENROLL_URL_PATTERN: &str = "https://enroll.whatever.gov/apply?plan={plan_id}";

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
}

impl SiteOptions {
    /// Reads `ENROLL_URL_PATTERN` (default [`DEFAULT_ENROLL_URL_PATTERN`]).
    /// The scripts, stylesheets and fonts are embedded in the binary
    /// ([`super::assets`]): nothing else is read from the disk.
    pub fn from_env() -> Result<Self> {
        let pattern = std::env::var("ENROLL_URL_PATTERN")
            .unwrap_or_else(|_| DEFAULT_ENROLL_URL_PATTERN.to_string());
        Self::new(pattern)
    }

    /// Checks and builds the options; the pattern must be an http(s) URL
    /// containing `{plan_id}`.
    pub fn new(enroll_url_pattern: impl Into<String>) -> Result<Self> {
        let enroll_url_pattern = enroll_url_pattern.into();
        let scheme_ok =
            enroll_url_pattern.starts_with("https://") || enroll_url_pattern.starts_with("http://");
        if !scheme_ok || !enroll_url_pattern.contains("{plan_id}") {
            return Err(Error::Invalid(format!(
                "ENROLL_URL_PATTERN {enroll_url_pattern:?} must be an http(s) URL containing {{plan_id}}, \
                 e.g. {DEFAULT_ENROLL_URL_PATTERN}"
            )));
        }
        Ok(Self { enroll_url_pattern })
    }

    /// The enrollment URL of one plan.
    pub fn enroll_url(&self, plan_id: &str) -> String {
        let encoded = utf8_percent_encode(plan_id, URL_COMPONENT).to_string();
        self.enroll_url_pattern.replace("{plan_id}", &encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enroll_urls_encode_the_plan_id() {
        let o = SiteOptions::new(DEFAULT_ENROLL_URL_PATTERN).unwrap();
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
        let err = SiteOptions::new("https://enroll.example/").unwrap_err();
        assert!(err.to_string().contains("ENROLL_URL_PATTERN"), "{err}");
        assert!(SiteOptions::new("javascript:alert({plan_id})").is_err());
    }
}
