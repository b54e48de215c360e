//! The one place the API reads its settings. Every variable has a default
//! that works on a developer machine; an integration that is not configured
//! is `None`, not a crash. With `APP_ENV=production` the secret keys whose
//! local fallback is an ephemeral one are required instead.

use std::net::SocketAddr;
use std::time::Duration;

use whatever_database::DatabaseConfig;

use crate::auth::keys::Keyring;
use crate::pseudonym::{self, Pseudonyms};

mod env;
mod fulfillment;

pub use env::{ConfigError, optional_var, parse_var};
pub use fulfillment::FulfillmentSettings;

/// `APP_ENV`: where the API runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppEnv {
    /// `development` (the default): a missing secret key is replaced by an
    /// ephemeral one, with a warning.
    #[default]
    Development,
    /// `production`: `JWT_SIGNING_KEY_FILE` and `PSEUDONYM_KEY_FILE` are
    /// required, `SITE_URL` must be an https URL of a public host and
    /// `SMTP_URL` must use TLS; the API refuses to start otherwise.
    Production,
}

impl std::str::FromStr for AppEnv {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            other => Err(format!("expected development or production, got {other:?}")),
        }
    }
}

/// Everything the API needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `APP_ENV`, default `development`.
    pub env: AppEnv,
    /// `DATABASE_URL` (and `DATABASE_POOL_SIZE`).
    pub database: DatabaseConfig,
    /// `RUN_MIGRATIONS` (default true): migrate the schema at start. False in
    /// production, where the API's role may not change the schema and
    /// migrations are a deploy step of their own.
    pub run_migrations: bool,
    /// `LISTEN_ADDR`, default `127.0.0.1:8080`.
    pub listen_addr: SocketAddr,
    /// `ADMIN_LISTEN_ADDR` for `/metrics`, default `127.0.0.1:9090`.
    pub admin_listen_addr: SocketAddr,
    /// `REQUEST_TIMEOUT_MS`: a request taking longer gets a 503, default 10 s.
    pub request_timeout: Duration,
    /// `DB_WAIT_MS`: longest wait for a pooled connection, default 2 s.
    pub db_wait: Duration,
    /// `PERSONAL_POOL_SIZE`, default 8: connections kept for the signed-in
    /// routes alone, so anonymous traffic (which uses `DATABASE_POOL_SIZE`)
    /// can never leave them waiting.
    pub personal_pool_size: usize,
    /// `SHUTDOWN_DRAIN_MS`, default 5 s: after SIGTERM, how long `/readyz`
    /// answers 503 while everything else is still served, so the load
    /// balancer stops sending traffic before the listener closes.
    pub shutdown_drain: Duration,
    /// Limits on client connections.
    pub connections: ConnectionLimits,
    /// `FULFILLMENT_*`: see [`FulfillmentSettings`].
    pub fulfillment: FulfillmentSettings,
    /// `TRUST_FORWARDED_FOR` and `TRUSTED_PROXY_HOPS`: who a client is, for
    /// every per-client limit.
    pub client_addr: ClientAddrConfig,
    /// Login, sessions and throttling.
    pub auth: AuthConfig,
    /// `PSEUDONYM_KEY_FILE` (at least 32 bytes; required in production):
    /// keys every pseudonym the API stores or logs: usernames in the login
    /// throttle and the logs; recipients, client networks, idempotency keys
    /// and request bodies in the fulfillment caps. Unset in development: an
    /// ephemeral key, with a warning.
    pub pseudonyms: Pseudonyms,
    /// `SMTP_URL`, `MAIL_FROM`, `SITE_URL`: mail to account holders.
    pub mail: MailConfig,
    /// Account creation and recovery.
    pub accounts: AccountConfig,
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = parse_var("APP_ENV", "development")?;
        let mail = MailConfig::from_env(env)?;
        Ok(Self {
            env,
            database: DatabaseConfig::from_env()?,
            run_migrations: parse_var("RUN_MIGRATIONS", "true")?,
            listen_addr: parse_var("LISTEN_ADDR", "127.0.0.1:8080")?,
            admin_listen_addr: parse_var("ADMIN_LISTEN_ADDR", "127.0.0.1:9090")?,
            request_timeout: Duration::from_millis(parse_var("REQUEST_TIMEOUT_MS", "10000")?),
            db_wait: Duration::from_millis(parse_var("DB_WAIT_MS", "2000")?),
            personal_pool_size: parse_var("PERSONAL_POOL_SIZE", "8")?,
            shutdown_drain: Duration::from_millis(parse_var("SHUTDOWN_DRAIN_MS", "5000")?),
            connections: ConnectionLimits::from_env()?,
            fulfillment: FulfillmentSettings::from_env()?,
            client_addr: ClientAddrConfig::from_env()?,
            auth: AuthConfig::from_env(env)?,
            pseudonyms: pseudonyms_from_env(env)?,
            mail,
            accounts: AccountConfig::from_env()?,
        })
    }

    /// A configuration for tests: the given database, ephemeral ports.
    pub fn for_tests(database: DatabaseConfig) -> Self {
        Self {
            env: AppEnv::Development,
            database,
            run_migrations: true,
            listen_addr: "127.0.0.1:0".parse().expect("valid address"),
            admin_listen_addr: "127.0.0.1:0".parse().expect("valid address"),
            request_timeout: Duration::from_secs(10),
            db_wait: Duration::from_secs(2),
            personal_pool_size: 4,
            shutdown_drain: Duration::ZERO,
            connections: ConnectionLimits::default(),
            fulfillment: FulfillmentSettings::for_tests(),
            client_addr: ClientAddrConfig::peer_only(),
            auth: AuthConfig::for_tests(),
            // Fixed, so that replicas in one test count the same failures.
            pseudonyms: Pseudonyms::new(b"test pseudonym key: public, never used outside tests")
                .expect("long enough"),
            mail: MailConfig::default(),
            accounts: AccountConfig::default(),
        }
    }
}

