//! Abuse limits: the per-client checkout rate, security headers and CSP on everything
//! served, and slow clients cut off (headers and bodies).

use std::time::{Duration, Instant};

use crate::helpers::{JsonAnswer, TestApp};
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
    let app =
        TestApp::spawn_with(&[("CHECKOUT_RATE_PER_MINUTE", "6"), ("CHECKOUT_RATE_BURST", "1"), ("TRUST_FORWARDED_FOR", "true")]).await;
    let from =
        |ip: &'static str| app.http.post(app.url("/api/checkout")).header("x-forwarded-for", ip).json(&json!({"amount": "100"})).send();
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
    let order = app
        .http
        .get(app.url(&format!("/api/orders/{}", checkout["invoiceId"].as_str().unwrap())))
        .header("x-order-key", checkout["orderKey"].as_str().unwrap())
        .send()
        .await
        .unwrap();
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

#[tokio::test]
async fn the_client_is_the_rightmost_forwarded_address_and_ipv6_counts_by_64() {
    let app =
        TestApp::spawn_with(&[("CHECKOUT_RATE_PER_MINUTE", "6"), ("CHECKOUT_RATE_BURST", "1"), ("TRUST_FORWARDED_FOR", "true")]).await;
    let from = |forwarded: &'static str| {
        app.http.post(app.url("/api/checkout")).header("x-forwarded-for", forwarded).json(&json!({"amount": "100"})).send()
    };
    // The client writes whatever it likes on the left; nginx appends what it saw.
    assert_eq!(from("1.1.1.1, 203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(from("2.2.2.2, 203.0.113.1").await.unwrap().status(), 429, "a new made-up address is the same client");
    // One subscriber's /64 is one client.
    assert_eq!(from("2001:db8:1:2::1").await.unwrap().status(), 200);
    assert_eq!(from("2001:db8:1:2:ffff::9").await.unwrap().status(), 429);
    assert_eq!(from("2001:db8:1:3::1").await.unwrap().status(), 200);

    let two_hops = TestApp::spawn_with(&[
        ("CHECKOUT_RATE_PER_MINUTE", "6"),
        ("CHECKOUT_RATE_BURST", "1"),
        ("TRUST_FORWARDED_FOR", "true"),
        ("TRUSTED_PROXY_HOPS", "2"),
    ])
    .await;
    let from = |forwarded: &'static str| {
        two_hops.http.post(two_hops.url("/api/checkout")).header("x-forwarded-for", forwarded).json(&json!({"amount": "100"})).send()
    };
    assert_eq!(from("6.6.6.6, 203.0.113.5, 198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("7.7.7.7, 203.0.113.5, 198.51.100.2").await.unwrap().status(), 429, "the CDN saw the same client");
}

#[tokio::test]
async fn global_caps_on_open_orders_and_token_requests_answer_503() {
    let app = TestApp::spawn_with(&[("MAX_OPEN_ORDERS", "2")]).await;
    for _ in 0..2 {
        assert_eq!(app.checkout(&json!({"amount": "100"}), None).await.0, 200);
    }
    let response = app.http.post(app.url("/api/checkout")).json(&json!({"amount": "100"})).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "too_many_open_orders");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 2, "nothing was stored for the refused checkout");

    let app = TestApp::spawn_with(&[("EPAY_TOKEN_RATE_PER_MINUTE", "2")]).await;
    for _ in 0..2 {
        assert_eq!(app.checkout(&json!({"amount": "100"}), None).await.0, 200);
    }
    let response =
        app.http.post(app.url("/api/checkout")).header("idempotency-key", "later").json(&json!({"amount": "100"})).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "token_rate_exceeded");
    // The order waits as start_failed: a retry with the same key restarts it, no second invoice.
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'start_failed'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 0);
}

