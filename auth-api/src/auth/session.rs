//! Sessions: how a token is found on a request, checked, refreshed and
//! revoked.
//!
//! A session lasts at most [`SessionConfig::idle`] without use and
//! [`SessionConfig::absolute`] in all (NIST 800-63B AAL2: 1 hour idle, 12
//! hours in all, the defaults). Tokens are stateless JWTs with
//! `exp = min(iat + idle, auth_time + absolute)`. A request made with a
//! token older than [`SessionConfig::refresh_after`] gets a fresh token in
//! its `Set-Cookie` (same `sid` and `auth_time`, new `jti`, `iat`, `exp`): a
//! user who keeps using the site stays signed in up to the absolute limit,
//! one who stops is signed out `idle` after their last refresh. Refreshing
//! only every few minutes keeps signing off the hot path.
//!
//! Logout puts the session id in `revoked_session` until the last moment
//! any of its tokens could be valid (`auth_time + absolute`): every token
//! refreshed from the session dies with it. Every personal route takes an
//! extractor of the routes layer that yields the [`Session`] only once that
//! table was checked by primary key ([`revoked_sql`] is the one statement of
//! the rule) and the session's [`Stage`] lets it in.
//!
//! Every way in (a password alone, a password and a second factor, a
//! passkey) opens its session through [`start`].

use std::net::IpAddr;

use chrono::{DateTime, TimeZone, Utc};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::keys::Keyring;
use super::token::{self, Claims};
use crate::audit::{self, Event};
use crate::config::SessionConfig;
use crate::error::ApiError;

/// The one answer to every authentication failure, so the client learns
/// nothing about why (expired, forged, revoked or absent).
pub const UNAUTHORIZED: ApiError = ApiError::SIGN_IN;

/// The answer to a session that must set up its second factor before it
/// may see anything personal.
pub const SECOND_FACTOR_FIRST: ApiError = ApiError::Forbidden {
    code: "second_factor_required",
    message: "Set up a second way to sign in (an authenticator app) before you continue.",
};

/// An authenticated request's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The verified claims.
    pub claims: Claims,
    /// A refreshed token to send back as a cookie, if this one was due.
    pub refreshed: Option<IssuedToken>,
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// What it says.
    pub claims: Claims,
}

impl IssuedToken {
    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.claims.exp, 0)
            .single()
            .unwrap_or_else(Utc::now)
    }

    /// How long the token lives, in seconds, from its own issue time (not
    /// the clock now: a token is sent as it is issued, and a second ticking
    /// in between must not change what the browser is told).
    pub fn max_age(&self) -> i64 {
        (self.claims.exp - self.claims.iat).max(0)
    }
}

/// The stage a session is at, which decides what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// An account that must have a second factor and has none yet: the
    /// session may only set one up.
    SetupOnly,
    /// Everything the account may do.
    Full,
}

impl Session {
    /// The session's stage.
    pub fn stage(&self) -> Stage {
        if self.claims.setup_only {
            Stage::SetupOnly
        } else {
            Stage::Full
        }
    }

    /// The session id, as the text [`revoked_sql`]'s parameter expects.
    pub fn session_param(&self) -> String {
        self.claims.sid.to_string()
    }
}

/// The rule of a route that needs a full session: a setup-only one gets
/// [`SECOND_FACTOR_FIRST`].
pub fn require_full(session: &Session) -> Result<(), ApiError> {
    match session.stage() {
        Stage::Full => Ok(()),
        Stage::SetupOnly => Err(SECOND_FACTOR_FIRST),
    }
}

/// The rule of a setup-only session: it may add the account's *first*
/// second factor and nothing else, so once the account has one (added by
/// this session or any other) it is over, and its tokens get
/// [`UNAUTHORIZED`]. A full session passes. (The session is not revoked:
/// the one that added the factor goes on under the same id as a full one.)
pub fn require_setup_open(session: &Session, has_factor: bool) -> Result<(), ApiError> {
    match session.stage() {
        Stage::SetupOnly if has_factor => Err(UNAUTHORIZED),
        _ => Ok(()),
    }
}

/// How a session was opened, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// A password, for an account without a second factor.
    Password,
    /// A password, then a code from the app or a recovery code.
    SecondFactor,
    /// A passkey alone.
    Passkey,
}

