//! The auth-api as its own process, as production runs it: configured by
//! the environment, measured from `/proc`, stopped by a signal.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running `auth-api` binary on a free `127.0.0.1` port; killed on drop
/// if still running.
pub struct ApiProcess {
    child: Child,
    port: u16,
}

impl ApiProcess {
    /// Starts `binary` (the test's `CARGO_BIN_EXE_auth-api`) with `env`
    /// added to a clean set of defaults (`LISTEN_ADDR` and
    /// `ADMIN_LISTEN_ADDR` on free ports, `RUST_LOG=warn`), and waits up to
    /// 60 s for `/healthz` to answer.
    ///
    /// A free port is only free when it is picked: another test starting a
    /// server at the same moment may take it before this process binds it.
    /// A process that exits before it is ready is therefore started again
    /// on other ports, up to three times in all, before it counts as failed.
    pub fn start(binary: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut attempt = 1;
        loop {
            match Self::start_once(binary, env) {
                Err(Start::ExitedEarly(_)) if attempt < 3 => attempt += 1,
                Err(Start::ExitedEarly(status)) => {
                    bail!("the auth-api exited before it was ready, {attempt} times: {status}")
                }
                Err(Start::Other(error)) => return Err(error),
                Ok(api) => return Ok(api),
            }
        }
    }

    fn start_once(binary: &Path, env: &[(&str, &str)]) -> Result<Self, Start> {
        let port = free_port().map_err(Start::Other)?;
        let admin = free_port().map_err(Start::Other)?;
        let mut command = Command::new(binary);
        command
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{admin}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))
            .map_err(Start::Other)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(Start::ExitedEarly(status));
            }
            if http_status(port, "/healthz", Duration::from_secs(1)) == Some(200) {
                return Ok(Self { child, port });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(Start::Other(anyhow::anyhow!(
                    "the auth-api did not answer /healthz within 60 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory, in KiB (`VmRSS` in `/proc/PID/status`).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS in /proc/PID/status")
    }

    /// Sends SIGTERM, as the container runtime does before a task stops.
    pub fn terminate(&self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.pid());
        Ok(())
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `limit` for it to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("the auth-api was still running {limit:?} later");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Why one start did not give a ready process.
enum Start {
    /// It exited before `/healthz` answered (its port may have been taken).
    ExitedEarly(ExitStatus),
    /// Anything else, not worth a retry.
    Other(anyhow::Error),
}

impl From<std::io::Error> for Start {
    fn from(error: std::io::Error) -> Self {
        Start::Other(error.into())
    }
}

/// The status of `GET path` on `127.0.0.1:port` over a new connection, or
/// `None` if there was no answer within `limit`.
pub fn http_status(port: u16, path: &str, limit: Duration) -> Option<u16> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, limit).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A local port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
