//! The real `epay-proxy` binary as a child process: started with the test's environment,
//! waited for until `/healthz` answers, killed with SIGKILL (`Child::kill`) like a crash.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// A free port on `ip` (a loopback address: 127.0.0.1, 127.0.0.2, …).
pub fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}

/// Starts the proxy with `vars` (on top of a sandbox-mode base: no widget, no rate limits),
/// appending its output to `log`.
pub fn start(vars: &[(&str, String)], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_epay-proxy"));
    command
        .env("EPAY_ENV", "sandbox")
        .env("WIDGET_DIR", "/nonexistent")
        .env("CHECKOUT_RATE_PER_MINUTE", "0")
        .env("EPAY_TOKEN_RATE_PER_MINUTE", "0")
        .env("CHECKOUT_OPEN_AMOUNTS", "true")
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (name, value) in vars {
        command.env(name, value);
    }
    command.spawn().expect("start epay-proxy")
}

/// Waits until `base` answers `/healthz` (five seconds at most).
pub async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the proxy at {base} did not come up");
}
