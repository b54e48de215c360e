-- Two additions for second factors. Additive only.

-- Replacing an authenticator app without a moment when the account has
-- none: the new app's secret waits beside the old one, counting for
-- nothing, until a code from the new app is typed; then it takes the old
-- one's place in one statement.
ALTER TABLE totp_factor ADD COLUMN IF NOT EXISTS pending_secret bytea;
ALTER TABLE totp_factor ADD COLUMN IF NOT EXISTS pending_created_at timestamptz;
COMMENT ON COLUMN totp_factor.pending_secret IS
    'A replacement app''s secret, set up but not confirmed yet; NULL when none';

-- The failed login that counts a pending sign-in's password step until its
-- second step succeeds, when it is taken back as a one-step sign-in's is:
-- a completed sign-in leaves nothing counted against its address. NULL for
-- pending sign-ins started before this column existed.
ALTER TABLE pending_sign_in ADD COLUMN IF NOT EXISTS login_attempt bigint;

-- The API's grants on both tables (V23) are table-wide and cover these columns.
