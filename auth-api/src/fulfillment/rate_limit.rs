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

/// The network a client address is counted as: its /64 for IPv6 (what one
/// subscriber is routed), the address itself for IPv4. IPv4-mapped IPv6
/// addresses count as IPv4.
pub fn client_network(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(bits))
        }
    }
}

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
    let bucket = bucket(pseudonyms, "fulfillment-rate", &client_network(ip));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        let net = |s: &str| client_network(s.parse().unwrap());
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(net("203.0.113.7"), "203.0.113.7/32");
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.7/32");
    }
}
