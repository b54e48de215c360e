//! How much of its database session's time the apply may keep busy.
//!
//! The apply runs in batches of staged rows (see [`super::apply`]). After
//! each batch it may rest, with the transaction open and the session idle,
//! so that over the whole apply its backend works at most a given share of
//! the time, the way `vacuum_cost_delay` spaces out VACUUM. The rest is
//! left to the API's queries on the same database server. Resting holds
//! nothing anyone else waits for: the apply takes only row locks on rows
//! the API never writes, and readers never wait for those.

use std::time::Duration;

/// Rows per statement of a paced apply unless told otherwise: big enough
/// that a statement's own cost does not count, small enough to rest every
/// few tens of milliseconds.
const BATCH_ROWS: u64 = 20_000;

/// How the apply spaces out its work: the share of wall time its session
/// may be busy, and so whether it goes in batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// In (0, 1].
    share: f64,
    /// About this many staged rows per statement; `None`: one statement
    /// per table.
    batch_rows: Option<u64>,
}

impl Pace {
    /// No rests, and so no batches: one statement per table and kind of
    /// change. Batches cost more than they save when nobody rests between
    /// them (an anti-join per batch probes the whole live table: a
    /// million-line update took 16-21 s in batches against 12-13 s whole).
    pub const FLAT_OUT: Pace = Pace {
        share: 1.0,
        batch_rows: None,
    };

    /// Busy at most `percent` % of the time, 1 to 100; below 100, in
    /// batches of the usual size.
    pub fn percent(percent: u8) -> Self {
        match percent.clamp(1, 100) {
            100 => Self::FLAT_OUT,
            percent => Pace {
                share: f64::from(percent) / 100.0,
                batch_rows: Some(BATCH_ROWS),
            },
        }
    }

    /// The same pace in batches of about `rows` rows (at least 1).
    pub fn with_batch_rows(self, rows: u64) -> Self {
        Pace {
            batch_rows: Some(rows.max(1)),
            ..self
        }
    }

    /// About how many staged rows go into one statement, if the apply goes
    /// in batches.
    pub fn batch_rows(&self) -> Option<u64> {
        self.batch_rows
    }

    /// How long to rest after a batch that kept the session busy for
    /// `busy`, so that busy / (busy + rest) is the share.
    pub fn rest_after(&self, busy: Duration) -> Duration {
        busy.mul_f64((1.0 - self.share) / self.share)
    }

    /// Rests after a batch that took `busy`.
    pub async fn rest(&self, busy: Duration) {
        let rest = self.rest_after(busy);
        if !rest.is_zero() {
            tokio::time::sleep(rest).await;
        }
    }
}

impl Default for Pace {
    fn default() -> Self {
        Self::FLAT_OUT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_out_never_rests() {
        assert_eq!(
            Pace::FLAT_OUT.rest_after(Duration::from_secs(3)),
            Duration::ZERO
        );
        assert_eq!(Pace::percent(100), Pace::FLAT_OUT);
    }

    #[test]
    fn a_share_leaves_the_rest_of_the_time_idle() {
        let ms = |n| Duration::from_millis(n);
        assert_eq!(Pace::percent(50).rest_after(ms(40)), ms(40));
        assert_eq!(Pace::percent(25).rest_after(ms(40)), ms(120));
        assert_eq!(Pace::percent(80).rest_after(ms(40)), ms(10));
    }

    #[test]
    fn out_of_range_percentages_are_clamped() {
        assert_eq!(Pace::percent(0), Pace::percent(1));
        assert_eq!(Pace::percent(200), Pace::FLAT_OUT);
        assert_eq!(Pace::FLAT_OUT.with_batch_rows(0).batch_rows(), Some(1));
    }

    #[test]
    fn only_a_paced_apply_goes_in_batches() {
        assert_eq!(Pace::FLAT_OUT.batch_rows(), None);
        assert_eq!(Pace::percent(99).batch_rows(), Some(BATCH_ROWS));
    }
}
