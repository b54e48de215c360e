//! TLS to Postgres, against the local server, which runs with `ssl = on`
//! and a self-signed certificate for `localhost` (Debian's default): the
//! certificate must verify against the configured CA, name and all, or
//! nothing connects.

use std::path::PathBuf;

use whatever_database::DatabaseConfig;
use whatever_database::pool::{DEFAULT_WAIT, build_pool};

/// The server's own certificate file, read from the server.
async fn server_certificate() -> PathBuf {
    let plain = DatabaseConfig::from_url("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
    let client = plain.connect().await.unwrap();
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(
        ssl, "on",
        "these tests need the local Postgres to accept TLS (ssl = on)"
    );
    let file: String = client
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    PathBuf::from(file)
}

fn config(url: &str, ca_file: Option<PathBuf>) -> DatabaseConfig {
    let mut config = DatabaseConfig::from_url(url).unwrap();
    config.ca_file = ca_file;
    config
}

/// The error of a connection that must not happen.
fn refused<T>(result: whatever_database::Result<T>) -> whatever_database::Error {
    match result {
        Ok(_) => panic!("connected, but must have been refused"),
        Err(error) => error,
    }
}

/// Whether this session's own connection is encrypted.
async fn encrypted(client: &tokio_postgres::Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn sslmode_require_encrypts_and_verifies_the_server() {
    let certificate = server_certificate().await;
    let secure = config(
        "postgres://postgres@localhost:5432/postgres?sslmode=require",
        Some(certificate.clone()),
    );
    assert!(encrypted(&secure.connect().await.unwrap()).await);
    // The pool connects the same way.
    let pool = build_pool(&secure, DEFAULT_WAIT).unwrap();
    assert!(encrypted(&pool.get().await.unwrap()).await);

    // The same server under another name: the certificate is for localhost.
    let by_address = config(
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=require",
        Some(certificate),
    );
    let error = refused(by_address.connect().await);
    assert!(error.to_string().contains("127.0.0.1"), "{error}");

    // Trusting only the public CAs (Debian's bundle), the self-signed
    // certificate is refused. (The system's roots would not do here: Debian
    // keeps this very certificate in /etc/ssl/certs.)
    let public_cas = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    assert!(
        public_cas.exists(),
        "the ca-certificates package is installed"
    );
    let untrusted = config(
        "postgres://postgres@localhost:5432/postgres?sslmode=require",
        Some(public_cas),
    );
    let error = refused(untrusted.connect().await);
    assert!(
        format!("{error:?}").to_lowercase().contains("certificate"),
        "{error:?}"
    );
}

#[tokio::test]
async fn without_sslmode_require_a_local_server_is_reached_in_plain_text() {
    let local = config("postgres://postgres@127.0.0.1:5432/postgres", None);
    assert!(!encrypted(&local.connect().await.unwrap()).await);
}
