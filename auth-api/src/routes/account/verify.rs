//! `POST /api/accounts/verify-email`: the link mailed at account creation
//! (or to confirm a legacy account's address), followed. The page at
//! `/account/verify/` reads the token from the link's fragment and posts it
//! here. `POST /api/me/email/confirm` mails such a link to the address of
//! an account from before self-service accounts, whose address nobody
//! proved.

use std::time::Duration;

use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;

use crate::audit::{self, Event};
use crate::auth::links::{self, Purpose};
use crate::auth::{messages, session};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::routes::answers::Told;
use crate::routes::cookies;
use crate::routes::extract::{ClientIp, JsonBody, SettingUp};
use crate::state::AppState;

/// The one answer to a verification link that does not work: unknown (a
/// creation request that made no account mails a link that was never
/// stored), used or expired. Which of these it was, and why no account was
/// made, is nobody's business but the log's.
pub const NOT_CREATED: ApiError = ApiError::Unauthorized(
    "This link does not work: it was used already or it expired, or no account was created \
     with the details given (they did not match our records, or that person already has an \
     account). You can start again at /account/create/.",
);

/// The body of `POST /api/accounts/verify-email`.
#[derive(Deserialize)]
pub struct VerifyRequest {
    token: String,
}

/// Marks the address verified, once: the token is used up in the same
/// statement that checks it.
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(VerifyRequest { token }): JsonBody<VerifyRequest>,
) -> Result<Resp, ApiError> {
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let Some(username) = links::consume(&*tx, &token, Purpose::VerifyEmail).await? else {
        audit::record(
            &*tx,
            Event::TokenRefused,
            None,
            Some(client),
            serde_json::json!({"purpose": "verify_email"}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%client, "verification link refused");
        return Err(NOT_CREATED);
    };
    let created_here = tx
        .execute(
            "UPDATE account SET email_verified_at = coalesce(email_verified_at, now())
              WHERE username = $1",
            &[&username],
        )
        .await?;
    if created_here == 0 {
        // An account from before self-service ones: its address, as it is
        // now, is the one proven.
        tx.execute(
            r#"INSERT INTO verified_address (username, email)
               SELECT username, email FROM "user" WHERE username = $1 AND email IS NOT NULL
               ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email, verified_at = now()"#,
            &[&username],
        )
        .await?;
    }
    audit::record(
        &*tx,
        Event::EmailVerified,
        Some(&username),
        Some(client),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %state.config.pseudonyms.log_tag(&username), "email verified");
    Ok(json_response(
        StatusCode::OK,
        &Told {
            message: "Your email address is confirmed. You can sign in now.",
            status: "verified",
        },
    ))
}

/// How long a signed-in account waits between two confirmation links.
const CONFIRM_AGAIN_AFTER: Duration = Duration::from_secs(600);

/// `POST /api/me/email/confirm`: mails a link that proves the signed-in
/// account's address (for accounts from before self-service ones; an
/// account created here verified its address before it could sign in).
/// At most one link each ten minutes.
pub async fn confirm_address(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    SettingUp(session): SettingUp,
) -> Result<Resp, ApiError> {
    let username = &session.claims.sub;
    let db = state.personal.get().await?;
    let row = db
        .query_opt(
            r#"SELECT email, verified_email(username) IS NOT NULL FROM "user" WHERE username = $1"#,
            &[username],
        )
        .await?
        .ok_or(session::UNAUTHORIZED)?;
    let (email, verified): (Option<String>, bool) = (row.get(0), row.get(1));
    let Some(email) = email else {
        return Err(ApiError::Conflict {
            code: "no_email",
            message: "Your account has no email address. Call us to add one.".into(),
        });
    };
    let told = if verified {
        Told {
            message: "Your email address is confirmed already.",
            status: "verified",
        }
    } else {
        let ttl = state.config.accounts.verify_email_ttl;
        if !links::issued_within(&**db, username, Purpose::VerifyEmail, CONFIRM_AGAIN_AFTER).await?
        {
            let token = links::issue(&**db, username, Purpose::VerifyEmail, ttl).await?;
            audit::record(
                &**db,
                Event::AddressConfirmationSent,
                Some(username),
                Some(client),
                serde_json::json!({}),
            )
            .await?;
            let site = &state.config.mail.site_url;
            let hours = ttl.as_secs().div_ceil(3600);
            state.send_mail(email, messages::confirm_address(site, &token, hours));
        }
        Told {
            message: "We sent a link to your email address. Open it to confirm the address.",
            status: "check_email",
        }
    };
    let status = if verified {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let resp = json_response(status, &told);
    Ok(cookies::refreshed(resp, session.refreshed.as_ref()))
}
