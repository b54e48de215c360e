-- Usernames compare without regard to case: `Demo01` and `demo01` are one
-- name, so neither can be created beside the other, and signing in as
-- `DEMO01` reaches the account. Additive only: "user".username keeps every
-- row's spelling, which stays what sessions, tokens and the audit log name.

-- How a username is compared: the one definition, used by the index below,
-- by every lookup of a typed username, and (as Rust's
-- `to_ascii_lowercase`, which folds exactly these 26 letters) by the API's
-- login throttle key (`whatever_database::rules::username::key`; a case
-- table checks that both agree). ASCII letters only: a username chosen
-- through the API is ASCII, and a fold that is the same in Rust and in
-- Postgres whatever the locale gives no spelling of a name a throttle
-- allowance of its own. Other letters of older usernames compare as they
-- are.
CREATE OR REPLACE FUNCTION username_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
COMMENT ON FUNCTION username_key(text) IS
    'The form in which usernames are compared: ASCII letters folded to lower case';

-- Accounts that already share a name (from the old system, or made by an
-- operator) are kept, not renamed or removed: each still signs in with its
-- exact spelling. One of them keeps the name for every other spelling: the
-- one already spelled in lower case if there is one, else the first in
-- byte order. The others are marked as clashing, and the unique index
-- below holds them apart by their full spelling. No new row can be marked
-- (no client role may write the column), so every name created from now on
-- is unique in every spelling.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS username_clash boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN "user".username_clash IS
    'Set by migration V28 on an older account whose username differs only in case from another''s; '
    'it signs in by its exact spelling only';

UPDATE "user" u SET username_clash = true
 WHERE EXISTS (
     SELECT 1 FROM "user" k
      WHERE username_key(k.username) = username_key(u.username)
        AND k.username <> u.username
        AND (k.username = username_key(k.username), u.username COLLATE "C")
          > (u.username = username_key(u.username), k.username COLLATE "C"));

-- One row per folded name, besides the marked ones (NULLS NOT DISTINCT: the
-- unmarked rows all have NULL in the second column, so two of them with one
-- folded name collide). Also the index every lookup by name uses.
CREATE UNIQUE INDEX IF NOT EXISTS user_username_key_idx
    ON "user" (username_key(username), (CASE WHEN username_clash THEN username END))
    NULLS NOT DISTINCT;

-- The API reads the mark to choose the keeper of a name at sign-in.
GRANT SELECT (username_clash) ON "user" TO whatever_api_role;
