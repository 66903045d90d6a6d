//! nginx in front of several servers (JB-1..JB-4), started by the tests with the configuration
//! in `tests/nginx/ams.conf`. nginx comes from Debian's packages (`.ci/run` installs it); without
//! it the tests that need it say so and pass over, unless `AMS_TEST_REQUIRE_NGINX` is set.

use std::process::{Child, Command, Stdio};

/// The configuration, with `{dir}`, `{port}` and `{servers}` to fill in.
pub const CONFIG: &str = include_str!("../nginx/ams.conf");

pub struct Balancer {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Balancer {
    /// nginx on a free loopback port in front of `upstreams` (`127.0.0.1:port`); `None`
    /// when nginx is not installed (and not required).
    pub async fn start(upstreams: &[String]) -> Option<Balancer> {
        let nginx = std::env::var("AMS_TEST_NGINX").unwrap_or_else(|_| "nginx".into());
        if Command::new(&nginx).arg("-v").output().is_err() {
            assert!(
                std::env::var_os("AMS_TEST_REQUIRE_NGINX").is_none(),
                "nginx is required here ({nginx})"
            );
            eprintln!("nginx is not installed: the test behind a load balancer passes over");
            return None;
        }
        let dir = tempfile::tempdir().expect("nginx directory");
        let port = crate::started::free_port();
        let servers: Vec<String> = upstreams
            .iter()
            .map(|u| format!("server {u} max_fails=1 fail_timeout=5s;"))
            .collect();
        let path = dir.path().display().to_string();
        let config = CONFIG
            .replace("{dir}", &path)
            .replace("{port}", &port.to_string())
            .replace("{servers}", &servers.join("\n        "));
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).expect("write nginx.conf");
        let child = Command::new(&nginx)
            .args(["-p", &path, "-c"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let base = format!("http://127.0.0.1:{port}");
        crate::started::wait_until_healthy(&service::http::client(), &base).await;
        Some(Balancer {
            child,
            base,
            _dir: dir,
        })
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
