//! The `fake-fulfillment` binary: the fake Fulfillment API on a fixed
//! address, for running the auth-api locally against something that can fail.

use std::net::SocketAddr;

use clap::Parser;

/// A fake Fulfillment API. Point the auth-api's FULFILLMENT_URL at it, then
/// steer it with `curl -XPOST localhost:8090/_control -d '{"mode":"fail","status":503}'`
/// (modes: succeed, fail + status, slow + delay_ms, hang) and inspect it with
/// `curl localhost:8090/_received`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let fake = fake_fulfillment::FakeFulfillment::start_on(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    tracing::info!(url = %fake.url(), "fake Fulfillment API listening");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
