-- One pending sign-in per account, events that anonymous requests cause
-- counted instead of written one by one, and a retention period for the
-- audit log's client addresses. Additive only.

-- An account has one pending sign-in at a time: a new password step takes
-- the place of the older one (INSERT ... ON CONFLICT (username)), so many
-- pending sign-ins cannot multiply the tries at the second factor. Older
-- duplicates are short-lived (five minutes) and go first.
DELETE FROM pending_sign_in p
 WHERE EXISTS (SELECT 1 FROM pending_sign_in q
                WHERE q.username = p.username
                  AND (q.created_at, q.token_hash) > (p.created_at, p.token_hash));
CREATE UNIQUE INDEX IF NOT EXISTS pending_sign_in_username_key ON pending_sign_in (username);

-- Events anyone can cause without an account (a throttled sign-in or
-- account creation, a refused link) are tallied: one row per kind, client
-- network, detail and hour, whose `hits` counts them. Every other event
-- is one row (hits = 1, window_start NULL).
ALTER TABLE security_event ADD COLUMN IF NOT EXISTS hits integer NOT NULL DEFAULT 1;
ALTER TABLE security_event ADD COLUMN IF NOT EXISTS window_start timestamptz;
COMMENT ON COLUMN security_event.hits IS
    'How many times the event happened: more than 1 only on a tallied row (window_start set)';
COMMENT ON COLUMN security_event.window_start IS
    'The hour a tallied row counts; NULL for an event written as it happened';
CREATE UNIQUE INDEX IF NOT EXISTS security_event_tally_key
    ON security_event (kind, client_addr, detail, window_start)
    WHERE window_start IS NOT NULL;

-- The API may append to the log and read nothing back, so it tallies
-- through this function, which runs as the owner: it can add to a count,
-- never lower one or touch another row.
CREATE OR REPLACE FUNCTION tally_security_event(event_kind text, event_client inet, event_detail jsonb)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO public.security_event AS e (kind, client_addr, detail, window_start)
    VALUES (event_kind, event_client, coalesce(event_detail, '{}'), date_trunc('hour', now()))
    ON CONFLICT (kind, client_addr, detail, window_start) WHERE window_start IS NOT NULL
    DO UPDATE SET hits = e.hits + 1
$$;
REVOKE ALL ON FUNCTION tally_security_event(text, inet, jsonb) FROM PUBLIC;

-- The audit log keeps client addresses for 90 days and events for a year.
-- The periods are fixed here, not chosen by the caller: the API, which
-- runs the pruning, cannot erase recent history through it.
CREATE OR REPLACE FUNCTION prune_security_event()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    erased bigint;
    deleted bigint;
BEGIN
    UPDATE public.security_event SET client_addr = NULL
     WHERE client_addr IS NOT NULL AND occurred_at < now() - interval '90 days';
    GET DIAGNOSTICS erased = ROW_COUNT;
    DELETE FROM public.security_event WHERE occurred_at < now() - interval '365 days';
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN erased + deleted;
END
$$;
REVOKE ALL ON FUNCTION prune_security_event() FROM PUBLIC;

CREATE INDEX IF NOT EXISTS security_event_occurred_idx ON security_event (occurred_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT EXECUTE ON FUNCTION tally_security_event(text, inet, jsonb) TO whatever_api_role;
        GRANT EXECUTE ON FUNCTION prune_security_event() TO whatever_api_role;
    END IF;
END $$;
