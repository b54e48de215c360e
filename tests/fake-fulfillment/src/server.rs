//! The HTTP side of the fake: `/requests` as the real service, `/_...` to
//! control and inspect it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::{Mode, Received, Shared, State};

type Resp = Response<Full<Bytes>>;

/// Accepts connections until aborted; aborting drops the set, which aborts
/// every connection (hung ones included).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "bad_body"}}),
        );
    };
    match (method, path.as_str()) {
        (Method::POST, "/requests") => request(shared, key, &body).await,
        (Method::POST, "/_control") => match serde_json::from_slice::<Mode>(&body) {
            Ok(mode) => {
                shared.lock().mode = mode.clone();
                json(StatusCode::OK, json!(mode))
            }
            Err(e) => json(
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "bad_mode", "message": e.to_string()}}),
            ),
        },
        (Method::GET, "/_received") => {
            let state = shared.lock();
            json(
                StatusCode::OK,
                json!({
                    "mode": state.mode,
                    "received": state.received,
                    "deliveries": state.delivered.len(),
                    "delivered": state.delivered,
                }),
            )
        }
        (Method::POST, "/_reset") => {
            *shared.lock() = State::default();
            json(StatusCode::OK, json!({"reset": true}))
        }
        _ => json(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": "not_found"}}),
        ),
    }
}

/// `POST /requests`, answered as the current mode says.
async fn request(shared: &Shared, key: Option<String>, body: &[u8]) -> Resp {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (index, mode) = {
        let mut state = shared.lock();
        state.received.push(Received {
            idempotency_key: key.clone(),
            body: parsed
                .clone()
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned())),
            answered: None,
        });
        (state.received.len() - 1, state.mode.clone())
    };
    shared.changed.notify_waiters();
    let (status, answer) = match mode {
        Mode::Hang => std::future::pending().await,
        Mode::Fail { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = if status.is_client_error() {
                "invalid_request"
            } else {
                "unavailable"
            };
            (
                status,
                json!({"error": {"code": code, "message": "told to fail"}}),
            )
        }
        Mode::Slow { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            accept(shared, key, parsed)
        }
        Mode::Succeed => accept(shared, key, parsed),
    };
    shared.lock().received[index].answered = Some(status.as_u16());
    shared.changed.notify_waiters();
    json(status, answer)
}

/// Records a delivery once per key, as a real idempotent service would.
fn accept(shared: &Shared, key: Option<String>, body: Option<Value>) -> (StatusCode, Value) {
    let Some(key) = key else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "missing_idempotency_key"}}),
        );
    };
    let Some(body) = body.filter(Value::is_object) else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "invalid_json"}}),
        );
    };
    let mut state = shared.lock();
    match state.delivered.get(&key) {
        Some(first) if *first == body => {
            (StatusCode::ACCEPTED, json!({"id": key, "replayed": true}))
        }
        Some(_) => (
            StatusCode::CONFLICT,
            json!({"error": {"code": "idempotency_key_reused"}}),
        ),
        None => {
            state.delivered.insert(key.clone(), body);
            (StatusCode::ACCEPTED, json!({"id": key}))
        }
    }
}

fn json(status: StatusCode, value: Value) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("valid"),
    );
    resp
}
