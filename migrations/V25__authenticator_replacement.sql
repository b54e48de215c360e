-- Replacing an authenticator app without a moment when the account has
-- none: the new app's secret waits beside the old one, counting for
-- nothing, until a code from the new app is typed; then it takes the old
-- one's place in one statement. Additive only.
ALTER TABLE totp_factor ADD COLUMN IF NOT EXISTS pending_secret bytea;
ALTER TABLE totp_factor ADD COLUMN IF NOT EXISTS pending_created_at timestamptz;
COMMENT ON COLUMN totp_factor.pending_secret IS
    'A replacement app''s secret, set up but not confirmed yet; NULL when none';
-- The API's grants on totp_factor (V23) are table-wide and cover these columns.
