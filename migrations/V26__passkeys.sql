-- Passkeys (WebAuthn): a second factor that can also sign in alone, since it
-- is itself multi-factor (a device the person holds, unlocked by their
-- fingerprint, face or PIN). Additive only.

-- The WebAuthn user handle of each account that has registered a passkey.
-- Authenticators store it and hand it back at sign-in; it is random so that
-- it says nothing about the person (the username could).
CREATE TABLE IF NOT EXISTS passkey_user (
    username text PRIMARY KEY REFERENCES "user" (username) ON DELETE CASCADE,
    user_handle uuid NOT NULL UNIQUE
);

-- One row per registered passkey. `passkey` is the credential as the
-- WebAuthn library keeps it (public key, signature counter, flags): public
-- data, no secret. `name` is the owner's label for it.
CREATE TABLE IF NOT EXISTS passkey (
    credential_id bytea PRIMARY KEY,
    username text NOT NULL REFERENCES "user" (username) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    passkey jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX IF NOT EXISTS passkey_username_idx ON passkey (username);

-- A WebAuthn ceremony between its two requests: the challenge and what the
-- library needs to check the answer. Any replica may answer the second
-- request, so it lives here, never in the browser. Used once (deleted when
-- the answer arrives) and short-lived. `username` is set for registration
-- (a signed-in person) and empty for a sign-in (anyone).
CREATE TABLE IF NOT EXISTS webauthn_ceremony (
    token_hash bytea PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    username text REFERENCES "user" (username) ON DELETE CASCADE,
    state jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS webauthn_ceremony_expires_idx ON webauthn_ceremony (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatever_api_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON passkey_user, passkey, webauthn_ceremony
            TO whatever_api_role;
    END IF;
END $$;
