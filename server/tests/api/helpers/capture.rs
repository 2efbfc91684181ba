//! Everything a test run of the proxy emits — every response (status, headers, body) and
//! every log line — so that each `TestApp` can prove, when it is dropped, that neither the
//! merchant's client_secret nor any secret_hash it generated ever left the proxy that way.

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Every log line of the test binary (all tests share the global subscriber).
static LOGS: LazyLock<Mutex<Vec<u8>>> = LazyLock::new(|| Mutex::new(Vec::new()));

struct LogCapture;

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures logs at debug for every crate and trace for the proxy (more than production logs).
pub fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(epay_proxy::telemetry::quiet_drivers(tracing_subscriber::EnvFilter::new("debug,epay_proxy=trace")))
        .with_ansi(false)
        .with_writer(|| LogCapture)
        .try_init();
}

pub fn logs() -> Vec<u8> {
    LOGS.lock().unwrap().clone()
}

/// How many bytes the capture holds now.
pub fn logs_len() -> usize {
    LOGS.lock().unwrap().len()
}

/// Everything logged since `start` (by every test running meanwhile, which only adds lines to
/// check).
pub fn logs_since(start: usize) -> Vec<u8> {
    LOGS.lock().unwrap()[start..].to_vec()
}

/// Responses one proxy served.
pub type Responses = Arc<Mutex<Vec<u8>>>;

/// Middleware: records each response whole, then passes it on unchanged.
pub async fn record(State(responses): State<Responses>, request: Request, next: Next) -> Response {
    let line = format!("{} {}", request.method(), request.uri());
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    {
        let mut all = responses.lock().unwrap();
        all.extend_from_slice(format!("{line} -> {}\n{:?}\n", parts.status, parts.headers).as_bytes());
        all.extend_from_slice(&bytes);
        all.push(b'\n');
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The first of `secrets` found in `haystack`, if any (one pass for all of them).
pub fn leaked<'a>(haystack: &[u8], secrets: &'a [String]) -> Option<&'a str> {
    let secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    let finder = aho_corasick::AhoCorasick::new(&secrets).expect("secrets make a valid automaton");
    finder.find(haystack).map(|found| secrets[found.pattern().as_usize()].as_str())
}
