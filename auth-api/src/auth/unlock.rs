//! The owner's way back in while strangers' guesses hold an account.
//!
//! The login throttle's per-account limit holds an account that many
//! addresses guessed at, for a day, everywhere but at the addresses it
//! signed in from before ([`crate::auth::throttle`]). An account with no
//! sign-in history (a new account, a new device) would wait the day out.
//! Instead, when that limit holds, the account's *verified* address gets a
//! single-use link ([`TTL`], one live at a time); following it on a device
//! makes that device's address one the account signed in from, so the
//! owner, and only someone who reads the owner's mail, signs in from there
//! at once. The guessers stay held.

use std::net::IpAddr;
use std::time::Duration;

use tokio_postgres::GenericClient;

use crate::ApiError;
use crate::auth::links::{self, Purpose};
use crate::auth::recipients;
use crate::auth::throttle;
use crate::pseudonym::Pseudonyms;

/// Advisory-lock namespace of one account's unlock offers.
const UNLOCK_LOCK: i32 = 0x756e_6c6b; // "unlk"

/// How long an unlock link works; while one is live no other is sent, so
/// guessers cause at most one message per this period.
pub const TTL: Duration = Duration::from_secs(3600);

/// Issues an unlock link for the account `typed` names and answers it with the address to
/// mail it to: only when the account exists, has a verified address and no
/// unlock link was issued within [`TTL`]; `None` otherwise. `db` must be a
/// transaction.
pub async fn offer(
    db: &impl GenericClient,
    typed: &str,
) -> Result<Option<(String, String)>, ApiError> {
    // The account as stored: the sign-in that was held may have spelled
    // its name in another case.
    let sql = format!(
        r#"SELECT u.username FROM "user" u {}"#,
        super::BY_TYPED_NAME
    );
    let Some(row) = db.query_opt(&sql, &[&typed]).await? else {
        return Ok(None);
    };
    let username: String = row.get(0);
    let username = username.as_str();
    // One offer per account at a time (until the caller's transaction
    // ends): two held sign-ins at once cannot both find no live link.
    db.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&UNLOCK_LOCK, &username],
    )
    .await?;
    let Some(address) = recipients::verified_address(db, username).await? else {
        return Ok(None);
    };
    if links::issued_within(db, username, Purpose::UnlockSignIn, TTL).await? {
        return Ok(None);
    }
    let token = links::issue(db, username, Purpose::UnlockSignIn, TTL).await?;
    Ok(Some((address, token)))
}

/// Uses `token` up and makes `client` an address its account signed in
/// from; answers the username, or `None` for a token that is unknown, used
/// or expired.
pub async fn unlock(
    db: &impl GenericClient,
    pseudonyms: &Pseudonyms,
    token: &str,
    client: IpAddr,
) -> Result<Option<String>, ApiError> {
    let Some(username) = links::consume(db, token, Purpose::UnlockSignIn).await? else {
        return Ok(None);
    };
    // The row a successful sign-in leaves: the account's own limit no
    // longer holds this address.
    throttle::remember_client(db, pseudonyms, &username, client).await?;
    Ok(Some(username))
}
