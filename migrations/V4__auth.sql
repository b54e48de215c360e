-- Login state shared by every auth-api replica. Additive only.

-- Sessions ended by logout, until the last moment any of their tokens could
-- still be valid (then pruned). Looked up by primary key on every
-- authenticated request.
CREATE TABLE IF NOT EXISTS revoked_session (
    session_id uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_session_expires_idx ON revoked_session (expires_at);

-- Failed logins, for throttling. The username is kept only as a SHA-256
-- digest (people type passwords into the username field); it is set to NULL
-- when the account signs in, so the row still counts against the address.
CREATE TABLE IF NOT EXISTS login_failure (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account bytea,
    client_addr inet NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS login_failure_account_idx ON login_failure (account, failed_at);
CREATE INDEX IF NOT EXISTS login_failure_client_idx ON login_failure (client_addr, failed_at);
