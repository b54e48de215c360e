//! The `auth-api` binary: reads its config from the environment and serves.

fn main() -> anyhow::Result<()> {
    auth_api::logging::init();
    let config = auth_api::config::Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(auth_api::server::run(config))
}
