//! `ams`: the server and its administration commands (see [`api::cli`]).

use std::process::ExitCode;

// A request allocates many small objects across threads; glibc's allocator spent a fifth of a
// loaded server's time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    api::cli::main().await
}
