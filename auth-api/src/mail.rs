//! Mail to account holders, by SMTP to `SMTP_URL` (see
//! [`MailConfig`]).
//!
//! Mail is sent after the request that causes it has been answered, on a
//! task of its own: a slow or absent SMTP server never delays an answer, and
//! an answer's timing never tells whether a mail was sent (account creation
//! and password reset send one whoever asks). A message body can hold a
//! single-use link, so bodies are never logged: a failure is logged with
//! the message's kind only.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

/// One message to one person.
#[derive(Clone)]
pub struct Mail {
    /// What kind of message it is, for logs and metrics (`verify_email`, ...).
    pub kind: &'static str,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may hold a link that signs someone in: never printed.
        f.debug_struct("Mail").field("kind", &self.kind).finish()
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `SMTP_URL` could not be used.
    #[error("SMTP_URL: {0}")]
    Url(lettre::transport::smtp::Error),
    /// The recipient or sender is not a mail address.
    #[error("address: {0}")]
    Address(#[from] lettre::address::AddressError),
    /// The message could not be built.
    #[error("message: {0}")]
    Message(#[from] lettre::error::Error),
    /// The SMTP server refused it or could not be reached.
    #[error("smtp: {0}")]
    Smtp(lettre::transport::smtp::Error),
}

/// Sends mail through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry SMTP credentials.
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

/// How long one delivery to the SMTP server may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

impl Mailer {
    /// A mailer for `config`'s server. Connects only when sending.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(MailError::Url)?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            transport,
            from: config.from.parse()?,
        })
    }

    /// Sends `mail` to `to` and waits for the server to take it.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.parse()?))
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        self.transport
            .send(message)
            .await
            .map_err(MailError::Smtp)?;
        Ok(())
    }

    /// Sends `mail` to `to` on a task of its own; a failure is logged (the
    /// kind of message, never its body or the address) and counted.
    pub fn send_later(&self, to: String, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            match mailer.send(&to, &mail).await {
                Ok(()) => {
                    metrics::counter!("mail_sent_total", "kind" => mail.kind).increment(1);
                    tracing::debug!(kind = mail.kind, "mail sent");
                }
                Err(error) => {
                    metrics::counter!("mail_failed_total", "kind" => mail.kind).increment(1);
                    tracing::warn!(kind = mail.kind, %error, "mail not sent");
                }
            }
        });
    }
}
