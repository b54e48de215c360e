//! A circuit breaker in front of the Fulfillment API: after a run of
//! failures it stops calling for a pause, then lets one probe through and
//! closes again only if the probe succeeds. A dead upstream then costs one
//! call per pause instead of one per queued request.

use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// No calls until the instant.
    Open {
        /// When a probe may go out.
        until: Instant,
    },
    /// One probe is allowed; its result decides.
    HalfOpen,
}

/// Counts consecutive failures; not shared between processes (each replica
/// learns on its own that the upstream is down, at the cost of one probe).
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    pause: Duration,
    failures: u32,
    state: BreakerState,
}

/// What the worker may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Send as many as the concurrency allows.
    All,
    /// Send exactly one request, as a probe.
    Probe,
    /// Send nothing for this long.
    Wait(Duration),
}

impl Breaker {
    /// Opens after `threshold` consecutive failures (0 disables it) and
    /// stays open for `pause`.
    pub fn new(threshold: u32, pause: Duration) -> Self {
        Self {
            threshold,
            pause,
            failures: 0,
            state: BreakerState::Closed,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Asks whether calls may go out at `now`.
    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state {
            BreakerState::Closed => Permit::All,
            BreakerState::HalfOpen => Permit::Probe,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                Permit::Probe
            }
            BreakerState::Open { until } => Permit::Wait(until - now),
        }
    }

    /// The upstream answered (any answer that is not a server error).
    pub fn success(&mut self) {
        self.failures = 0;
        self.state = BreakerState::Closed;
    }

    /// The upstream failed (5xx, timeout, connection error) at `now`.
    /// Returns true when this failure opened the circuit.
    pub fn failure(&mut self, now: Instant) -> bool {
        self.failures = self.failures.saturating_add(1);
        let trip = match self.state {
            BreakerState::HalfOpen => true,
            BreakerState::Closed => self.threshold > 0 && self.failures >= self.threshold,
            BreakerState::Open { .. } => false,
        };
        if trip {
            self.state = BreakerState::Open {
                until: now + self.pause,
            };
        }
        trip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_then_probes_then_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(10));
        assert!(!b.failure(t0));
        assert!(!b.failure(t0));
        assert_eq!(b.permit(t0), Permit::All);
        assert!(b.failure(t0));
        assert_eq!(
            b.permit(t0 + Duration::from_secs(4)),
            Permit::Wait(Duration::from_secs(6))
        );
        assert_eq!(b.permit(t0 + Duration::from_secs(10)), Permit::Probe);
        b.success();
        assert_eq!(b.permit(t0 + Duration::from_secs(10)), Permit::All);
    }

    #[test]
    fn a_failed_probe_opens_it_again() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(5));
        assert!(b.failure(t0));
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.permit(t1), Permit::Probe);
        assert!(b.failure(t1));
        assert_eq!(b.permit(t1), Permit::Wait(Duration::from_secs(5)));
    }

    #[test]
    fn a_success_resets_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(5));
        b.failure(t0);
        b.success();
        assert!(!b.failure(t0));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_zero_threshold_never_opens() {
        let mut b = Breaker::new(0, Duration::from_secs(5));
        for _ in 0..100 {
            assert!(!b.failure(Instant::now()));
        }
    }
}
