//! The CDN's routing rules, as a pure function. The CloudFront Function in
//! `infra/cloudformation/site.yaml` applies the same rules at the edge; both
//! must pass every case of `tests/rules/routing.json` (see `docs/routing.md`).

use percent_encoding::percent_decode_str;

/// What to do with one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Forward to the auth-api unchanged (the CDN's `/api/*` behaviour).
    Api,
    /// Answer with a redirect.
    Redirect {
        /// 301 or 302.
        status: u16,
        /// The `Location` header: always a path on this host.
        location: String,
    },
    /// Serve this object key of the site (e.g. `zip/02134/index.html`).
    Object(String),
    /// Serve `404.html` with status 404.
    NotFound,
}

/// Maps a request path and query (both as sent, percent-encoded) to a
/// [`Route`], as the CDN does.
pub fn route(path: &str, query: Option<&str>) -> Route {
    if path.starts_with("/api/") {
        return Route::Api;
    }
    let Some(decoded) = safe_path(path) else {
        return Route::NotFound;
    };
    // The publisher's private manifest is in the bucket but never served.
    if decoded == "/_publish" || decoded.starts_with("/_publish/") {
        return Route::NotFound;
    }
    if decoded == "/search" || decoded == "/search/" {
        return match query.and_then(search_zip) {
            Some(zip) => Route::Redirect {
                status: 302,
                location: format!("/zip/{zip}/"),
            },
            None => Route::NotFound,
        };
    }
    let key = &decoded[1..];
    if key.is_empty() || key.ends_with('/') {
        return Route::Object(format!("{key}index.html"));
    }
    let last = key.rsplit('/').next().unwrap_or(key);
    if !last.contains('.') {
        // Each page has one URL: /x is sent to /x/. `safe_path` refused
        // every path whose first segment is empty or holds a backslash, so
        // this Location cannot name another host.
        return Route::Redirect {
            status: 301,
            location: format!("{path}/"),
        };
    }
    Route::Object(key.to_string())
}

/// The decoded path, if it is one the site can serve: UTF-8, starting with
/// `/`, no empty, `.` or `..` segment (so never `//host`), no backslash
/// (browsers read it as a slash) and no control character.
fn safe_path(path: &str) -> Option<String> {
    let decoded = decode(path)?;
    let rest = decoded.strip_prefix('/')?;
    if decoded.chars().any(|c| c == '\\' || c.is_control()) {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    let bad = |(i, s): (usize, &&str)| *s == "." || *s == ".." || (s.is_empty() && i != last);
    if segments.iter().enumerate().any(bad) {
        return None;
    }
    Some(decoded)
}

/// Percent-decodes as the browser's `decodeURIComponent` does: `None` for a
/// `%` without two hex digits or bytes that are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The five-digit zip of a `/search` query: the first `zip` parameter, form
/// decoded (`+` is a space), ASCII whitespace trimmed, five digits or a
/// ZIP+4 (`02134-1234`, which goes to its five-digit zip).
fn search_zip(query: &str) -> Option<String> {
    let raw = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "zip")?
        .1
        .replace('+', " ");
    let value = decode(&raw)?;
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let zip = match value.split_once('-') {
        Some((zip, plus4)) if digits(plus4, 4) => zip,
        Some(_) => return None,
        None => value,
    };
    digits(zip, 5).then(|| zip.to_string())
}
