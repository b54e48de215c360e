//! Throttling of failed logins, kept in Postgres so every replica counts the
//! same failures.
//!
//! A login first reserves its attempt ([`reserve`]): under a lock on the
//! account and one on the client address, the limits are checked and the
//! attempt is written down as a failure, all in one transaction. Only then is
//! the password hashed, and [`settle`] turns the reservation into a success
//! if it was one. So concurrent guesses queue on the locks and each sees the
//! ones before it: no more reach the hash than the limits allow.
//!
//! Three limits apply (see [`ThrottleConfig`](crate::config::ThrottleConfig)):
//! - per account and client address, with growing delays: a few free
//!   mistakes, then a wait after each failure that doubles every time;
//! - per account, from addresses it has not signed in from (NIST 800-63B:
//!   at most 100 failures), so guessing from many addresses stays bounded
//!   while the owner, from an address they signed in from before, is held
//!   only by the first limit and cannot be locked out by strangers;
//! - per client address across usernames (password spraying).
//!
//! A client is counted as its network ([`client_addr::network`]: an IPv6
//! /64, an IPv4 address), so rotating through the addresses of one
//! allocation buys no more tries than one address.
//!
//! Accounts are stored as keyed pseudonyms
//! ([`Pseudonyms`]), never as
//! usernames: people type passwords into the username field.

use std::net::IpAddr;

use deadpool_postgres::Pool;
use tokio_postgres::GenericClient;

use crate::ApiError;
use crate::client_addr;
use crate::config::AuthConfig;
use crate::pseudonym::Pseudonyms;
use whatever_database::rules::username;

/// The counter of logins the throttle refused, labelled `limit` with the
/// limit that held each back (one of [`LIMITS`]). The metrics sidecar
/// exports it to CloudWatch by this name, where it alarms
/// (`infra/cloudformation/api.yaml`).
pub const THROTTLED_METRIC: &str = "login_throttled_total";

/// The limits, as they label [`THROTTLED_METRIC`]: one username from one
/// address, one username from every address, one address.
pub const LIMITS: [&str; 3] = ["account_client", "account", "client"];

/// Advisory-lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
const ACCOUNT_LOCK: i32 = 0x6c67_6e61; // "lgna"
const CLIENT_LOCK: i32 = 0x6c67_6e63; // "lgnc"

/// One login attempt, counted as a failure until [`settle`] says otherwise.
#[derive(Debug)]
pub struct Attempt {
    id: i64,
    account: Vec<u8>,
    client: IpAddr,
    tag: String,
}

impl Attempt {
    /// The account's pseudonymous tag, for logs.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The row that counts it (`login_failure.id`), for a sign-in that
    /// completes later, at its second step.
    pub fn id(&self) -> i64 {
        self.id
    }
}

/// The pseudonym an account's failures are counted under: one for every
/// spelling of its username (usernames compare without regard to case, so
/// `DEMO01` is a guess at `demo01`'s password, not a fresh allowance).
fn account_key(pseudonyms: &Pseudonyms, username: &str) -> Vec<u8> {
    pseudonyms.account(&username::key(username))
}

/// Makes `client`'s network one `username` signed in from, as a successful
/// sign-in does ([`settle`]): the account's own limit on strangers no longer
/// holds it back there.
pub async fn remember_client(
    db: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    username: &str,
    client: IpAddr,
) -> Result<(), ApiError> {
    db.execute(
        "INSERT INTO login_known_client (account, client_addr) VALUES ($1, $2)
         ON CONFLICT (account, client_addr) DO UPDATE SET last_success = now()",
        &[
            &account_key(pseudonyms, username),
            &client_addr::network(client),
        ],
    )
    .await?;
    Ok(())
}

