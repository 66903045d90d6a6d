//! The `ams` command (`api::cli`), built by this crate so that its tests can run it
//! (`env!("CARGO_BIN_EXE_ams-cli")`): with no subcommand it serves, as `ams` does. Named apart
//! from `ams` because two binaries of one name in a workspace overwrite each other in `target/`.

use std::process::ExitCode;

// The allocator of `ams` itself, so that the server under test is the one that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    api::cli::main().await
}
