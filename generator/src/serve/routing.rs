//! The CDN's routing rules, as a pure function so they can be tested and
//! kept in step with the CloudFront Function in `infra/cloudformation/site.yaml`.

use percent_encoding::percent_decode_str;

/// What to do with one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Forward to the auth-api unchanged.
    Api,
    /// Answer with a redirect.
    Redirect {
        /// 301 or 302.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Serve this object key of the site (e.g. `zip/02134/index.html`).
    Object(String),
    /// Serve `404.html` with status 404.
    NotFound,
}

/// Maps a request path and query to a [`Route`], as the CDN does.
pub fn route(path: &str, query: Option<&str>) -> Route {
    if path == "/api" || path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        return Route::Api;
    }
    // The publisher's private manifest is never served.
    if path == "/_publish" || path.starts_with("/_publish/") {
        return Route::NotFound;
    }
    if path == "/search" || path == "/search/" {
        let zip = query
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "zip")
            .map(|(_, v)| percent_decode_str(v).decode_utf8_lossy().trim().to_string());
        return match zip {
            Some(zip) if zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit()) => {
                Route::Redirect {
                    status: 302,
                    location: format!("/zip/{zip}/"),
                }
            }
            _ => Route::NotFound,
        };
    }
    let Ok(decoded) = percent_decode_str(path).decode_utf8() else {
        return Route::NotFound;
    };
    // Refuse anything that could climb out of the site directory.
    let segments: Vec<&str> = decoded.split('/').skip(1).collect();
    if segments
        .iter()
        .any(|s| *s == ".." || *s == "." || s.contains('\\') || s.contains('\0'))
    {
        return Route::NotFound;
    }
    let key = segments.join("/");
    if key.is_empty() || key.ends_with('/') {
        return Route::Object(format!("{key}index.html"));
    }
    let last = segments.last().copied().unwrap_or("");
    if !last.contains('.') {
        // Each page has one URL: /x is sent to /x/.
        return Route::Redirect {
            status: 301,
            location: format!("{path}/"),
        };
    }
    Route::Object(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> Route {
        Route::Object(key.into())
    }

    #[test]
    fn pages_map_to_their_index_objects() {
        assert_eq!(route("/", None), object("index.html"));
        assert_eq!(route("/zip/00501/", None), object("zip/00501/index.html"));
        assert_eq!(
            route("/plans/S5601-012-0/", None),
            object("plans/S5601-012-0/index.html")
        );
        assert_eq!(
            route("/data/zip/02134.json", None),
            object("data/zip/02134.json")
        );
        assert_eq!(
            route("/zip/02134", None),
            Route::Redirect {
                status: 301,
                location: "/zip/02134/".into()
            }
        );
    }

    #[test]
    fn search_redirects_only_five_digit_zips() {
        assert_eq!(
            route("/search", Some("zip=00501")),
            Route::Redirect {
                status: 302,
                location: "/zip/00501/".into()
            }
        );
        assert_eq!(
            route("/search", Some("x=1&zip=%2002134%20")),
            Route::Redirect {
                status: 302,
                location: "/zip/02134/".into()
            }
        );
        assert_eq!(route("/search", Some("zip=0213")), Route::NotFound);
        assert_eq!(route("/search", Some("zip=<script>")), Route::NotFound);
        assert_eq!(route("/search", None), Route::NotFound);
    }

    #[test]
    fn api_goes_to_the_api_and_private_objects_nowhere() {
        assert_eq!(route("/api/login", None), Route::Api);
        assert_eq!(route("/readyz", None), Route::Api);
        assert_eq!(route("/_publish/manifest.json", None), Route::NotFound);
    }

    #[test]
    fn traversal_is_refused() {
        assert_eq!(route("/../etc/passwd", None), Route::NotFound);
        assert_eq!(route("/zip/%2e%2e/%2e%2e/x.json", None), Route::NotFound);
        assert_eq!(route("/a%5c..%5cb.txt", None), Route::NotFound);
    }
}
