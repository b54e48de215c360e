//! Puts the real auth-api under load, for the benchmarks that measure it.
//!
//! [`ApiServer`] runs the service as production does, on a tokio runtime
//! (and OS threads) of its own, so the load generator's scheduling does not
//! blur the server's latencies; [`closed_loop`] drives it with a fixed
//! number of clients that each send their next request when the last one
//! answered (the most the server can do), [`open_loop`] at a fixed rate
//! whatever the answers (latency at a given traffic), and [`Figures`]
//! summarizes what they saw.
//!
//! For the robustness tests it also runs the auth-api as a process of its
//! own ([`process::ApiProcess`]: signals, memory), a Postgres cluster a test
//! may stop and start ([`postgres::PrivateCluster`]), and the fixed-seed
//! property runner ([`properties::runner`]).

pub mod postgres;
pub mod process;
pub mod properties;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use auth_api::config::Config;
use auth_api::state::AppState;

/// The auth-api on `127.0.0.1`, with its delivery worker when the
/// configuration enables one, stopped gracefully on [`ApiServer::stop`].
pub struct ApiServer {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ApiServer {
    /// Starts the server with `config` on an ephemeral port, on a runtime of
    /// `worker_threads` threads (`None`: one per core, as in production).
    pub fn start(config: Config, worker_threads: Option<usize>) -> anyhow::Result<Self> {
        let state = AppState::new(config)?;
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = worker_threads {
                builder.worker_threads(n);
            }
            let runtime = builder.enable_all().build()?;
            runtime.block_on(async move {
                let worker = auth_api::fulfillment::spawn_for(&served)?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let _ = addr_tx.send(listener.local_addr()?);
                auth_api::server::serve(listener, served, async {
                    let _ = stopped.await;
                })
                .await;
                if let Some(worker) = worker {
                    worker.stop().await;
                }
                anyhow::Ok(())
            })
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| anyhow::anyhow!("the auth-api did not start listening"))?;
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A session token for `username`, signed with the server's own key:
    /// what a login would hand out, without spending an argon2 hash on it.
    pub fn token_for(&self, username: &str) -> anyhow::Result<String> {
        let auth = &self.state.config.auth;
        Ok(auth_api::auth::session::open(&auth.keys, &auth.session, username)?.token)
    }

    /// Stops accepting, lets requests in flight finish, stops the worker.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| anyhow::anyhow!("the server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// What a load run saw.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Latencies of the successful requests, sorted.
    pub latencies: Vec<Duration>,
    /// Every successful request as (when it was sent, from the start of the
    /// run; its latency), in the order they were sent.
    pub timeline: Vec<(Duration, Duration)>,
    /// Requests that failed or did not answer 2xx.
    pub errors: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Figures {
    /// The figures of a run from its samples, (when sent, latency), in any
    /// order.
    pub fn new(mut timeline: Vec<(Duration, Duration)>, errors: usize, elapsed: Duration) -> Self {
        timeline.sort();
        let mut latencies: Vec<Duration> = timeline.iter().map(|(_, l)| *l).collect();
        latencies.sort();
        Self {
            latencies,
            timeline,
            errors,
            elapsed,
        }
    }

    /// Several runs taken as one: their samples, errors and wall time
    /// together (each run's send times stay relative to its own start).
    pub fn pooled(runs: &[Figures]) -> Self {
        Self::new(
            runs.iter()
                .flat_map(|f| f.timeline.iter().copied())
                .collect(),
            runs.iter().map(|f| f.errors).sum(),
            runs.iter().map(|f| f.elapsed).sum(),
        )
    }

    /// The `q` quantile (0.0–1.0) of the latencies, zero when there are none.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i]
    }

