//! A real SMTP server that keeps what it receives: maildev (from the
//! project's npm packages), on free ports, read through its REST API.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Maildev {
    child: Child,
    smtp_port: u16,
    web_port: u16,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One message as maildev keeps it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

impl Received {
    /// The token in the message's `#token=` link.
    pub fn token(&self) -> String {
        let start = self
            .text
            .find("#token=")
            .unwrap_or_else(|| panic!("no link in {:?}", self.text))
            + "#token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

impl Maildev {
    /// Starts maildev and waits until its API answers.
    pub async fn start() -> Self {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/maildev");
        assert!(
            bin.exists(),
            "{} is missing: run `npm ci` at the repository root",
            bin.display()
        );
        let (smtp_port, web_port) = (free_port(), free_port());
        let child = Command::new(bin)
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1", "--silent"])
            .args([
                "--smtp",
                &smtp_port.to_string(),
                "--web",
                &web_port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("maildev starts");
        let maildev = Self {
            child,
            smtp_port,
            web_port,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(resp) = maildev.http.get(maildev.api("/email")).send().await
                && resp.status().is_success()
            {
                return maildev;
            }
            assert!(Instant::now() < deadline, "maildev did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web_port)
    }

    /// Every message received so far, oldest first.
    pub async fn messages(&self) -> Vec<Received> {
        let list: Vec<Value> = self
            .http
            .get(self.api("/email"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.iter()
            .map(|m| Received {
                to: m["to"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t["address"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                subject: m["subject"].as_str().unwrap_or("").to_string(),
                text: m["text"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    }

    /// Messages to `to`, once there are at least `n` of them.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mine: Vec<Received> = self
                .messages()
                .await
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t == to))
                .collect();
            if mine.len() >= n {
                return mine;
            }
            assert!(
                Instant::now() < deadline,
                "{n} messages to {to} expected, got {mine:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
