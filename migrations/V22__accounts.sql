-- Accounts people create themselves: their state beside "user" (whose
-- columns other parties rely on), single-use tokens, second factors, the
-- sessions they can list and end, and the security audit log. Additive only.

-- One row per account created through the API. A "user" row without one
-- was made before accounts could be created (by an operator, or the demo
-- seed) and counts as verified.
CREATE TABLE IF NOT EXISTS account (
    username text PRIMARY KEY REFERENCES "user" (username) ON DELETE CASCADE,
    -- One account per beneficiary, for every account created from now on.
    beneficiary_id bigint NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- NULL until the link mailed at creation is followed; until then the
    -- account cannot sign in.
    email_verified_at timestamptz
);
COMMENT ON TABLE account IS
    'Accounts created through the API; a "user" row without one predates them and counts as verified';

-- Single-use links: only a SHA-256 digest of each token is kept, so reading
-- this table gives nobody a working link.
CREATE TABLE IF NOT EXISTS account_token (
    token_hash bytea PRIMARY KEY,
    username text NOT NULL REFERENCES "user" (username) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS account_token_username_idx ON account_token (username, purpose);
CREATE INDEX IF NOT EXISTS account_token_expires_idx ON account_token (expires_at);

-- Attempts to prove who one is when creating an account, for throttling:
-- per client address and per set of identity facts (a keyed HMAC of the
-- normalized last name, birth date and ZIP code, never the facts).
CREATE TABLE IF NOT EXISTS identity_attempt (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facts bytea NOT NULL,
    client_addr inet NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS identity_attempt_facts_idx ON identity_attempt (facts, attempted_at);
CREATE INDEX IF NOT EXISTS identity_attempt_client_idx ON identity_attempt (client_addr, attempted_at);

-- The security audit log: who did what, from where, when. Never a secret
-- (no password, token, code or SSN). Append-only for the API (see below).
CREATE TABLE IF NOT EXISTS security_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    -- The account, when the event is about an existing one.
    username text,
    client_addr inet,
    -- A few non-secret facts about the event (e.g. which limit held).
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS security_event_username_idx ON security_event (username, occurred_at);
CREATE INDEX IF NOT EXISTS security_event_kind_idx ON security_event (kind, occurred_at);

-- Whether the identity facts someone typed are those of a beneficiary, and
-- which one. The SSN never leaves the database: the API's role may not read
-- the column, and this function, which runs as its owner, returns only the
-- matching id. The last four digits are compared as SHA-256 digests, so the
-- comparison's time depends on digests, not on how many digits agree.
CREATE OR REPLACE FUNCTION match_beneficiary(
    last_name text, birth_date date, zip text, ssn_last4 text
) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.beneficiary_id
      FROM public.beneficiary b
     WHERE b.zip_code = zip
       AND b.birthdate = birth_date
       AND lower(btrim(b.lname)) = lower(btrim(last_name))
       AND sha256(convert_to(right(coalesce(b.ssn, ''), 4), 'UTF8'))
           = sha256(convert_to(coalesce(ssn_last4, ''), 'UTF8'))
       AND length(ssn_last4) = 4
     ORDER BY b.beneficiary_id
     LIMIT 1
$$;
REVOKE ALL ON FUNCTION match_beneficiary(text, date, text, text) FROM PUBLIC;

-- The lookup above, by the two facts that narrow it most.
CREATE INDEX IF NOT EXISTS beneficiary_identity_idx ON beneficiary (zip_code, birthdate);

-- The API's share: the account tables in full (they are its own state),
-- new "user" rows and new passwords, the identity check, and the audit log
-- to append to, never to change or read back.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON account, account_token, identity_attempt
            TO whatever_api_role;
        REVOKE ALL ON security_event FROM whatever_api_role;
        GRANT INSERT ON security_event TO whatever_api_role;
        GRANT INSERT (username, password, email, beneficiary_id) ON "user" TO whatever_api_role;
        GRANT EXECUTE ON FUNCTION match_beneficiary(text, date, text, text) TO whatever_api_role;
    END IF;
END $$;