    /// Successful requests per second.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The p99 of each `window` of the run, from the start: where in a run
    /// the slow requests were.
    pub fn p99_by_window(&self, window: Duration) -> Vec<Duration> {
        let mut buckets: Vec<Vec<Duration>> = Vec::new();
        for (at, latency) in &self.timeline {
            let i = (at.as_secs_f64() / window.as_secs_f64()) as usize;
            if buckets.len() <= i {
                buckets.resize_with(i + 1, Vec::new);
            }
            buckets[i].push(*latency);
        }
        buckets
            .into_iter()
            .map(|mut b| {
                b.sort();
                b.get(((b.len().max(1) - 1) as f64 * 0.99).round() as usize)
                    .copied()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// One line: count, rate, p50, p99 and max, in milliseconds.
    pub fn line(&self) -> String {
        format!(
            "{} requests in {:.1} s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors",
            self.latencies.len(),
            self.elapsed.as_secs_f64(),
            self.per_second(),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.errors
        )
    }
}

/// A numeric bench setting from the environment, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `clients` clients, each in a loop of `request(client_index, n)` until
/// `until` resolves; every answer's body is read to the end.
pub async fn closed_loop<F>(
    clients: usize,
    request: F,
    until: impl std::future::Future<Output = ()>,
) -> Figures
where
    F: Fn(usize, u64) -> reqwest::RequestBuilder + Sync,
{
    closed_loop_with(
        clients,
        |c, n| {
            let sent = request(c, n).send();
            async move {
                match sent.await {
                    Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
                    _ => false,
                }
            }
        },
        until,
    )
    .await
}

/// `clients` clients, each in a loop of `attempt(client_index, n)` until
/// `until` resolves. An attempt is whatever one unit of work is (a request,
/// or the requests of a two-step sign-in) and says whether it succeeded;
/// its latency is its whole time.
pub async fn closed_loop_with<F, Fut>(
    clients: usize,
    attempt: F,
    until: impl std::future::Future<Output = ()>,
) -> Figures
where
    F: Fn(usize, u64) -> Fut + Sync,
    Fut: std::future::Future<Output = bool>,
{
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    let run = futures::future::join_all((0..clients).map(|c| {
        let (stop, attempt) = (&stop, &attempt);
        async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let sent = Instant::now();
                if attempt(c, n).await {
                    latencies.push((sent - started, sent.elapsed()));
                } else {
                    errors += 1;
                }
                n += 1;
            }
            (latencies, errors)
        }
    }));
    let stopper = async {
        until.await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (results, ()) = futures::future::join(run, stopper).await;
    let elapsed = started.elapsed();
    let errors = results.iter().map(|(_, e)| e).sum();
    let timeline = results.into_iter().flat_map(|(t, _)| t).collect();
    Figures::new(timeline, errors, elapsed)
}

/// `rate` requests a second, `request(n)` for the n-th, sent on schedule
/// whether or not earlier ones have answered, until `until` resolves; then
/// waits for the answers. A latency counts from when the request was due,
/// not when it went out, so a stalled server is not hidden by the client
/// falling behind (coordinated omission).
pub async fn open_loop<F>(
    rate: u64,
    request: F,
    until: impl std::future::Future<Output = ()>,
) -> Figures
where
    F: Fn(u64) -> reqwest::RequestBuilder,
{
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut until = std::pin::pin!(until);
    let mut n = 0u64;
    loop {
        tokio::select! {
            () = &mut until => break,
            _ = ticker.tick() => {
                let due = started + interval * n as u32;
                let sent = request(n).send();
                in_flight.spawn(async move {
                    let ok = match sent.await {
                        Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
                        _ => false,
                    };
                    ok.then(|| (due - started, due.elapsed()))
                });
                n += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let (mut timeline, mut errors) = (Vec::new(), 0);
    while let Some(done) = in_flight.join_next().await {
        match done {
            Ok(Some(sample)) => timeline.push(sample),
            _ => errors += 1,
        }
    }
    Figures::new(timeline, errors, elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(latencies_ms: &[u64], errors: usize) -> Figures {
        let timeline = latencies_ms
            .iter()
            .enumerate()
            .map(|(i, l)| (Duration::from_millis(i as u64), Duration::from_millis(*l)))
            .collect();
        Figures::new(timeline, errors, Duration::from_secs(1))
    }

    #[test]
    fn pooled_runs_are_one_distribution() {
        let fast = run(&[1; 99], 0);
        let slow = run(&[10; 1], 2);
        let pooled = Figures::pooled(&[fast.clone(), slow]);
        assert_eq!(pooled.latencies.len(), 100);
        assert_eq!(pooled.errors, 2);
        assert_eq!(pooled.elapsed, Duration::from_secs(2));
        assert_eq!(pooled.quantile(1.0), Duration::from_millis(10));
        assert_eq!(pooled.quantile(0.5), fast.quantile(0.5));
    }
}
