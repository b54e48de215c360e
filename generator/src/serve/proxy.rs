//! Forwards `/api/*` to the auth-api, as the CDN's `/api/*` behaviour does.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{Error, Result};

/// The body type of every answer `serve` gives.
pub type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// Headers that describe one hop and must not be passed on.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A client for the auth-api at a fixed base URL.
pub struct ApiProxy {
    base: Uri,
    client: Client<HttpConnector, Incoming>,
}

impl ApiProxy {
    /// Checks the base URL (`http://host:port`).
    pub fn new(base: &str) -> Result<Self> {
        let uri: Uri = base
            .parse()
            .map_err(|e| Error::Invalid(format!("--api {base:?} is not a URL: {e}")))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(Error::Invalid(format!(
                "--api {base:?} must look like http://127.0.0.1:8080 (plain HTTP, local only)"
            )));
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Self { base: uri, client })
    }

    /// Forwards one request and streams the answer back.
    pub async fn forward(&self, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let target = format!(
            "{}://{}{}",
            self.base.scheme_str().unwrap_or("http"),
            self.base
                .authority()
                .map(|a| a.as_str())
                .unwrap_or("127.0.0.1"),
            path_and_query
        );
        let Ok(uri) = target.parse::<Uri>() else {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request path is not valid",
            );
        };
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        for name in HOP_BY_HOP {
            headers.remove(name);
        }
        headers.remove(header::HOST);
        if let Ok(value) = peer.ip().to_string().parse() {
            headers.insert("x-forwarded-for", value);
        }
        match self.client.request(req).await {
            Ok(resp) => {
                let (mut parts, body) = resp.into_parts();
                for name in HOP_BY_HOP {
                    parts.headers.remove(name);
                }
                Response::from_parts(parts, body.boxed())
            }
            Err(e) => {
                tracing::warn!(error = %e, api = %self.base, "auth-api not reachable");
                error(
                    StatusCode::BAD_GATEWAY,
                    "api_unreachable",
                    "The sign-in and mail services are not running. Start the auth-api (cargo run -p auth-api).",
                )
            }
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut resp = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    resp
}
