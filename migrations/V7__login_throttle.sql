-- Login throttling that cannot be raced and cannot lock owners out. Additive only.

-- From now on login_failure.account holds a keyed HMAC-SHA-256 of the
-- username, not an unkeyed digest; a row is written before the password is
-- checked (a reservation) and deleted again if the login succeeds.
COMMENT ON COLUMN login_failure.account IS
    'HMAC-SHA-256 of the username under the API''s pseudonym key; NULL once the account signed in';

-- The per-account-and-address count, on every login.
CREATE INDEX IF NOT EXISTS login_failure_account_client_idx
    ON login_failure (account, client_addr, failed_at);

-- Addresses each account has signed in from: they are exempt from the
-- account-wide limit, so guessing from elsewhere cannot lock the owner out.
CREATE TABLE IF NOT EXISTS login_known_client (
    account bytea NOT NULL,
    client_addr inet NOT NULL,
    last_success timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, client_addr)
);
CREATE INDEX IF NOT EXISTS login_known_client_last_success_idx
    ON login_known_client (last_success);
