-- "Mail me this" requests: a durable outbox the API writes in the same
-- transaction as the idempotency record, drained by delivery workers on any
-- number of replicas (FOR UPDATE SKIP LOCKED plus a lease).

CREATE TABLE IF NOT EXISTS fulfillment_request (
    -- Random (UUID v4): the id is the only thing needed to read a status.
    request_id uuid PRIMARY KEY,
    plan_id text NOT NULL,
    -- The postal address (PII). Cleared once the request is finished.
    payload jsonb,
    status text NOT NULL DEFAULT 'queued',
    -- Why a request failed for good; shown to whoever holds the id.
    reason text,
    attempts int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Earliest time a worker may try again (backoff with jitter).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker's claim; when it passes, the worker is presumed dead.
    locked_until timestamptz,
    -- The latest retryable error, for operators; never contains the address.
    last_error text,
    finished_at timestamptz,
    CONSTRAINT fulfillment_request_status_check
        CHECK (status IN ('queued', 'sent', 'failed'))
);

-- Workers look only at queued rows, due first; a partial index stays small
-- however many finished rows accumulate.
CREATE INDEX IF NOT EXISTS fulfillment_request_due_idx
    ON fulfillment_request (next_attempt_at)
    WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS fulfillment_request_queued_created_idx
    ON fulfillment_request (created_at)
    WHERE status = 'queued';

-- Idempotency keys, stored as a hash so the table never holds a client's
-- secret-like key, with a hash of the body they were first used with.
CREATE TABLE IF NOT EXISTS fulfillment_idempotency (
    key_hash bytea PRIMARY KEY,
    body_hash bytea NOT NULL,
    request_id uuid NOT NULL REFERENCES fulfillment_request (request_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS fulfillment_idempotency_created_idx
    ON fulfillment_idempotency (created_at);

-- Fixed-window request counts per client (a hash of the client address),
-- shared by every replica.
CREATE TABLE IF NOT EXISTS fulfillment_rate_limit (
    client_hash bytea NOT NULL,
    window_start timestamptz NOT NULL,
    hits int NOT NULL,
    PRIMARY KEY (client_hash, window_start)
);
CREATE INDEX IF NOT EXISTS fulfillment_rate_limit_window_idx
    ON fulfillment_rate_limit (window_start);
