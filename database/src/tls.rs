//! Encryption of database connections.
//!
//! A connection string with `sslmode=require` gets TLS through rustls, and
//! the server's certificate is verified against `DATABASE_CA_FILE` (a PEM
//! bundle, e.g. the RDS CA bundle) or, without it, the system's roots,
//! including the host name: what libpq calls `verify-full`. Any other
//! `sslmode` connects in plain text, which is what a local server with
//! trust authentication wants; production URLs must say `require`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Error, Result};

/// The TLS connector for `pg`, or `None` when the connection string does
/// not require TLS.
pub fn connector(
    pg: &tokio_postgres::Config,
    ca_file: Option<&Path>,
) -> Result<Option<MakeRustlsConnect>> {
    if pg.get_ssl_mode() != SslMode::Require {
        return Ok(None);
    }
    let roots = match ca_file {
        Some(path) => roots_from_file(path)?,
        None => system_roots()?,
    };
    // The provider is named, not taken from the process default: the
    // dependency tree enables more than one, and rustls then has no default.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("no usable TLS protocol version: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

fn roots_from_file(path: &Path) -> Result<RootCertStore> {
    let unreadable = |reason: String| {
        Error::Tls(format!(
            "DATABASE_CA_FILE {}: {reason}",
            PathBuf::from(path).display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certs.is_empty() {
        return Err(unreadable("holds no PEM certificate".into()));
    }
    let mut roots = RootCertStore::empty();
    let (_, rejected) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        return Err(unreadable(format!(
            "none of its {rejected} certificates can be a trust anchor"
        )));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(Error::Tls(
            "sslmode=require, but the system has no CA certificates; \
             set DATABASE_CA_FILE to the server's CA bundle"
                .into(),
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn only_require_turns_tls_on() {
        for url in [
            "postgres://u@h/db",
            "postgres://u@h/db?sslmode=disable",
            "postgres://u@h/db?sslmode=prefer",
        ] {
            let pg = tokio_postgres::Config::from_str(url).unwrap();
            assert!(connector(&pg, None).unwrap().is_none(), "{url}");
        }
    }

    #[test]
    fn a_bad_ca_file_is_an_error_that_names_it() {
        let pg = tokio_postgres::Config::from_str("postgres://u@h/db?sslmode=require").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let refused = |r: Result<Option<MakeRustlsConnect>>| match r {
            Ok(_) => panic!("accepted"),
            Err(error) => error,
        };
        let error = refused(connector(&pg, Some(&empty)));
        assert!(error.to_string().contains("empty.pem"), "{error}");
        let missing = refused(connector(&pg, Some(&dir.path().join("missing.pem"))));
        assert!(missing.to_string().contains("missing.pem"), "{missing}");
    }
}
