//! Who mail goes to. Two rules, each kept here only:
//!
//! - Notices and links that let someone in go to an account's *verified*
//!   address only ([`verified_address`], the database's `verified_email`):
//!   an address nobody proved may be a typo or a stranger's.
//! - Mail that anyone can cause by typing an address (account creation's
//!   messages) is capped per recipient ([`allow`]), so many clients cannot
//!   bury one person in mail. The address is counted as a keyed pseudonym
//!   of its normalized form, like the fulfillment per-recipient cap.

use tokio_postgres::GenericClient;

use crate::ApiError;
use crate::config::Limit;
use crate::pseudonym::Pseudonyms;

/// Advisory-lock namespace of one recipient's count.
const RECIPIENT_LOCK: i32 = 0x6d61_6972; // "mair"

/// The verified address of `username`, if it has one.
pub async fn verified_address(
    db: &impl GenericClient,
    username: &str,
) -> Result<Option<String>, ApiError> {
    Ok(db
        .query_one("SELECT verified_email($1)", &[&username])
        .await?
        .get(0))
}

/// The form an address is counted in: surrounding spaces and case do not
/// make another recipient.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

/// The pseudonym mail to `address` is counted under.
pub fn key(pseudonyms: &Pseudonyms, address: &str) -> Vec<u8> {
    pseudonyms.keyed(format!("account-mail:{}", normalize(address)).as_bytes())
}

/// Counts one message to `address` and answers `true`, or answers `false`
/// (counting nothing) when `limit` messages went to it within the window.
/// `db` must be a transaction: the count and the check hold one lock.
pub async fn allow(
    db: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    address: &str,
    limit: &Limit,
) -> Result<bool, ApiError> {
    let recipient = key(pseudonyms, address);
    db.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(encode($2, 'hex')))",
        &[&RECIPIENT_LOCK, &recipient],
    )
    .await?;
    let sent: i64 = db
        .query_one(
            "SELECT count(*) FROM mail_recipient_hit
              WHERE recipient = $1 AND sent_at > now() - $2::float8 * interval '1 second'",
            &[&recipient, &limit.window.as_secs_f64()],
        )
        .await?
        .get(0);
    if sent >= i64::from(limit.max) {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO mail_recipient_hit (recipient) VALUES ($1)",
        &[&recipient],
    )
    .await?;
    Ok(true)
}

/// Deletes counts older than `limit`'s window.
pub async fn prune(db: &impl GenericClient, limit: &Limit) -> Result<u64, ApiError> {
    Ok(db
        .execute(
            "DELETE FROM mail_recipient_hit WHERE sent_at < now() - $1::float8 * interval '1 second'",
            &[&limit.window.as_secs_f64()],
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_recipient_however_the_address_is_typed() {
        let p = Pseudonyms::new(b"a test key that is long enough for hmac").unwrap();
        assert_eq!(
            key(&p, " Zoe@Example.ORG "),
            key(&p, "zoe@example.org"),
            "case and spaces"
        );
        assert_ne!(key(&p, "zoe@example.org"), key(&p, "zoe2@example.org"));
    }
}