/// Merchant orders have a quota of their own (issue 20, item 7): a shop's bug or a flood
/// through a shop stops at MAX_OPEN_MERCHANT_ORDERS with a 429 the shop can act on, and the
/// payers' checkouts go on.
#[tokio::test]
async fn merchant_orders_are_bounded_apart_from_payer_checkouts() {
    let app = TestApp::spawn_with(&[("MAX_OPEN_ORDERS", "4"), ("MAX_OPEN_MERCHANT_ORDERS", "2")]).await;
    let body = |n: usize| json!({"amount": "100", "description": "flood", "reference": format!("flood-{n}")});
    for n in 0..2 {
        assert_eq!(app.create_order(&body(n), &format!("flood-{n}")).await.0, 201);
    }
    let response = app
        .merchant(reqwest::Method::POST, "/api/merchant/orders")
        .header("Idempotency-Key", "flood-2")
        .json(&body(2))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "60");
    let refused: serde_json::Value = response.json().await.unwrap();
    assert_eq!(refused["error"], "too_many_open_merchant_orders");
    assert!(refused["message"].as_str().unwrap().contains("MAX_OPEN_MERCHANT_ORDERS"), "{refused}");
    // A replay of an order that was made is still answered.
    assert_eq!(app.create_order(&body(1), "flood-1").await.0, 201);
    // The payers keep the rest.
    for _ in 0..2 {
        assert_eq!(app.checkout(&json!({"amount": "100"}), None).await.0, 200);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE source = 'merchant'").await, 2);
}

/// postLinks without secret_hash (hints) are bounded like rejected ones (issue 20, item 8):
/// bodies cut to 4 KiB, at most 20 kept per order (more only make the status API be asked, or
/// are refused with 429), pruned after the retention; an order's view shows its newest
/// postLinks with their count, not every one ever received.
#[tokio::test]
async fn unsigned_postlinks_are_bounded_cut_pruned_and_an_order_shows_its_newest() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500").await;
    let mut hint = crate::helpers::success_for(&order);
    hint.as_object_mut().unwrap().remove("secret_hash");
    hint["padding"] = "x".repeat(20_000).into();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(app.post_raw("/api/epay/postlink", &hint.to_string()).await.0);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'hint'").await, 20, "{statuses:?}");
    assert!(statuses[..20].iter().all(|s| *s == 200) && statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let longest = app.count("SELECT CAST(MAX(LENGTH(raw_body)) AS BIGINT) FROM notifications").await;
    assert!(longest < 4_200, "a hint's body is cut: {longest}");

    // A forged one for the same order makes 21; the order shows the newest 20 and the count.
    let mut forged = crate::helpers::success_for(&order);
    forged["secret_hash"] = "FORGED".into();
    assert_eq!(app.post_raw("/api/epay/postlink", &forged.to_string()).await.0, 403);
    let all = app.count("SELECT COUNT(*) FROM notifications WHERE order_id IS NOT NULL").await;
    let view: serde_json::Value =
        app.merchant(reqwest::Method::GET, &format!("/api/merchant/orders/{}", order.invoice_id)).json_answer().await;
    let shown = view["postLinks"].as_array().unwrap();
    assert_eq!((shown.len(), view["postLinksCount"].as_i64()), (20, Some(all)), "{view:#}");
    if all > 20 {
        assert_eq!(shown.last().unwrap()["verdict"], "rejected", "the newest is shown last");
    }

    // After the retention, hints go as rejected ones do.
    app.state.store.write(|tx| tx.execute("UPDATE notifications SET received_at = 0", epay_proxy::params![])).await.unwrap();
    epay_proxy::maintenance::run_once(&app.state).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict IN ('hint', 'rejected')").await, 0);
}

#[tokio::test]
async fn rejected_postlinks_are_limited_per_source_capped_and_pruned() {
    let app = TestApp::spawn_with(&[("REJECTED_POSTLINK_RATE_PER_MINUTE", "5")]).await;
    let forged = json!({"invoiceId": "999999999999", "code": "ok", "secret_hash": "FORGED", "padding": "x".repeat(20_000)}).to_string();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(app.post_raw("/api/epay/postlink", &forged).await.0);
    }
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429, 429, 429, 429, 429]);
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 5, "only what the limit admits is stored");
    let longest = app.count("SELECT CAST(MAX(LENGTH(raw_body)) AS BIGINT) FROM notifications").await;
    assert!(longest < 4_200, "a rejected body is cut: {longest}");
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE source = '127.0.0.1'").await, 5);

    // A genuine notification is never limited, and kept whole; old rejections are pruned.
    let order = app.pending_order("1500").await;
    assert_eq!(app.post_raw("/api/epay/postlink", &crate::helpers::success_for(&order).to_string()).await.0, 200);
    app.state
        .store
        .write(|tx| tx.execute("UPDATE notifications SET received_at = received_at - 31 * 86400", epay_proxy::params![]).map(|_| ()))
        .await
        .unwrap();
    let round = epay_proxy::maintenance::run_once(&app.state).await.unwrap();
    assert_eq!(round.pruned, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'accepted'").await, 1);
}