/// Which proxies' `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddrConfig {
    /// `TRUST_FORWARDED_FOR=true` behind the load balancer: the client
    /// address is read from `X-Forwarded-For`, else it is the socket peer.
    pub trust_forwarded_for: bool,
    /// `TRUSTED_PROXY_HOPS`, default 1: how many right-most
    /// `X-Forwarded-For` entries our own proxies wrote beyond the load
    /// balancer (CloudFront's edge).
    pub trusted_proxy_hops: usize,
}

impl ClientAddrConfig {
    /// Reads `TRUST_FORWARDED_FOR` and `TRUSTED_PROXY_HOPS`.
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            trust_forwarded_for: parse_var("TRUST_FORWARDED_FOR", "false")?,
            trusted_proxy_hops: parse_var("TRUSTED_PROXY_HOPS", "1")?,
        })
    }

    /// The socket peer only: what a test or a bare local server wants.
    pub fn peer_only() -> Self {
        Self {
            trust_forwarded_for: false,
            trusted_proxy_hops: 1,
        }
    }
}

/// Bounds on what one client connection may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `MAX_CONNECTIONS`, default 1024: client connections served at once.
    /// Further ones wait in the listen backlog until one closes.
    pub max: usize,
    /// `HEADER_READ_TIMEOUT_MS`, default 10 s: an HTTP/1 client must send
    /// a request's headers within this time.
    pub header_read_timeout: Duration,
    /// `IDLE_TIMEOUT_MS`, default 75 s (longer than the load balancer's 60 s,
    /// so it is the balancer that closes a quiet connection): a connection (HTTP/1 or HTTP/2)
    /// with no request in flight and no bytes moving is closed after this.
    pub idle_timeout: Duration,
    /// `H2_KEEP_ALIVE_MS`, default 20 s: HTTP/2 pings an idle peer this
    /// often, and closes the connection if the ping is not answered within
    /// the same time.
    pub h2_keep_alive: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            h2_keep_alive: Duration::from_secs(20),
        }
    }
}

impl ConnectionLimits {
    fn from_env() -> Result<Self, ConfigError> {
        let ms = |name, default: &str| parse_var(name, default).map(Duration::from_millis);
        Ok(Self {
            max: parse_var("MAX_CONNECTIONS", "1024")?,
            header_read_timeout: ms("HEADER_READ_TIMEOUT_MS", "10000")?,
            idle_timeout: ms("IDLE_TIMEOUT_MS", "75000")?,
            h2_keep_alive: ms("H2_KEEP_ALIVE_MS", "20000")?,
        })
    }
}

/// Login, sessions and throttling.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `JWT_SIGNING_KEY_FILE` (Ed25519 PKCS#8 PEM: signs and verifies;
    /// required in production) and `JWT_PREVIOUS_KEY_FILE` (optional:
    /// verifies only, for rotation). Neither set in development: an
    /// ephemeral key, with a warning.
    pub keys: Keyring,
    /// `LOGIN_CONCURRENCY`, default the number of cores: password hashes
    /// computed at once.
    pub login_concurrency: usize,
    /// `PASSWORD_STRENGTH_CONCURRENCY`, default 2: new passwords judged for
    /// strength at once; a request that finds them all busy is answered 503
    /// with `Retry-After` instead of waiting.
    pub strength_concurrency: usize,
    /// Failed-login limits.
    pub throttle: ThrottleConfig,
    /// Session lifetimes.
    pub session: SessionConfig,
    /// `WRAP_LEGACY_HASHES_AT_START`, default true: wrap any bcrypt hash
    /// left in `"user"` into argon2id when the API starts.
    pub wrap_legacy_at_start: bool,
}

