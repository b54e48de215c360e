//! Every statement the fulfillment module runs. The outbox row and its
//! idempotency record are written in one transaction; a worker's claim is a
//! single committed statement, so no transaction is open while it waits on
//! the upstream.

use std::net::IpAddr;
use std::time::Duration;

use tokio_postgres::Error;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::rate_limit;
use super::request::MailRequest;
use crate::ApiError;
use crate::config::FulfillmentSettings;
use crate::pseudonym::Pseudonyms;

// Ids cross the wire as text (`$n::uuid`, `request_id::text`): it keeps the
// driver's features as they are for every crate of the workspace.
fn parse_id(text: &str) -> Uuid {
    Uuid::try_parse(text).expect("postgres prints uuids canonically")
}

/// The outcome of [`enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new request was queued.
    New(Uuid),
    /// The idempotency key was seen before with the same body: its request.
    Replayed(Uuid),
    /// The idempotency key was seen before with a different body.
    KeyReused,
}

/// A request's public state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStatus {
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// Why it failed, for permanent failures.
    pub reason: Option<String>,
}

/// A request a worker has claimed until `lease`.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The request, also the upstream `Idempotency-Key`.
    pub request_id: Uuid,
    /// What to send.
    pub request: MailRequest,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Time since the request was accepted.
    pub age: Duration,
    /// The claim's expiry, which fences the result we record.
    pub lease: chrono::DateTime<chrono::Utc>,
}

/// Whether `plan_id` is a plan users may ask about.
pub async fn plan_is_active(client: &impl GenericClient, plan_id: &str) -> Result<bool, Error> {
    let row = client
        .query_opt(
            "SELECT 1 FROM plan WHERE plan_id = $1 AND status = 'active'",
            &[&plan_id],
        )
        .await?;
    Ok(row.is_some())
}

/// Queues `request`, recording the pseudonym of `key` (when the client sent
/// one) with the pseudonym of the request in the same transaction, so a
/// replay finds exactly this request.
///
/// A key belongs to the network of `ip` ([`client_network`](crate::client_addr::client_network)):
/// the same key sent from another network is another key, so no client can
/// claim a key another will use, nor learn another's request by its key.
/// A new request (not a replay) is counted against its recipient's limit
/// first; past it, nothing is queued and the answer is a 429.
pub async fn enqueue(
    client: &mut deadpool_postgres::Client,
    pseudonyms: &Pseudonyms,
    request: &MailRequest,
    key: Option<&str>,
    ip: IpAddr,
    settings: &FulfillmentSettings,
) -> Result<Enqueued, ApiError> {
    let body_hash = request.digest(pseudonyms);
    let payload = serde_json::to_value(request).expect("a request serializes");
    let scoped_key = key.map(|key| scoped_key(pseudonyms, key, ip));
    // A replay racing with housekeeping can find the key gone; trying again
    // then queues it afresh.
    for _ in 0..3 {
        let request_id = Uuid::new_v4();
        let id_text = request_id.to_string();
        let tx = client.transaction().await?;
        if let Some(key_hash) = &scoped_key {
            let inserted = tx
                .query_opt(
                    "INSERT INTO fulfillment_idempotency (key_hash, body_hash, request_id)
                     VALUES ($1, $2, $3::text::uuid) ON CONFLICT (key_hash) DO NOTHING
                     RETURNING request_id",
                    &[key_hash, &body_hash, &id_text],
                )
                .await?;
            if inserted.is_none() {
                tx.rollback().await?;
                let existing = client
                    .query_opt(
                        "SELECT body_hash, request_id::text FROM fulfillment_idempotency
                         WHERE key_hash = $1",
                        &[key_hash],
                    )
                    .await?;
                match existing {
                    Some(row) if row.get::<_, Vec<u8>>(0) == body_hash => {
                        return Ok(Enqueued::Replayed(parse_id(row.get(1))));
                    }
                    Some(_) => return Ok(Enqueued::KeyReused),
                    None => continue,
                }
            }
        }
        // Inside the transaction: a refusal rolls the key back too, so the
        // client may retry the same key once the window has passed.
        rate_limit::check_recipient(
            &*tx,
            pseudonyms,
            request,
            settings.recipient_limit,
            settings.recipient_window,
        )
        .await?;
        tx.execute(
            "INSERT INTO fulfillment_request (request_id, plan_id, payload)
             VALUES ($1::text::uuid, $2, $3)",
            &[&id_text, &request.plan_id, &payload],
        )
        .await?;
        tx.commit().await?;
        return Ok(Enqueued::New(request_id));
    }
    Ok(Enqueued::KeyReused)
}

