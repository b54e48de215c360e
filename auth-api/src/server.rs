//! Puts the API on a socket: HTTP/1.1 and HTTP/2 (h2c), with every
//! connection bounded (header-read timeout, idle timeout, HTTP/2 keep-alive
//! pings, a cap on connections served at once), and a shutdown that first
//! drains the load balancer, then finishes in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::client_addr::PeerAddr;
use crate::config::{Config, ConnectionLimits};
use crate::state::AppState;
use crate::{auth, metrics, routes};

/// Longest wait for in-flight requests once the listener is closed.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Migrates (unless `RUN_MIGRATIONS=false`), binds `LISTEN_ADDR` and serves
/// until a shutdown signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.run_migrations {
        whatever_database::migrations::migrate(&config.database).await?;
    }
    let listener = TcpListener::bind(config.listen_addr).await?;
    let admin = TcpListener::bind(config.admin_listen_addr).await?;
    tracing::info!(addr = %listener.local_addr()?, admin = %admin.local_addr()?, "auth-api listening");
    let state = AppState::new(config)?;
    let worker = crate::fulfillment::spawn_for(&state)?;
    let admin = tokio::spawn(metrics::serve_admin(admin));
    let upkeep = tokio::spawn(prune_periodically(state.clone()));
    serve(listener, state, shutdown_signal()).await;
    admin.abort();
    upkeep.abort();
    if let Some(worker) = worker {
        worker.stop().await;
    }
    Ok(())
}

/// Upkeep of the auth tables. Once at start (unless
/// `WRAP_LEGACY_HASHES_AT_START=false`), wraps any legacy bcrypt hash into
/// argon2id. Then every ten minutes, deletes what nobody can need any more
/// (see [`auth::prune`]).
pub async fn prune_periodically(state: AppState) {
    if state.config.auth.wrap_legacy_at_start {
        match state.passwords.wrap_legacy_hashes(&state.pool).await {
            Ok(wrapped) => tracing::info!(wrapped, "legacy bcrypt hashes wrapped into argon2id"),
            Err(error) => tracing::warn!(%error, "wrapping legacy bcrypt hashes failed"),
        }
    }
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let config = &state.config;
        let outcome = match state.pool.get().await {
            Ok(db) => auth::prune(&**db, &config.auth.throttle, &config.accounts).await,
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(deleted) => tracing::debug!(deleted, "pruned expired auth rows"),
            Err(error) => tracing::warn!(%error, "pruning auth rows failed"),
        }
    }
}

/// Serves `state` on `listener` until `shutdown` completes. Then `/readyz`
/// answers 503 while everything else is still served for
/// `SHUTDOWN_DRAIN_MS`; then the listener closes and in-flight requests get
/// up to 30 s to finish.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    metrics::install();
    let limits = state.config.connections.clone();
    let drain = state.config.shutdown_drain;
    let app = routes::app(state.clone());
    let builder = Arc::new(connection_builder(&limits));
    let slots = Arc::new(Semaphore::new(limits.max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let draining = async {
        shutdown.await;
        state.start_draining();
        tracing::info!(
            ?drain,
            "shutting down: draining before closing the listener"
        );
        tokio::time::sleep(drain).await;
    };
    tokio::pin!(draining);
    loop {
        // A slot first: beyond the cap, new connections wait in the
        // listen backlog rather than each costing a task and buffers.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut draining => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            () = &mut draining => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            app: app.clone(),
            builder: builder.clone(),
            peer,
            idle_timeout: limits.idle_timeout,
            stop: stop_rx.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("listener closed, finishing in-flight requests");
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(FINISH_TIMEOUT, slots.acquire_many(all)).await;
}

/// HTTP/1 and HTTP/2 with their timers.
fn connection_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.h2_keep_alive))
        .keep_alive_timeout(limits.h2_keep_alive)
        .max_concurrent_streams(100);
    builder
}

/// One client connection.
struct Connection {
    app: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    peer: SocketAddr,
    idle_timeout: Duration,
    stop: watch::Receiver<bool>,
}

impl Connection {
    /// Serves requests until the client leaves, the connection has been
    /// idle for `idle_timeout`, or the server stops.
    async fn serve(mut self, stream: TcpStream) {
        let activity = Activity::new();
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let app = self.app.clone();
        let peer = PeerAddr(self.peer);
        let in_flight = activity.clone();
        let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            // Handlers that limit per client read the peer from here.
            req.extensions_mut().insert(peer);
            let guard = in_flight.begin();
            let app = app.clone();
            async move {
                let resp = app.oneshot(req.map(axum::body::Body::new)).await;
                drop(guard);
                resp
            }
        });
        let conn = self.builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(conn);
        let mut closing = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    tracing::debug!(peer = %self.peer, "closing an idle connection");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = self.stop.changed(), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// When a connection last moved a byte, and how many requests it has in
/// flight: what tells an idle connection from a slow one.
#[derive(Clone)]
struct Activity(Arc<ActivityInner>);

struct ActivityInner {
    origin: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self(Arc::new(ActivityInner {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }))
    }

    fn touch(&self) {
        let ms = self.0.origin.elapsed().as_millis() as u64;
        self.0.last_ms.store(ms, Ordering::Relaxed);
    }

    fn begin(&self) -> InFlight {
        self.0.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Completes once no request is in flight and no byte moved for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last =
                self.0.origin + Duration::from_millis(self.0.last_ms.load(Ordering::Relaxed));
            let due = last + idle;
            let now = Instant::now();
            if now >= due {
                if self.0.in_flight.load(Ordering::Relaxed) == 0 {
                    return;
                }
                tokio::time::sleep(idle).await;
            } else {
                tokio::time::sleep(due - now).await;
            }
        }
    }
}

/// A request being answered; dropping it ends it.
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records its activity.
struct Watched<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Completes on SIGTERM (what ECS sends) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
