-- Least privilege: one group role (NOLOGIN) per kind of client, holding
-- exactly what that client needs. Login roles join one of them:
--
--   whatever_api_role    the auth-api: reads plans and the signed-in
--                        beneficiary (every column but ssn), changes only its
--                        own state (sessions, throttling, fulfillment). No DDL.
--   whatever_sync_role   generator sync: writes the source-of-truth tables.
--   whatever_build_role  generator build / publish: reads the plan catalog.
--
-- The schema owner (whatever_app in production, whoever migrates locally)
-- runs the migrations and owns every object. In production the roles are
-- created by infra/docker/bootstrap-roles.sql before this runs (the owner
-- may not create roles); locally and in tests they are created here, so
-- every database gets the same grants.

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['whatever_api_role', 'whatever_sync_role', 'whatever_build_role']
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION
                -- Another migrator (a parallel test run) created it first.
                WHEN duplicate_object OR unique_violation THEN NULL;
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role % does not exist and % may not create it', name, current_user
                        USING HINT = 'run infra/docker/bootstrap-db (bootstrap-roles.sql) first';
            END;
        END IF;
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO whatever_api_role, whatever_sync_role, whatever_build_role;

-- The API: data only, on the tables it keeps its own state in (those of
-- earlier migrations, and by default those of later ones) ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO whatever_api_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO whatever_api_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO whatever_api_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO whatever_api_role;
-- ... but read-only on the source of truth, never the SSN, and nothing of
-- the migrations' bookkeeping.
REVOKE ALL ON beneficiary, beneficiary_to_plan, plan, plan_feature, plan_to_zip, "user",
    applied_delta, refinery_schema_history
    FROM whatever_api_role;
GRANT SELECT ON plan, plan_feature, plan_to_zip, beneficiary_to_plan TO whatever_api_role;
GRANT SELECT (beneficiary_id, fname, lname, sex, birthdate, address, city, state, zip_code)
    ON beneficiary TO whatever_api_role;
-- Logins read the hash and upgrade legacy hashes in place.
GRANT SELECT (username, password, email, beneficiary_id), UPDATE (password)
    ON "user" TO whatever_api_role;

-- The nightly sync: the source-of-truth tables and its own record.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE
    ON beneficiary, beneficiary_to_plan, plan, plan_feature, plan_to_zip, "user", applied_delta
    TO whatever_sync_role;

-- The site build: the public plan catalog, read-only.
GRANT SELECT ON plan, plan_feature, plan_to_zip, applied_delta TO whatever_build_role;
