//! Throttling of account creation, kept in Postgres like the login throttle
//! ([`crate::auth::throttle`]): per client address, and per set of identity
//! facts (last name, birth date, ZIP code) from anywhere, which bounds how
//! often the last four SSN digits of one person can be guessed. Every
//! attempt counts, whatever its outcome, so the limit says nothing about
//! whether the facts matched anyone.
//!
//! A client is counted as its network ([`crate::client_addr::network`]), as
//! every per-client limit is.
//!
//! The facts are kept as a keyed HMAC under the pseudonym key, never as
//! they were typed.

use std::net::IpAddr;

use chrono::NaiveDate;
use deadpool_postgres::Pool;
use tokio_postgres::GenericClient;

use crate::ApiError;
use crate::auth::throttle::lock_key_then_client;
use crate::config::AccountConfig;
use crate::pseudonym::Pseudonyms;

/// Advisory-lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
const FACTS_LOCK: i32 = 0x6163_6366; // "accf"
const CLIENT_LOCK: i32 = 0x6163_6363; // "accc"

/// The pseudonym identity facts are counted under: the same for the same
/// person however the name is capitalized, padded or spelled in Unicode.
/// The name is taken in the form the database compares it in
/// (`identity_name`), never normalized here: Rust and Postgres lower-case
/// some letters differently (`İ`), and every difference would be a fresh
/// allowance of guesses.
pub async fn facts_key(
    db: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    last_name: &str,
    birth_date: NaiveDate,
    zip: &str,
) -> Result<Vec<u8>, ApiError> {
    let name: Option<String> = db
        .query_one("SELECT identity_name($1)", &[&last_name])
        .await?
        .get(0);
    let name = name.unwrap_or_default();
    Ok(pseudonyms.account(&format!("identity\u{0}{name}\u{0}{birth_date}\u{0}{zip}")))
}

/// Counts one attempt with `facts` from `client`, or answers 429 with the
/// seconds until a limit frees a try (and counts nothing).
pub async fn reserve(
    pool: &Pool,
    limits: &AccountConfig,
    facts: &[u8],
    client: IpAddr,
) -> Result<(), ApiError> {
    let client = crate::client_addr::network(client);
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    lock_key_then_client(&*tx, (FACTS_LOCK, facts), (CLIENT_LOCK, client)).await?;
    let row = tx
        .query_one(
            "WITH facts AS (
                 SELECT count(*) AS n, min(attempted_at) AS oldest FROM identity_attempt
                  WHERE facts = $1 AND attempted_at > now() - $4::float8 * interval '1 second'
             ), client AS (
                 SELECT count(*) AS n, min(attempted_at) AS oldest FROM identity_attempt
                  WHERE client_addr = $2 AND attempted_at > now() - $6::float8 * interval '1 second'
             )
             SELECT
               CASE WHEN facts.n >= $3 THEN extract(epoch FROM facts.oldest - now()
                    + $4::float8 * interval '1 second')::float8 END,
               CASE WHEN client.n >= $5 THEN extract(epoch FROM client.oldest - now()
                    + $6::float8 * interval '1 second')::float8 END
             FROM facts, client",
            &[
                &facts,
                &client,
                &i64::from(limits.per_facts.max),
                &limits.per_facts.window.as_secs_f64(),
                &i64::from(limits.per_client.max),
                &limits.per_client.window.as_secs_f64(),
            ],
        )
        .await?;
    let wait = [row.get::<_, Option<f64>>(0), row.get::<_, Option<f64>>(1)]
        .into_iter()
        .flatten()
        .fold(0.0_f64, f64::max);
    if wait > 0.0 {
        let limit = if row.get::<_, Option<f64>>(0).is_some() {
            "facts"
        } else {
            "client"
        };
        metrics::counter!("account_creation_throttled_total", "limit" => limit).increment(1);
        tracing::warn!(%client, limit, "account creation throttled");
        crate::audit::record(
            &*tx,
            crate::audit::Event::AccountCreationThrottled,
            None,
            Some(client),
            serde_json::json!({"limit": limit}),
        )
        .await?;
        tx.commit().await?;
        return Err(ApiError::TooManyRequests {
            retry_after: (wait.ceil() as u64).max(1),
        });
    }
    tx.execute(
        "INSERT INTO identity_attempt (facts, client_addr) VALUES ($1, $2)",
        &[&facts, &client],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes attempts older than every window.
pub async fn prune(
    db: &impl tokio_postgres::GenericClient,
    limits: &AccountConfig,
) -> Result<u64, ApiError> {
    let keep = limits.per_facts.window.max(limits.per_client.window);
    Ok(db
        .execute(
            "DELETE FROM identity_attempt WHERE attempted_at < now() - $1::float8 * interval '1 second'",
            &[&keep.as_secs_f64()],
        )
        .await?)
}