/// Opens a session of `username` that came in by `way` from `client`:
/// signs its first token, records it (so it can be listed and ended with
/// the account's other sessions) and audits the sign-in. With `setup_only`,
/// the session may only set up a second factor.
pub async fn start(
    db: &impl GenericClient,
    keys: &Keyring,
    config: &SessionConfig,
    username: &str,
    setup_only: bool,
    client: IpAddr,
    way: Way,
) -> Result<IssuedToken, ApiError> {
    let issued = open_with(keys, config, username, setup_only)?;
    record(db, config, &issued.claims, client).await?;
    let sid = issued.claims.sid;
    let detail = match way {
        Way::Password => serde_json::json!({"session": sid}),
        Way::SecondFactor => serde_json::json!({"session": sid, "second_factor": true}),
        Way::Passkey => serde_json::json!({"session": sid, "method": "passkey"}),
    };
    audit::record(
        db,
        Event::SignInSucceeded,
        Some(username),
        Some(client),
        detail,
    )
    .await?;
    Ok(issued)
}

/// Signs a token for a new session of `username`.
pub fn open(
    keys: &Keyring,
    config: &SessionConfig,
    username: &str,
) -> Result<IssuedToken, ApiError> {
    open_with(keys, config, username, false)
}

/// Signs a token for a new session of `username`, which may only set up a
/// second factor if `setup_only`.
pub fn open_with(
    keys: &Keyring,
    config: &SessionConfig,
    username: &str,
    setup_only: bool,
) -> Result<IssuedToken, ApiError> {
    let now = Utc::now().timestamp();
    let id = Uuid::new_v4();
    issue(keys, config, username.to_string(), id, now, now, setup_only)
}

/// A token for the same session, no longer limited to setting up a second
/// factor: the factor is there now.
pub fn lift_setup_only(
    keys: &Keyring,
    config: &SessionConfig,
    claims: &Claims,
) -> Result<IssuedToken, ApiError> {
    let now = Utc::now().timestamp();
    issue(
        keys,
        config,
        claims.sub.clone(),
        claims.sid,
        claims.auth_time,
        now.max(claims.auth_time + 1),
        false,
    )
}

fn issue(
    keys: &Keyring,
    config: &SessionConfig,
    sub: String,
    sid: Uuid,
    auth_time: i64,
    now: i64,
    setup_only: bool,
) -> Result<IssuedToken, ApiError> {
    let exp =
        (now + config.idle.as_secs() as i64).min(auth_time + config.absolute.as_secs() as i64);
    let claims = Claims {
        iss: token::ISSUER.into(),
        aud: token::AUDIENCE.into(),
        sub,
        jti: if auth_time == now {
            sid
        } else {
            Uuid::new_v4()
        },
        sid,
        iat: now,
        exp,
        auth_time,
        setup_only,
    };
    let token = token::sign(keys, &claims)
        .map_err(|e| ApiError::Internal(format!("signing a session token: {e}")))?;
    Ok(IssuedToken { token, claims })
}

/// Verifies `token` without touching the database: signature, expiry,
/// issuer and audience. Callers must also check revocation: the routes
/// layer's extractors make sure they do. A token due for a refresh comes
/// with its successor.
pub fn verify(keys: &Keyring, config: &SessionConfig, token: &str) -> Result<Session, ApiError> {
    let claims = token::verify(keys, token).map_err(|error| {
        tracing::debug!(%error, "token refused");
        UNAUTHORIZED
    })?;
    let now = Utc::now().timestamp();
    let refreshed = if now - claims.iat >= config.refresh_after.as_secs() as i64
        && claims.exp < claims.auth_time + config.absolute.as_secs() as i64
    {
        Some(issue(
            keys,
            config,
            claims.sub.clone(),
            claims.sid,
            claims.auth_time,
            now,
            claims.setup_only,
        )?)
    } else {
        None
    };
    Ok(Session { claims, refreshed })
}

/// The revocation rule as a SQL boolean: whether the session whose id is
/// bound as text in parameter `$param` was ended by a logout (one
/// primary-key lookup). A statement that must stay one round trip embeds
/// it and hands the answer to [`confirm_with`].
pub fn revoked_sql(param: usize) -> String {
    // Bound as text: the driver is built without its uuid feature.
    format!("EXISTS (SELECT 1 FROM revoked_session WHERE session_id = ${param}::text::uuid)")
}

/// Whether the session was ended by a logout.
pub async fn is_revoked(db: &impl GenericClient, sid: Uuid) -> Result<bool, ApiError> {
    let row = db
        .query_one(&format!("SELECT {}", revoked_sql(1)), &[&sid.to_string()])
        .await?;
    Ok(row.get(0))
}

/// Checks that `session` was not ended by a logout, with its own lookup.
pub async fn confirm(db: &impl GenericClient, session: Session) -> Result<Session, ApiError> {
    let revoked = is_revoked(db, session.claims.sid).await?;
    confirm_with(session, revoked)
}

/// Takes the value [`revoked_sql`] had in a route's own statement.
pub fn confirm_with(session: Session, revoked: bool) -> Result<Session, ApiError> {
    if revoked {
        return Err(UNAUTHORIZED);
    }
    Ok(session)
}

