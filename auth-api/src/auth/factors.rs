//! Which second factors an account has, asked in one place: signing in,
//! adding and removing a factor and the settings page all go by it.

use tokio_postgres::GenericClient;

use crate::ApiError;

/// The second factors of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// Registered passkeys.
    pub passkeys: i64,
    /// Whether the account must keep a second factor: one created through
    /// the API must; one from before second factors existed may go without.
    pub required: bool,
}

impl Factors {
    /// How many factors there are (each passkey counts).
    pub fn count(&self) -> i64 {
        i64::from(self.totp) + self.passkeys
    }

    /// Whether there is any.
    pub fn any(&self) -> bool {
        self.count() > 0
    }
}

/// The second factors of `username` (none for an unknown one).
pub async fn of(db: &impl GenericClient, username: &str) -> Result<Factors, ApiError> {
    let row = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM totp_factor
                             WHERE username = $1 AND confirmed_at IS NOT NULL),
                    (SELECT count(*) FROM passkey WHERE username = $1),
                    EXISTS (SELECT 1 FROM account WHERE username = $1)",
            &[&username],
        )
        .await?;
    Ok(Factors {
        totp: row.get(0),
        passkeys: row.get(1),
        required: row.get(2),
    })
}
