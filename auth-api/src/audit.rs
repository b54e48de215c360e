//! The security audit log: one row in `security_event` per security-relevant
//! event, with the client address and the time, never a secret.
//!
//! The API's database role may append to the table and nothing else: it can
//! neither read the log back nor change or delete a row, so an attacker who
//! takes over the API cannot cover their tracks. Operators read it as the
//! owner (see `docs/accounts.md` for example queries).
//!
//! Events anyone can cause without an account ([`Event::tallied`]) are not
//! written one row each, which would let anonymous requests grow the table
//! without bound: they are counted, one row per kind, client network,
//! detail and hour, in its `hits` column. Client addresses are kept 90
//! days and events a year ([`prune`]).

use std::net::IpAddr;

use serde_json::Value;
use tokio_postgres::GenericClient;

use crate::ApiError;

/// What happened. The names are the `kind` column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An account was created (its email not yet verified).
    AccountCreated,
    /// Someone tried to create an account and it was not created (facts
    /// that match nobody, a beneficiary or username that already has one);
    /// `detail.reason` says which.
    AccountNotCreated,
    /// Account creation attempts were throttled.
    AccountCreationThrottled,
    /// An email address was verified.
    EmailVerified,
    /// A verification or reset link that is unknown, used or expired was presented.
    TokenRefused,
    /// A password was right and a session opened.
    SignInSucceeded,
    /// A password was wrong, or the username unknown.
    SignInFailed,
    /// A right password for an account whose email is not verified yet.
    SignInUnverified,
    /// Sign-in attempts were throttled.
    SignInThrottled,
    /// A session was ended by signing out.
    SignedOut,
    /// A wrong, or reused, second-factor code (`detail.method`).
    SecondFactorFailed,
    /// A recovery code was used (`detail.left`: how many are left).
    RecoveryCodeUsed,
    /// A second factor was added (`detail.factor`).
    FactorAdded,
    /// A second factor was swapped for a new one of its kind
    /// (`detail.factor`).
    FactorReplaced,
    /// A second factor was removed (`detail.factor`;
    /// `detail.recovery_codes_deleted`: whether it was the last one, so the
    /// recovery codes went with it).
    FactorRemoved,
    /// New recovery codes replaced the old ones (`detail.recovery_codes`:
    /// how many).
    RecoveryCodesReplaced,
    /// A signed-in person typed a wrong current password to confirm a
    /// change (`detail.for`: which).
    PasswordCheckFailed,
    /// A reset link was mailed.
    PasswordResetRequested,
    /// A reset link was asked for an account whose address nobody verified
    /// and that has no second factor: none was sent.
    PasswordResetWithheld,
    /// A signed-in account asked to confirm its address; a link was mailed.
    AddressConfirmationSent,
    /// The sign-in limit of one account held it, and its owner was mailed
    /// an unlock link.
    SignInUnlockSent,
    /// An unlock link was used: the client's address may sign in.
    SignInUnlocked,
    /// A password was reset with a link (`detail.sessions_ended`).
    PasswordReset,
    /// A password was changed by its owner (`detail.sessions_ended`).
    PasswordChanged,
    /// Sessions were ended by their owner: every one ("sign out
    /// everywhere"), or one chosen (`detail.session`);
    /// `detail.sessions_ended` says how many.
    SessionsEnded,
}

impl Event {
    /// Whether the event is one anyone can cause without an account, and
    /// so counted per hour rather than written as it happens.
    pub fn tallied(self) -> bool {
        matches!(
            self,
            Self::TokenRefused | Self::SignInThrottled | Self::AccountCreationThrottled
        )
    }

    /// The event's name in `security_event.kind`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::AccountNotCreated => "account_not_created",
            Self::AccountCreationThrottled => "account_creation_throttled",
            Self::EmailVerified => "email_verified",
            Self::TokenRefused => "token_refused",
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInUnverified => "sign_in_unverified",
            Self::SignInThrottled => "sign_in_throttled",
            Self::SignedOut => "signed_out",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::FactorAdded => "factor_added",
            Self::FactorReplaced => "factor_replaced",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::PasswordCheckFailed => "password_check_failed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordResetWithheld => "password_reset_withheld",
            Self::AddressConfirmationSent => "address_confirmation_sent",
            Self::SignInUnlockSent => "sign_in_unlock_sent",
            Self::SignInUnlocked => "sign_in_unlocked",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::SessionsEnded => "sessions_ended",
        }
    }
}

/// Appends one event. `username` only for an account that exists (a
/// username typed at sign-in may be someone's password); `detail` holds a
/// few non-secret facts. A [tallied](Event::tallied) event adds one to its
/// hour's count for the client's network instead (its `username` is not
/// kept: such events name no account).
pub async fn record(
    db: &impl GenericClient,
    event: Event,
    username: Option<&str>,
    client: Option<IpAddr>,
    detail: Value,
) -> Result<(), ApiError> {
    if event.tallied() {
        let network = client.map(crate::client_addr::network);
        db.execute(
            "SELECT tally_security_event($1, $2, $3)",
            &[&event.kind(), &network, &detail],
        )
        .await?;
        return Ok(());
    }
    db.execute(
        "INSERT INTO security_event (kind, username, client_addr, detail)
         VALUES ($1, $2, $3, $4)",
        &[&event.kind(), &username, &client, &detail],
    )
    .await?;
    Ok(())
}

/// Erases client addresses older than 90 days from the log and deletes
/// events older than a year: the periods are fixed in the database
/// (`prune_security_event`), so the API cannot shorten them. Returns how
/// many rows changed.
pub async fn prune(db: &impl GenericClient) -> Result<u64, ApiError> {
    let changed: i64 = db
        .query_one("SELECT prune_security_event()", &[])
        .await?
        .get(0);
    Ok(u64::try_from(changed).unwrap_or(0))
}
