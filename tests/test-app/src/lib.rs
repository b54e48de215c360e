//! The auth-api running inside a test: a fresh migrated Postgres database
//! of its own, the real server on a free port of 127.0.0.1, a client per
//! user that carries that user's session, the fixture builders, and
//! everything the process logged.
//!
//! A test starts one with [`TestApp::start`] (or [`TestApp::start_with`] to
//! adjust the configuration), adds rows with [`fixtures`], and speaks to it
//! as someone: [`TestApp::anonymous`], [`TestApp::sign_in`] or
//! [`TestApp::user`]. Failures panic with what failed: this crate serves
//! tests only, and nothing that ships may depend on it.

mod client;
pub mod fixtures;
mod logs;
mod process;

use std::net::SocketAddr;
use std::sync::Arc;

use auth_api::config::Config;
use auth_api::fulfillment::{WorkerHandle, spawn_for};
use auth_api::state::AppState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use whatever_test_db::{TestDatabase, TestLogin};

pub use client::{Client, SESSION_COOKIE, session_cookie};
pub use logs::{capture_logs, logs};
pub use process::in_own_process;

/// A running auth-api over a test database; the server stops when this is
/// dropped (or at once with [`TestApp::shutdown`]).
pub struct TestApp {
    /// The database, shared with every replica started from this app.
    pub db: Arc<TestDatabase>,
    /// Where the server listens.
    pub addr: SocketAddr,
    /// A plain client: no session, no redirects followed.
    pub client: reqwest::Client,
    /// The server's state, for what a test drives directly (the router,
    /// the fulfillment worker, the configuration it runs with).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    worker: Option<WorkerHandle>,
}

impl TestApp {
    /// A server with the test defaults, on a fresh database.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server on a fresh database whose configuration `tweak` adjusts.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::new().await.expect("a test database");
        Self::start_on(Arc::new(db), tweak).await
    }

    /// Another server on the same database: a second replica, or the next
    /// deployment.
    pub async fn replica(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(self.db.clone(), tweak).await
    }

    /// A server on `db`, with the test defaults adjusted by `tweak`.
    pub async fn start_on(db: Arc<TestDatabase>, tweak: impl FnOnce(&mut Config)) -> Self {
        capture_logs();
        let mut config = Config::for_tests(db.config().clone());
        tweak(&mut config);
        let state = AppState::new(config).expect("the server's state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(auth_api::server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            db,
            addr,
            client,
            state,
            stop: Some(stop),
            server: Some(server),
            worker: None,
        }
    }

    /// A server on a fresh database whose every statement runs as a login
    /// in `whatever_api_role` alone, as production's do, and the owner's
    /// server on the same database (for fixtures and checks): `(owner,
    /// app, login)`. The login lives as long as the returned value.
    pub async fn as_api_role(tweak: impl FnOnce(&mut Config)) -> (TestApp, TestApp, TestLogin) {
        let owner = TestApp::start().await;
        let login = owner
            .db
            .login_in("whatever_api_role")
            .await
            .expect("a login in whatever_api_role");
        let config = login.config().clone();
        let app = owner
            .replica(|c| {
                c.database = config;
                tweak(c);
            })
            .await;
        (owner, app, login)
    }

    /// Starts the fulfillment worker beside the server, as the binary does
    /// (none if the configuration disables it); [`TestApp::shutdown`] stops
    /// it after the server.
    pub fn with_worker(mut self) -> Self {
        self.worker = spawn_for(&self.state).expect("the worker's pool");
        self
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A new connection to the database, as its owner.
    pub async fn sql(&self) -> tokio_postgres::Client {
        self.db.connect().await.expect("a database connection")
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client::new(self.client.clone(), self.url(""), None)
    }

    /// A client carrying the session token `session` in the session cookie.
    pub fn user(&self, session: &str) -> Client {
        Client::new(self.client.clone(), self.url(""), Some(session.into()))
    }

    /// Signs `username` in with `password` and returns a client carrying
    /// the new session. Panics unless the login gives a session at once.
    pub async fn sign_in(&self, username: &str, password: &str) -> Client {
        let resp = self.login(username, password).await;
        assert_eq!(resp.status(), 200, "login of {username} failed");
        let session = session_cookie(&resp).expect("a session cookie");
        self.user(&session)
    }

    /// `POST /api/login` with a JSON body.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.anonymous()
            .post(
                "/api/login",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await
    }

    /// Signs `username` in and returns the session token itself.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let user = self.sign_in(username, password).await;
        user.session().expect("a session").to_string()
    }

    /// The kinds of the audit rows about `username`, oldest first.
    pub async fn audit_kinds(&self, username: &str) -> Vec<String> {
        self.sql()
            .await
            .query(
                "SELECT kind FROM security_event WHERE username = $1 ORDER BY id",
                &[&username],
            )
            .await
            .expect("the audit log")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Tells the server to stop, as SIGTERM does in production: readiness
    /// fails at once, new connections are refused after the drain, and
    /// requests in flight finish.
    pub fn terminate(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Whether the server has stopped serving altogether.
    pub fn is_stopped(&self) -> bool {
        self.server.as_ref().is_none_or(|s| s.is_finished())
    }

    /// Stops like a deploy does: the server (after its drain and the
    /// requests in flight), then the worker.
    pub async fn shutdown(mut self) {
        self.terminate();
        if let Some(server) = self.server.take() {
            server.await.expect("the server stopped cleanly");
        }
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.terminate();
    }
}
