//! The `auth-api` binary: reads its config from the environment and serves.
//!
//! `auth-api hash-password` instead reads a password from stdin and prints
//! its argon2id hash, the form `"user".password` holds.

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("hash-password") {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!password.is_empty(), "no password on stdin");
        println!("{}", auth_api::auth::password::hash_password(password));
        return Ok(());
    }
    whatever_database::logging::init();
    let config = auth_api::config::Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(auth_api::server::run(config))
}