/// Reserves one login attempt of `username` from `client`, or answers 429
/// with the seconds until the limit that holds it back frees a try.
///
/// The reservation is committed as a failure before this returns, so it
/// counts against every later attempt even if this one never finishes.
pub async fn reserve(
    pool: &Pool,
    auth: &AuthConfig,
    pseudonyms: &Pseudonyms,
    username: &str,
    client: IpAddr,
) -> Result<Attempt, ApiError> {
    let account = account_key(pseudonyms, username);
    let tag = pseudonyms.log_tag(&username::key(username));
    let client = client_addr::network(client);
    let limits = &auth.throttle;
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    lock_key_then_client(
        &*tx,
        (ACCOUNT_LOCK, account.as_slice()),
        (CLIENT_LOCK, client),
    )
    .await?;
    let row = tx
        .query_one(
            "WITH pair AS (
                 SELECT count(*) AS n, max(failed_at) AS last
                   FROM login_failure
                  WHERE account = $1 AND client_addr = $2
                    AND failed_at > now() - $9::float8 * interval '1 second'
             ), account AS (
                 SELECT count(*) AS n, min(failed_at) AS oldest
                   FROM login_failure
                  WHERE account = $1 AND failed_at > now() - $6::float8 * interval '1 second'
             ), client AS (
                 SELECT count(*) AS n, min(failed_at) AS oldest
                   FROM login_failure
                  WHERE client_addr = $2 AND failed_at > now() - $8::float8 * interval '1 second'
             )
             SELECT
               CASE WHEN pair.n >= $3 THEN extract(epoch FROM pair.last - now()
                    + least($4::float8 * power(2::float8, least(pair.n - $3, 40)), $6::float8)
                      * interval '1 second')::float8 END,
               CASE WHEN account.n >= $5 AND NOT EXISTS (
                        SELECT 1 FROM login_known_client k
                         WHERE k.account = $1 AND k.client_addr = $2
                           AND k.last_success > now() - $10::float8 * interval '1 second')
                    THEN extract(epoch FROM account.oldest - now()
                         + $6::float8 * interval '1 second')::float8 END,
               CASE WHEN client.n >= $7 THEN extract(epoch FROM client.oldest - now()
                    + $8::float8 * interval '1 second')::float8 END
             FROM pair, account, client",
            &[
                &account,
                &client,
                &i64::from(limits.per_user_client.max),
                &limits.per_user_client.window.as_secs_f64(),
                &i64::from(limits.per_account.max),
                &limits.per_account.window.as_secs_f64(),
                &i64::from(limits.per_client.max),
                &limits.per_client.window.as_secs_f64(),
                &limits.longest_window().as_secs_f64(),
                &limits.known_client.as_secs_f64(),
            ],
        )
        .await?;
    let held = LIMITS
        .into_iter()
        .enumerate()
        .filter_map(|(i, limit)| Some((limit, row.get::<_, Option<f64>>(i)?)))
        .filter(|(_, wait)| *wait > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((limit, wait)) = held {
        metrics::counter!(THROTTLED_METRIC, "limit" => limit).increment(1);
        if limit == "account" {
            // Many addresses guessing at one account: worth a look.
            tracing::warn!(user = %tag, %client, "login limit of one account reached: guessing from many addresses");
        } else {
            tracing::warn!(user = %tag, %client, limit, "login throttled");
        }
        let retry_after = (wait.ceil() as u64).max(1);
        return Err(if limit == "account" {
            ApiError::SignInHeld { retry_after }
        } else {
            ApiError::TooManyRequests { retry_after }
        });
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO login_failure (account, client_addr) VALUES ($1, $2) RETURNING id",
            &[&account, &client],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok(Attempt {
        id,
        account,
        client,
        tag,
    })
}

/// Settles a reserved attempt. A failure stays counted as it was reserved.
/// A success is not a failure: it is taken back, the account's failures are
/// forgotten (NIST: a success resets the count; the rows stay, detached
/// from the account, so they still count against their addresses), and the
/// address becomes one the account is known to sign in from.
pub async fn settle(pool: &Pool, attempt: Attempt, signed_in: bool) -> Result<(), ApiError> {
    if !signed_in {
        return Ok(());
    }
    pool.get()
        .await?
        .execute(
            "WITH taken_back AS (
             DELETE FROM login_failure WHERE id = $1
         ), forgotten AS (
             UPDATE login_failure SET account = NULL WHERE account = $2 AND id <> $1
         )
         INSERT INTO login_known_client (account, client_addr) VALUES ($2, $3)
         ON CONFLICT (account, client_addr) DO UPDATE SET last_success = now()",
            &[&attempt.id, &attempt.account, &attempt.client],
        )
        .await?;
    Ok(())
}

/// Serializes the attempts on one key (an account's or identity facts'
/// pseudonym) and on one client address until `tx` ends: two transaction
/// advisory locks, each in its own lock class, taken always key first, then
/// address, so no two attempts ever wait for each other's locks in opposite
/// orders. Counting and recording an attempt under both makes the
/// check-then-record of a throttle atomic.
pub(crate) async fn lock_key_then_client(
    tx: &impl GenericClient,
    (key_class, key): (i32, &[u8]),
    (client_class, client): (i32, IpAddr),
) -> Result<(), ApiError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(encode($2, 'hex')))",
        &[&key_class, &key],
    )
    .await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(host($2)))",
        &[&client_class, &client],
    )
    .await?;
    Ok(())
}

/// A sign-in completed at its second step: as [`settle`] does for a
/// success, the password step's reservation (`attempt`, counted as a
/// failure until now) is taken back, the account's other failures are
/// forgotten and the address becomes a known one. A sign-in that completes
/// leaves nothing counted against its address, with a second factor or
/// without.
pub async fn second_factor_succeeded(
    db: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    username: &str,
    client: IpAddr,
    attempt: Option<i64>,
) -> Result<(), ApiError> {
    db.execute(
        "WITH taken_back AS (
             DELETE FROM login_failure WHERE id = $3
         ), forgotten AS (
             UPDATE login_failure SET account = NULL
              WHERE account = $1 AND id IS DISTINCT FROM $3
         )
         INSERT INTO login_known_client (account, client_addr) VALUES ($1, $2)
         ON CONFLICT (account, client_addr) DO UPDATE SET last_success = now()",
        &[
            &account_key(pseudonyms, username),
            &client_addr::network(client),
            &attempt,
        ],
    )
    .await?;
    Ok(())
}

/// Deletes addresses that have not signed in to their account for longer
/// than `keep`.
pub async fn prune_known_clients(
    db: &impl GenericClient,
    keep: std::time::Duration,
) -> Result<u64, ApiError> {
    Ok(db
        .execute(
            "DELETE FROM login_known_client
              WHERE last_success < now() - $1::float8 * interval '1 second'",
            &[&keep.as_secs_f64()],
        )
        .await?)
}
