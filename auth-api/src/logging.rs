//! Structured logs. Nothing personal is ever a field: no password, token,
//! SSN or postal address.

/// Installs the tracing subscriber; `RUST_LOG` filters (default `info`),
/// `LOG_FORMAT=json` gives JSON lines.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
