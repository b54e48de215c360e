-- Finished "mail me this" requests (sent or failed) are deleted once their
-- retention period has passed, oldest first and in batches: keep finding
-- them an index walk however many requests accumulate.
CREATE INDEX IF NOT EXISTS fulfillment_request_finished_idx
    ON fulfillment_request (finished_at)
    WHERE status IN ('sent', 'failed');
