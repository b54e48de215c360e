//! Recovery codes: ten single-use codes, each standing in for the second
//! factor once. Given when the first factor is confirmed, replaced on
//! request (`POST /api/me/recovery-codes`), deleted with the last factor.
//! Only their SHA-256 digests are stored.

use tokio_postgres::GenericClient;

use super::totp;
use crate::error::ApiError;

/// Replaces every recovery code of `username` with ten new ones, within the
/// caller's transaction; returns them as they are shown, once.
pub async fn replace(db: &impl GenericClient, username: &str) -> Result<Vec<String>, ApiError> {
    let codes = totp::new_recovery_codes()?;
    let digests: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_digest(c)).collect();
    db.execute(
        "DELETE FROM recovery_code WHERE username = $1",
        &[&username],
    )
    .await?;
    db.execute(
        "INSERT INTO recovery_code (username, code_hash) SELECT $1, unnest($2::bytea[])",
        &[&username, &digests],
    )
    .await?;
    Ok(codes)
}

/// Deletes every recovery code of `username`: they stand in for a second
/// factor, and there is none left.
pub async fn delete(db: &impl GenericClient, username: &str) -> Result<u64, ApiError> {
    Ok(db
        .execute(
            "DELETE FROM recovery_code WHERE username = $1",
            &[&username],
        )
        .await?)
}
