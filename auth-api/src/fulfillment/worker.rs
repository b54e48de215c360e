//! The delivery worker: drains the outbox into the Fulfillment API. Any
//! number run at once (threads, replicas): a claim is a committed lease on
//! rows taken with `FOR UPDATE SKIP LOCKED`, the upstream is called with no
//! transaction open, and the result is recorded afterwards. A worker that
//! dies mid-call leaves a lease that expires; the next worker retries with
//! the same `Idempotency-Key`, so the upstream mails it once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use futures::StreamExt;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::breaker::{Breaker, Permit};
use super::retry::{Next, RetryPolicy};
use super::store::{self, Claimed};
use super::upstream::{Outcome, Upstream};
use crate::config::FulfillmentSettings;
use crate::state::AppState;

/// Idempotency keys are honoured for a week; a client retrying later than
/// that is making a new request.
const KEEP_IDEMPOTENCY_KEYS: Duration = Duration::from_secs(7 * 24 * 3600);
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// Rows expired or purged per statement, so a large backlog never holds
/// many row locks or one long transaction.
const PURGE_BATCH: i64 = 500;
/// Connections of the worker's own pool, so it never competes with requests.
const WORKER_POOL_SIZE: usize = 2;

/// One delivery loop over a pool.
pub struct Worker {
    pool: Pool,
    settings: FulfillmentSettings,
    wake: Arc<Notify>,
}

/// A running worker; [`WorkerHandle::stop`] ends it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop and waits for calls in flight to be recorded
    /// (bounded by the upstream timeout). Leases of anything unrecorded
    /// expire and another worker picks the rows up.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the worker for the server in `state` on a pool of its own, unless
/// `FULFILLMENT_WORKER=false`.
pub fn spawn_for(state: &AppState) -> Result<Option<WorkerHandle>, whatever_database::Error> {
    let settings = state.config.fulfillment.clone();
    if !settings.worker_enabled {
        tracing::info!("fulfillment worker disabled (FULFILLMENT_WORKER=false)");
        return Ok(None);
    }
    let mut database = state.config.database.clone();
    database.pool_size = WORKER_POOL_SIZE;
    let pool = whatever_database::pool::build_pool(&database, state.config.db_wait)?;
    let wake = state.fulfillment.0.clone();
    Ok(Some(Worker::new(pool, settings, wake).spawn()))
}

impl Worker {
    /// A worker over `pool`, woken early by `wake` when a request is queued
    /// in this process.
    pub fn new(pool: Pool, settings: FulfillmentSettings, wake: Arc<Notify>) -> Self {
        Self {
            pool,
            settings,
            wake,
        }
    }

    /// Runs the worker on its own task.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle { stop, task }
    }

    /// Delivers until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let upstream = match &self.settings.url {
            None => None,
            Some(url) => match Upstream::new(url, self.settings.timeout) {
                Ok(upstream) => Some(upstream),
                Err(error) => {
                    tracing::error!(%error, "cannot build the Fulfillment API client");
                    None
                }
            },
        };
        let Some(upstream) = upstream else {
            tracing::warn!(
                "FULFILLMENT_URL is not set: fulfillment requests are queued and wait \
                 until a worker with it configured runs"
            );
            self.idle(&mut stop).await;
            return;
        };
        let policy = RetryPolicy::new(
            self.settings.backoff_min,
            self.settings.backoff_max,
            self.settings.max_age,
        );
        let mut breaker = Breaker::new(self.settings.breaker_failures, self.settings.breaker_pause);
        let mut chores = Chores::default();
        while running(&stop) {
            chores.run(&self.pool, &self.settings).await;
            let limit = match breaker.permit(Instant::now()) {
                Permit::All => self.settings.concurrency,
                Permit::Probe => 1,
                Permit::Wait(pause) => {
                    metrics::gauge!("fulfillment_circuit_open").set(1.0);
                    wait(&mut stop, pause, None).await;
                    continue;
                }
            };
            metrics::gauge!("fulfillment_circuit_open").set(0.0);
            let claimed = match self.claim(limit).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming fulfillment requests failed");
                    wait(&mut stop, self.settings.poll_interval, None).await;
                    continue;
                }
            };
            if claimed.is_empty() {
                wait(&mut stop, self.settings.poll_interval, Some(&self.wake)).await;
                continue;
            }
            let results: Vec<(Claimed, Outcome)> = futures::stream::iter(claimed)
                .map(|c| {
                    let upstream = &upstream;
                    async move {
                        let outcome = upstream.deliver(c.request_id, &c.request).await;
                        (c, outcome)
                    }
                })
                .buffer_unordered(limit)
                .collect()
                .await;
            for (claimed, outcome) in results {
                match &outcome {
                    Outcome::Retry(_) => {
                        if breaker.failure(Instant::now()) {
                            tracing::warn!(
                                pause_ms = self.settings.breaker_pause.as_millis() as u64,
                                "Fulfillment API failing: pausing deliveries"
                            );
                        }
                    }
                    Outcome::Delivered | Outcome::Rejected(_) => breaker.success(),
                }
                if let Err(error) = self.record(&policy, &claimed, outcome).await {
                    // The lease runs out and another attempt records it.
                    tracing::warn!(request_id = %claimed.request_id, %error,
                        "recording a delivery result failed");
                }
            }
        }
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>, String> {
        let client = self.pool.get().await.map_err(|e| e.to_string())?;
        store::claim(&**client, limit as i64, self.settings.lease)
            .await
            .map_err(|e| e.to_string())
    }

    async fn record(
        &self,
        policy: &RetryPolicy,
        claimed: &Claimed,
        outcome: Outcome,
    ) -> Result<(), String> {
        let client = self.pool.get().await.map_err(|e| e.to_string())?;
        let id = claimed.request_id;
        let attempts = claimed.attempts;
        let result = match outcome {
            Outcome::Delivered => {
                tracing::info!(request_id = %id, status = "sent", attempts, "fulfillment delivered");
                metrics::counter!("fulfillment_deliveries_total", "outcome" => "sent").increment(1);
                store::mark_sent(&**client, id).await
            }
            Outcome::Rejected(reason) => {
                tracing::warn!(request_id = %id, status = "failed", attempts, %reason,
                    "fulfillment rejected upstream");
                metrics::counter!("fulfillment_deliveries_total", "outcome" => "rejected")
                    .increment(1);
                store::mark_failed(&**client, id, &reason).await
            }
            Outcome::Retry(error) => {
                match policy.next(u32::try_from(attempts).unwrap_or(u32::MAX), claimed.age) {
                    Next::RetryIn(delay) => {
                        tracing::info!(request_id = %id, status = "queued", attempts, %error,
                            retry_in_ms = delay.as_millis() as u64, "fulfillment attempt failed");
                        metrics::counter!("fulfillment_deliveries_total", "outcome" => "retry")
                            .increment(1);
                        store::schedule_retry(&**client, claimed, delay, &error).await
                    }
                    Next::GiveUp => {
                        let reason = format!(
                            "gave up after {attempts} attempts over {}: {error}",
                            human(claimed.age)
                        );
                        tracing::warn!(request_id = %id, status = "failed", attempts, %reason,
                            "fulfillment given up");
                        metrics::counter!("fulfillment_deliveries_total", "outcome" => "gave_up")
                            .increment(1);
                        store::mark_failed(&**client, id, &reason).await
                    }
                }
            }
        };
        result.map_err(|e| e.to_string())
    }

    /// With no upstream there is nothing to deliver, but the gauges still
    /// tell operators the queue is growing.
    async fn idle(&self, stop: &mut watch::Receiver<bool>) {
        let mut chores = Chores::default();
        while running(stop) {
            chores.run(&self.pool, &self.settings).await;
            wait(stop, self.settings.poll_interval, None).await;
        }
    }
}

