-- The fulfillment caps and idempotency records hold keyed pseudonyms:
-- HMAC-SHA-256 under the API's pseudonym key (PSEUDONYM_KEY_FILE, the key
-- login_failure.account is kept under), no longer unkeyed SHA-256 digests,
-- so whoever reads these tables cannot test a guessed name and address, or
-- a client network, against them. Additive only: the columns keep their
-- names and types; what they hold changes meaning.
--
-- Rows written before hold unkeyed digests that nothing matches any more.
-- They are left to leave with their windows: rate-limit rows once their
-- window has passed (a day at most), idempotency records when keys older
-- than seven days are forgotten. Until then a network or a recipient counted
-- before the change starts a fresh count, and a request retried with the
-- same Idempotency-Key across the change is queued as a new one.

COMMENT ON COLUMN fulfillment_rate_limit.client_hash IS
    'HMAC-SHA-256 under the pseudonym key of "fulfillment-rate:{network}" or "fulfillment-recipient:{normalized name|street|zip}"';
COMMENT ON COLUMN fulfillment_idempotency.key_hash IS
    'HMAC-SHA-256 under the pseudonym key of "fulfillment-idempotency:{network}:{Idempotency-Key}"';
COMMENT ON COLUMN fulfillment_idempotency.body_hash IS
    'HMAC-SHA-256 under the pseudonym key of "fulfillment-body:" and each field, length-prefixed';