/// Ends the session: none of its tokens is accepted again.
pub async fn revoke(
    db: &impl GenericClient,
    config: &SessionConfig,
    claims: &Claims,
) -> Result<(), ApiError> {
    let until = Utc
        .timestamp_opt(claims.auth_time + config.absolute.as_secs() as i64, 0)
        .single()
        .unwrap_or_else(Utc::now);
    db.execute(
        "INSERT INTO revoked_session (session_id, expires_at) VALUES ($1::text::uuid, $2)
         ON CONFLICT (session_id) DO NOTHING",
        &[&claims.sid.to_string(), &until],
    )
    .await?;
    Ok(())
}

/// Notes a newly opened session of `claims.sub`, so that it can be listed
/// and ended with the account's other sessions.
pub async fn record(
    db: &impl GenericClient,
    config: &SessionConfig,
    claims: &Claims,
    client: std::net::IpAddr,
) -> Result<(), ApiError> {
    let until = Utc
        .timestamp_opt(claims.auth_time + config.absolute.as_secs() as i64, 0)
        .single()
        .unwrap_or_else(Utc::now);
    db.execute(
        "INSERT INTO account_session (session_id, username, client_addr, expires_at)
         VALUES ($1::text::uuid, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING",
        &[&claims.sid.to_string(), &claims.sub, &client, &until],
    )
    .await?;
    Ok(())
}

/// Ends every session of `username` that may still be valid, but `keep`:
/// none of their tokens is accepted again. Returns how many were ended.
pub async fn revoke_all(
    db: &impl GenericClient,
    username: &str,
    keep: Option<Uuid>,
) -> Result<u64, ApiError> {
    let keep = keep.map(|sid| sid.to_string());
    Ok(db
        .execute(
            "INSERT INTO revoked_session (session_id, expires_at)
             SELECT session_id, expires_at FROM account_session
              WHERE username = $1 AND expires_at > now()
                AND ($2::text IS NULL OR session_id <> $2::text::uuid)
             ON CONFLICT (session_id) DO NOTHING",
            &[&username, &keep],
        )
        .await?)
}

/// Ends every way into `username`'s account that an old password may have
/// opened and no session shows: its unused reset links and its pending
/// sign-ins (a right password waiting for its second factor). For a reset
/// or a change of the password, with [`revoke_all`]. Returns how many.
pub async fn end_pending_ways_in(db: &impl GenericClient, username: &str) -> Result<u64, ApiError> {
    let links = db
        .execute(
            "UPDATE account_token SET used_at = now()
              WHERE username = $1 AND purpose = 'reset_password' AND used_at IS NULL",
            &[&username],
        )
        .await?;
    let pending = db
        .execute(
            "DELETE FROM pending_sign_in WHERE username = $1",
            &[&username],
        )
        .await?;
    Ok(links + pending)
}

/// Ends the session `sid` if it is one of `username`'s that may still be
/// valid and is not ended yet; whether it was.
pub async fn revoke_one(
    db: &impl GenericClient,
    username: &str,
    sid: Uuid,
) -> Result<bool, ApiError> {
    let ended = db
        .execute(
            "INSERT INTO revoked_session (session_id, expires_at)
             SELECT session_id, expires_at FROM account_session
              WHERE session_id = $2::text::uuid AND username = $1 AND expires_at > now()
             ON CONFLICT (session_id) DO NOTHING",
            &[&username, &sid.to_string()],
        )
        .await?;
    Ok(ended == 1)
}

/// Deletes throttling and revocation rows nobody can need any more: the
/// tables stay as small as the traffic of the last day.
pub async fn prune(
    db: &impl GenericClient,
    keep_failures: std::time::Duration,
) -> Result<u64, ApiError> {
    let revoked = db
        .execute("DELETE FROM revoked_session WHERE expires_at < now()", &[])
        .await?
        + db.execute("DELETE FROM account_session WHERE expires_at < now()", &[])
            .await?;
    let failures = db
        .execute(
            "DELETE FROM login_failure WHERE failed_at < now() - $1::float8 * interval '1 second'",
            &[&keep_failures.as_secs_f64()],
        )
        .await?;
    Ok(revoked + failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_outlive_the_absolute_limit() {
        let keys = Keyring::ephemeral().unwrap();
        let config = SessionConfig::default();
        let now = Utc::now().timestamp();
        let late = issue(
            &keys,
            &config,
            "ada".into(),
            Uuid::new_v4(),
            now - 11 * 3600 - 1800,
            now,
            false,
        )
        .unwrap();
        assert_eq!(late.claims.exp, late.claims.auth_time + 12 * 3600);
        let fresh = open(&keys, &config, "ada").unwrap();
        assert_eq!(fresh.claims.exp, fresh.claims.iat + 3600);
        assert_eq!(fresh.claims.jti, fresh.claims.sid);
    }
}
