//! What a client connection may hold: slow bodies hold no shared resource,
//! signed-in routes keep capacity of their own, idle and silent connections
//! are closed, the number served at once is capped, and shutdown drains.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use whatever_test_app::fixtures::*;
use whatever_test_app::*;

/// Reads until the server closes the connection; `None` if it is still
/// open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| seen)
}

/// A signed-in user `ada` with an enrollment, and her token.
async fn signed_in(app: &TestApp) -> String {
    let db = app.sql().await;
    insert_plan(&db, "S5601-012-0", "Basic").await;
    user_with_beneficiary(&db, "ada", "pw-ada-1234", 1).await;
    enroll(&db, 1, "S5601-012-0", -5, None).await;
    app.token("ada", "pw-ada-1234").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_slow_anonymous_bodies_leave_enrollment_answering() {
    let app = TestApp::start().await;
    let token = signed_in(&app).await;

    // The attack: each sends its headers and one byte of a 5,000-byte body.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(
            b"POST /api/fulfillment HTTP/1.1\r\nHost: api\r\n\
              Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
        )
        .await
        .unwrap();
        slow.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    for i in 0..20 {
        let started = Instant::now();
        let resp = app.user(&token).get("/api/me/enrollment").await;
        let took = started.elapsed();
        assert_eq!(resp.status(), 200, "enrollment #{i} during the attack");
        assert!(
            took < Duration::from_millis(500),
            "enrollment #{i} took {took:?}"
        );
    }
    // The slow requests are still in flight: none was answered or dropped.
    for s in &slow {
        let mut buf = [0u8; 1];
        assert!(
            matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a slow request was answered early"
        );
    }
}

#[tokio::test]
async fn enrollment_keeps_its_own_connections_when_the_anonymous_pool_is_exhausted() {
    let app = TestApp::start_with(|c| c.db_wait = Duration::from_millis(300)).await;
    let token = signed_in(&app).await;
    let size = app.state.pool.status().max_size;
    let mut held = Vec::new();
    for _ in 0..size {
        held.push(app.state.pool.get().await.unwrap());
    }
    // Control: an anonymous route waits for the pool, then gives up.
    let ready = app.anonymous().get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let started = Instant::now();
    assert_eq!(
        app.user(&token).get("/api/me/enrollment").await.status(),
        200
    );
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn an_idle_http1_connection_is_closed() {
    let app =
        TestApp::start_with(|c| c.connections.idle_timeout = Duration::from_millis(300)).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let seen = read_until_closed(&mut s, Duration::from_secs(3))
        .await
        .expect("the idle connection is still open after 3 s");
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn an_idle_h2c_connection_is_closed() {
    let app =
        TestApp::start_with(|c| c.connections.idle_timeout = Duration::from_millis(300)).await;
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::get(app.url("/healthz"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let _ = resp.into_body().collect().await;
    tokio::time::timeout(Duration::from_secs(3), conn)
        .await
        .expect("the idle h2c connection is still open after 3 s")
        .unwrap()
        .ok();
}

#[tokio::test]
async fn an_h2c_peer_that_stops_answering_pings_is_dropped() {
    let app = TestApp::start_with(|c| {
        c.connections.h2_keep_alive = Duration::from_millis(300);
        c.connections.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    // The preface and an empty SETTINGS frame, then silence.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    read_until_closed(&mut s, Duration::from_secs(3))
        .await
        .expect("the silent h2c peer is still connected after 3 s");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let app = TestApp::start_with(|c| c.connections.max = 2).await;
    let first = TcpStream::connect(app.addr).await.unwrap();
    let _second = TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut third = TcpStream::connect(app.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap of 2"
    );

    drop(first);
    let seen = read_until_closed(&mut third, Duration::from_secs(3))
        .await
        .expect("the waiting connection was not served once a slot freed");
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_request_whose_body_never_comes_is_answered_at_the_request_timeout() {
    let app = TestApp::start_with(|c| c.request_timeout = Duration::from_millis(500)).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /api/login HTTP/1.1\r\nHost: api\r\n\
          Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("no answer 3 s into a request with a 500 ms timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""code":"unavailable""#), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(1500));
}
