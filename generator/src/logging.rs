//! Structured logs on stderr, so stdout stays free for the summary line.

/// Installs the tracing subscriber; `RUST_LOG` filters (default `info`),
/// `LOG_FORMAT=json` switches to JSON lines for log shippers.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    // The database driver logs statement parameters at debug level; sync and
    // seed bind beneficiary rows (SSNs), so those events are always off.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "tokio_postgres::query=off"
                .parse()
                .expect("a valid directive"),
        );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) is harmless.
    let _ = result;
}
