//! The state every request handler sees: cloned per request, cheap to clone.
//! [`AppState::new`] builds the services the configuration describes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::Pool;

use crate::auth::password::Passwords;
use crate::auth::reauth::Reauth;
use crate::auth::{passkey, recipients};
use crate::config::Config;
use crate::fulfillment::wake::Wake;
use crate::mail::{Mail, Mailer};

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database settings are unusable.
    #[error(transparent)]
    Database(#[from] whatever_database::Error),
    /// `SITE_URL` cannot scope passkeys.
    #[error("SITE_URL: {0}")]
    SiteUrl(String),
}

/// Shared handles: the database pools and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// Pooled Postgres connections with bounded waits, for anonymous routes
    /// and background work.
    pub pool: Pool,
    /// A pool of its own for the signed-in routes (`PERSONAL_POOL_SIZE`):
    /// however many anonymous requests are waiting, these connections are
    /// never theirs.
    pub personal: Pool,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// Wakes the fulfillment worker when a request is queued.
    pub fulfillment: Wake,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
    /// Mail to account holders; `None` only if `SMTP_URL` or `MAIL_FROM`
    /// cannot be used (which [`Config::from_env`] refuses at start).
    pub mailer: Option<Mailer>,
    /// Passkeys' relying party, made from `SITE_URL`: its host is their
    /// scope and its origin the only one their answers may come from.
    pub relying_party: Arc<webauthn_rs::Webauthn>,
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// Builds the state for `config`: the pools (connected lazily), the
    /// mailer, password hashing and the passkeys' relying party.
    pub fn new(config: Config) -> Result<Self, StateError> {
        let pool = whatever_database::pool::build_pool(&config.database, config.db_wait)?;
        let mut personal = config.database.clone();
        personal.pool_size = config.personal_pool_size.max(1);
        let personal = whatever_database::pool::build_pool(&personal, config.db_wait)?;
        let mailer = Mailer::new(&config.mail)
            .inspect_err(|error| tracing::error!(%error, "mail cannot be sent"))
            .ok();
        let relying_party =
            passkey::relying_party(&config.mail.site_url).map_err(StateError::SiteUrl)?;
        Ok(Self {
            relying_party: Arc::new(relying_party),
            mailer,
            pool,
            personal,
            passwords: Passwords::new(
                config.auth.login_concurrency,
                config.auth.strength_concurrency,
            ),
            config: Arc::new(config),
            fulfillment: Default::default(),
            draining: Arc::default(),
        })
    }

    /// Sends `mail` to `to` once the current request is answered (see
    /// [`Mailer::send_later`]).
    pub fn send_mail(&self, to: String, mail: Mail) {
        match &self.mailer {
            Some(mailer) => mailer.send_later(to, mail),
            None => tracing::warn!(kind = mail.kind, "mail not sent: no usable SMTP_URL"),
        }
    }

    /// Tells the owner of `username` what just happened to their account:
    /// sends `mail` to the account's verified address, if it has one (see
    /// [`recipients::verified_address`]), once the current request is
    /// answered. An address nobody verified gets no notice.
    pub fn notify(&self, username: &str, mail: Mail) {
        let state = self.clone();
        let username = username.to_string();
        tokio::spawn(async move {
            let address = match state.pool.get().await {
                Ok(db) => recipients::verified_address(&**db, &username).await,
                Err(e) => Err(e.into()),
            };
            match address {
                Ok(Some(to)) => state.send_mail(to, mail),
                Ok(None) => tracing::debug!(kind = mail.kind, "no verified address: no notice"),
                Err(error) => tracing::warn!(kind = mail.kind, %error, "notice not sent"),
            }
        });
    }

    /// What confirming a change with the current password needs.
    pub fn reauth(&self) -> Reauth<'_> {
        Reauth {
            pool: &self.personal,
            auth: &self.config.auth,
            pseudonyms: &self.config.pseudonyms,
            passwords: &self.passwords,
        }
    }

    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether [`AppState::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}