/// Reads until the server closes the connection; `None` if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn idle_connections_are_closed_silent_keep_alive_and_http2_alike() {
    let app = TestApp::spawn_with(&[("HTTP_HEADER_TIMEOUT_SECS", "1"), ("HTTP_IDLE_TIMEOUT_SECS", "1")]).await;
    let limit = Duration::from_secs(8);

    // Connects and never says a word.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    // One request on a keep-alive connection, then nothing.
    let mut keep_alive = TcpStream::connect(app.addr).await.unwrap();
    keep_alive.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    // HTTP/2 with prior knowledge: the preface and empty SETTINGS, and never a stream.
    let mut h2 = TcpStream::connect(app.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00").await.unwrap();

    let (silent, keep_alive, h2) =
        tokio::join!(closed_within(&mut silent, limit), closed_within(&mut keep_alive, limit), closed_within(&mut h2, limit));
    println!("closed after: silent {silent:?}, keep-alive {keep_alive:?}, HTTP/2 {h2:?}");
    assert!(silent.is_some(), "a connection that never spoke stays open");
    assert!(keep_alive.is_some(), "an idle keep-alive connection stays open");
    assert!(h2.is_some(), "an HTTP/2 connection without streams stays open");

    // A request that takes longer than the idle timeout is not cut: the router bounds it.
    app.sandbox_control(json!({"tokenDelayMs": 1500})).await;
    assert_eq!(app.checkout(&json!({"amount": "100"}), None).await.0, 200);
}

#[tokio::test]
async fn a_revalidated_page_keeps_the_page_policy() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    std::fs::write(dist.path().join("transfer.html"), "<!doctype html><title>transfer</title>").unwrap();
    std::fs::write(dist.path().join("widget.js"), "export {};").unwrap();
    let app = TestApp::spawn_with(&[("WIDGET_DIR", dist.path().to_str().unwrap())]).await;
    for (path, page) in [("/", true), ("/transfer.html", true), ("/widget.js", false)] {
        let first = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let policy = first.headers()["content-security-policy"].clone();
        let modified = first.headers()["last-modified"].clone();
        let again = app.http.get(app.url(path)).header("if-modified-since", modified).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        // Browsers merge a 304's headers into the cached page: it must carry the same policy.
        assert_eq!(again.headers()["content-security-policy"], policy, "{path}");
        assert_eq!(policy.to_str().unwrap().contains("script-src"), page, "{path}");
    }
}

#[tokio::test]
async fn storefront_pages_allow_exactly_the_overlay_style_and_nothing_else_inline() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    let app = TestApp::spawn_with(&[("WIDGET_DIR", dist.path().to_str().unwrap())]).await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let hash = epay_sandbox::overlay_style_hash();
    assert!(csp.contains(&format!("style-src 'self' '{hash}';")), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    // The hash is of what payment-api.js really inserts.
    let script = app.http.get(app.url("/sandbox/payform/payment-api.js")).send().await.unwrap().text().await.unwrap();
    let css_literal = script.split("var OVERLAY_CSS = ").nth(1).unwrap().split(";\n").next().unwrap();
    let css: String = serde_json::from_str(css_literal).unwrap();
    use base64::Engine;
    use sha2::Digest;
    let expected = format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css.as_bytes())));
    assert_eq!(hash, expected);

    // With ePay's real script, the operator names its style's hash.
    let configured = "sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc=";
    let test_env = TestApp::spawn_with(&[
        ("EPAY_ENV", "test"),
        ("EPAY_OVERLAY_STYLE_HASHES", configured),
        ("WIDGET_DIR", dist.path().to_str().unwrap()),
    ])
    .await;
    let page = test_env.http.get(test_env.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains(&format!("style-src 'self' '{configured}';")), "{csp}");
}
