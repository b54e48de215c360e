//! With `APP_ENV=production` the API refuses to start without its secret
//! keys instead of making up ephemeral ones (which would count failed
//! logins and mail requests per process, and end sessions at every
//! restart), and with the local mail defaults: an http or local
//! `SITE_URL` (links and passkeys pointing at the reader's own machine) or
//! plaintext SMTP. Run as the binary, as production runs it: the settings
//! are read from the environment.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

/// A key a deployment might hold; it must never appear in the output.
const PSEUDONYM_KEY: &str = "k7Qx2mVb9TzR4nLp8sWc1yHd6fJg3aEu5oKi0qXrZtNv";

/// What the binary did: reached "listening" (then it is stopped), or
/// exited on its own; and everything it wrote to stderr until then.
struct Outcome {
    listening: bool,
    exited_ok: Option<bool>,
    stderr: String,
}

fn run(env: &[(&str, &str)]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-api"))
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:9/whatever_unused",
        )
        .env("RUN_MIGRATIONS", "false")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ADMIN_LISTEN_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("auth-api starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut lines = Vec::new();
    let mut listening = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                listening |= line.contains("auth-api listening");
                lines.push(line);
                if listening {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("neither listening nor exited: {lines:#?}");
            }
        }
    }
    let exited_ok = if listening {
        child.kill().unwrap();
        child.wait().unwrap();
        None
    } else {
        Some(child.wait().unwrap().success())
    };
    Outcome {
        listening,
        exited_ok,
        stderr: lines.join("\n"),
    }
}

struct KeyFiles {
    _dir: tempfile::TempDir,
    jwt: String,
    pseudonym: String,
}

fn key_files() -> KeyFiles {
    let dir = tempfile::tempdir().unwrap();
    let jwt = dir.path().join("jwt.pem");
    std::fs::write(&jwt, auth_api::auth::keys::generate_pem().unwrap()).unwrap();
    let pseudonym = dir.path().join("pseudonym.key");
    std::fs::write(&pseudonym, format!("{PSEUDONYM_KEY}\n")).unwrap();
    KeyFiles {
        jwt: jwt.to_str().unwrap().to_string(),
        pseudonym: pseudonym.to_str().unwrap().to_string(),
        _dir: dir,
    }
}

/// Mail settings production accepts.
const SITE_URL: (&str, &str) = ("SITE_URL", "https://www.whatever.example.gov");
const SMTP_URL: (&str, &str) = (
    "SMTP_URL",
    "smtps://user:smtp-secret-9@email-smtp.us-east-1.amazonaws.com:465",
);

#[test]
fn production_without_a_pseudonym_key_refuses_to_start_and_says_why() {
    let keys = key_files();
    let out = run(&[
        SITE_URL,
        SMTP_URL,
        ("APP_ENV", "production"),
        ("JWT_SIGNING_KEY_FILE", &keys.jwt),
    ]);
    assert!(!out.listening, "{}", out.stderr);
    assert_eq!(out.exited_ok, Some(false), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("PSEUDONYM_KEY_FILE must be set when APP_ENV=production"),
        "{}",
        out.stderr
    );
}

#[test]
fn production_without_a_signing_key_refuses_to_start_and_says_why() {
    let keys = key_files();
    let out = run(&[
        SITE_URL,
        SMTP_URL,
        ("APP_ENV", "production"),
        ("PSEUDONYM_KEY_FILE", &keys.pseudonym),
    ]);
    assert_eq!(out.exited_ok, Some(false), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("JWT_SIGNING_KEY_FILE must be set when APP_ENV=production"),
        "{}",
        out.stderr
    );
}

#[test]
fn production_with_both_keys_starts_and_never_logs_the_key() {
    let keys = key_files();
    let out = run(&[
        SITE_URL,
        SMTP_URL,
        ("APP_ENV", "production"),
        ("JWT_SIGNING_KEY_FILE", &keys.jwt),
        ("PSEUDONYM_KEY_FILE", &keys.pseudonym),
    ]);
    assert!(out.listening, "{}", out.stderr);
    assert!(!out.stderr.contains("ephemeral"), "{}", out.stderr);
    assert!(!out.stderr.contains(PSEUDONYM_KEY), "the key was logged");
}

#[test]
fn development_without_keys_starts_with_a_warning() {
    let out = run(&[]);
    assert!(out.listening, "{}", out.stderr);
    assert!(
        out.stderr.contains("PSEUDONYM_KEY_FILE is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_app_env_is_refused() {
    let out = run(&[("APP_ENV", "prod")]);
    assert_eq!(out.exited_ok, Some(false), "{}", out.stderr);
    assert!(out.stderr.contains("APP_ENV"), "{}", out.stderr);
}

/// What the binary says under `APP_ENV=production`, with both keys and the
/// mail settings `mail` (unset ones at their local defaults).
fn production_with_mail(mail: &[(&str, &str)]) -> Outcome {
    let keys = key_files();
    let mut env = vec![
        ("APP_ENV", "production"),
        ("JWT_SIGNING_KEY_FILE", keys.jwt.as_str()),
        ("PSEUDONYM_KEY_FILE", keys.pseudonym.as_str()),
    ];
    env.extend_from_slice(mail);
    run(&env)
}

#[test]
fn production_refuses_a_site_url_that_is_http_or_local_and_names_it() {
    for site in [
        // The local default, left unset.
        None,
        Some("http://www.whatever.example.gov"),
        Some("https://localhost:8000"),
        Some("https://app.localhost"),
        Some("https://127.0.0.1"),
        Some("https://[::1]:8443"),
    ] {
        let mut mail = vec![SMTP_URL];
        mail.extend(site.map(|site| ("SITE_URL", site)));
        let out = production_with_mail(&mail);
        assert_eq!(out.exited_ok, Some(false), "{site:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("SITE_URL:") && out.stderr.contains("APP_ENV=production"),
            "{site:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn production_refuses_plaintext_smtp_and_names_it_without_quoting_it() {
    for smtp in [
        // The local default, left unset.
        None,
        Some("smtp://user:smtp-secret-9@smtp.example.gov:587"),
        Some("smtp://user:smtp-secret-9@smtp.example.gov:587?tls=opportunistic"),
    ] {
        let mut mail = vec![SITE_URL];
        mail.extend(smtp.map(|smtp| ("SMTP_URL", smtp)));
        let out = production_with_mail(&mail);
        assert_eq!(out.exited_ok, Some(false), "{smtp:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("SMTP_URL: plaintext SMTP is refused"),
            "{smtp:?}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("smtp-secret-9"),
            "the SMTP login was logged"
        );
    }
}

#[test]
fn production_starts_with_starttls_required() {
    let out = production_with_mail(&[
        SITE_URL,
        (
            "SMTP_URL",
            "smtp://user:smtp-secret-9@smtp.example.gov:587?tls=required",
        ),
    ]);
    assert!(out.listening, "{}", out.stderr);
    assert!(
        !out.stderr.contains("smtp-secret-9"),
        "the SMTP login was logged"
    );
}
