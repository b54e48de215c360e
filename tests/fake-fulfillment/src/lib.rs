//! A fake of the third-party Fulfillment API, over real HTTP, for tests and
//! local runs. It behaves like the real service where it matters: `POST
//! /requests` with an `Idempotency-Key` is accepted once per key (a replay
//! with the same body is answered 202 again without a second delivery), and
//! it can be told at run time to fail, answer slowly, or hang.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_fulfillment::{FakeFulfillment, Mode};
//! let fake = FakeFulfillment::start().await?;
//! fake.set_mode(Mode::Fail { status: 503 });
//! // ... point the API at fake.url() ...
//! fake.set_mode(Mode::Succeed);
//! assert!(fake.wait_for_deliveries(1, std::time::Duration::from_secs(5)).await);
//! # Ok(()) }
//! ```
//!
//! Control endpoints (for the binary): `POST /_control` with a [`Mode`] as
//! JSON (`{"mode":"fail","status":503}`, `{"mode":"slow","delay_ms":2000}`,
//! `{"mode":"hang"}`, `{"mode":"succeed"}`), `GET /_received`, `POST /_reset`.

mod server;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How the fake answers `POST /requests` from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// Accept (202), once per idempotency key.
    #[default]
    Succeed,
    /// Answer every request with this status (e.g. 500, 503, 400, 422).
    Fail {
        /// The HTTP status to answer with.
        status: u16,
    },
    /// Wait this long, then behave as [`Mode::Succeed`].
    Slow {
        /// The delay in milliseconds.
        delay_ms: u64,
    },
    /// Never answer.
    Hang,
}

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Received {
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// The body (JSON, or a string when it was not JSON).
    pub body: Value,
    /// The status answered, once answered (`None` while slow or hanging).
    pub answered: Option<u16>,
}

/// One accepted request: what would be mailed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The key it was accepted under.
    pub idempotency_key: String,
    /// The body accepted.
    pub body: Value,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) mode: Mode,
    pub(crate) received: Vec<Received>,
    /// Deliveries by key, in a stable order.
    pub(crate) delivered: BTreeMap<String, Value>,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) changed: Notify,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking handler must not take the fake down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake; it stops (and every open connection with it) on drop.
pub struct FakeFulfillment {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeFulfillment {
    /// Starts on `127.0.0.1` on a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().expect("valid address")).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Self { addr, shared, task })
    }

    /// The base URL to configure as `FULFILLMENT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes how requests are answered from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().mode = mode;
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.shared.lock().mode.clone()
    }

    /// Every request received, in arrival order (replays and failures included).
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Accepted requests, one per idempotency key.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared
            .lock()
            .delivered
            .iter()
            .map(|(key, body)| Delivery {
                idempotency_key: key.clone(),
                body: body.clone(),
            })
            .collect()
    }

    /// How many distinct requests were accepted.
    pub fn delivery_count(&self) -> usize {
        self.shared.lock().delivered.len()
    }

    /// Forgets everything received and goes back to [`Mode::Succeed`].
    pub fn reset(&self) {
        *self.shared.lock() = State::default();
    }

    /// Waits until at least `n` distinct requests were accepted; false on timeout.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.delivered.len() >= n).await
    }

    /// Waits until at least `n` requests were received; false on timeout.
    pub async fn wait_for_received(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.received.len() >= n).await
    }

    async fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            if done(&self.shared.lock()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(&self.shared.lock());
            }
        }
    }
}

impl Drop for FakeFulfillment {
    fn drop(&mut self) {
        self.task.abort();
    }
}
