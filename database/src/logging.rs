//! Structured logs for both binaries, on stderr (the generator's stdout is
//! kept for its one summary line). It lives beside the database code for
//! the one rule that matters most: the database driver logs every
//! statement's parameters at debug level (usernames, password hashes,
//! SSNs), and those events are switched off whatever `RUST_LOG` says.
//! Nothing personal is ever a field of our own events either.

use tracing_subscriber::EnvFilter;

/// The driver's parameter logging, never on.
const NEVER: &str = "tokio_postgres::query=off";

/// `RUST_LOG` (else `default`) with the driver's parameter logging off.
pub fn filter(default: &str) -> EnvFilter {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    filter.add_directive(NEVER.parse().expect("a valid directive"))
}

/// Installs the tracing subscriber; `RUST_LOG` filters (default `info`),
/// `LOG_FORMAT=json` gives JSON lines for log shippers. A second call (tests)
/// is harmless.
pub fn init() {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_writer(std::io::stderr);
    let _ = if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
