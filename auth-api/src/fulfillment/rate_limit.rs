//! A per-client limit on accepted requests, counted in Postgres so every
//! replica shares it. The client address is PII-adjacent, so only its hash
//! is stored.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::ApiError;

/// Counts one request for `client` in the current fixed window and refuses
/// it with a 429 (and the seconds until the window ends) past `limit`.
pub async fn check(
    client: &impl GenericClient,
    ip: IpAddr,
    limit: u32,
    window: Duration,
) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    let client_hash = Sha256::digest(format!("fulfillment-rate:{ip}").as_bytes()).to_vec();
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
