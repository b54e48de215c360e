//! A client of the test server that speaks as one person: anonymous, or
//! carrying a session as a browser does, in the session cookie.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// The session cookie's name, as the API's contract gives it.
pub const SESSION_COOKIE: &str = "__Host-whatever_session";

/// Requests to one [`crate::TestApp`] as one person. The session is the one
/// given: a refreshed cookie in an answer is the test's to read
/// ([`session_cookie`]) and use with [`crate::TestApp::user`].
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    session: Option<String>,
    /// The viewer's address as CloudFront forwards it, if the test set one.
    forwarded_for: Option<String>,
}

impl Client {
    /// An anonymous client of any auth-api at `base` (`http://host:port`):
    /// a process of the real binary, say.
    pub fn to(base: &str) -> Self {
        Self::new(reqwest::Client::new(), base.to_string(), None)
    }

    pub(crate) fn new(http: reqwest::Client, base: String, session: Option<String>) -> Self {
        Self {
            http,
            base,
            session,
            forwarded_for: None,
        }
    }

    /// The same client, its requests seen by the API as coming from the
    /// viewer address `ip` (through a CloudFront edge, as the load balancer
    /// records it in `X-Forwarded-For`).
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.forwarded_for = Some(format!("{ip}, 130.176.0.1"));
        self
    }

    /// The session token this client carries, if any.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// A request to `path` carrying the session, for a test to add headers
    /// or a body before sending it.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(forwarded_for) = &self.forwarded_for {
            req = req.header("x-forwarded-for", forwarded_for);
        }
        match &self.session {
            Some(token) => req.header(reqwest::header::COOKIE, format!("{SESSION_COOKIE}={token}")),
            None => req,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST path` without a body (signing out, ending a session).
    pub async fn post_empty(&self, path: &str) -> Response {
        send(self.request(Method::POST, path)).await
    }

    /// `GET path`: its status and its JSON answer.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        status_and_json(self.get(path).await).await
    }

    /// `POST path` with a JSON body: the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        status_and_json(self.post(path, body).await).await
    }
}

async fn send(req: RequestBuilder) -> Response {
    req.send().await.expect("the test server answers")
}

async fn status_and_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("a JSON answer");
    (status, body)
}

/// The token in a response's session `Set-Cookie`, if it sets one.
pub fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        .filter(|t| !t.is_empty())
}
