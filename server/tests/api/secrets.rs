//! No secret leaves the proxy through a response or a log line. Every `TestApp` checks that
//! when it is dropped (helpers/mod.rs); this file proves the check itself sees what it
//! must: a whole payment's responses and logs, and a secret planted in them.

use crate::helpers::capture::{self, leaked};
use crate::helpers::{APPROVED_CARD, DECLINED_CARD, TestApp};
use epay_proxy::store::orders::OrderState;
use serde_json::json;

#[tokio::test]
async fn the_capture_sees_a_whole_payment_and_would_see_a_planted_secret() {
    let app = TestApp::spawn_with(&[("RECONCILE_AFTER_SECS", "1")]).await;
    let paid = app.checkout_ok("1500").await;
    app.pay(&paid, APPROVED_CARD).await;
    app.wait_for_state(paid["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    let declined = app.checkout_ok("2500").await;
    app.pay(&declined, DECLINED_CARD).await;
    let order = app.stored_order(paid["invoiceId"].as_str().unwrap()).await;
    app.post_raw("/api/epay/postlink", &crate::helpers::success_for(&order).to_string()).await;
    app.http.get(app.url("/sandbox/payform/payment-api.js")).send().await.unwrap();
    let (status, _) = app.checkout(&json!({"amount": "-1"}), None).await;
    assert_eq!(status, 422);

    let responses = app.responses.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&responses);
    for seen in [
        "POST /api/checkout -> 200",
        "POST /sandbox/oauth2/token -> 200",
        "POST /sandbox/payform/pay -> 303",
        "POST /api/epay/postlink -> 200",
        "POST /api/epay/failure-postlink -> 200",
        "GET /sandbox/api/check-status/p2p/transaction/",
        "window.halyk",
        "invalid_amount",
    ] {
        assert!(text.contains(seen), "the capture missed {seen:?}");
    }
    let logs = String::from_utf8_lossy(&capture::logs()).to_string();
    for seen in ["payment token issued", "postLink recorded", "payment confirmed by the status API"] {
        assert!(logs.contains(seen), "the log capture missed {seen:?}");
    }

    // The check finds a secret wherever it sits.
    let secret = order.secret_hash.expose().to_owned();
    assert_eq!(leaked(format!("... \"secret_hash\":\"{secret}\" ...").as_bytes(), std::slice::from_ref(&secret)), Some(secret.as_str()));
    assert_eq!(leaked(&responses, std::slice::from_ref(&secret)), None);
    assert_eq!(leaked(logs.as_bytes(), &[secret.clone(), epay_proxy::config::TEST_CLIENT_SECRET.to_owned()]), None);
    println!("scanned {} bytes of responses and {} bytes of logs", responses.len(), logs.len());
}

#[tokio::test]
async fn no_debug_output_of_a_stored_order_or_the_configuration_prints_a_secret() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    let order = app.stored_order(checkout["invoiceId"].as_str().unwrap()).await;
    let printed = format!("{order:?} {:?}", app.state.config);
    for secret in [order.secret_hash.expose(), order.order_key.expose(), epay_proxy::config::TEST_CLIENT_SECRET] {
        assert!(!printed.contains(secret), "{{:?}} printed a secret ({}…)", &secret[..4]);
    }
    assert!(printed.contains("[redacted]"));
}
