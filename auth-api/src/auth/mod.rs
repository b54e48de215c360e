//! The domain of signing in and staying signed in: sessions and their
//! tokens, the signing keys, password hashing and re-authentication, the
//! throttling of failed logins and identity checks, second factors (the
//! authenticator app, passkeys, recovery codes), single-use links and the
//! mail account holders get. Nothing here knows of HTTP routing or of the
//! application state: the routes layer ([`crate::routes`]) calls in.
//! HTTP Basic is not accepted anywhere.

pub mod factors;
pub mod keys;
pub mod limits;
pub mod links;
pub mod messages;
pub mod passkey;
pub mod password;
pub mod reauth;
pub mod recipients;
pub mod recovery_codes;
pub mod second_factor;
pub mod session;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod unlock;

pub use session::Session;

use tokio_postgres::GenericClient;

use crate::config::{AccountConfig, ThrottleConfig};
use crate::error::ApiError;

/// The end of a query that finds the account a typed username (`$1`) names,
/// on `"user" u`: usernames compare without regard to case
/// (`username_key`); of the older accounts that share a name (migration
/// V28), the exact spelling wins, then the one that kept the name.
pub const BY_TYPED_NAME: &str = "WHERE username_key(u.username) = username_key($1)
            ORDER BY u.username = $1 DESC, u.username_clash
            LIMIT 1";

/// Deletes the auth rows nobody can need any more: accounts created here
/// whose address was not verified before their link expired (see
/// [`remove_unverified`]), revocations and
/// sessions past their expiry, failures older than the longest throttling
/// window and addresses not signed in from for longer than
/// `LOGIN_KNOWN_CLIENT_SECS`, identity checks no limit counts any more,
/// links a day past their expiry (refused either way; the day leaves them to
/// look into), pending sign-ins and passkey ceremonies past theirs, and
/// per-recipient mail counts past their window, and the audit log's client
/// addresses and events past its periods ([`crate::audit::prune`]).
/// Every write is idempotent: several replicas doing it is harmless.
/// Returns how many rows went.
pub async fn prune(
    db: &impl GenericClient,
    limits: &ThrottleConfig,
    accounts: &AccountConfig,
) -> Result<u64, ApiError> {
    let unverified = remove_unverified(db, accounts.verify_email_ttl, None).await?;
    let sessions = session::prune(db, limits.longest_window()).await?;
    let clients = throttle::prune_known_clients(db, limits.known_client).await?;
    let attempts = self::limits::prune(db, accounts).await?;
    let links = db
        .execute(
            "DELETE FROM account_token WHERE expires_at < now() - interval '1 day'",
            &[],
        )
        .await?;
    let pending = db
        .execute("DELETE FROM pending_sign_in WHERE expires_at < now()", &[])
        .await?;
    let ceremonies = passkey::prune(db).await?;
    let mail = recipients::prune(db, &accounts.per_recipient).await?;
    let events = crate::audit::prune(db).await?;
    Ok(unverified + sessions + clients + attempts + links + pending + ceremonies + mail + events)
}

/// Removes the accounts created here whose address was not verified within
/// `ttl` of their creation (the life of the link mailed then), with their
/// tokens: all of them, or only `beneficiary`'s. An unverified account
/// holds its beneficiary's one slot, so one that nobody verifies must not
/// keep it. The database function does it as the owner: the API's role may
/// not delete accounts. Returns how many went.
pub async fn remove_unverified(
    db: &impl GenericClient,
    ttl: std::time::Duration,
    beneficiary: Option<i64>,
) -> Result<u64, ApiError> {
    let removed: i32 = db
        .query_one(
            "SELECT remove_unverified_accounts($1::float8 * interval '1 second', $2)",
            &[&ttl.as_secs_f64(), &beneficiary],
        )
        .await?
        .get(0);
    if removed > 0 {
        tracing::info!(
            removed,
            "unverified accounts removed after their link expired"
        );
    }
    Ok(u64::try_from(removed).unwrap_or(0))
}
