-- Database roles for whatever.gov, run by bootstrap-db as the RDS master user.
-- Idempotent. Reads the environment: API_USER, API_PASSWORD, API_BASE,
-- PIPELINE_USER, PIPELINE_PASSWORD, PIPELINE_BASE.
--
-- One NOLOGIN role, whatever_app, owns the database and every object in it.
-- Each login role joins it and switches to it when it connects (ALTER ROLE
-- ... SET role), so whatever the pipeline's migrations create is owned by
-- whatever_app and usable by the API, and the alternating users that
-- password rotation uses (NAME and NAME_clone) behave exactly alike.
-- The master user is only for this script and for break-glass.

\getenv api_user API_USER
\getenv api_password API_PASSWORD
\getenv api_base API_BASE
\getenv pipeline_user PIPELINE_USER
\getenv pipeline_password PIPELINE_PASSWORD
\getenv pipeline_base PIPELINE_BASE

SELECT 'CREATE ROLE whatever_app NOLOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_app') \gexec

-- The master must be a member to hand the database over.
GRANT whatever_app TO CURRENT_USER;

CREATE TEMP TABLE login_roles AS
SELECT unnest(ARRAY[:'api_base', :'api_base' || '_clone',
                    :'pipeline_base', :'pipeline_base' || '_clone']) AS name;

-- Created without a password: a role can log in only once a password is set
-- below (the secret's current user) or by rotation (the other one).
SELECT format('CREATE ROLE %I LOGIN', name) FROM login_roles
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec
SELECT format('GRANT whatever_app TO %I', name) FROM login_roles \gexec
SELECT format('ALTER ROLE %I SET role = %L', name, 'whatever_app') FROM login_roles \gexec

SELECT format('ALTER ROLE %I PASSWORD %L', :'api_user', :'api_password') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'pipeline_user', :'pipeline_password') \gexec

SELECT format('ALTER DATABASE %I OWNER TO whatever_app', current_database()) \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO whatever_app', current_database()) \gexec
GRANT USAGE, CREATE ON SCHEMA public TO whatever_app;
