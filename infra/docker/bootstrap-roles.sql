-- Database roles for whatever.gov, run by bootstrap-db as the RDS master user.
-- Idempotent. Reads the environment: API_USER, API_PASSWORD, API_BASE,
-- PIPELINE_USER, PIPELINE_PASSWORD, PIPELINE_BASE.
--
-- NOLOGIN roles hold the privileges; login roles only join them, so the
-- alternating users that password rotation uses (NAME and NAME_clone)
-- behave exactly alike:
--
--   whatever_app         owns the database and every object in it; only the
--                        migrations (a deploy step) act as it
--   whatever_sync_role   writes the source-of-truth tables (generator sync)
--   whatever_build_role  reads the plan catalog (generator build / publish)
--   whatever_api_role    the auth-api: data only, no DDL, never the ssn column
--
-- The API's logins join only whatever_api_role. The pipeline's join the
-- other three and act as whatever_sync_role unless they ask for another
-- (DATABASE_ROLE=whatever_app for `generator migrate`,
-- DATABASE_ROLE=whatever_build_role for the build). What each group may do
-- on each table is granted by the migrations (V8), so every database,
-- local ones included, gets the same grants. The master user is only for
-- this script and for break-glass.

\getenv api_user API_USER
\getenv api_password API_PASSWORD
\getenv api_base API_BASE
\getenv pipeline_user PIPELINE_USER
\getenv pipeline_password PIPELINE_PASSWORD
\getenv pipeline_base PIPELINE_BASE

SELECT format('CREATE ROLE %I NOLOGIN', name)
FROM unnest(ARRAY['whatever_app', 'whatever_api_role', 'whatever_sync_role',
                  'whatever_build_role']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

-- The master must be a member to hand the database over.
GRANT whatever_app TO CURRENT_USER;

-- Each login role, the groups it joins and the one it acts as by default.
CREATE TEMP TABLE login_roles AS
SELECT name, groups, acts_as
FROM (VALUES
    (:'api_base', ARRAY['whatever_api_role'], 'whatever_api_role'),
    (:'api_base' || '_clone', ARRAY['whatever_api_role'], 'whatever_api_role'),
    (:'pipeline_base', ARRAY['whatever_app', 'whatever_sync_role', 'whatever_build_role'],
        'whatever_sync_role'),
    (:'pipeline_base' || '_clone', ARRAY['whatever_app', 'whatever_sync_role', 'whatever_build_role'],
        'whatever_sync_role')
) AS l (name, groups, acts_as);

-- Created without a password: a role can log in only once a password is set
-- below (the secret's current user) or by rotation (the other one).
SELECT format('CREATE ROLE %I LOGIN', name) FROM login_roles
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec
-- Earlier versions of this script made every login a member of the owner:
-- take back any membership not listed above.
SELECT format('REVOKE %I FROM %I', g.rolname, l.name)
FROM login_roles l
JOIN pg_auth_members m ON m.member = (SELECT oid FROM pg_roles WHERE rolname = l.name)
JOIN pg_roles g ON g.oid = m.roleid
WHERE g.rolname <> ALL (l.groups) \gexec
SELECT format('GRANT %I TO %I', g, name) FROM login_roles, unnest(groups) AS g \gexec
SELECT format('ALTER ROLE %I SET role = %L', name, acts_as) FROM login_roles \gexec

SELECT format('ALTER ROLE %I PASSWORD %L', :'api_user', :'api_password') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'pipeline_user', :'pipeline_password') \gexec

SELECT format('ALTER DATABASE %I OWNER TO whatever_app', current_database()) \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO whatever_app, whatever_sync_role',
              current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO whatever_api_role, whatever_build_role',
              current_database()) \gexec
GRANT USAGE, CREATE ON SCHEMA public TO whatever_app;
GRANT USAGE ON SCHEMA public TO whatever_api_role, whatever_sync_role, whatever_build_role;
