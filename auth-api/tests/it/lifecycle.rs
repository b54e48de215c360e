//! Shutdown and database outages as the load balancer sees them: after
//! SIGTERM `/readyz` fails at once while requests are still served, then
//! in-flight requests finish; with Postgres gone requests fail fast with 503
//! and succeed again once it is back, without a restart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;
use whatever_test_db::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_readiness_first_then_finishes_in_flight_requests() {
    let mut app = TestApp::start_with(|c| c.shutdown_drain = Duration::from_millis(1500)).await;
    let addr = app.addr;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{addr}{path}")).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200, "control");

    // A request in flight across the whole shutdown: its body comes late.
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    let body = br#"{"username":"nobody","password":"nothing-at-all"}"#;
    in_flight
        .write_all(
            format!(
                "POST /api/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();

    app.terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get("/readyz").await.unwrap().status(), 503, "draining");
    assert_eq!(
        get("/healthz").await.unwrap().status(),
        200,
        "still serving"
    );

    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is still open after the drain"
    );
    assert!(!app.is_stopped(), "stopped with a request in flight");
    in_flight.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), in_flight.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), app.shutdown())
        .await
        .expect("the server did not stop once idle");
}

/// A TCP relay to Postgres that can be cut (every connection dropped, new
/// ones refused) and restored: Postgres going away and coming back, as the
/// API sees it.
struct Relay {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, watch_up) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                if !*watch_up.borrow() {
                    continue; // dropped: refused
                }
                let mut down = watch_up.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_gone_requests_fail_fast_and_recover_without_a_restart() {
    let db = Arc::new(TestDatabase::new().await.unwrap());
    let real = db.config().pg.clone();
    let host = match &real.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("the test server is not on TCP: {other:?}"),
    };
    let target: SocketAddr = tokio::net::lookup_host((host.as_str(), real.get_ports()[0]))
        .await
        .unwrap()
        .next()
        .unwrap();
    let relay = Relay::start(target).await;
    let app = TestApp::start_on(db.clone(), |c| {
        let mut pg = tokio_postgres::Config::new();
        pg.host("127.0.0.1")
            .port(relay.addr.port())
            .user(real.get_user().unwrap_or("postgres"))
            .dbname(real.get_dbname().unwrap_or("postgres"));
        c.database.pg = pg;
        c.db_wait = Duration::from_millis(500);
        c.request_timeout = Duration::from_secs(3);
    })
    .await;
    let token = signed_in(&app).await;
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        200,
        "control"
    );

    relay.set(false);
    for path in ["/readyz", "/api/me/enrollment"] {
        let started = Instant::now();
        let resp = app.user(&token).get(path).await;
        assert_eq!(resp.status(), 503, "{path} with Postgres gone");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path} took {:?} to fail",
            started.elapsed()
        );
    }

    relay.set(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.user(&token).get("/api/me/enrollment").await.status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} 10 s after Postgres came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.anonymous().get("/readyz").await.status(), 200);
}

async fn signed_in(app: &TestApp) -> String {
    let db = app.sql().await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    app.token("ada", "pw-ada-1234").await
}
