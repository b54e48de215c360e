//! When to try a failed delivery again, and when to give up.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Exponential backoff with jitter between `min` and `max` (doubling per
/// attempt, plus up to the same again at random so replicas retrying a
/// recovered upstream do not arrive in lockstep).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    builder: ExponentialBuilder,
    max_age: Duration,
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Try again after this delay.
    RetryIn(Duration),
    /// Too old: fail it for good.
    GiveUp,
}

impl RetryPolicy {
    /// A policy with the given delay bounds, giving up on requests older
    /// than `max_age`.
    pub fn new(min: Duration, max: Duration, max_age: Duration) -> Self {
        let builder = ExponentialBuilder::default()
            .with_min_delay(min)
            .with_max_delay(max.max(min))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        Self { builder, max_age }
    }

    /// The delay before attempt `attempts + 1`, given that `attempts` have
    /// failed (1 = the first try failed).
    pub fn delay(&self, attempts: u32) -> Duration {
        let nth = attempts.saturating_sub(1).min(64) as usize;
        self.builder.build().nth(nth).unwrap_or(Duration::ZERO)
    }

    /// Decides after the `attempts`-th failure of a request `age` old.
    pub fn next(&self, attempts: u32, age: Duration) -> Next {
        if age >= self.max_age {
            Next::GiveUp
        } else {
            Next::RetryIn(self.delay(attempts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_grow_with_jitter_and_stay_bounded() {
        let p = RetryPolicy::new(100 * MS, 1000 * MS, Duration::from_secs(60));
        for _ in 0..20 {
            let first = p.delay(1);
            assert!((100 * MS..=200 * MS).contains(&first), "{first:?}");
            let third = p.delay(3);
            assert!((400 * MS..=800 * MS).contains(&third), "{third:?}");
            let late = p.delay(40);
            assert!((1000 * MS..=2000 * MS).contains(&late), "{late:?}");
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        let p = RetryPolicy::new(100 * MS, 1000 * MS, Duration::from_secs(60));
        let delays: std::collections::HashSet<_> = (0..20).map(|_| p.delay(2)).collect();
        assert!(delays.len() > 1, "twenty identical delays: no jitter");
    }

    #[test]
    fn old_requests_are_given_up() {
        let p = RetryPolicy::new(100 * MS, 1000 * MS, Duration::from_secs(60));
        assert!(matches!(
            p.next(1, Duration::from_secs(59)),
            Next::RetryIn(_)
        ));
        assert_eq!(p.next(9, Duration::from_secs(60)), Next::GiveUp);
    }
}
