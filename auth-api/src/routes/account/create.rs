//! `POST /api/accounts`: a beneficiary creates their own account.
//!
//! They prove who they are with facts the database holds (last name, date
//! of birth, ZIP code, last four SSN digits), then choose a username, give
//! an email address and a password. The answer never tells whether the
//! facts matched anyone, or whether the username or the address is in use:
//! every well-formed request that gets past the throttle is answered 202
//! with the same body, after the same work (the password is always hashed),
//! and the address given gets the same message whether the account was
//! created, the facts matched nobody or that person has an account already
//! (whose verified address is told instead). Only what can be judged from
//! the request alone (a malformed field, a weak password) is answered at
//! once; the costly half of the password rule (its strength) only once the
//! attempt is counted by the limits, so a refused password counts too.

use std::net::IpAddr;

use axum::extract::State;
use chrono::{Datelike, NaiveDate};
use http::StatusCode;
use serde::Deserialize;
use tokio_postgres::error::SqlState;
use whatever_database::rules::password::{self as rule, Guards};

use crate::audit::{self, Event};
use crate::auth::{self, limits, links, messages, recipients};
use crate::error::ApiError;
use crate::http::{Resp, json_response};
use crate::mail::Mail;
use crate::routes::answers::Told;
use crate::routes::extract::{ClientIp, JsonBody};
use crate::state::AppState;

/// Advisory-lock namespace of one beneficiary's account creation.
const BENEFICIARY_LOCK: i32 = 0x6163_6362; // "accb"

/// The body of `POST /api/accounts`.
#[derive(Deserialize)]
pub struct CreateRequest {
    last_name: String,
    birth_date: String,
    zip_code: String,
    ssn_last4: String,
    username: String,
    email: String,
    password: String,
}

/// A request whose every field is well-formed.
struct Valid {
    last_name: String,
    birth_date: NaiveDate,
    zip_code: String,
    ssn_last4: String,
    username: String,
    email: String,
    password: String,
}

/// The one answer to every well-formed request.
pub const ACCEPTED_MESSAGE: &str = "Thank you. If the details you gave match our records, \
     we sent a link to your email address to finish creating your account. \
     If you do not get a message within a few minutes, check your spam folder.";

/// Longest username.
pub const USERNAME_MAX: usize = 64;

