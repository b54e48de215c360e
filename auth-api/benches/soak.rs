//! Soak: enrollment reads, logins and "mail me this" requests together,
//! for a long time, against the auth-api binary as its own process, with
//! its delivery worker sending to a fake Fulfillment API. Prints, for each
//! interval and for the whole run, throughput and p99 per route, and the
//! API process's resident memory at the start, after every interval and at
//! the end, with a verdict on whether memory grew after warming up.
//!
//! `cargo bench --workspace --bench soak`. `SOAK_SECONDS` (default 600),
//! `SOAK_INTERVAL_SECONDS` (default a tenth of the run, at least 10),
//! `SOAK_CLIENTS` (enrollment clients, default 4), `SOAK_LOGINS_PER_SEC`
//! (default 5) and `SOAK_MAILS_PER_SEC` (default 20) shape the load.
//! Everything runs on 127.0.0.1; every loop ends with its interval.

// The integration tests' support, shared; this bench uses part of it.
#[allow(dead_code)]
#[path = "../tests/it/process_support.rs"]
mod process_support;

use std::time::{Duration, Instant};

use fake_fulfillment::FakeFulfillment;
use load_harness::{Figures, closed_loop, env_or, open_loop};
use process_support::*;
use whatever_test_db::TestDatabase;

/// Users who sign in during the soak (`soak0000`..).
const USERS: u32 = 200;

/// The three routes' figures for one stretch of the run.
struct Routes {
    enrollment: Figures,
    login: Figures,
    fulfillment: Figures,
}

fn main() -> anyhow::Result<()> {
    let seconds = env_or("SOAK_SECONDS", 600);
    let interval = env_or("SOAK_INTERVAL_SECONDS", (seconds / 10).max(10)).min(seconds);
    let clients = env_or("SOAK_CLIENTS", 4) as usize;
    let logins = env_or("SOAK_LOGINS_PER_SEC", 5);
    let mails = env_or("SOAK_MAILS_PER_SEC", 20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let (db, fake) = runtime.block_on(async {
        let db = TestDatabase::new().await?;
        db.connect()
            .await?
            .batch_execute(&member_sql(USERS))
            .await?;
        let fake = FakeFulfillment::start().await?;
        anyhow::Ok((db, fake))
    })?;
    let url = db.url();
    let fulfillment_url = fake.url();
    let api = ApiProcess::start(
        binary(),
        &[
            ("DATABASE_URL", url.as_str()),
            ("FULFILLMENT_URL", fulfillment_url.as_str()),
            ("FULFILLMENT_ALLOW_HTTP", "true"),
            // Also lift the per-recipient cap: the soak mails the same few people.
            ("FULFILLMENT_RECIPIENT_LIMIT", "1000000000"),
            // Every request comes from 127.0.0.1: lift the per-client limit.
            ("FULFILLMENT_RATE_LIMIT", "1000000000"),
            ("RUST_LOG", "error"),
        ],
    )?;
    let rss_start = api.rss_kib()?;
    println!(
        "soak: {seconds} s, reports every {interval} s; {clients} enrollment clients, \
         {logins} logins/s, {mails} mail requests/s; API pid {}, RSS at start {}",
        api.pid(),
        mib(rss_start)
    );

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let tokens: Vec<String> = runtime.block_on(async {
        let mut tokens = Vec::new();
        for n in 0..8 {
            tokens.push(sign_in(&http, &api, &format!("soak{n:04}")).await);
        }
        tokens
    });

    let started = Instant::now();
    let mut windows = Vec::new();
    let mut rss = vec![(Duration::ZERO, rss_start)];
    let mut window = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let left = Duration::from_secs(seconds).saturating_sub(started.elapsed());
        let length = Duration::from_secs(interval).min(left);
        let routes = runtime.block_on(drive(
            &http, &api, &tokens, window, length, clients, logins, mails,
        ));
        let now = api.rss_kib()?;
        rss.push((started.elapsed(), now));
        println!(
            "[{:>5.0} s] RSS {}\n  enrollment  {}\n  login       {}\n  fulfillment {}",
            started.elapsed().as_secs_f64(),
            mib(now),
            routes.enrollment.line(),
            routes.login.line(),
            routes.fulfillment.line()
        );
        windows.push(routes);
        window += 1;
    }

    let total = |pick: fn(&Routes) -> &Figures| {
        Figures::pooled(&windows.iter().map(|w| pick(w).clone()).collect::<Vec<_>>())
    };
    let (enrollment, login, fulfillment) = (
        total(|w| &w.enrollment),
        total(|w| &w.login),
        total(|w| &w.fulfillment),
    );
    let delivered = fake.delivery_count();
    let rss_end = api.rss_kib()?;
    rss.push((started.elapsed(), rss_end));
    println!("whole run ({:.0} s):", started.elapsed().as_secs_f64());
    for (name, f) in [
        ("enrollment", &enrollment),
        ("login", &login),
        ("fulfillment", &fulfillment),
    ] {
        println!(
            "  {name:<11} {:>8.1} req/s, p99 {:>7.2} ms, {} errors",
            f.per_second(),
            load_harness::ms(f.quantile(0.99)),
            f.errors
        );
    }
    println!(
        "  {delivered} mail requests delivered to the Fulfillment API of {} accepted",
        fulfillment.latencies.len()
    );
    println!("{}", memory_verdict(&rss));
    drop(api);
    Ok(())
}

