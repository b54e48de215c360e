//! Which second factors an account has, and whether it must keep one: the
//! one place that question is answered, for signing in, the settings page
//! and every change to an account's factors.
//!
//! Each kind of factor is one SQL expression below. A new kind slots in as
//! one more expression, one more field of [`Factors`], and its term in
//! [`Factors::count`] and [`any_sql`].
//!
//! Every change to an account's set of factors takes [`lock`] first and
//! reads [`of`] after it, in one transaction: two removals at once cannot
//! both see a factor left and leave the account with none. A change the
//! password confirms is a [`Change`], whose rule is checked in one place.

use std::net::IpAddr;

use tokio_postgres::GenericClient;

use super::recovery_codes;
use crate::audit::{self, Event};
use crate::error::ApiError;

/// A confirmed authenticator app (an unconfirmed one counts for nothing).
const TOTP: &str = "EXISTS (SELECT 1 FROM totp_factor t \
                     WHERE t.username = {u} AND t.confirmed_at IS NOT NULL)";

/// Passkeys registered.
const PASSKEYS: &str = "(SELECT count(*) FROM passkey p WHERE p.username = {u})";

/// Whether the account must keep a second factor: one created through the
/// API (it has an `account` row) must; one from before second factors
/// existed may go back to none.
const REQUIRED: &str = "EXISTS (SELECT 1 FROM account a WHERE a.username = {u})";

/// Advisory-lock namespace of an account's factors (the first key of
/// `pg_advisory_xact_lock(int, int)`).
const FACTORS_LOCK: i32 = 0x6661_6374; // "fact"

/// The second factors of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// How many passkeys.
    pub passkeys: i64,
    /// Whether the account must keep at least one factor.
    pub required: bool,
}

impl Factors {
    /// How many factors in all.
    pub fn count(&self) -> i64 {
        i64::from(self.totp) + self.passkeys
    }

    /// Whether there is any.
    pub fn any(&self) -> bool {
        self.count() > 0
    }

    /// Whether one factor may be removed: not when it is the last one of an
    /// account that must keep one.
    pub fn may_remove_one(&self) -> bool {
        !(self.required && self.count() <= 1)
    }

    /// The three values [`columns`] selected, from column `first` on.
    pub fn from_row(row: &tokio_postgres::Row, first: usize) -> Self {
        Self {
            totp: row.get(first),
            passkeys: row.get(first + 1),
            required: row.get(first + 2),
        }
    }
}

/// The select-list of [`Factors`] (three columns, read back with
/// [`Factors::from_row`]) for the account whose username is the SQL
/// expression `username` (a column such as `u.username`, or a parameter).
pub fn columns(username: &str) -> String {
    [TOTP, PASSKEYS, REQUIRED]
        .map(|sql| sql.replace("{u}", username))
        .join(", ")
}

/// A SQL boolean: whether the account whose username is the expression
/// `username` has any second factor. For a statement that needs only that.
pub fn any_sql(username: &str) -> String {
    let (totp, passkeys) = (
        TOTP.replace("{u}", username),
        PASSKEYS.replace("{u}", username),
    );
    format!("({totp} OR ({passkeys}) > 0)")
}

/// The factors of `username` (an account that does not exist has none and
/// need keep none).
pub async fn of(db: &impl GenericClient, username: &str) -> Result<Factors, ApiError> {
    let row = db
        .query_one(&format!("SELECT {}", columns("$1::text")), &[&username])
        .await?;
    Ok(Factors::from_row(&row, 0))
}

/// Serializes changes to `username`'s factors until the transaction `tx`
/// ends.
pub async fn lock(tx: &impl GenericClient, username: &str) -> Result<(), ApiError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&FACTORS_LOCK, &username],
    )
    .await?;
    Ok(())
}

/// What follows the first factor added to `username`, in the addition's
/// transaction, after its lock: setups started while the account had none
/// (an app not confirmed yet, a passkey ceremony under way), which needed
/// no more than a session, end. Another factor now needs a recent sign-in
/// or the password ([`crate::auth::reauth::Reauth::confirm_addition`]).
pub async fn first_added(tx: &impl GenericClient, username: &str) -> Result<(), ApiError> {
    tx.execute(
        "DELETE FROM totp_factor WHERE username = $1 AND confirmed_at IS NULL",
        &[&username],
    )
    .await?;
    tx.execute(
        "DELETE FROM webauthn_ceremony WHERE username = $1 AND purpose = 'register'",
        &[&username],
    )
    .await?;
    Ok(())
}

