//! The HTTP headers each object is stored with, and the hash that decides
//! whether an object changed.

use sha2::{Digest, Sha256};

/// Browsers keep pages and data briefly; the edge keeps them until a publish
/// invalidates them.
pub const PAGE_CACHE_CONTROL: &str = "public, max-age=300, s-maxage=31536000";

/// Files under `assets/` carry a content hash in their name, so they never change.
pub const ASSET_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The `Content-Type` for a key, from its extension (case-insensitive):
/// what S3 stores and what `generator serve` answers. Text types say UTF-8
/// because every page, data file, script and SVG the site ships is UTF-8
/// (SVG is XML text, so it carries the charset too).
pub fn content_type(key: &str) -> &'static str {
    let ext = key
        .rsplit_once('/')
        .map_or(key, |(_, name)| name)
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("json" | "map") => "application/json; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("webmanifest") => "application/manifest+json; charset=utf-8",
        Some("svg") => "image/svg+xml; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/vnd.microsoft.icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The `Cache-Control` for a key.
pub fn cache_control(key: &str) -> &'static str {
    if key.starts_with("assets/") {
        ASSET_CACHE_CONTROL
    } else {
        PAGE_CACHE_CONTROL
    }
}

/// SHA-256 (hex) of what a visitor receives: the bytes and the two headers.
/// A change of header alone is a change, so it gets uploaded and invalidated.
pub fn object_hash(bytes: &[u8], content_type: &str, cache_control: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    // Separators no header value contains keep the three parts apart.
    hasher.update(b"\0");
    hasher.update(content_type.as_bytes());
    hasher.update(b"\0");
    hasher.update(cache_control.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_the_site_ships() {
        // From the IANA media type registry (and RFC 9239 for JavaScript).
        let expected = [
            ("zip/02134/index.html", "text/html; charset=utf-8"),
            ("404.html", "text/html; charset=utf-8"),
            ("data/zip/02134.json", "application/json; charset=utf-8"),
            (
                "assets/site-0a1b2c.js.map",
                "application/json; charset=utf-8",
            ),
            ("assets/site.0a1b2c.CSS", "text/css; charset=utf-8"),
            ("assets/site-0a1b2c.js", "text/javascript; charset=utf-8"),
            ("assets/mod.mjs", "text/javascript; charset=utf-8"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("sitemap.xml", "application/xml; charset=utf-8"),
            ("assets/img/icon.svg", "image/svg+xml; charset=utf-8"),
            ("assets/img/flag.png", "image/png"),
            ("assets/img/photo.JPG", "image/jpeg"),
            ("assets/img/anim.gif", "image/gif"),
            ("assets/img/pic.webp", "image/webp"),
            ("favicon.ico", "image/vnd.microsoft.icon"),
            ("assets/fonts/f.woff2", "font/woff2"),
            ("assets/fonts/f.woff", "font/woff"),
            ("assets/fonts/f.ttf", "font/ttf"),
            ("assets.d/README", "application/octet-stream"),
            (".hidden", "application/octet-stream"),
        ];
        for (key, content_type_expected) in expected {
            assert_eq!(content_type(key), content_type_expected, "{key}");
        }
    }

    #[test]
    fn only_assets_are_immutable() {
        assert_eq!(cache_control("assets/app.1234.js"), ASSET_CACHE_CONTROL);
        assert_eq!(cache_control("index.html"), PAGE_CACHE_CONTROL);
        assert_eq!(cache_control("data/assets/x.json"), PAGE_CACHE_CONTROL);
    }

    #[test]
    fn a_header_change_changes_the_hash() {
        let a = object_hash(b"<p>hi</p>", "text/html; charset=utf-8", PAGE_CACHE_CONTROL);
        let b = object_hash(
            b"<p>hi</p>",
            "text/html; charset=utf-8",
            ASSET_CACHE_CONTROL,
        );
        let c = object_hash(b"<p>hi</p>", "text/html; charset=utf-8", PAGE_CACHE_CONTROL);
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.len(), 64);
    }
}
