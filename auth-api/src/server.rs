//! Puts the API on a socket: HTTP/1.1 and HTTP/2, header-read timeout,
//! graceful shutdown on SIGTERM/Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::auth::PeerAddr;
use crate::config::Config;
use crate::state::AppState;
use crate::{auth, metrics, routes};

/// A slow client must send its headers within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

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
    let upkeep = tokio::spawn(auth::prune_periodically(state.clone()));
    serve(listener, state, shutdown_signal()).await;
    admin.abort();
    upkeep.abort();
    if let Some(worker) = worker {
        worker.stop().await;
    }
    Ok(())
}

/// Serves `state` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish (up to 30 s).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) {
    metrics::install();
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer): (_, SocketAddr) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        continue;
                    }
                };
                let state = state.clone();
                let service = service_fn(move |mut req: http::Request<_>| {
                    // Handlers that limit per client read the peer from here
                    // (throttling counts failed logins per client address).
                    req.extensions_mut().insert(PeerAddr(peer));
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(routes::handle(state, req).await) }
                });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(error) = conn.await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down, finishing in-flight requests");
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
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