/// What follows the removal of one `factor` (`totp`, `passkey`) from
/// `username`, in the removal's transaction, after its lock: with no factor
/// left the recovery codes go too (they stand in for one), and the removal
/// is audited. Returns whether the codes went.
pub async fn removed(
    tx: &impl GenericClient,
    username: &str,
    client: IpAddr,
    factor: &str,
) -> Result<bool, ApiError> {
    let codes_deleted = !of(tx, username).await?.any();
    if codes_deleted {
        recovery_codes::delete(tx, username).await?;
    }
    audit::record(
        tx,
        Event::FactorRemoved,
        Some(username),
        Some(client),
        serde_json::json!({"factor": factor, "recovery_codes_deleted": codes_deleted}),
    )
    .await?;
    Ok(codes_deleted)
}

/// A change to an account's factors that the current password confirms
/// ([`crate::auth::reauth::Reauth::confirm_change`]), and the rule it must
/// keep to: checked before the password is asked (nothing is learnt from a
/// refused one) and again under [`lock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Removing the authenticator app: there is one, and it is not the last
    /// factor of an account that must keep one.
    RemoveTotp,
    /// Removing the passkey with this credential id: it is the account's,
    /// and not its last factor if it must keep one.
    RemovePasskey(Vec<u8>),
    /// Ten new recovery codes: they go with a second factor, so there must
    /// be one.
    NewRecoveryCodes,
}

impl Change {
    /// What the password is typed for, as the audit log names it.
    pub fn purpose(&self) -> &'static str {
        match self {
            Self::RemoveTotp => "remove_authenticator",
            Self::RemovePasskey(_) => "remove_passkey",
            Self::NewRecoveryCodes => "recovery_codes",
        }
    }

    /// Whether the account `username` may make the change now.
    pub async fn allowed(&self, db: &impl GenericClient, username: &str) -> Result<(), ApiError> {
        match self {
            Self::RemoveTotp => {
                let factors = of(db, username).await?;
                if !factors.totp {
                    return Err(ApiError::Conflict {
                        code: "no_authenticator",
                        message: "This account has no authenticator app to remove.".into(),
                    });
                }
                if !factors.may_remove_one() {
                    return Err(ApiError::Conflict {
                        code: "last_factor",
                        message: "Your account must keep a second way to sign in, and this \
                                  app is its only one. To use another phone, replace the app \
                                  instead."
                            .into(),
                    });
                }
            }
            Self::RemovePasskey(id) => {
                let owned = db
                    .query_opt(
                        "SELECT 1 FROM passkey WHERE credential_id = $1 AND username = $2",
                        &[id, &username],
                    )
                    .await?
                    .is_some();
                if !owned {
                    return Err(ApiError::NotFound);
                }
                if !of(db, username).await?.may_remove_one() {
                    return Err(ApiError::Conflict {
                        code: "last_factor",
                        message: "Your account must keep a second way to sign in, and this \
                                  passkey is its only one. Add another passkey or an \
                                  authenticator app first."
                            .into(),
                    });
                }
            }
            Self::NewRecoveryCodes => {
                if !of(db, username).await?.any() {
                    return Err(ApiError::Conflict {
                        code: "no_second_factor",
                        message: "Recovery codes go with a second way to sign in. \
                                  Set up an authenticator app or a passkey first."
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_factor_of_an_account_that_must_keep_one_stays() {
        let only_app = Factors {
            totp: true,
            passkeys: 0,
            required: true,
        };
        assert!(!only_app.may_remove_one());
        assert!(
            Factors {
                passkeys: 1,
                ..only_app
            }
            .may_remove_one()
        );
        assert!(
            Factors {
                required: false,
                ..only_app
            }
            .may_remove_one()
        );
        assert_eq!(only_app.count(), 1);
    }

    #[test]
    fn every_kind_is_asked_about_the_account_named() {
        for sql in [columns("u.username"), any_sql("u.username")] {
            assert!(!sql.contains("{u}"), "{sql}");
            assert!(sql.contains("t.username = u.username"), "{sql}");
            assert!(sql.contains("p.username = u.username"), "{sql}");
        }
        assert!(columns("$1").contains("a.username = $1"));
    }
}
