//! A Postgres cluster of a test's own, on a free local port in a temporary
//! directory, that the test may stop and start at will: the database going
//! away under a running service, without touching the shared server.
//!
//! The binaries are PostgreSQL 15's (`PG_BIN`, default
//! `/usr/lib/postgresql/15/bin`). Postgres refuses to run as root, so when
//! the tests run as root (as in CI) every command runs as the `postgres`
//! user through `runuser`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::process::free_port;

/// A running (or stopped) private cluster; stopped and deleted on drop.
pub struct PrivateCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

impl PrivateCluster {
    /// Creates a cluster (trust authentication, user `postgres`, UTF-8) and
    /// starts it on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let bin = PathBuf::from(
            std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        let as_postgres = is_root()?;
        let dir = tempfile::Builder::new()
            .prefix("private-pg-")
            .tempdir()
            .context("creating the cluster's directory")?;
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        let mut cluster = Self {
            dir,
            port: 0,
            bin,
            as_postgres,
        };
        let data = cluster.data_dir();
        cluster.pg(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        // Another process may take the port between our probe and the
        // server's bind: try a few.
        let mut last_error = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.start_again() {
                Ok(()) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    /// `postgres://postgres@127.0.0.1:PORT/{database}`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The port it listens on (also while stopped: it comes back there).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        self.pg(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
        )
        .map(drop)
    }

    /// Runs SQL in `database` with psql, stopping at the first error.
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let out = self.pg(
            "psql",
            &[
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Stops the server the way a failover or a restart does: open
    /// sessions are ended (`pg_ctl stop -m fast`).
    pub fn stop(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            ],
        )
        .map(drop)
    }

    /// Starts the (stopped) server again on the same port and waits until
    /// it accepts connections.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off",
            self.port,
            path_str(self.dir.path())?
        );
        self.pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
        .with_context(|| {
            format!(
                "starting the private cluster; its log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.psql("postgres", "SELECT 1").is_err() {
            if Instant::now() > deadline {
                bail!("the private cluster on port {} does not answer", self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the Postgres binaries, as `postgres` when we are root.
    fn pg(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(self.dir.path());
        run(&mut command)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()) {
            let _ = self.pg("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
    }
}

fn run(command: &mut Command) -> anyhow::Result<Output> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

fn is_root() -> anyhow::Result<bool> {
    let out = run(Command::new("id").arg("-u"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