/// The stored form of an idempotency key: the pseudonym of the key bound
/// to the network it came from, `fulfillment-idempotency:{network}:{key}`.
/// The network holds exactly one `/` and a two-digit prefix length after
/// it, so where it ends and the key begins is never ambiguous.
fn scoped_key(pseudonyms: &Pseudonyms, key: &str, ip: IpAddr) -> Vec<u8> {
    let network = crate::client_addr::client_network(ip);
    pseudonyms.keyed(format!("fulfillment-idempotency:{network}:{key}").as_bytes())
}

/// The status of one request, if it exists.
pub async fn status(
    client: &impl GenericClient,
    request_id: Uuid,
) -> Result<Option<RequestStatus>, Error> {
    let row = client
        .query_opt(
            "SELECT status, reason FROM fulfillment_request WHERE request_id = $1::text::uuid",
            &[&request_id.to_string()],
        )
        .await?;
    Ok(row.map(|row| RequestStatus {
        status: row.get(0),
        reason: row.get(1),
    }))
}

/// Claims up to `limit` due requests for `lease`. Rows another worker holds
/// (locked or leased) are skipped, never waited for.
pub async fn claim(
    client: &impl GenericClient,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, Error> {
    let rows = client
        .query(
            "UPDATE fulfillment_request r
                SET locked_until = now() + make_interval(secs => $2),
                    attempts = r.attempts + 1
               FROM (SELECT request_id FROM fulfillment_request
                      WHERE status = 'queued' AND next_attempt_at <= now()
                        AND (locked_until IS NULL OR locked_until <= now())
                      ORDER BY next_attempt_at
                      LIMIT $1
                      FOR UPDATE SKIP LOCKED) due
              WHERE r.request_id = due.request_id
          RETURNING r.request_id::text, r.payload, r.attempts,
                    extract(epoch FROM now() - r.created_at)::float8, r.locked_until",
            &[&limit, &lease.as_secs_f64()],
        )
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let request_id = parse_id(row.get(0));
        let payload: Option<serde_json::Value> = row.get(1);
        let Some(request) = payload.and_then(|p| serde_json::from_value(p).ok()) else {
            // Only a hand-edited row gets here; fail it rather than loop on it.
            mark_failed(client, request_id, "the stored request is unreadable").await?;
            continue;
        };
        claimed.push(Claimed {
            request_id,
            request,
            attempts: row.get(2),
            age: Duration::from_secs_f64(row.get::<_, f64>(3).max(0.0)),
            lease: row.get(4),
        });
    }
    Ok(claimed)
}

/// Records a delivery. The address is no longer needed, so it is erased.
pub async fn mark_sent(client: &impl GenericClient, request_id: Uuid) -> Result<(), Error> {
    client
        .execute(
            "UPDATE fulfillment_request
                SET status = 'sent', payload = NULL, locked_until = NULL,
                    last_error = NULL, finished_at = now()
              WHERE request_id = $1::text::uuid AND status = 'queued'",
            &[&request_id.to_string()],
        )
        .await?;
    Ok(())
}

