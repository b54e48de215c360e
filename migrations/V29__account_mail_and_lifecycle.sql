-- Mail and the life of an account: which address counts as verified, a cap
-- on the mail anyone can cause to one address, unverified accounts that go
-- when their link expires, and the emailed link that unlocks sign-in from
-- one device. Additive only.

-- A link of one more kind: the owner's way back in while strangers' guesses
-- hold the account (see docs/accounts.md, "Held sign-ins").
ALTER TABLE account_token DROP CONSTRAINT IF EXISTS account_token_purpose_check;
ALTER TABLE account_token ADD CONSTRAINT account_token_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'unlock_sign_in'));

-- Addresses verified by accounts made before self-service accounts (no
-- `account` row: the demo users, operator-made accounts). Their address was
-- typed by someone once and never proven; it counts as verified only once
-- its owner, signed in, follows a link mailed to it. The address is kept as
-- it was verified: a different address on the "user" row is not verified.
-- Retention: as long as the account (ON DELETE CASCADE).
CREATE TABLE IF NOT EXISTS verified_address (
    username text PRIMARY KEY REFERENCES "user" (username) ON DELETE CASCADE,
    email text NOT NULL,
    verified_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE verified_address IS
    'Addresses of accounts without an account row, proven by a mailed link; see verified_email()';

-- The one definition of an account's verified address: the "user" row's
-- address when the account was created here and verified it, or when it is
-- the address a legacy account verified; NULL otherwise. Every notice and
-- every link that lets someone in goes only there.
CREATE OR REPLACE FUNCTION verified_email(name text) RETURNS text
LANGUAGE sql STABLE STRICT
RETURN (
    SELECT u.email
      FROM public."user" u
      LEFT JOIN public.account a ON a.username = u.username
      LEFT JOIN public.verified_address v ON v.username = u.username
     WHERE u.username = name
       AND u.email IS NOT NULL
       AND (a.email_verified_at IS NOT NULL OR lower(v.email) = lower(u.email))
);
COMMENT ON FUNCTION verified_email(text) IS
    'The account''s address if it was proven by a mailed link, else NULL';

-- Mail that anyone can cause (account creation's messages), counted per
-- recipient: a keyed pseudonym of the normalized address, never the address.
-- Retention: rows older than the longest window are deleted by the API's
-- upkeep (auth::prune).
CREATE TABLE IF NOT EXISTS mail_recipient_hit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient bytea NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS mail_recipient_hit_idx ON mail_recipient_hit (recipient, sent_at);

-- Unverified accounts whose verification link has expired: removed with
-- their tokens (every table keyed on "user" cascades), so a slot taken by
-- someone who never proved an address frees itself. The API's role may not
-- delete "user" rows; this function, run as the owner, deletes only
-- accounts created here, never verified, created longer ago than
-- `older_than` (the API passes its VERIFY_EMAIL_TTL_SECS), and only those
-- of `beneficiary` when one is given. Returns how many went.
CREATE OR REPLACE FUNCTION remove_unverified_accounts(older_than interval, beneficiary bigint)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM public."user" u
     USING public.account a
     WHERE a.username = u.username
       AND a.email_verified_at IS NULL
       AND a.created_at < now() - older_than
       AND (beneficiary IS NULL OR a.beneficiary_id = beneficiary);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION remove_unverified_accounts(interval, bigint) IS
    'Deletes accounts created through the API whose address was never verified, older than the '
    'given age (all, or one beneficiary''s); their tokens go with them';
REVOKE ALL ON FUNCTION remove_unverified_accounts(interval, bigint) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT EXECUTE ON FUNCTION remove_unverified_accounts(interval, bigint)
            TO whatever_api_role;
        GRANT EXECUTE ON FUNCTION verified_email(text) TO whatever_api_role;
        GRANT SELECT, INSERT, UPDATE, DELETE ON verified_address, mail_recipient_hit
            TO whatever_api_role;
    END IF;
END $$;
