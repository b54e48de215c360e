-- The sessions each account has open, so that a person can see them and end
-- them, and so that a password change or reset can end every other one
-- (by revoking their ids in revoked_session, which every personal route
-- already checks). Additive only.
CREATE TABLE IF NOT EXISTS account_session (
    session_id uuid PRIMARY KEY,
    username text NOT NULL REFERENCES "user" (username) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    client_addr inet,
    -- The last moment any token of the session could be valid.
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS account_session_username_idx ON account_session (username, expires_at);
CREATE INDEX IF NOT EXISTS account_session_expires_idx ON account_session (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON account_session TO whatever_api_role;
    END IF;
END $$;
