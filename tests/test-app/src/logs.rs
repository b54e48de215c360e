//! The logs of the test process, captured at every level so that tests can
//! check what is logged and, above all, what never is.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything logged by this test process since [`capture_logs`].
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every log line of the process into a buffer that [`logs`] reads.
/// The subscriber is process-wide, so the first call installs it and later
/// ones do nothing; every [`crate::TestApp`] calls this before it starts.
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = BufferWriter(buffer.clone());
        // The production filter, opened up to every level.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(whatever_database::logging::filter("trace"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    });
}

/// The logs captured so far (empty before [`capture_logs`]).
pub fn logs() -> String {
    LOGS.get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap_or_else(|e| e.into_inner())).into_owned())
        .unwrap_or_default()
}
