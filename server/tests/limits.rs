//! Abuse limits: the per-client checkout rate, security headers and CSP on everything
//! served, and slow clients cut off (headers and bodies).

mod common;

use std::time::{Duration, Instant};

use common::TestApp;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn checkouts_are_limited_per_client_with_a_json_429() {
    let app = TestApp::spawn_with(&[("CHECKOUT_RATE_PER_MINUTE", "6"), ("CHECKOUT_RATE_BURST", "3")]).await;
    for _ in 0..3 {
        assert_eq!(app.checkout(&json!({"amount": "100"}), None).await.0, 200);
    }
    let response = app.http.post(app.url("/api/checkout")).json(&json!({"amount": "100"})).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 3);
    // The limiter the route counted with is the one the process prunes (one client so far).
    assert_eq!(app.state.checkout_limiter.as_ref().unwrap().limiter().len(), 1);
    // Other routes are not limited.
    assert_eq!(app.http.get(app.url("/api/widget-config")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let app = TestApp::spawn_with(&[("CHECKOUT_RATE_PER_MINUTE", "6"), ("CHECKOUT_RATE_BURST", "1"), ("TRUST_FORWARDED_FOR", "true")]).await;
    let from = |ip: &'static str| {
        app.http.post(app.url("/api/checkout")).header("x-forwarded-for", ip).json(&json!({"amount": "100"})).send()
    };
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
    assert_eq!(from("203.0.113.2").await.unwrap().status(), 200, "another client has its own bucket");
}

#[tokio::test]
async fn everything_served_carries_security_headers_and_a_fitting_csp() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.http.get(app.url(path)).send();

    let page = get("/").await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "strict-origin");
    assert_eq!(page.headers()["x-frame-options"], "DENY");

    let api = get("/api/widget-config").await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert_eq!(api.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let (_, checkout) = app.checkout(&json!({"amount": "100"}), None).await;
    let order = app.http.get(app.url(&format!("/api/orders/{}", checkout["invoiceId"].as_str().unwrap())))
        .header("x-order-key", checkout["orderKey"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(order.headers()["cache-control"], "no-store");

    // The sandbox payment page may be framed (the overlay) and has no inline script.
    let payform = app.http.get(app.payform_url(&checkout, "&isTransfer=true")).send().await.unwrap();
    let csp = payform.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors *") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(payform.headers().get("x-frame-options").is_none());
    assert!(!payform.text().await.unwrap().contains("<script>"), "no inline scripts on the payment page");
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    // Headers that never end.
    let mut trickle = TcpStream::connect(app.addr).await.unwrap();
    trickle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // A body that never comes.
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled
        .write_all(b"POST /api/epay/postlink HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\"")
        .await
        .unwrap();

    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), trickle.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the trickling connection was not closed");
    let answer = String::from_utf8_lossy(&buf).to_string();
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");

    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(20), stalled.read(&mut buf)).await.expect("no answer to a stalled body").unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 0, "a body that never arrived records nothing");
}