impl AuthConfig {
    fn from_env(env: AppEnv) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            keys: keyring_from_env(env)?,
            login_concurrency: parse_var("LOGIN_CONCURRENCY", &cores.to_string())?,
            strength_concurrency: parse_var("PASSWORD_STRENGTH_CONCURRENCY", "2")?,
            throttle: ThrottleConfig {
                per_user_client: parse_var("LOGIN_LIMIT_USER_CLIENT", "10/900")?,
                per_account: parse_var("LOGIN_LIMIT_ACCOUNT", "100/86400")?,
                per_client: parse_var("LOGIN_LIMIT_CLIENT", "50/60")?,
                known_client: Duration::from_secs(parse_var("LOGIN_KNOWN_CLIENT_SECS", "7776000")?),
            },
            session: SessionConfig {
                idle: Duration::from_secs(parse_var("SESSION_IDLE_SECS", "3600")?),
                absolute: Duration::from_secs(parse_var("SESSION_MAX_SECS", "43200")?),
                refresh_after: Duration::from_secs(parse_var("SESSION_REFRESH_SECS", "300")?),
            },
            wrap_legacy_at_start: parse_var("WRAP_LEGACY_HASHES_AT_START", "true")?,
        })
    }

    /// Defaults with an ephemeral key.
    pub fn for_tests() -> Self {
        Self {
            keys: Keyring::ephemeral().expect("the system random generator works"),
            login_concurrency: 2,
            strength_concurrency: 2,
            throttle: ThrottleConfig::default(),
            session: SessionConfig::default(),
            wrap_legacy_at_start: false,
        }
    }
}

fn pseudonyms_from_env(env: AppEnv) -> Result<Pseudonyms, ConfigError> {
    const NAME: &str = "PSEUDONYM_KEY_FILE";
    let invalid = |reason: String| ConfigError::Invalid { name: NAME, reason };
    let Some(path) = optional_var(NAME) else {
        if env == AppEnv::Production {
            return Err(ConfigError::Required {
                name: NAME,
                why: "without it every process pseudonymizes under a key of its own, so login \
                      throttling, the mail caps and idempotency keys would each be counted per \
                      process and start afresh at every restart",
            });
        }
        tracing::warn!(
            "PSEUDONYM_KEY_FILE is not set: pseudonyms use an ephemeral key, so each process \
             counts failed logins and mail requests on its own. Fine locally, never in production."
        );
        return Pseudonyms::ephemeral().map_err(|e| invalid(e.to_string()));
    };
    let secret = std::fs::read(&path).map_err(|e| invalid(format!("cannot read {path}: {e}")))?;
    Pseudonyms::new(secret.trim_ascii()).ok_or_else(|| {
        invalid(format!(
            "{path} holds fewer than {} bytes",
            pseudonym::MIN_KEY_BYTES
        ))
    })
}

fn keyring_from_env(env: AppEnv) -> Result<Keyring, ConfigError> {
    let read = |name: &'static str| -> Result<Option<String>, ConfigError> {
        optional_var(name)
            .map(|path| {
                std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                    name,
                    reason: format!("cannot read {path}: {e}"),
                })
            })
            .transpose()
    };
    let current = read("JWT_SIGNING_KEY_FILE")?;
    let previous = read("JWT_PREVIOUS_KEY_FILE")?;
    let Some(current) = current else {
        if env == AppEnv::Production {
            return Err(ConfigError::Required {
                name: "JWT_SIGNING_KEY_FILE",
                why: "without it every process signs with a key of its own, so sessions fail on \
                      every other replica and end at every restart",
            });
        }
        tracing::warn!(
            "JWT_SIGNING_KEY_FILE is not set: signing with an ephemeral key, so every session \
             ends when this process does. Fine locally, never in production."
        );
        return Keyring::ephemeral().map_err(|e| ConfigError::Invalid {
            name: "JWT_SIGNING_KEY_FILE",
            reason: e.to_string(),
        });
    };
    let keys = Keyring::from_pem(&current, None).map_err(|e| ConfigError::Invalid {
        name: "JWT_SIGNING_KEY_FILE",
        reason: e.to_string(),
    })?;
    match previous {
        None => Ok(keys),
        Some(previous) => {
            Keyring::from_pem(&current, Some(&previous)).map_err(|e| ConfigError::Invalid {
                name: "JWT_PREVIOUS_KEY_FILE",
                reason: e.to_string(),
            })
        }
    }
}

