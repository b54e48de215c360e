//! CloudFront, seen through the one call a publish makes, and the batching
//! and back-off around it.

use std::future::Future;
use std::time::Duration;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::error::DisplayErrorContext;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use backon::{ExponentialBuilder, Retryable};

use super::invalidation::MAX_PATHS_PER_CALL;
use crate::{Error, Result};

/// Why an invalidation was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CdnError {
    /// Too many invalidations in progress: worth waiting and trying again.
    #[error("too many invalidations in progress: {0}")]
    Busy(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

/// What a publish asks of the CDN.
pub trait Cdn: Sync {
    /// Starts one invalidation of at most [`MAX_PATHS_PER_CALL`] paths.
    /// `reference` makes a retried call idempotent.
    fn invalidate(
        &self,
        paths: &[String],
        reference: &str,
    ) -> impl Future<Output = std::result::Result<(), CdnError>> + Send;
}

/// The real distribution.
#[derive(Debug, Clone)]
pub struct CloudFront {
    client: Client,
    distribution_id: String,
}

impl CloudFront {
    /// The distribution `distribution_id`.
    pub fn new(client: Client, distribution_id: impl Into<String>) -> Self {
        Self {
            client,
            distribution_id: distribution_id.into(),
        }
    }
}

impl Cdn for CloudFront {
    async fn invalidate(&self, paths: &[String], reference: &str) -> Result<(), CdnError> {
        let failed = |message: String| CdnError::Failed(message);
        let paths = Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let batch = InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(reference)
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let result = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution_id)
            .invalidation_batch(batch)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let busy = e
                    .as_service_error()
                    .is_some_and(|s| s.is_too_many_invalidations_in_progress());
                let message = format!(
                    "invalidating distribution {}: {}",
                    self.distribution_id,
                    DisplayErrorContext(e)
                );
                Err(if busy {
                    CdnError::Busy(message)
                } else {
                    CdnError::Failed(message)
                })
            }
        }
    }
}

/// How long to wait when CloudFront is busy.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First wait.
    pub min_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
    /// Tries after the first.
    pub retries: usize,
}

impl Default for Backoff {
    /// Invalidations take a minute or more to finish: up to ~20 minutes in all.
    fn default() -> Self {
        Self {
            min_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(120),
            retries: 12,
        }
    }
}

/// Invalidates `paths` in calls of at most [`MAX_PATHS_PER_CALL`], waiting
/// with jittered exponential back-off while CloudFront is busy.
pub async fn invalidate_all<C: Cdn>(
    cdn: &C,
    paths: &[String],
    run_id: &str,
    backoff: Backoff,
) -> Result<()> {
    for (n, batch) in paths.chunks(MAX_PATHS_PER_CALL).enumerate() {
        let reference = format!("{run_id}-{n}");
        let policy = ExponentialBuilder::default()
            .with_min_delay(backoff.min_delay)
            .with_max_delay(backoff.max_delay)
            .with_max_times(backoff.retries)
            .with_jitter();
        (|| cdn.invalidate(batch, &reference))
            .retry(policy)
            .when(|e| matches!(e, CdnError::Busy(_)))
            .notify(|e, wait| {
                tracing::warn!(error = %e, wait_seconds = wait.as_secs_f64(), "CloudFront is busy, waiting")
            })
            .await
            .map_err(|e| Error::Aws {
                action: format!("invalidating {} paths", batch.len()),
                message: e.to_string(),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Busy for the first `busy` calls, then records what it was sent.
    struct Flaky {
        busy: Mutex<usize>,
        calls: Mutex<Vec<(usize, String)>>,
    }

    impl Cdn for Flaky {
        async fn invalidate(&self, paths: &[String], reference: &str) -> Result<(), CdnError> {
            let mut busy = self.busy.lock().unwrap();
            if *busy > 0 {
                *busy -= 1;
                return Err(CdnError::Busy("slow down".into()));
            }
            self.calls
                .lock()
                .unwrap()
                .push((paths.len(), reference.to_owned()));
            Ok(())
        }
    }

    fn quick(retries: usize) -> Backoff {
        Backoff {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            retries,
        }
    }

    #[tokio::test]
    async fn busy_cloudfront_is_waited_for_and_batches_stay_under_the_limit() {
        let cdn = Flaky {
            busy: Mutex::new(3),
            calls: Mutex::new(Vec::new()),
        };
        let paths: Vec<String> = (0..2_500).map(|i| format!("/zip/{i:05}/")).collect();
        invalidate_all(&cdn, &paths, "run", quick(5)).await.unwrap();
        let calls = cdn.calls.into_inner().unwrap();
        assert_eq!(
            calls,
            [
                (1000, "run-0".into()),
                (1000, "run-1".into()),
                (500, "run-2".into())
            ]
        );
    }

    #[tokio::test]
    async fn a_cloudfront_that_stays_busy_fails_the_publish() {
        let cdn = Flaky {
            busy: Mutex::new(100),
            calls: Mutex::new(Vec::new()),
        };
        let err = invalidate_all(&cdn, &["/".into()], "run", quick(2))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("too many invalidations"), "{err}");
        assert_eq!(*cdn.busy.lock().unwrap(), 97);
    }
}
