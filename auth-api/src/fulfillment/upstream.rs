//! The client for the third-party Fulfillment API. Contract:
//! `POST {url}/requests` with the JSON body and the request id as
//! `Idempotency-Key`; 2xx is done, 4xx is a permanent refusal, anything else
//! (5xx, timeout, no connection) may succeed later. Redirects are never
//! followed: a 3xx would re-post the name and address wherever it points, so
//! it is a permanent failure, logged for operators.

use std::time::Duration;

use uuid::Uuid;

use super::request::MailRequest;

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted upstream.
    Delivered,
    /// Refused for good; the reason is shown to the client.
    Rejected(String),
    /// Worth another try; the error is for operators.
    Retry(String),
}

/// A configured upstream.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    endpoint: String,
}

impl Upstream {
    /// A client posting to `{base_url}/requests`, each call bounded by
    /// `timeout`. Whether plain HTTP is acceptable at all is decided by the
    /// settings ([`super::FulfillmentSettings::check`]); an https URL gets a
    /// client that cannot speak anything else.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base_url.starts_with("https://"))
            .user_agent(concat!("whatever-auth-api/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            endpoint: format!("{base_url}/requests"),
        })
    }

    /// Makes one attempt to deliver `request`.
    pub async fn deliver(&self, request_id: Uuid, request: &MailRequest) -> Outcome {
        let sent = self
            .client
            .post(&self.endpoint)
            .header("Idempotency-Key", request_id.to_string())
            .json(request)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return Outcome::Retry("timed out".into()),
            Err(e) if e.is_connect() => return Outcome::Retry("could not connect".into()),
            Err(e) => return Outcome::Retry(format!("request failed: {e}")),
        };
        let status = response.status();
        if status.is_success() {
            return Outcome::Delivered;
        }
        if status.is_redirection() {
            // Where it pointed is for operators (it is no personal data);
            // the request itself goes nowhere else.
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            tracing::error!(%request_id, status = status.as_u16(), %location,
                "the Fulfillment API answered with a redirect; not followed");
            return Outcome::Rejected(format!(
                "the Fulfillment API redirected the request (HTTP {}); redirects are not followed",
                status.as_u16()
            ));
        }
        if status.is_client_error() {
            // The body may echo the address back; keep only a short code.
            let code = response
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|body| error_code(&body));
            let mut reason = format!("rejected by the Fulfillment API (HTTP {})", status.as_u16());
            if let Some(code) = code {
                reason.push_str(": ");
                reason.push_str(&code);
            }
            return Outcome::Rejected(reason);
        }
        Outcome::Retry(format!("HTTP {}", status.as_u16()))
    }
}

/// A machine-readable error code from `{"error":{"code":..}}` or
/// `{"code":..}`, if it looks like one (short, `[A-Za-z0-9_.-]`).
fn error_code(body: &serde_json::Value) -> Option<String> {
    let code = body
        .pointer("/error/code")
        .or_else(|| body.get("code"))
        .and_then(|c| c.as_str())?;
    let plausible = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plausible.then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_code_like_strings_become_reasons() {
        assert_eq!(
            error_code(&json!({"error":{"code":"invalid_address"}})),
            Some("invalid_address".into())
        );
        assert_eq!(error_code(&json!({"code":"E42"})), Some("E42".into()));
        assert_eq!(error_code(&json!({"code":"1 Main St, Boston"})), None);
        assert_eq!(error_code(&json!({"message":"nope"})), None);
    }
}