/// One interval of the three loads at once.
#[allow(clippy::too_many_arguments)]
async fn drive(
    http: &reqwest::Client,
    api: &ApiProcess,
    tokens: &[String],
    window: u64,
    length: Duration,
    clients: usize,
    logins: u64,
    mails: u64,
) -> Routes {
    let enrollment_url = api.url("/api/me/enrollment");
    let login_url = api.url("/api/login");
    let fulfillment_url = api.url("/api/fulfillment");
    let enrollment = closed_loop(
        clients,
        |c, n| {
            http.get(&enrollment_url)
                .bearer_auth(&tokens[(c * 3 + n as usize) % tokens.len()])
        },
        tokio::time::sleep(length),
    );
    let login = open_loop(
        logins,
        |n| {
            http.post(&login_url).json(&serde_json::json!({
                "username": format!("soak{:04}", n % u64::from(USERS)),
                "password": PASSWORD,
            }))
        },
        tokio::time::sleep(length),
    );
    let fulfillment = open_loop(
        mails,
        |n| {
            http.post(&fulfillment_url)
                .header("Idempotency-Key", format!("soak-{window}-{n}"))
                .json(&serde_json::json!({
                    "plan_id": PLAN_ID, "name": "Ann Doe", "address": "1 Main St",
                    "city": "Boston", "state": "MA", "zip": "02134"
                }))
        },
        tokio::time::sleep(length),
    );
    let (enrollment, login, fulfillment) = tokio::join!(enrollment, login, fulfillment);
    Routes {
        enrollment,
        login,
        fulfillment,
    }
}

/// Whether resident memory kept growing once warm: the first interval is
/// warm-up (pools, caches, allocator arenas); after it, growth by more
/// than 10% plus 4 MiB, or a steady climb over the second half, counts.
fn memory_verdict(rss: &[(Duration, u64)]) -> String {
    let start = rss[0].1;
    let warm = rss.get(1).map_or(start, |r| r.1);
    let end = rss.last().map_or(start, |r| r.1);
    let peak = rss.iter().map(|r| r.1).max().unwrap_or(start);
    let half = &rss[rss.len() / 2..];
    let slope = match (half.first(), half.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => {
            (b.1 as f64 - a.1 as f64) / 1024.0 / ((b.0 - a.0).as_secs_f64() / 60.0)
        }
        _ => 0.0,
    };
    let grew = end > warm + warm / 10 + 4096;
    format!(
        "memory: start {}, after warm-up {}, peak {}, end {}; second half {:+.2} MiB/min; {}",
        mib(start),
        mib(warm),
        mib(peak),
        mib(end),
        slope,
        if grew {
            format!("GREW by {} after warm-up", mib(end.saturating_sub(warm)))
        } else {
            "did not grow beyond warm-up (within 10% + 4 MiB)".to_string()
        }
    )
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
