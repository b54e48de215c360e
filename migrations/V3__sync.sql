-- Nightly deltas already applied, by the SHA-256 of the file: applying the
-- same file again is a no-op that says so (generator sync).
CREATE TABLE IF NOT EXISTS applied_delta (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The name the file had when it was applied, for people reading this table.
    file_name text NOT NULL,
    lines bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    -- Rows inserted, updated, deleted and left unchanged per table.
    summary jsonb NOT NULL
);
