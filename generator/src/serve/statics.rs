//! Static objects from the build directory, with the `Content-Type` the
//! publisher stores in S3 (one function decides it for both), compressed
//! with gzip the way CloudFront compresses them, so what a browser measures
//! here is what a visitor downloads.

use std::io::Write as _;
use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Response, StatusCode, header};

use super::proxy::Body;
use crate::publish::headers::content_type;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// CloudFront compresses objects from 1,000 bytes up (smaller ones gain
/// nothing) of the text types, when the browser accepts gzip.
const COMPRESS_FROM_BYTES: usize = 1_000;

/// Whether an `Accept-Encoding` header value accepts gzip (`gzip;q=0` and
/// `identity` alone do not).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// The types CloudFront compresses: text, JSON, JavaScript, SVG.
fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("image/svg+xml")
}

/// Serves one object, or the 404 page when it is not in the build; `gzip`
/// when the request accepts it.
pub async fn object(dir: &Path, key: &str, method: &Method, gzip: bool) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        let mut resp = Response::new(full("method not allowed\n"));
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        resp.headers_mut()
            .insert(header::ALLOW, "GET, HEAD".parse().expect("static header"));
        return resp;
    }
    match tokio::fs::read(dir.join(key)).await {
        Ok(bytes) => respond(StatusCode::OK, key, bytes, method, gzip),
        Err(_) => not_found(dir, method, gzip).await,
    }
}

/// The site's own 404 page, with status 404.
pub async fn not_found(dir: &Path, method: &Method, gzip: bool) -> Response<Body> {
    let bytes = tokio::fs::read(dir.join("404.html"))
        .await
        .unwrap_or_else(|_| b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec());
    respond(StatusCode::NOT_FOUND, "404.html", bytes, method, gzip)
}

fn respond(
    status: StatusCode,
    key: &str,
    bytes: Vec<u8>,
    method: &Method,
    gzip: bool,
) -> Response<Body> {
    let content_type = content_type(key);
    let compress = compressible(content_type);
    let (bytes, encoded) = if compress && gzip && bytes.len() >= COMPRESS_FROM_BYTES {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        match encoder.write_all(&bytes).and_then(|()| encoder.finish()) {
            Ok(compressed) => (compressed, true),
            Err(_) => (bytes, false),
        }
    } else {
        (bytes, false)
    };
    let len = bytes.len();
    let body = if method == Method::HEAD {
        full(Bytes::new())
    } else {
        full(bytes)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        content_type.parse().expect("static header"),
    );
    h.insert(header::CONTENT_LENGTH, len.into());
    if compress {
        h.insert(
            header::VARY,
            "Accept-Encoding".parse().expect("static header"),
        );
    }
    if encoded {
        h.insert(
            header::CONTENT_ENCODING,
            "gzip".parse().expect("static header"),
        );
    }
    // Locally every rebuild should show at once; the CDN caches, we do not.
    h.insert(
        header::CACHE_CONTROL,
        "no-cache".parse().expect("static header"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff".parse().expect("static header"),
    );
    resp
}

/// A redirect with an empty body.
pub fn redirect(status: u16, location: &str) -> Response<Body> {
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    if let Ok(value) = location.parse() {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_unless_refused() {
        for yes in [
            "gzip",
            "gzip, deflate, br, zstd",
            "br;q=1.0, GZIP;q=0.5",
            "*",
        ] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br",
            "gzip;q=0",
            "deflate, gzip; q=0.0",
            "x-gzip2",
        ] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }
}
