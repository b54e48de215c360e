//! Sign-ins per second: (a) with a password only, (b) with a password and
//! then a code from an authenticator app, against the auth-api binary of
//! this build as its own process, on a fresh database. The password hash
//! (argon2id, with the bcrypt every check also pays) is the bound, so (b)
//! should cost little more than (a): the target is (b) ≥ 90% of (a).
//!
//! (a) signs in accounts from before second factors (no `account` row, no
//! factor): one `POST /api/login`. (b) signs in accounts created here with
//! a confirmed app: `POST /api/login`, then `POST /api/login/second-factor`
//! with the code computed here from the account's secret. A code is
//! accepted once per 30-second step and account, so the bench spreads the
//! sign-ins over many accounts and uses an account again only for a later
//! step. All clients come from 127.0.0.1 and the login limits are the
//! defaults: a sign-in that completes must leave nothing counted against its
//! address, or (b) would soon be held back at 50 a minute.
//!
//! The two kinds alternate for `BENCH_ROUNDS` rounds (a b, then b a, ...),
//! pooled per kind, so a machine busy with something else weighs on both.
//!
//! `cargo bench -p auth-api --bench sign_in`. `BENCH_SECONDS` (default 5:
//! a smoke check; 30 or more for figures) is each kind's time per round,
//! `BENCH_ROUNDS` (default 2) the rounds, `BENCH_CLIENTS` (default 4 per
//! core) the concurrent sign-ins.

// The integration tests' support, shared; this bench uses part of it.
#[allow(dead_code)]
#[path = "../tests/it/process_support.rs"]
mod process_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auth_api::auth::totp;
use load_harness::{Figures, closed_loop_with, env_or};
use process_support::*;
use sha2::{Digest, Sha256};
use whatever_test_db::TestDatabase;

/// Accounts of each kind. At the ~20 sign-ins/s two cores manage, each
/// account with an app comes round again after ~100 s, several steps later.
const ACCOUNTS: usize = 2_000;

/// What the bench knows of the accounts with an app.
struct AppAccounts {
    names: Vec<String>,
    secrets: Vec<Vec<u8>>,
    /// The newest step each account's code was sent for.
    last_step: Vec<AtomicU64>,
    next: AtomicU64,
}

impl AppAccounts {
    fn new() -> Self {
        let names: Vec<String> = (0..ACCOUNTS).map(|n| format!("app{n:05}")).collect();
        // Fixed secrets: any 20 bytes do; these are the same every run.
        let secrets = names
            .iter()
            .map(|name| Sha256::digest(format!("sign-in bench {name}"))[..20].to_vec())
            .collect();
        Self {
            names,
            secrets,
            last_step: (0..ACCOUNTS).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicU64::new(0),
        }
    }

    /// The next account whose code for the current step (or the one after,
    /// within the accepted skew) was not sent yet, with that code.
    fn next_code(&self) -> (usize, String) {
        loop {
            let i = (self.next.fetch_add(1, Ordering::Relaxed) % ACCOUNTS as u64) as usize;
            let now = totp::now();
            let step = (now / 30).max(self.last_step[i].load(Ordering::Relaxed) + 1);
            if step > now / 30 + 1 {
                continue;
            }
            self.last_step[i].store(step, Ordering::Relaxed);
            let code = totp::totp(&self.secrets[i], &self.names[i])
                .expect("a generator for a 20-byte secret")
                .generate(step * 30)
                .to_string();
            return (i, code);
        }
    }
}

fn main() -> anyhow::Result<()> {
    let seconds = env_or("BENCH_SECONDS", 5);
    let rounds = env_or("BENCH_ROUNDS", 2).max(1);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let clients = env_or("BENCH_CLIENTS", 4 * cores as u64) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let apps = AppAccounts::new();

    let db = runtime.block_on(async {
        let db = TestDatabase::new().await?;
        seed(&db, &apps).await?;
        anyhow::Ok(db)
    })?;
    let url = db.url();
    let api = ApiProcess::start(
        binary(),
        &[("DATABASE_URL", url.as_str()), ("RUST_LOG", "error")],
    )?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    println!(
        "sign-in: auth-api (release) pid {}, {cores} cores, {clients} clients, \
         {seconds} s per kind per round, {rounds} rounds",
        api.pid()
    );

    let (mut password_only, mut with_app) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let run = |kind: Kind| {
            runtime.block_on(async {
                closed_loop_with(
                    clients,
                    |c, n| sign_in(&http, &api, &apps, kind, c, n),
                    tokio::time::sleep(Duration::from_secs(seconds)),
                )
                .await
            })
        };
        // a b, then b a: neither kind always runs on the warmer server.
        if round % 2 == 0 {
            password_only.push(run(Kind::PasswordOnly));
            with_app.push(run(Kind::PasswordAndCode));
        } else {
            with_app.push(run(Kind::PasswordAndCode));
            password_only.push(run(Kind::PasswordOnly));
        }
    }
    let (a, b) = (Figures::pooled(&password_only), Figures::pooled(&with_app));
    println!("(a) password only:       {}", summary(&a));
    println!("(b) password + app code: {}", summary(&b));
    let ratio = b.per_second() / a.per_second().max(f64::EPSILON);
    println!(
        "(b)/(a) = {:.1}% of the sign-ins per second; target: password + TOTP >= 90% of \
         password-only: {}",
        ratio * 100.0,
        if ratio >= 0.9 { "met" } else { "NOT met" }
    );
    drop(api);
    Ok(())
}

