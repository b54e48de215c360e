//! `generator serve`: a built site on localhost, routed the way the CDN
//! routes it, so a person can click through the whole product locally:
//! static objects from the build directory, `/api/*` proxied to the
//! auth-api, `/search?zip=` redirected, and `404.html` for anything missing.

mod proxy;
pub mod routing;
mod statics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::{Error, Result};

pub use routing::{Route, route};

/// Flags of `generator serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The directory `generator build --out` wrote.
    #[arg(long, default_value = "site")]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000", env = "SERVE_LISTEN_ADDR")]
    pub listen: SocketAddr,
    /// Where `/api/*`, `/healthz` and `/readyz` are forwarded: the auth-api.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "SERVE_API_URL")]
    pub api: String,
}

/// Runs `generator serve` until Ctrl-C.
pub async fn run(args: &ServeArgs) -> Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(Error::io("listening on", args.listen.to_string()))?;
    tracing::info!(
        url = %format!("http://{}/", listener.local_addr().map_err(Error::io("reading address of", "listener"))?),
        dir = %args.dir.display(),
        api = %args.api,
        "serving the site"
    );
    serve(listener, args.clone(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves the site on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    if !args.dir.join("index.html").is_file() {
        return Err(Error::Invalid(format!(
            "{} has no index.html: run `generator build --out {}` first",
            args.dir.display(),
            args.dir.display()
        )));
    }
    let api = proxy::ApiProxy::new(&args.api)?;
    let state = Arc::new((args.dir.clone(), api));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move {
                        let (dir, api) = &*state;
                        Ok::<_, std::convert::Infallible>(handle(dir, api, peer, req).await)
                    }
                });
                tokio::spawn(async move {
                    let builder = auto::Builder::new(TokioExecutor::new());
                    if let Err(error) = builder.serve_connection(TokioIo::new(stream), service).await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => return Ok(()),
        }
    }
}

async fn handle(
    dir: &std::path::Path,
    api: &proxy::ApiProxy,
    peer: SocketAddr,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<proxy::Body> {
    let decision = route(req.uri().path(), req.uri().query());
    tracing::debug!(method = %req.method(), path = %req.uri().path(), ?decision, "request");
    let gzip = req
        .headers()
        .get(hyper::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(statics::accepts_gzip);
    match decision {
        Route::Api => api.forward(req, peer).await,
        Route::Redirect { status, location } => statics::redirect(status, &location),
        Route::Object(key) => statics::object(dir, &key, req.method(), gzip).await,
        Route::NotFound => statics::not_found(dir, req.method(), gzip).await,
    }
}