/// Records a permanent failure with the reason shown to the client; the
/// address is erased.
pub async fn mark_failed(
    client: &impl GenericClient,
    request_id: Uuid,
    reason: &str,
) -> Result<(), Error> {
    client
        .execute(
            "UPDATE fulfillment_request
                SET status = 'failed', reason = $2, payload = NULL, locked_until = NULL,
                    finished_at = now()
              WHERE request_id = $1::text::uuid AND status = 'queued'",
            &[&request_id.to_string(), &reason],
        )
        .await?;
    Ok(())
}

/// Schedules another attempt after `delay`, unless the claim was lost (its
/// lease expired and another worker took the row over).
pub async fn schedule_retry(
    client: &impl GenericClient,
    claimed: &Claimed,
    delay: Duration,
    error: &str,
) -> Result<(), Error> {
    client
        .execute(
            "UPDATE fulfillment_request
                SET next_attempt_at = now() + make_interval(secs => $2),
                    locked_until = NULL, last_error = $3
              WHERE request_id = $1::text::uuid AND status = 'queued' AND locked_until = $4",
            &[
                &claimed.request_id.to_string(),
                &delay.as_secs_f64(),
                &error,
                &claimed.lease,
            ],
        )
        .await?;
    Ok(())
}

/// The queue depth and the age of its oldest request, in seconds.
pub async fn outbox_stats(client: &impl GenericClient) -> Result<(i64, f64), Error> {
    let row = client
        .query_one(
            "SELECT count(*),
                    coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
               FROM fulfillment_request WHERE status = 'queued'",
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Forgets idempotency keys older than `keep` and rate-limit windows that
/// ended more than `longest_window` ago. Any replica may run it; the deletes
/// are idempotent.
pub async fn housekeeping(
    client: &impl GenericClient,
    keep: Duration,
    longest_window: Duration,
) -> Result<(), Error> {
    client
        .execute(
            "DELETE FROM fulfillment_idempotency
              WHERE created_at < now() - make_interval(secs => $1)",
            &[&keep.as_secs_f64()],
        )
        .await?;
    client
        .execute(
            "DELETE FROM fulfillment_rate_limit
              WHERE window_start < now() - make_interval(secs => $1)",
            &[&longest_window.as_secs_f64()],
        )
        .await?;
    Ok(())
}

/// Fails up to `batch` queued requests accepted more than `max_age` ago
/// that are not being delivered right now, erasing their addresses: those
/// that never reached an upstream (none was configured) as much as those
/// still retrying. Returns how many.
pub async fn expire_queued(
    client: &impl GenericClient,
    max_age: Duration,
    batch: i64,
) -> Result<u64, Error> {
    client
        .execute(
            "UPDATE fulfillment_request r
                SET status = 'failed', payload = NULL, locked_until = NULL, finished_at = now(),
                    reason = 'not delivered in time; please ask again'
               FROM (SELECT request_id FROM fulfillment_request
                      WHERE status = 'queued'
                        AND created_at < now() - make_interval(secs => $1)
                        AND (locked_until IS NULL OR locked_until <= now())
                      ORDER BY created_at
                      LIMIT $2
                      FOR UPDATE SKIP LOCKED) old
              WHERE r.request_id = old.request_id",
            &[&max_age.as_secs_f64(), &batch],
        )
        .await
}

/// Deletes up to `batch` requests that finished (sent or failed) more than
/// `retention` ago, with their idempotency keys. Returns how many.
pub async fn purge_finished(
    client: &impl GenericClient,
    retention: Duration,
    batch: i64,
) -> Result<u64, Error> {
    client
        .execute(
            "DELETE FROM fulfillment_request
              WHERE request_id IN (
                    SELECT request_id FROM fulfillment_request
                     WHERE status IN ('sent', 'failed')
                       AND finished_at < now() - make_interval(secs => $1)
                     ORDER BY finished_at
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED)",
            &[&retention.as_secs_f64(), &batch],
        )
        .await
}
