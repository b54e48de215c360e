//! Limits on accepted requests, counted in Postgres so every replica shares
//! them: per client network (one IPv6 /64 or one IPv4 address, so rotating
//! through the addresses of one allocation gains nothing) and per recipient
//! (so many networks cannot bury one household in paper). Only keyed
//! pseudonyms ([`Pseudonyms`]) of what is counted are stored: nobody who
//! reads the table without the key can test a guessed name and address, or
//! a network, against it.

use std::net::IpAddr;
use std::time::Duration;

use tokio_postgres::GenericClient;

use super::request::MailRequest;
use crate::ApiError;
use crate::pseudonym::Pseudonyms;

use crate::client_addr::client_network;

/// Counts one request from the network of `ip` in the current fixed window
/// and refuses it with a 429 (and the seconds until the window ends) past
/// `limit`.
pub async fn check(
    client: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    ip: IpAddr,
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    check_as(client, pseudonyms, "fulfillment-rate", ip, limit, window).await
}

/// [`check`] for another route, counted apart under `kind`: one fixed-window
/// counter per client network ([`client_network`]) for every route that
/// takes anonymous writes.
pub async fn check_as(
    client: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    kind: &str,
    ip: IpAddr,
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    let bucket = bucket(pseudonyms, kind, &client_network(ip));
    hit(client, &bucket, limit, window).await
}

/// Counts one new request for the recipient of `request` and refuses it past
/// `limit` per `window`. Called only for requests about to be queued, so an
/// idempotent replay costs the recipient nothing.
pub async fn check_recipient(
    client: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    request: &MailRequest,
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    let bucket = bucket(
        pseudonyms,
        "fulfillment-recipient",
        &request.recipient_key(),
    );
    hit(client, &bucket, limit, window).await
}

/// The stored key of a counter: the pseudonym of `{kind}:{value}`.
fn bucket(pseudonyms: &Pseudonyms, kind: &str, value: &str) -> Vec<u8> {
    pseudonyms.keyed(format!("{kind}:{value}").as_bytes())
}

async fn hit(
    client: &impl GenericClient,
    bucket: &[u8],
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    let window_secs = window.as_secs_f64();
    let row = client
        .query_one(
            "INSERT INTO fulfillment_rate_limit AS r (client_hash, window_start, hits)
             VALUES ($1, to_timestamp(floor(extract(epoch FROM now())::float8 / $2::float8) * $2::float8), 1)
             ON CONFLICT (client_hash, window_start) DO UPDATE SET hits = r.hits + 1
             RETURNING r.hits,
                       (extract(epoch FROM r.window_start)::float8 + $2::float8
                        - extract(epoch FROM now())::float8)",
            &[&bucket, &window_secs],
        )
        .await?;
    let hits: i32 = row.get(0);
    if hits > i32::try_from(limit).unwrap_or(i32::MAX) {
        let remaining: f64 = row.get(1);
        return Err(ApiError::TooManyRequests {
            retry_after: remaining.ceil().max(1.0) as u64,
        });
    }
    Ok(())
}
