//! A per-client limit on accepted requests, counted in Postgres so every
//! replica shares it. The client address is PII-adjacent, so only its hash
//! is stored.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::HeaderMap;
use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::ApiError;

/// The client's address: the socket peer, or, behind `hops` trusted proxies
/// that each append to `X-Forwarded-For`, the address the outermost one saw.
/// Entries left of that one are written by the client and cannot be trusted.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, hops: usize) -> Option<IpAddr> {
    if hops > 0 {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if forwarded.len() >= hops
            && let Ok(ip) = forwarded[forwarded.len() - hops].parse()
        {
            return Some(ip);
        }
    }
    peer.map(|p| p.ip())
}

/// Counts one request for `client` in the current fixed window and refuses
/// it with a 429 (and the seconds until the window ends) past `limit`.
pub async fn check(
    client: &impl GenericClient,
    ip: Option<IpAddr>,
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    // Without an address (only possible in-process) all such callers share
    // one bucket, which errs on the side of limiting.
    let key = ip.map(|ip| ip.to_string()).unwrap_or_default();
    let client_hash = Sha256::digest(format!("fulfillment-rate:{key}").as_bytes()).to_vec();
    let window_secs = window.as_secs_f64();
    let row = client
        .query_one(
            "INSERT INTO fulfillment_rate_limit AS r (client_hash, window_start, hits)
             VALUES ($1, to_timestamp(floor(extract(epoch FROM now())::float8 / $2::float8) * $2::float8), 1)
             ON CONFLICT (client_hash, window_start) DO UPDATE SET hits = r.hits + 1
             RETURNING r.hits,
                       (extract(epoch FROM r.window_start)::float8 + $2::float8
                        - extract(epoch FROM now())::float8)",
            &[&client_hash, &window_secs],
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

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn without_proxies_the_peer_is_the_client() {
        let peer: SocketAddr = "10.0.0.9:5000".parse().unwrap();
        let ip = client_ip(&headers("1.2.3.4"), Some(peer), 0);
        assert_eq!(ip, Some(peer.ip()));
    }

    #[test]
    fn behind_proxies_a_spoofed_prefix_is_ignored() {
        let peer: SocketAddr = "10.0.0.9:5000".parse().unwrap();
        // The client wrote "6.6.6.6"; CloudFront appended the viewer, the ALB the edge.
        let h = headers("6.6.6.6, 203.0.113.7, 130.176.0.1");
        assert_eq!(
            client_ip(&h, Some(peer), 2),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(&h, Some(peer), 1),
            Some("130.176.0.1".parse().unwrap())
        );
    }

    #[test]
    fn a_short_or_garbled_header_falls_back_to_the_peer() {
        let peer: SocketAddr = "10.0.0.9:5000".parse().unwrap();
        assert_eq!(client_ip(&headers("x"), Some(peer), 1), Some(peer.ip()));
        assert_eq!(client_ip(&HeaderMap::new(), Some(peer), 2), Some(peer.ip()));
    }
}
