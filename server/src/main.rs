//! `vexil`: parse the command line, set up logs, run the subcommand.

use std::process::ExitCode;

use clap::Parser as _;
use vexil_server::{Cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match vexil_server::run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
