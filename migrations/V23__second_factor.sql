-- Second factors: an authenticator app (TOTP, RFC 6238) with single-use
-- recovery codes, and the short-lived state between a right password and a
-- right code. Additive only.

-- One authenticator per account. Set up in two steps: the secret is stored
-- when the QR code is shown and counts only once a code from it was typed
-- (confirmed_at). last_step is the newest 30-second step a code was accepted
-- for: a code is accepted only for a later step, so none works twice.
CREATE TABLE IF NOT EXISTS totp_factor (
    username text PRIMARY KEY REFERENCES "user" (username) ON DELETE CASCADE,
    secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    last_step bigint NOT NULL DEFAULT 0
);

-- Ten codes given when the authenticator is confirmed, each working once
-- in its place. Only SHA-256 digests are kept (80 random bits each, so a
-- fast digest is enough).
CREATE TABLE IF NOT EXISTS recovery_code (
    username text NOT NULL REFERENCES "user" (username) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    PRIMARY KEY (username, code_hash)
);

-- A right password waiting for its second factor: not a session, it opens
-- nothing but the second step, for a few minutes and a few tries. Kept as
-- the digest of the token in the browser's cookie.
CREATE TABLE IF NOT EXISTS pending_sign_in (
    token_hash bytea PRIMARY KEY,
    username text NOT NULL REFERENCES "user" (username) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    attempts int NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pending_sign_in_expires_idx ON pending_sign_in (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON totp_factor, recovery_code, pending_sign_in
            TO whatever_api_role;
    END IF;
END $$;
