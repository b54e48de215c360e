//! The `generator` binary: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = generator::cli::Cli::parse();
    whatever_database::logging::init();
    generator::run(cli)
}