/// Mail to account holders (see [`crate::mail`]).
#[derive(Clone)]
pub struct MailConfig {
    /// `SMTP_URL`, default `smtp://127.0.0.1:1025` (a local catcher such as
    /// maildev, no TLS). `smtps://user:pass@host` for TLS from the start,
    /// `smtp://user:pass@host?tls=required` for STARTTLS.
    pub smtp_url: String,
    /// `MAIL_FROM`, default `whatever.gov <no-reply@whatever.gov>`.
    pub from: String,
    /// `SITE_URL`, default `http://localhost:8000`: the public site the
    /// links in mail point to, without a trailing slash. Its host must be a
    /// domain name (passkeys are scoped to it; see
    /// [`crate::state::AppState::new`]).
    pub site_url: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SMTP_URL may carry credentials.
        f.debug_struct("MailConfig")
            .field("from", &self.from)
            .field("site_url", &self.site_url)
            .finish_non_exhaustive()
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: "smtp://127.0.0.1:1025".into(),
            from: "whatever.gov <no-reply@whatever.gov>".into(),
            site_url: "http://localhost:8000".into(),
        }
    }
}

impl MailConfig {
    fn from_env(env: AppEnv) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let config = Self {
            smtp_url: optional_var("SMTP_URL").unwrap_or(defaults.smtp_url),
            from: optional_var("MAIL_FROM").unwrap_or(defaults.from),
            site_url: optional_var("SITE_URL")
                .unwrap_or(defaults.site_url)
                .trim_end_matches('/')
                .to_string(),
        };
        // Refuse an unusable setting at start, naming it, not at the first
        // mail: the checks the mailer's construction makes.
        if let Err(error) =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&config.smtp_url)
        {
            return Err(ConfigError::Invalid {
                name: "SMTP_URL",
                reason: format!("SMTP_URL: {error}"),
            });
        }
        if let Err(error) = config.from.parse::<lettre::message::Mailbox>() {
            return Err(ConfigError::Invalid {
                name: "MAIL_FROM",
                reason: format!("address: {error}"),
            });
        }
        if !(config.site_url.starts_with("https://") || config.site_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "SITE_URL",
                reason: format!("{:?} is not an http(s) URL", config.site_url),
            });
        }
        if env == AppEnv::Production {
            config.check_production()?;
        }
        Ok(config)
    }

    /// What production requires beyond a usable setting: the local defaults
    /// would send no mail anywhere, and put links and passkeys on a machine
    /// of the reader's own. `SITE_URL` must be https and name a public
    /// host (not `localhost`, a `.localhost` name or a loopback address);
    /// `SMTP_URL` must use TLS: `smtps://` (TLS from the first byte) or
    /// `smtp://…?tls=required` (STARTTLS, refused without it), never plain
    /// or opportunistic `smtp://`, which would send links and the SMTP
    /// login in clear.
    pub fn check_production(&self) -> Result<(), ConfigError> {
        let site =
            webauthn_rs::prelude::Url::parse(&self.site_url).map_err(|e| ConfigError::Invalid {
                name: "SITE_URL",
                reason: format!("{:?} is not a URL: {e}", self.site_url),
            })?;
        let host = site.host_str().unwrap_or_default();
        let local = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
            Err(_) => host == "localhost" || host.ends_with(".localhost") || host.is_empty(),
        };
        if site.scheme() != "https" || local {
            return Err(ConfigError::Invalid {
                name: "SITE_URL",
                reason: format!(
                    "{:?} must be an https URL of the public site when APP_ENV=production \
                     (mailed links and passkeys name it), not http or a local host",
                    self.site_url
                ),
            });
        }
        // Never quoted in the error: it may carry the SMTP login.
        let smtp = webauthn_rs::prelude::Url::parse(&self.smtp_url).ok();
        let tls = smtp.is_some_and(|url| {
            url.scheme() == "smtps"
                || (url.scheme() == "smtp"
                    && url
                        .query_pairs()
                        .any(|(key, value)| key == "tls" && value == "required"))
        });
        if !tls {
            return Err(ConfigError::Invalid {
                name: "SMTP_URL",
                reason: "plaintext SMTP is refused when APP_ENV=production: use \
                         smtps://host:465, or smtp://host:587?tls=required for STARTTLS"
                    .into(),
            });
        }
        Ok(())
    }
}

