//! SDK clients from the standard AWS chain (environment, profile, instance
//! role), with the SDK's retries on throttling and 5xx.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where the site's bucket and distribution live unless the chain says
/// otherwise (CloudFront's WAF and certificate require us-east-1).
const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per request, first included: S3 answers 503 SlowDown under
/// bursts, and the SDK's standard mode waits with jittered back-off.
const MAX_ATTEMPTS: u32 = 8;

/// Endpoints to use instead of AWS's, e.g. moto_server or MinIO.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// S3-compatible endpoint (path-style addressing).
    pub s3: Option<String>,
    /// CloudFront-compatible endpoint; defaults to `s3` when that is set.
    pub cloudfront: Option<String>,
}

/// Loads the shared SDK configuration.
pub async fn sdk_config() -> SdkConfig {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await;
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::from_static(DEFAULT_REGION))
        .build()
}

/// An S3 client; path-style so any S3-compatible endpoint works.
pub fn s3_client(config: &SdkConfig, endpoints: &Endpoints) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config).force_path_style(true);
    if let Some(url) = &endpoints.s3 {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// A CloudFront client.
pub fn cloudfront_client(config: &SdkConfig, endpoints: &Endpoints) -> aws_sdk_cloudfront::Client {
    let mut builder = aws_sdk_cloudfront::config::Builder::from(config);
    if let Some(url) = endpoints.cloudfront.as_ref().or(endpoints.s3.as_ref()) {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_cloudfront::Client::from_conf(builder.build())
}
