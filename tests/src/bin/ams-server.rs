//! The server alone, configured from the environment as `ams serve` is: the fault and
//! concurrency tests start it as a child process to kill it or run two of it.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    config: api::config::Config,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match api::app::serve(cli.config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
