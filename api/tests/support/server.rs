//! The `ams` binary as a child process, for the tests that read its output or kill it.

use std::process::{Child, Command, Stdio};

#[path = "../../../tests/src/started.rs"]
mod started;

/// The `ams` binary serving `url` on a free port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts the server with `admin_password` and extra settings, its logs (standard error)
    /// sent to `stderr`, and waits until it answers.
    pub async fn start(
        url: &str,
        admin_password: &str,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Server {
        let port = started::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_ams"))
            .env("AMS_DATABASE_URL", url)
            .env("AMS_BIND", format!("127.0.0.1:{port}"))
            .env("AMS_ADMIN_PASSWORD", admin_password)
            .env("AMS_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start ams");
        let base = format!("http://127.0.0.1:{port}");
        started::wait_until_healthy(&service::http::client(), &base).await;
        Server { child, base }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
