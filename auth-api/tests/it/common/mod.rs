//! A test app: a fresh migrated database, the real server on 127.0.0.1:0,
//! a reqwest client, fixture builders, and the captured logs.

pub mod maildev;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use auth_api::config::Config;
use auth_api::state::AppState;
use tokio::sync::oneshot;
use whatever_test_db::TestDatabase;

/// Everything logged by this test process, at every level.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every log line of the process into a buffer (once per process).
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = BufferWriter(buffer.clone());
        // The production filter, opened up to every level.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(whatever_database::logging::filter("trace"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    });
}

/// The logs captured so far.
pub fn logs() -> String {
    LOGS.get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap()).into_owned())
        .unwrap_or_default()
}

pub struct TestApp {
    pub db: Arc<TestDatabase>,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// A server with the test defaults.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `tweak` adjusts.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::new().await.expect("test database");
        Self::start_on(Arc::new(db), tweak).await
    }

    /// Another server on the same database: a second replica, or the next
    /// deployment.
    pub async fn replica(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(self.db.clone(), tweak).await
    }

    /// A server on `db`, with its configuration adjusted by `tweak`.
    pub async fn start_on(db: Arc<TestDatabase>, tweak: impl FnOnce(&mut Config)) -> Self {
        capture_logs();
        let mut config = Config::for_tests(db.config().clone());
        tweak(&mut config);
        let state = AppState::new(config).expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(auth_api::server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            db,
            addr,
            client,
            state,
            shutdown: Some(tx),
        }
    }

    /// A server on a fresh database whose every statement runs as a login
    /// in `whatever_api_role` alone, as production's do, and the owner's
    /// server on the same database (for fixtures and checks). The login
    /// lives as long as the returned value.
    pub async fn as_api_role(
        tweak: impl FnOnce(&mut Config),
    ) -> (TestApp, TestApp, whatever_test_db::TestLogin) {
        let owner = TestApp::start().await;
        let login = owner.db.login_in("whatever_api_role").await.unwrap();
        let config = login.config().clone();
        let app = owner
            .replica(|c| {
                c.database = config;
                tweak(c);
            })
            .await;
        (owner, app, login)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn sql(&self) -> tokio_postgres::Client {
        self.db.connect().await.unwrap()
    }

    /// `POST /api/login` with a JSON body.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the token from the cookie.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let resp = self.login(username, password).await;
        assert_eq!(resp.status(), 200, "login of {username} failed");
        session_cookie(&resp).expect("a session cookie")
    }

    /// `POST path` with a JSON body, signed in with `token` if given.
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
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
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// `GET /api/me/enrollment` with a bearer token.
    pub async fn enrollment(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/me/enrollment"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The token in a response's `Set-Cookie: __Host-whatever_session=...`, if any.
pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("__Host-whatever_session="))
        .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        .filter(|t| !t.is_empty())
}

// ---- fixture builders -------------------------------------------------------

pub const SSN: &str = "078-05-1120";

pub async fn insert_plan(db: &tokio_postgres::Client, plan_id: &str, name: &str) {
    db.execute(
        "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description,
                           avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age)
         VALUES ($1, $2, 'Acme Health', 'active', 'A plan & more <b>', 32.50, 7.00, 0, 65, NULL)",
        &[&plan_id, &name],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO plan_feature (plan_id, feature_key, feature_value)
         VALUES ($1, 'mail_order', 'yes'), ($1, 'generic_tier', '1')",
        &[&plan_id],
    )
    .await
    .unwrap();
}

pub async fn insert_beneficiary(db: &tokio_postgres::Client, id: i64, ssn: &str) {
    db.execute(
        "INSERT INTO beneficiary (beneficiary_id, fname, lname, sex, ssn, birthdate,
                                  address, city, state, zip_code)
         VALUES ($1, 'Zoë', 'O''Brien', 'F', $2, '1950-03-04', '1 Main St', 'Boston', 'MA', '02134')",
        &[&id, &ssn],
    )
    .await
    .unwrap();
}

pub async fn insert_user(
    db: &tokio_postgres::Client,
    username: &str,
    password: &str,
    beneficiary: Option<i64>,
) {
    let hash = auth_api::auth::password::hash_password(password);
    insert_user_with_hash(db, username, &hash, beneficiary).await;
}

pub async fn insert_user_with_hash(
    db: &tokio_postgres::Client,
    username: &str,
    hash: &str,
    beneficiary: Option<i64>,
) {
    db.execute(
        r#"INSERT INTO "user" (username, password, email, beneficiary_id) VALUES ($1, $2, $3, $4)"#,
        &[
            &username,
            &hash,
            &format!("{username}@example.com"),
            &beneficiary,
        ],
    )
    .await
    .unwrap();
}

/// An enrollment from today + `start` days to today + `end` days (`None`:
/// open-ended).
pub async fn enroll(
    db: &tokio_postgres::Client,
    beneficiary: i64,
    plan_id: &str,
    start: i32,
    end: Option<i32>,
) {
    db.execute(
        "INSERT INTO beneficiary_to_plan (beneficiary_id, plan_id, start_date, end_date)
         VALUES ($1, $2, CURRENT_DATE + $3::int, CURRENT_DATE + $4::int)",
        &[&beneficiary, &plan_id, &start, &end],
    )
    .await
    .unwrap();
}

/// A user `username` / `password` linked to a fresh beneficiary `id`.
pub async fn user_with_beneficiary(
    db: &tokio_postgres::Client,
    username: &str,
    password: &str,
    id: i64,
) {
    insert_beneficiary(db, id, SSN).await;
    insert_user(db, username, password, Some(id)).await;
}