/// Whether `name` is a username an account may take: 3 to 64 ASCII
/// letters, digits, `.`, `_` or `-`, beginning with a letter or a digit.
pub fn username_ok(name: &str) -> bool {
    (3..=USERNAME_MAX).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl CreateRequest {
    /// Checks every field, all at once, so a form can mark each one.
    fn validate(self) -> Result<Valid, ApiError> {
        let mut errors: Vec<(&'static str, String)> = Vec::new();
        let last_name = self.last_name.trim().to_string();
        if last_name.is_empty() || last_name.chars().count() > 100 {
            errors.push((
                "last_name",
                "Enter your last name as it is on your Medicare card.".into(),
            ));
        }
        let birth_date = NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d")
            .ok()
            // `year()`, not `year_ce()`: 2000 BCE is year -1999, not 2000.
            .filter(|d| *d < chrono::Utc::now().date_naive() && d.year() >= 1900);
        if birth_date.is_none() {
            errors.push((
                "birth_date",
                "Enter your date of birth as YYYY-MM-DD, e.g. 1950-03-04.".into(),
            ));
        }
        let zip_code = self.zip_code.trim().to_string();
        if !whatever_database::rules::zip::is_zip(&zip_code) {
            errors.push((
                "zip_code",
                "Enter the 5-digit ZIP code of your address.".into(),
            ));
        }
        let ssn_last4 = self.ssn_last4.trim().to_string();
        if !(ssn_last4.len() == 4 && ssn_last4.bytes().all(|b| b.is_ascii_digit())) {
            errors.push((
                "ssn_last4",
                "Enter the last 4 digits of your Social Security number.".into(),
            ));
        }
        let username = self.username.trim().to_string();
        if !username_ok(&username) {
            errors.push((
                "username",
                "Choose a username of 3 to 64 letters, digits, dots, dashes or underscores, \
                 starting with a letter or a digit."
                    .into(),
            ));
        }
        let email = self.email.trim().to_string();
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            errors.push((
                "email",
                "Enter an email address, like name@example.com.".into(),
            ));
        }
        let context = [username.as_str(), last_name.as_str(), email.as_str()];
        let password = rule::precheck(&self.password, &context, Guards::WithSecondFactor)
            .inspect_err(|refusal| errors.push(("password", refusal.to_string())))
            .ok();
        match (birth_date, password) {
            (Some(birth_date), Some(password)) if errors.is_empty() => Ok(Valid {
                last_name,
                birth_date,
                zip_code,
                ssn_last4,
                username,
                email,
                password,
            }),
            _ => Err(ApiError::InvalidFields(errors)),
        }
    }
}

/// What became of a request; only the mail and the audit log know.
struct Outcome {
    /// What the address given gets.
    reply: Reply,
    /// The verified address of the account the facts' beneficiary has
    /// already, which is told of the request.
    holder: Option<String>,
    /// Why, for the audit log.
    reason: &'static str,
}

/// What the address given gets.
enum Reply {
    /// The one message of [`messages::creation_requested`]: a working link
    /// when the account was created, else one that was never stored.
    Link { token: String },
    /// The username belongs to someone else.
    UsernameTaken,
    /// The address belongs to this existing account.
    EmailInUse { owner_email: String },
}

/// Creates the account if it can be, and tells the person by mail.
pub async fn create(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(request): JsonBody<CreateRequest>,
) -> Result<Resp, ApiError> {
    let request = request.validate()?;
    let facts = limits::facts_key(
        &**state.pool.get().await?,
        &state.config.pseudonyms,
        &request.last_name,
        request.birth_date,
        &request.zip_code,
    )
    .await?;
    limits::reserve(&state.pool, &state.config.accounts, &facts, client).await?;
    let context = vec![
        request.username.clone(),
        request.last_name.clone(),
        request.email.clone(),
    ];
    if let Err(refusal) = state
        .passwords
        .judge(request.password.clone(), context)
        .await?
    {
        return Err(ApiError::InvalidFields(vec![(
            "password",
            refusal.to_string(),
        )]));
    }

    // Every request pays for one hash, whatever it turns out to be.
    let hash = state.passwords.hash(request.password.clone()).await?;
    let outcome = store(&state, &request, &hash, client).await?;

    let site = &state.config.mail.site_url;
    let mail = match &outcome.reply {
        Reply::Link { token } => {
            let hours = state
                .config
                .accounts
                .verify_email_ttl
                .as_secs()
                .div_ceil(3600);
            (
                request.email.clone(),
                messages::creation_requested(site, token, hours),
            )
        }
        Reply::UsernameTaken => (request.email.clone(), messages::username_taken(site)),
        Reply::EmailInUse { owner_email } => (owner_email.clone(), messages::email_in_use(site)),
    };
    let notice = outcome
        .holder
        .clone()
        .map(|to| (to, messages::already_has_account(site)));
    // Counted and sent after the answer: a notice to an account holder is
    // one more statement, whose time must not tell that one exists.
    let later = state.clone();
    tokio::spawn(async move {
        for (to, mail) in std::iter::once(mail).chain(notice) {
            if let Err(error) = send_capped(&later, to, mail).await {
                tracing::warn!(%error, "account creation mail not sent");
            }
        }
    });
    tracing::info!(%client, outcome = outcome.reason, "account creation requested");
    Ok(json_response(
        StatusCode::ACCEPTED,
        &Told {
            message: ACCEPTED_MESSAGE,
            status: "check_email",
        },
    ))
}

/// Sends `mail` to `to` unless `ACCOUNT_LIMIT_RECIPIENT` messages went
/// there within its window: anyone can type an address, so nobody may bury
/// it in mail.
async fn send_capped(state: &AppState, to: String, mail: Mail) -> Result<(), ApiError> {
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let limit = &state.config.accounts.per_recipient;
    let allowed = recipients::allow(&*tx, &state.config.pseudonyms, &to, limit).await?;
    tx.commit().await?;
    if allowed {
        state.send_mail(to, mail);
    } else {
        metrics::counter!("mail_withheld_total", "kind" => mail.kind).increment(1);
        tracing::warn!(
            kind = mail.kind,
            "mail withheld: the recipient's limit is reached"
        );
    }
    Ok(())
}

/// Matches the facts (a statement of its own), then decides, in one
/// transaction: the username and the address first (whoever the facts
/// name, so their mail tells nothing about the facts), then the facts. An
/// unverified account of the beneficiary past its link's life is removed
/// first; when everything is free, the account and its verification token
/// are created. Writes the audit row.
async fn store(
    state: &AppState,
    request: &Valid,
    hash: &str,
    client: IpAddr,
) -> Result<Outcome, ApiError> {
    let mut db = state.pool.get().await?;
    // The SSN digits are compared inside the database; only an id comes out.
    // On its own and committed at once, before the transaction below: a
    // wrong guess counts against the beneficiary's lifetime allowance
    // (`match_beneficiary` keeps the count), and a rollback of that
    // transaction, whatever its cause, must not forgive it.
    let beneficiary: Option<i64> = db
        .query_one(
            "SELECT match_beneficiary($1, $2, $3, $4)",
            &[
                &request.last_name,
                &request.birth_date,
                &request.zip_code,
                &request.ssn_last4,
            ],
        )
        .await?
        .get(0);
    let tx = db.transaction().await?;
    // The account the beneficiary has, if any (`Some`), and its verified
    // address, if it has one.
    let mut holder: Option<Option<String>> = None;
    if let Some(id) = beneficiary {
        // One creation per beneficiary at a time: the checks below and
        // the insert cannot be raced.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2::text))",
            &[&BENEFICIARY_LOCK, &id.to_string()],
        )
        .await?;
        // A slot held by an account nobody verified in time is free again.
        auth::remove_unverified(&*tx, state.config.accounts.verify_email_ttl, Some(id)).await?;
        holder = tx
            .query_opt(
                r#"SELECT verified_email(username) FROM "user" WHERE beneficiary_id = $1
                    ORDER BY username LIMIT 1"#,
                &[&id],
            )
            .await?
            .map(|row| row.get(0));
    }
    let row = tx
        .query_one(
            r#"SELECT EXISTS (SELECT 1 FROM "user"
                              WHERE username_key(username) = username_key($1)),
                      (SELECT email FROM "user" WHERE lower(email) = lower($2)
                        ORDER BY username LIMIT 1)"#,
            &[&request.username, &request.email],
        )
        .await?;
    let (taken, owner): (bool, Option<String>) = (row.get(0), row.get(1));
    let decoy = || -> Result<Reply, ApiError> {
        Ok(Reply::Link {
            token: links::generate()?,
        })
    };
    let (reply, reason) = if taken {
        (Reply::UsernameTaken, "username_taken")
    } else if let Some(owner_email) = owner {
        (Reply::EmailInUse { owner_email }, "email_in_use")
    } else {
        match (beneficiary, &holder) {
            (None, _) => (decoy()?, "no_match"),
            (Some(_), Some(_)) => (decoy()?, "beneficiary_has_account"),
            (Some(id), None) => {
                let token = links::generate()?;
                match insert(&tx, state, request, hash, id, &token).await {
                    Ok(()) => (Reply::Link { token }, "created"),
                    // Taken meanwhile by a request for another beneficiary.
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        return Err(ApiError::Conflict {
                            code: "try_again",
                            message: "Please try again.".into(),
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };
    let (event, username) = match reason {
        "created" => (Event::AccountCreated, Some(request.username.as_str())),
        _ => (Event::AccountNotCreated, None),
    };
    audit::record(
        &*tx,
        event,
        username,
        Some(client),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome {
        reply,
        holder: holder.flatten(),
        reason,
    })
}

/// Inserts the user, its account row and the verification token's digest.
async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    state: &AppState,
    request: &Valid,
    hash: &str,
    beneficiary: i64,
    token: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        r#"INSERT INTO "user" (username, password, email, beneficiary_id) VALUES ($1, $2, $3, $4)"#,
        &[&request.username, &hash, &request.email, &beneficiary],
    )
    .await?;
    tx.execute(
        "INSERT INTO account (username, beneficiary_id) VALUES ($1, $2)",
        &[&request.username, &beneficiary],
    )
    .await?;
    tx.execute(
        "INSERT INTO account_token (token_hash, username, purpose, expires_at)
         VALUES ($1, $2, 'verify_email', now() + $3::float8 * interval '1 second')",
        &[
            &links::digest(token),
            &request.username,
            &state.config.accounts.verify_email_ttl.as_secs_f64(),
        ],
    )
    .await?;
    Ok(())
}
