-- Identity matching, hardened. The last four SSN digits are the only secret
-- among the facts someone types to create an account (last name, birth date
-- and ZIP code are in common breach data), and there are only 10,000 of
-- them. So every beneficiary gets a lifetime allowance of wrong guesses,
-- counted and enforced here, inside the function that compares, where the
-- API (or anyone holding its role) cannot skip, read or reset the count.
-- Additive only: match_beneficiary keeps its signature and its answer.

-- How a last name is compared: the one definition, used by the match below
-- and to be used by anything that keys on a name (the API's per-facts
-- throttle asks Postgres for `SELECT identity_name($1)` rather than
-- normalising in Rust, whose lowercasing differs from Postgres's: 'İ'
-- (U+0130) lowercases to "i̇" in Rust and to "i" here, so a key computed in
-- Rust would give a name with k letters i 2^k throttle keys). Compatibility
-- forms are folded first (NFKC: full-width letters, ligatures, no-break
-- spaces), then case, then the spaces at either end.
CREATE OR REPLACE FUNCTION identity_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN btrim(normalize(lower(normalize(name, NFKC)), NFKC));
COMMENT ON FUNCTION identity_name(text) IS
    'The form in which last names are compared when matching identity facts; '
    'key anything per name on identity_name(name), never on a normalisation of your own';

-- The allowance: this many wrong guesses per beneficiary, ever. A handful
-- covers typing mistakes; an attacker who knows the other facts gets 5 of
-- 10,000 possibilities (1 in 2,000) instead of all of them.
CREATE OR REPLACE FUNCTION identity_match_failure_limit() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 5;
COMMENT ON FUNCTION identity_match_failure_limit() IS
    'Wrong SSN digits a beneficiary''s facts may be tried with before match_beneficiary stops matching them';

-- Wrong guesses per beneficiary. Only the owner writes it, through
-- match_beneficiary; no client role may read or change it. Retention: a row
-- lives as long as its beneficiary (the cap is for life) and goes with them
-- (ON DELETE CASCADE), or when an operator reopens the path:
--   DELETE FROM identity_match_failure WHERE beneficiary_id = $1;
-- run as the schema owner once the person has proven who they are another
-- way. It holds no fact that was typed, only counts and times.
CREATE TABLE IF NOT EXISTS identity_match_failure (
    beneficiary_id bigint PRIMARY KEY
        REFERENCES beneficiary (beneficiary_id) ON DELETE CASCADE,
    failures integer NOT NULL CHECK (failures > 0),
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE identity_match_failure IS
    'Wrong SSN digits given with facts naming each beneficiary; kept while the beneficiary exists; '
    'written only by match_beneficiary; an operator deletes the row to reopen self-service';

-- V8 grants the API every new table by default: take this one back.
REVOKE ALL ON identity_match_failure
    FROM PUBLIC, whatever_api_role, whatever_sync_role, whatever_build_role;

-- Whether the identity facts someone typed are those of a beneficiary, and
-- which one; as before, only the id comes out and the digits are compared
-- as SHA-256 digests. New: when the facts name beneficiaries but the digits
-- are none of theirs, one failure is counted against each of them, and a
-- beneficiary with identity_match_failure_limit() failures is never matched
-- again, not even with the right digits.
--
-- Postgres has no autonomous transactions: the count is part of the
-- caller's transaction, and a caller that rolls back (or rolls back to a
-- savepoint taken before the call) takes its failures back. The API must
-- therefore call this as a statement of its own, committed at once, and act
-- on the answer afterwards; whoever can run SQL as the API's role can still
-- undo its own failures (see docs/accounts.md).
CREATE OR REPLACE FUNCTION match_beneficiary(
    last_name text, birth_date date, zip text, ssn_last4 text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Advisory-lock namespace of one beneficiary's identity checks.
    lock_namespace CONSTANT integer := 1768189286; -- "idmf"
    candidates bigint[];
    candidate bigint;
    matched bigint;
BEGIN
    -- Whom the facts name, whatever the digits.
    SELECT array_agg(b.beneficiary_id ORDER BY b.beneficiary_id)
      INTO candidates
      FROM public.beneficiary b
     WHERE b.zip_code = zip
       AND b.birthdate = birth_date
       AND public.identity_name(b.lname) = public.identity_name(last_name);
    IF candidates IS NULL THEN
        RETURN NULL;
    END IF;

    -- One check at a time per beneficiary until the caller's transaction
    -- ends, so concurrent guesses each see the failures before them (each
    -- statement below takes a fresh snapshot). Taken in id order: two
    -- checks naming the same beneficiaries cannot deadlock.
    FOREACH candidate IN ARRAY candidates LOOP
        PERFORM pg_advisory_xact_lock(lock_namespace, hashtext(candidate::text));
    END LOOP;

    SELECT b.beneficiary_id
      INTO matched
      FROM public.beneficiary b
     WHERE b.beneficiary_id = ANY (candidates)
       AND NOT EXISTS (
               SELECT FROM public.identity_match_failure f
                WHERE f.beneficiary_id = b.beneficiary_id
                  AND f.failures >= public.identity_match_failure_limit())
       AND ssn_last4 ~ '^[0-9]{4}$'
       AND sha256(convert_to(right(coalesce(b.ssn, ''), 4), 'UTF8'))
           = sha256(convert_to(ssn_last4, 'UTF8'))
     ORDER BY b.beneficiary_id
     LIMIT 1;
    IF matched IS NOT NULL THEN
        RETURN matched;
    END IF;

    -- Nobody matched: a wrong guess at each of them (or a try at one whose
    -- path is closed, which keeps counting so operators see it).
    INSERT INTO public.identity_match_failure AS f (beneficiary_id, failures)
    SELECT unnest(candidates), 1
        ON CONFLICT (beneficiary_id)
        DO UPDATE SET failures = f.failures + 1, last_failed_at = now();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION match_beneficiary(text, date, text, text) IS
    'The beneficiary whose last name (compared as identity_name), birth date, ZIP code and last '
    'four SSN digits these are, or NULL. A NULL for facts that name beneficiaries counts a failure '
    'against each; after identity_match_failure_limit() failures a beneficiary never matches. '
    'The count is written in the caller''s transaction and is lost if that transaction (or a '
    'savepoint around the call) rolls back: call it as a statement of its own (autocommit), never '
    'inside a transaction or savepoint that may roll back. Volatile: it writes.';
REVOKE ALL ON FUNCTION match_beneficiary(text, date, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION match_beneficiary(text, date, text, text) TO whatever_api_role;
