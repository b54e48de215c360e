//! The fulfillment settings, read by [`super::Config::from_env`].
//! Every timing is configurable so tests can run the whole retry story in
//! seconds; the defaults suit production.

use std::time::Duration;

use super::env::{ConfigError, optional_var, parse_var};

/// How requests are accepted, delivered, retried and throttled.
#[derive(Debug, Clone)]
pub struct FulfillmentSettings {
    /// `FULFILLMENT_URL`: base URL of the Fulfillment API; requests are
    /// posted to `{url}/requests`. Unset: requests queue and wait. Must be
    /// `https://` unless [`Self::allow_http`].
    pub url: Option<String>,
    /// `FULFILLMENT_ALLOW_HTTP` (default false): accept an `http://` URL, for
    /// a fake upstream on this machine only. Names and addresses would
    /// otherwise cross the network in clear text.
    pub allow_http: bool,
    /// `FULFILLMENT_WORKER` (`true`/`false`, default true): whether this
    /// process runs a delivery worker.
    pub worker_enabled: bool,
    /// `FULFILLMENT_TIMEOUT_MS` (default 5000): longest wait for one upstream call.
    pub timeout: Duration,
    /// `FULFILLMENT_LEASE_MS` (default 60000): how long a claim lasts before
    /// another worker may retry the request. Must exceed the timeout.
    pub lease: Duration,
    /// `FULFILLMENT_BACKOFF_MIN_MS` (default 1000): first retry delay.
    pub backoff_min: Duration,
    /// `FULFILLMENT_BACKOFF_MAX_MS` (default 300000): longest retry delay
    /// (before jitter).
    pub backoff_max: Duration,
    /// `FULFILLMENT_MAX_AGE_SECS` (default 86400): a request still failing
    /// this long after it was accepted is given up.
    pub max_age: Duration,
    /// `FULFILLMENT_BREAKER_FAILURES` (default 5): consecutive upstream
    /// failures that open the circuit.
    pub breaker_failures: u32,
    /// `FULFILLMENT_BREAKER_PAUSE_MS` (default 30000): how long an open
    /// circuit waits before one probe.
    pub breaker_pause: Duration,
    /// `FULFILLMENT_POLL_MS` (default 1000): how often a worker looks for
    /// rows other replicas accepted.
    pub poll_interval: Duration,
    /// `FULFILLMENT_CONCURRENCY` (default 8): upstream calls in flight per worker.
    pub concurrency: usize,
    /// `FULFILLMENT_RATE_LIMIT` (default 10, 0 = off): requests per client
    /// network (an IPv6 /64, an IPv4 address) per window.
    pub rate_limit: u32,
    /// `FULFILLMENT_RATE_WINDOW_SECS` (default 600): the rate-limit window.
    pub rate_window: Duration,
    /// `FULFILLMENT_RECIPIENT_LIMIT` (default 3, 0 = off): new requests per
    /// recipient (normalized name and address) per recipient window, from
    /// whatever networks they come.
    pub recipient_limit: u32,
    /// `FULFILLMENT_RECIPIENT_WINDOW_SECS` (default 86400): the recipient window.
    pub recipient_window: Duration,
    /// `FULFILLMENT_RETENTION_DAYS` (default 30): finished requests (sent or
    /// failed) are deleted this long after they finished.
    pub retention: Duration,
}

