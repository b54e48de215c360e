//! Prometheus metrics: request counts and latency histograms by route,
//! method and status, served on the admin port (`ADMIN_LISTEN_ADDR`), never
//! on the public one.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::http::Resp;

/// Latency buckets in seconds: fine-grained around the 10 ms target.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes `/metrics`.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same
/// handle, so tests can start several servers).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            register_counters();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// Folds pending histogram samples into their buckets every
/// [`UPKEEP_EVERY`]. A recorder made by `build_recorder` keeps every sample
/// of every request until someone renders it: with no scraper (locally, or
/// when the metrics sidecar is down) the API's memory would grow with each
/// request it answers. A plain thread, so it runs whichever runtime (or
/// none) installed the recorder.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start metrics upkeep; memory grows until /metrics is scraped");
    }
}

/// Puts the counters that alarm in `/metrics` at zero from the start. The
/// CloudWatch agent exports a counter's increase between two scrapes; a
/// series that appeared only at its first increment would have that first
/// increase taken as its starting point and never counted.
fn register_counters() {
    use crate::auth::throttle::{LIMITS, THROTTLED_METRIC};
    metrics::describe_counter!(
        THROTTLED_METRIC,
        "Logins refused by the throttle, by the limit that held them back"
    );
    for limit in LIMITS {
        metrics::counter!(THROTTLED_METRIC, "limit" => limit).increment(0);
    }
}

/// Counts one answered request and its latency, labelled by the route
/// that matched (its template, e.g. `/api/fulfillment/{request_id}`): a
/// bounded set of labels, never raw paths (ids in paths would make a series
/// per request). Requests no route matched share `unmatched`.
pub async fn record(req: Request, next: Next) -> axum::response::Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let resp = next.run(req).await;
    let labels = [
        ("route", route),
        ("method", method.as_str().to_string()),
        ("status", resp.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}

fn answer(handle: &PrometheusHandle, req: &http::Request<hyper::body::Incoming>) -> Resp {
    let (status, content_type, body) =
        if req.method() == Method::GET && req.uri().path() == "/metrics" {
            handle.run_upkeep();
            (StatusCode::OK, "text/plain; version=0.0.4", handle.render())
        } else {
            (
                StatusCode::NOT_FOUND,
                "application/json",
                r#"{"error":{"code":"not_found","message":"only GET /metrics is served here"}}"#
                    .to_string(),
            )
        };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve_admin(listener: TcpListener) {
    let handle = install();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "admin accept failed");
                continue;
            }
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let resp = answer(&handle, &req);
                async move { Ok::<_, std::convert::Infallible>(resp) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = conn.await {
                tracing::debug!(%error, "admin connection ended with an error");
            }
        });
    }
}