/// Periodic work besides delivering: the outbox gauges and cleanup (names
/// and addresses are personal data, kept no longer than needed).
#[derive(Default)]
struct Chores {
    stats_at: Option<Instant>,
    housekeeping_at: Option<Instant>,
}

impl Chores {
    async fn run(&mut self, pool: &Pool, settings: &FulfillmentSettings) {
        let stats_every = settings.poll_interval;
        let now = Instant::now();
        let due = |at: Option<Instant>, every| at.is_none_or(|t| now.duration_since(t) >= every);
        let stats_due = due(self.stats_at, stats_every.max(Duration::from_secs(1)));
        let housekeeping_due = due(self.housekeeping_at, HOUSEKEEPING_EVERY);
        if !stats_due && !housekeeping_due {
            return;
        }
        let Ok(client) = pool.get().await else {
            return;
        };
        if stats_due {
            self.stats_at = Some(now);
            match store::outbox_stats(&**client).await {
                Ok((queued, oldest)) => {
                    metrics::gauge!("outbox_queued").set(queued as f64);
                    metrics::gauge!("outbox_oldest_age_seconds").set(oldest);
                }
                Err(error) => tracing::warn!(%error, "reading outbox statistics failed"),
            }
        }
        if housekeeping_due {
            self.housekeeping_at = Some(now);
            let longest_window = settings.rate_window.max(settings.recipient_window);
            if let Err(error) =
                store::housekeeping(&**client, KEEP_IDEMPOTENCY_KEYS, longest_window).await
            {
                tracing::warn!(%error, "fulfillment housekeeping failed");
            }
            if let Err(error) = expire_and_purge(&client, settings).await {
                tracing::warn!(%error, "fulfillment retention failed");
            }
        }
    }
}

/// Fails queued requests older than the delivery limit, then deletes
/// finished requests past their retention, batch by batch.
async fn expire_and_purge(
    client: &deadpool_postgres::Client,
    settings: &FulfillmentSettings,
) -> Result<(), tokio_postgres::Error> {
    let mut expired = 0;
    loop {
        let n = store::expire_queued(&***client, settings.max_age, PURGE_BATCH).await?;
        expired += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    if expired > 0 {
        tracing::warn!(
            expired,
            max_age_secs = settings.max_age.as_secs(),
            "fulfillment requests never delivered expired"
        );
        metrics::counter!("fulfillment_deliveries_total", "outcome" => "expired")
            .increment(expired);
    }
    let mut purged = 0;
    loop {
        let n = store::purge_finished(&***client, settings.retention, PURGE_BATCH).await?;
        purged += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    if purged > 0 {
        tracing::info!(
            purged,
            retention_days = settings.retention.as_secs() / 86_400,
            "finished fulfillment requests purged"
        );
    }
    Ok(())
}

/// False once stop was asked for or its sender is gone.
fn running(stop: &watch::Receiver<bool>) -> bool {
    !*stop.borrow() && stop.has_changed().is_ok()
}

/// Sleeps for `timeout`, or less if stopped or (when given) woken.
async fn wait(stop: &mut watch::Receiver<bool>, timeout: Duration, wake: Option<&Notify>) {
    let woken = async {
        match wake {
            Some(wake) => wake.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = tokio::time::sleep(timeout) => {}
        () = woken => {}
        _ = stop.changed() => {}
    }
}

/// "3 h 20 min"-style durations for failure reasons.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(human(Duration::from_secs(5)), "5 s");
        assert_eq!(human(Duration::from_secs(600)), "10 min");
        assert_eq!(human(Duration::from_secs(24 * 3600 + 120)), "24 h 2 min");
    }
}
