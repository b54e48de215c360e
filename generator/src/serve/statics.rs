//! Static objects from the build directory, with the `Content-Type` the
//! publisher stores in S3 (one function decides it for both).

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

/// Serves one object, or the 404 page when it is not in the build.
pub async fn object(dir: &Path, key: &str, method: &Method) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        let mut resp = Response::new(full("method not allowed\n"));
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        resp.headers_mut()
            .insert(header::ALLOW, "GET, HEAD".parse().expect("static header"));
        return resp;
    }
    match tokio::fs::read(dir.join(key)).await {
        Ok(bytes) => respond(StatusCode::OK, key, bytes, method),
        Err(_) => not_found(dir, method).await,
    }
}

/// The site's own 404 page, with status 404.
pub async fn not_found(dir: &Path, method: &Method) -> Response<Body> {
    let bytes = tokio::fs::read(dir.join("404.html"))
        .await
        .unwrap_or_else(|_| b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec());
    respond(StatusCode::NOT_FOUND, "404.html", bytes, method)
}

fn respond(status: StatusCode, key: &str, bytes: Vec<u8>, method: &Method) -> Response<Body> {
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
        content_type(key).parse().expect("static header"),
    );
    h.insert(header::CONTENT_LENGTH, len.into());
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
