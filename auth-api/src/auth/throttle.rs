//! Throttling of failed logins, kept in Postgres so every replica counts the
//! same failures.
//!
//! Three limits apply, each "at most N failures within a sliding window"
//! (see [`ThrottleConfig`]): per username and
//! client address (a person mistyping), per account from anywhere (NIST
//! 800-63B: at most 100 failures per account), and per client address across
//! usernames (password spraying). Usernames are stored as a SHA-256 digest:
//! people type passwords into the username field, and this table must not
//! collect them.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::ApiError;
use crate::config::ThrottleConfig;

/// The digest a username is counted under.
pub fn account_key(username: &str) -> Vec<u8> {
    Sha256::digest(username.as_bytes()).to_vec()
}

/// `Ok` if a login may be tried now, else 429 with the seconds until one of
/// the exceeded windows frees a slot.
pub async fn check(
    db: &impl GenericClient,
    limits: &ThrottleConfig,
    account: &[u8],
    client: IpAddr,
) -> Result<(), ApiError> {
    // One round trip; each branch is a range scan on its own index.
    let row = db
        .query_one(
            "WITH counted AS (
                 SELECT count(*) AS n, min(failed_at) AS oldest, $3::int8 AS lim, $4::float8 AS secs
                   FROM login_failure
                  WHERE account = $1 AND client_addr = $2
                    AND failed_at > now() - $4::float8 * interval '1 second'
                 UNION ALL
                 SELECT count(*), min(failed_at), $5::int8, $6::float8
                   FROM login_failure
                  WHERE account = $1 AND failed_at > now() - $6::float8 * interval '1 second'
                 UNION ALL
                 SELECT count(*), min(failed_at), $7::int8, $8::float8
                   FROM login_failure
                  WHERE client_addr = $2 AND failed_at > now() - $8::float8 * interval '1 second'
             )
             SELECT max(ceil(extract(epoch FROM oldest + secs * interval '1 second' - now())))::int8
               FROM counted WHERE n >= lim",
            &[
                &account,
                &client,
                &i64::from(limits.per_user_client.max),
                &limits.per_user_client.window.as_secs_f64(),
                &i64::from(limits.per_account.max),
                &limits.per_account.window.as_secs_f64(),
                &i64::from(limits.per_client.max),
                &limits.per_client.window.as_secs_f64(),
            ],
        )
        .await?;
    match row.get::<_, Option<i64>>(0) {
        Some(secs) => Err(ApiError::TooManyRequests {
            retry_after: secs.max(1) as u64,
        }),
        None => Ok(()),
    }
}

/// Counts one failed login.
pub async fn record_failure(
    db: &impl GenericClient,
    account: &[u8],
    client: IpAddr,
) -> Result<(), ApiError> {
    db.execute(
        "INSERT INTO login_failure (account, client_addr) VALUES ($1, $2)",
        &[&account, &client],
    )
    .await?;
    Ok(())
}

/// Forgets an account's failures after it signs in (NIST: a success resets
/// the count). The rows stay, detached from the account, so they still count
/// against the client addresses they came from.
pub async fn clear_account(db: &impl GenericClient, account: &[u8]) -> Result<(), ApiError> {
    db.execute(
        "UPDATE login_failure SET account = NULL WHERE account = $1",
        &[&account],
    )
    .await?;
    Ok(())
}
