//! Load benchmark of `GET /api/me/enrollment`, the API's hot path.
//!
//! Starts the real server in-process (its own runtime) on a fresh database
//! with 1,000 enrolled beneficiaries, signs in a few of them, then drives the
//! endpoint from a separate runtime over N keep-alive HTTP/1.1 connections
//! for a fixed time and prints requests/s and latency percentiles.
//!
//! For comparison it then runs the same endpoint authenticated the old way,
//! HTTP Basic with an argon2 verification on every request. That server is
//! built here, in the benchmark, and nowhere else: the service never
//! accepts HTTP Basic.
//!
//! `cargo bench --workspace --bench enrollment`; `BENCH_SECONDS` (default
//! 10) and `BENCH_CONNECTIONS` (default 32) adjust the run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_api::auth::password::{Verdict, hash_password};
use auth_api::config::Config;
use auth_api::enrollment;
use auth_api::http::{Resp, json_response};
use auth_api::state::AppState;
use base64::Engine;
use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use load_harness::{Figures, env_or};
use whatever_test_db::TestDatabase;

const USERS: i64 = 1_000;
const SIGNED_IN: i64 = 16;
const PASSWORD: &str = "bench-password-1234";

fn main() {
    let seconds = env_or("BENCH_SECONDS", 10);
    let connections = env_or("BENCH_CONNECTIONS", 32) as usize;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let (db, state) = server_rt.block_on(async {
        let db = TestDatabase::new()
            .await
            .expect("a test database (is Postgres running?)");
        seed(&db).await;
        let mut config = Config::for_tests(db.config().clone());
        config.database.pool_size = 16;
        (db, AppState::new(config).unwrap())
    });
    let jwt_addr = server_rt.block_on(start_jwt_server(state.clone()));
    let basic_addr = server_rt.block_on(start_basic_server(state.clone()));

    let tokens: Vec<String> = client_rt.block_on(async {
        let mut tokens = Vec::new();
        for i in 0..SIGNED_IN {
            tokens.push(login(jwt_addr, &format!("user{i}")).await);
        }
        tokens
    });
    let jwt_headers: Vec<String> = tokens.iter().map(|t| format!("Bearer {t}")).collect();
    let basic_headers: Vec<String> = (0..SIGNED_IN)
        .map(|i| {
            let raw = format!("user{i}:{PASSWORD}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        })
        .collect();

    println!(
        "GET /api/me/enrollment, {connections} keep-alive connections, {seconds} s each, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let duration = Duration::from_secs(seconds);
    let jwt = client_rt.block_on(load(jwt_addr, Arc::new(jwt_headers), connections, duration));
    println!("session token (EdDSA JWT):                {}", jwt.line());
    let basic = client_rt.block_on(load(
        basic_addr,
        Arc::new(basic_headers),
        connections,
        duration,
    ));
    println!(
        "old way (HTTP Basic + argon2 per request): {}",
        basic.line()
    );
    if basic.per_second() > 0.0 {
        println!(
            "ratio: {:.0}x the throughput of HTTP Basic",
            jwt.per_second() / basic.per_second()
        );
    }
    drop(server_rt);
    drop(db);
}

async fn seed(db: &TestDatabase) {
    let sql = db.connect().await.unwrap();
    // One hash for everyone: 1,000 argon2 hashes would dominate the set-up.
    let hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD))
        .await
        .unwrap();
    sql.batch_execute(
        "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description,
                           avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age)
         SELECT format('S%s-001-0', lpad(i::text, 4, '0')), 'Plan ' || i, 'Acme', 'active',
                'A plan', 30.00 + i, 5.00, 100.00, 65, NULL
           FROM generate_series(1, 50) i;
         INSERT INTO plan_feature (plan_id, feature_key, feature_value)
         SELECT plan_id, k, 'value ' || k FROM plan, unnest(ARRAY['mail_order','tier','network']) k;
         INSERT INTO beneficiary (beneficiary_id, fname, lname, sex, ssn, birthdate, address, city, state, zip_code)
         SELECT i, 'First' || i, 'Last' || i, 'F', lpad(i::text, 9, '0'), DATE '1950-01-01' + i,
                i || ' Main St', 'Boston', 'MA', '02134'
           FROM generate_series(0, 999) i;
         INSERT INTO beneficiary_to_plan (beneficiary_id, plan_id, start_date, end_date)
         SELECT i, format('S%s-001-0', lpad((i % 50 + 1)::text, 4, '0')), CURRENT_DATE - 400, CURRENT_DATE - 30
           FROM generate_series(0, 999) i
         UNION ALL
         SELECT i, format('S%s-001-0', lpad(((i + 7) % 50 + 1)::text, 4, '0')), CURRENT_DATE - 29, NULL
           FROM generate_series(0, 999) i;",
    )
    .await
    .unwrap();
    sql.execute(
        r#"INSERT INTO "user" (username, password, email, beneficiary_id)
           SELECT 'user' || i, $1, 'user' || i || '@example.com', i FROM generate_series(0, $2::int8 - 1) i"#,
        &[&hash, &USERS],
    )
    .await
    .unwrap();
    sql.batch_execute("ANALYZE").await.unwrap();
}

async fn start_jwt_server(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(auth_api::server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    addr
}

/// The old scheme, for comparison only: the password on every request.
async fn basic_enrollment(state: AppState, req: Request<hyper::body::Incoming>) -> Resp {
    let unauthorized = || json_response(StatusCode::UNAUTHORIZED, &serde_json::json!({}));
    let Some((user, password)) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        })
    else {
        return unauthorized();
    };
    let Ok(db) = state.pool.get().await else {
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!({}));
    };
    let stored: Option<String> = db
        .query_opt(
            r#"SELECT password FROM "user" WHERE username = $1"#,
            &[&user],
        )
        .await
        .ok()
        .flatten()
        .map(|r| r.get(0));
    match state.passwords.verify(password, stored).await {
        Ok(Verdict::Accepted | Verdict::AcceptedRehash(_)) => {}
        _ => return unauthorized(),
    }
    match enrollment::load(&db, &user, None).await {
        Ok(Some(view)) => json_response(StatusCode::OK, &view),
        _ => json_response(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({})),
    }
}

async fn start_basic_server(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(basic_enrollment(state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn login(addr: SocketAddr, user: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "bench login of {user}");
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("__Host-whatever_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("a session cookie")
        .to_string()
}

async fn load(
    addr: SocketAddr,
    auth: Arc<Vec<String>>,
    connections: usize,
    duration: Duration,
) -> Figures {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut timeline = Vec::new();
            let mut errors = 0;
            let mut i = c;
            while Instant::now() < deadline {
                let req = Request::get("/api/me/enrollment")
                    .header(header::HOST, "localhost")
                    .header(header::AUTHORIZATION, &auth[i % auth.len()])
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                i += 1;
                let t = Instant::now();
                let Ok(resp) = sender.send_request(req).await else {
                    errors += 1;
                    break;
                };
                let ok = resp.status() == StatusCode::OK;
                let _ = resp.into_body().collect().await;
                if ok {
                    timeline.push((t - started, t.elapsed()));
                } else {
                    errors += 1;
                }
            }
            (timeline, errors)
        }));
    }
    let mut timeline = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (samples, e) = t.await.unwrap();
        timeline.extend(samples);
        errors += e;
    }
    Figures::new(timeline, errors, started.elapsed())
}