/// One kind's figures: a "request" of [`Figures::line`] is a whole
/// sign-in here, of one or two requests.
fn summary(f: &Figures) -> String {
    format!(
        "{} sign-ins in {:.1} s: {:.1}/s, p50 {:.0} ms, p99 {:.0} ms, {} failed",
        f.latencies.len(),
        f.elapsed.as_secs_f64(),
        f.per_second(),
        load_harness::ms(f.quantile(0.5)),
        load_harness::ms(f.quantile(0.99)),
        f.errors
    )
}

/// The two kinds of sign-in measured.
#[derive(Debug, Clone, Copy)]
enum Kind {
    PasswordOnly,
    PasswordAndCode,
}

/// One whole sign-in of `kind`; whether it opened a session.
async fn sign_in(
    http: &reqwest::Client,
    api: &ApiProcess,
    apps: &AppAccounts,
    kind: Kind,
    client: usize,
    n: u64,
) -> bool {
    let (username, code) = match kind {
        Kind::PasswordOnly => {
            let i = (client as u64 * 7919 + n) % ACCOUNTS as u64;
            (format!("pw{i:05}"), None)
        }
        Kind::PasswordAndCode => {
            let (i, code) = apps.next_code();
            (apps.names[i].clone(), Some(code))
        }
    };
    let Ok(resp) = http
        .post(api.url("/api/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
    else {
        return false;
    };
    if resp.status() != 200 {
        return false;
    }
    let Some(code) = code else {
        return session_token(resp.headers()).is_some();
    };
    let Some(pending) = cookie(resp.headers(), "__Host-whatever_pending") else {
        return false;
    };
    let Ok(resp) = http
        .post(api.url("/api/login/second-factor"))
        .header("cookie", format!("__Host-whatever_pending={pending}"))
        .json(&serde_json::json!({"code": code}))
        .send()
        .await
    else {
        return false;
    };
    resp.status() == 200 && session_token(resp.headers()).is_some()
}

/// The value of cookie `name` in a response's `Set-Cookie` headers.
fn cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The accounts: `pw00000`.. from before second factors, and `app00000`..
/// created here, verified, each with a confirmed app; one password for all.
async fn seed(db: &TestDatabase, apps: &AppAccounts) -> anyhow::Result<()> {
    let hash = hash_password(PASSWORD);
    let sql = db.connect().await?;
    sql.execute(
        r#"INSERT INTO "user" (username, password, email)
           SELECT 'pw' || lpad(n::text, 5, '0'), $1, 'pw' || n || '@example.com'
             FROM generate_series(0, $2::int8 - 1) n"#,
        &[&hash, &(ACCOUNTS as i64)],
    )
    .await?;
    sql.execute(
        r#"INSERT INTO "user" (username, password, email)
           SELECT name, $1, name || '@example.com' FROM unnest($2::text[]) name"#,
        &[&hash, &apps.names],
    )
    .await?;
    sql.execute(
        "INSERT INTO account (username, beneficiary_id, email_verified_at)
         SELECT name, row_number() OVER (), now() FROM unnest($1::text[]) name",
        &[&apps.names],
    )
    .await?;
    sql.execute(
        "INSERT INTO totp_factor (username, secret, confirmed_at)
         SELECT name, secret, now() FROM unnest($1::text[], $2::bytea[]) AS f(name, secret)",
        &[&apps.names, &apps.secrets],
    )
    .await?;
    sql.batch_execute("ANALYZE").await?;
    Ok(())
}
