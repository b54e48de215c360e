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
//! refreshed from the session dies with it. Every personal route takes a
//! [`SignedIn`], which only yields the [`Session`] once that table was
//! checked by primary key ([`revoked_sql`] is the one statement of the rule).

use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, HeaderValue, header};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::keys::Keyring;
use super::token::{self, Claims};
use crate::ApiError;
use crate::config::SessionConfig;
use crate::state::AppState;

/// The cookie holding the token. The `__Host-` prefix makes browsers
/// accept it only from this exact host, over HTTPS, with `Path=/` and no
/// `Domain`: no other `*.whatever.gov` host can plant or shadow it.
pub const COOKIE_NAME: &str = "__Host-whatever_session";

/// The attributes the session cookie is set (and cleared) with.
const COOKIE_ATTRIBUTES: &str = "Path=/; HttpOnly; Secure; SameSite=Strict";

/// The one answer to every authentication failure, so the client learns
/// nothing about why (expired, forged, revoked or absent).
pub const UNAUTHORIZED: ApiError = ApiError::Unauthorized("Please sign in to continue.");

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

    /// The `Set-Cookie` value carrying it: JavaScript cannot read it, it
    /// travels over HTTPS only and never on cross-site requests.
    pub fn cookie(&self) -> HeaderValue {
        // From the token's own issue time, not the clock now: a token is
        // sent as it is issued, and a second ticking in between must not
        // change what the browser is told.
        let max_age = (self.claims.exp - self.claims.iat).max(0);
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={}; Max-Age={max_age}; {COOKIE_ATTRIBUTES}",
            self.token
        ))
        .expect("a JWT is a valid header value")
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE_NAME}=; Max-Age=0; {COOKIE_ATTRIBUTES}"))
        .expect("a valid header value")
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

/// The token a request carries: an `Authorization: Bearer` header or the
/// session cookie. Any other scheme (HTTP Basic included) counts as
/// nothing. A request carrying two different tokens is ambiguous and gets
/// none: which one the client meant cannot be known.
pub fn token_from(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim());
    let mut cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim());
    let cookie = cookies.next();
    if cookies.next().is_some() {
        return None;
    }
    match (bearer, cookie) {
        (Some(b), Some(c)) if b != c => None,
        (Some(token), _) | (None, Some(token)) => Some(token).filter(|t| !t.is_empty()),
        (None, None) => None,
    }
}

/// Verifies the request's token without touching the database. Callers
/// must also check revocation: [`SignedIn`] makes sure they do.
pub fn verify_token(
    keys: &Keyring,
    config: &SessionConfig,
    headers: &HeaderMap,
) -> Result<Session, ApiError> {
    let token = token_from(headers).ok_or(UNAUTHORIZED)?;
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
/// it and hands the answer to [`SignedIn::confirm_with`].
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

/// The authentication step every personal route starts with, as an
/// extractor: a token with a valid signature, not expired, for this issuer
/// and audience. The signature is checked before any connection is taken,
/// so a flood of forged tokens costs CPU, never the pool. The [`Session`]
/// comes out only once revocation was checked, by [`SignedIn::confirm`] or
/// inside the route's own statement ([`SignedIn::confirm_with`]).
#[derive(Debug)]
pub struct SignedIn(Session);

impl SignedIn {
    /// The username the token was issued to, for the statement that checks
    /// revocation with [`revoked_sql`].
    pub fn username(&self) -> &str {
        &self.0.claims.sub
    }

    /// The session id, as the text [`revoked_sql`]'s parameter expects.
    pub fn session_param(&self) -> String {
        self.0.claims.sid.to_string()
    }

    /// Whether the session may only set up a second factor.
    pub fn setup_only(&self) -> bool {
        self.0.claims.setup_only
    }

    /// The refreshed token to send back if the route succeeds.
    pub fn refreshed(&self) -> Option<IssuedToken> {
        self.0.refreshed.clone()
    }

    /// Checks revocation with its own lookup.
    pub async fn confirm(self, db: &impl GenericClient) -> Result<Session, ApiError> {
        let revoked = is_revoked(db, self.0.claims.sid).await?;
        self.confirm_with(revoked)
    }

    /// Takes the value [`revoked_sql`] had in the route's own statement.
    pub fn confirm_with(self, revoked: bool) -> Result<Session, ApiError> {
        if revoked {
            return Err(UNAUTHORIZED);
        }
        Ok(self.0)
    }
}

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let auth = &state.config.auth;
        verify_token(&auth.keys, &auth.session, &parts.headers).map(SignedIn)
    }
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
    fn one_token_or_none_and_basic_is_nothing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=b; __Host-whatever_session=cookie-token".parse().unwrap(),
        );
        assert_eq!(token_from(&h), Some("cookie-token"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer cookie-token".parse().unwrap(),
        );
        assert_eq!(token_from(&h), Some("cookie-token"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer header-token".parse().unwrap(),
        );
        assert_eq!(token_from(&h), None, "two different tokens are ambiguous");
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            "bearer header-token".parse().unwrap(),
        );
        assert_eq!(token_from(&bearer), Some("header-token"));
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, "Basic YWRhOnB3".parse().unwrap());
        assert_eq!(token_from(&basic), None);
    }

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