/// Account creation and recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// `ACCOUNT_LIMIT_FACTS`, default `5/3600`: attempts to create an account
    /// with one set of identity facts (last name, birth date, ZIP code), from
    /// anywhere: guessing the last four SSN digits of one person.
    pub per_facts: Limit,
    /// `ACCOUNT_LIMIT_CLIENT`, default `20/3600`: attempts from one address.
    pub per_client: Limit,
    /// `ACCOUNT_LIMIT_RECIPIENT`, default `3/86400`: account-creation mail
    /// to one address (normalized), whoever asks; past it the answer is the
    /// same and no mail goes.
    pub per_recipient: Limit,
    /// `VERIFY_EMAIL_TTL_SECS`, default 24 hours: how long an email
    /// verification link works.
    pub verify_email_ttl: Duration,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            per_facts: Limit {
                max: 5,
                window: Duration::from_secs(3600),
            },
            per_client: Limit {
                max: 20,
                window: Duration::from_secs(3600),
            },
            per_recipient: Limit {
                max: 3,
                window: Duration::from_secs(86_400),
            },
            verify_email_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

impl AccountConfig {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            per_facts: parse_var("ACCOUNT_LIMIT_FACTS", "5/3600")?,
            per_client: parse_var("ACCOUNT_LIMIT_CLIENT", "20/3600")?,
            per_recipient: parse_var("ACCOUNT_LIMIT_RECIPIENT", "3/86400")?,
            verify_email_ttl: Duration::from_secs(parse_var("VERIFY_EMAIL_TTL_SECS", "86400")?),
        })
    }
}

/// Failed-login limits: each is `MAX/SECONDS`, at most MAX failures within
/// a sliding window of SECONDS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// `LOGIN_LIMIT_USER_CLIENT`, default `10/900`: one username from one
    /// address. MAX failures come free; then each further try waits SECONDS
    /// after the last failure, twice as long after every new one (at most
    /// the account window).
    pub per_user_client: Limit,
    /// `LOGIN_LIMIT_ACCOUNT`, default `100/86400`: one username from every
    /// address it has not signed in from (NIST 800-63B allows no more than
    /// 100). Addresses it signed in from are held only by `per_user_client`,
    /// so guessing from elsewhere cannot lock the owner out.
    pub per_account: Limit,
    /// `LOGIN_LIMIT_CLIENT`, default `50/60`: one address, any username.
    pub per_client: Limit,
    /// `LOGIN_KNOWN_CLIENT_SECS`, default 90 days: how long an address an
    /// account signed in from stays exempt from that account's limit.
    pub known_client: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        let limit = |max, secs| Limit {
            max,
            window: Duration::from_secs(secs),
        };
        Self {
            per_user_client: limit(10, 900),
            per_account: limit(100, 86_400),
            per_client: limit(50, 60),
            known_client: Duration::from_secs(90 * 86_400),
        }
    }
}

impl ThrottleConfig {
    /// The longest window: failures older than this count for nothing.
    pub fn longest_window(&self) -> Duration {
        self.per_user_client
            .window
            .max(self.per_account.window)
            .max(self.per_client.window)
    }
}

/// At most `max` failures within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures allowed in the window.
    pub max: u32,
    /// The sliding window.
    pub window: Duration,
}

impl std::str::FromStr for Limit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (max, secs) = s
            .split_once('/')
            .ok_or("expected MAX/SECONDS, e.g. 10/900")?;
        let max = max.trim().parse().map_err(|e| format!("MAX: {e}"))?;
        let secs: u64 = secs.trim().parse().map_err(|e| format!("SECONDS: {e}"))?;
        if max == 0 || secs == 0 {
            return Err("MAX and SECONDS must be at least 1".into());
        }
        Ok(Self {
            max,
            window: Duration::from_secs(secs),
        })
    }
}

/// Session lifetimes (see [`crate::auth::session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// `SESSION_IDLE_SECS`, default 1 hour: a token's lifetime.
    pub idle: Duration,
    /// `SESSION_MAX_SECS`, default 12 hours: no session outlives its login by more.
    pub absolute: Duration,
    /// `SESSION_REFRESH_SECS`, default 5 minutes: a token older than this is
    /// replaced on use.
    pub refresh_after: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(3600),
            absolute: Duration::from_secs(12 * 3600),
            refresh_after: Duration::from_secs(300),
        }
    }
}