impl FulfillmentSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let url = optional_var("FULFILLMENT_URL")
            .map(|raw| parse_url(&raw))
            .transpose()?;
        let settings = Self {
            url,
            allow_http: parse_var("FULFILLMENT_ALLOW_HTTP", "false")?,
            worker_enabled: parse_var("FULFILLMENT_WORKER", "true")?,
            timeout: millis("FULFILLMENT_TIMEOUT_MS", "5000")?,
            lease: millis("FULFILLMENT_LEASE_MS", "60000")?,
            backoff_min: millis("FULFILLMENT_BACKOFF_MIN_MS", "1000")?,
            backoff_max: millis("FULFILLMENT_BACKOFF_MAX_MS", "300000")?,
            max_age: Duration::from_secs(parse_var("FULFILLMENT_MAX_AGE_SECS", "86400")?),
            breaker_failures: parse_var("FULFILLMENT_BREAKER_FAILURES", "5")?,
            breaker_pause: millis("FULFILLMENT_BREAKER_PAUSE_MS", "30000")?,
            poll_interval: millis("FULFILLMENT_POLL_MS", "1000")?,
            concurrency: parse_var("FULFILLMENT_CONCURRENCY", "8")?,
            rate_limit: parse_var("FULFILLMENT_RATE_LIMIT", "10")?,
            rate_window: Duration::from_secs(parse_var("FULFILLMENT_RATE_WINDOW_SECS", "600")?),
            recipient_limit: parse_var("FULFILLMENT_RECIPIENT_LIMIT", "3")?,
            recipient_window: Duration::from_secs(parse_var(
                "FULFILLMENT_RECIPIENT_WINDOW_SECS",
                "86400",
            )?),
            retention: Duration::from_secs(
                parse_var::<u64>("FULFILLMENT_RETENTION_DAYS", "30")?.saturating_mul(DAY),
            ),
        };
        settings.check()?;
        Ok(settings)
    }

    /// Settings for tests: no upstream (a fake one on this machine may be
    /// plain HTTP), quick retries, generous limits.
    pub fn for_tests() -> Self {
        Self {
            url: None,
            allow_http: true,
            worker_enabled: true,
            timeout: Duration::from_millis(500),
            lease: Duration::from_secs(2),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(400),
            max_age: Duration::from_secs(3600),
            breaker_failures: 5,
            breaker_pause: Duration::from_millis(300),
            poll_interval: Duration::from_millis(100),
            concurrency: 8,
            rate_limit: 1000,
            rate_window: Duration::from_secs(600),
            recipient_limit: 1000,
            recipient_window: Duration::from_secs(86_400),
            retention: Duration::from_secs(30 * DAY),
        }
    }

    /// Rejects combinations that would break delivery guarantees.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.lease <= self.timeout {
            // A lease shorter than a call would let a second worker post the
            // same request while the first is still waiting on it.
            return Err(ConfigError::Invalid {
                name: "FULFILLMENT_LEASE_MS",
                reason: format!(
                    "{} ms must be longer than FULFILLMENT_TIMEOUT_MS ({} ms)",
                    self.lease.as_millis(),
                    self.timeout.as_millis()
                ),
            });
        }
        if self.concurrency == 0 {
            return Err(ConfigError::Invalid {
                name: "FULFILLMENT_CONCURRENCY",
                reason: "must be at least 1".into(),
            });
        }
        for (name, value) in [
            ("FULFILLMENT_RATE_WINDOW_SECS", self.rate_window),
            ("FULFILLMENT_RECIPIENT_WINDOW_SECS", self.recipient_window),
            ("FULFILLMENT_RETENTION_DAYS", self.retention),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
        }
        if let Some(url) = &self.url
            && !url.starts_with("https://")
            && !self.allow_http
        {
            return Err(ConfigError::Invalid {
                name: "FULFILLMENT_URL",
                reason: format!(
                    "{url:?} is not https: names and addresses would cross the network \
                     unencrypted. Use an https:// URL, or set FULFILLMENT_ALLOW_HTTP=true \
                     for a fake upstream on this machine"
                ),
            });
        }
        Ok(())
    }
}

const DAY: u64 = 24 * 3600;

fn millis(name: &'static str, default: &str) -> Result<Duration, ConfigError> {
    Ok(Duration::from_millis(parse_var(name, default)?))
}

fn parse_url(raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim().trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(ConfigError::Invalid {
            name: "FULFILLMENT_URL",
            reason: format!("{raw:?} must start with http:// or https://"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_trailing_slash_and_need_a_scheme() {
        assert_eq!(parse_url("http://x:1/").unwrap(), "http://x:1");
        let err = parse_url("x:1").unwrap_err().to_string();
        assert!(err.contains("FULFILLMENT_URL"), "{err}");
    }

    #[test]
    fn plain_http_needs_the_explicit_allowance() {
        let mut s = FulfillmentSettings {
            url: Some("http://fulfillment.example".into()),
            allow_http: false,
            ..FulfillmentSettings::for_tests()
        };
        let err = s.check().unwrap_err().to_string();
        assert!(err.starts_with("FULFILLMENT_URL: "), "{err}");
        assert!(err.contains("FULFILLMENT_ALLOW_HTTP=true"), "{err}");
        s.url = Some("https://fulfillment.example".into());
        assert!(s.check().is_ok());
        s.url = Some("http://127.0.0.1:8090".into());
        s.allow_http = true;
        assert!(s.check().is_ok());
    }

    #[test]
    fn a_lease_shorter_than_the_timeout_is_refused() {
        let mut s = FulfillmentSettings::for_tests();
        s.lease = s.timeout;
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("FULFILLMENT_LEASE_MS"), "{err}");
    }
}
