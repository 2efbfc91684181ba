//! `POST /api/checkout`: every bad input gets a JSON error it can act on and stores nothing;
//! Idempotency-Key never creates a second invoice.

use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

fn post(body: impl Into<Body>, content_type: &str) -> Request<Body> {
    Request::post("/api/checkout").header("content-type", content_type).body(body.into()).unwrap()
}

async fn limited_app() -> TestApp {
    TestApp::spawn_with(&[("CHECKOUT_MIN_AMOUNT", "100"), ("CHECKOUT_MAX_AMOUNT", "500000")]).await
}

async fn assert_refused(app: &TestApp, request: Request<Body>, status: u16, code: &str) -> Value {
    let (got, body) = app.oneshot(request).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0, "a refused request stored an order");
    body
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = limited_app().await;
    assert_refused(&app, post(r#"{"amount": "100""#, "application/json"), 400, "invalid_json").await;
}

#[tokio::test]
async fn wrong_content_type_is_a_415() {
    let app = limited_app().await;
    assert_refused(&app, post(r#"{"amount":"100"}"#, "text/plain"), 415, "unsupported_media_type").await;
    assert_refused(&app, post("amount=100", "application/x-www-form-urlencoded"), 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn missing_or_misspelt_fields_are_named() {
    let app = limited_app().await;
    let body = assert_refused(&app, post(r#"{"description":"x"}"#, "application/json"), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("amount"), "{body}");
    let body = assert_refused(&app, post(r#"{"amount":"100","ammount":"1"}"#, "application/json"), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("ammount"), "{body}");
    assert_refused(&app, post(r#"{"amount":"100","language":"de"}"#, "application/json"), 422, "invalid_field").await;
}

#[tokio::test]
async fn amounts_are_exact_positive_and_within_limits() {
    let app = limited_app().await;
    for (amount, code) in [
        (json!("0"), "invalid_amount"),
        (json!("0.00"), "invalid_amount"),
        (json!("-100"), "invalid_amount"),
        (json!(-100), "invalid_amount"),
        (json!("100.001"), "invalid_amount"),
        (json!(100.001), "invalid_amount"),
        (json!("1e3"), "invalid_amount"),
        (json!("сто"), "invalid_amount"),
        (json!(""), "invalid_amount"),
        (json!("99.99"), "amount_too_small"),
        (json!("500000.01"), "amount_too_large"),
        (json!("99999999999999999"), "invalid_amount"),
    ] {
        let body = json!({ "amount": amount }).to_string();
        let refused = assert_refused(&app, post(body, "application/json"), 422, code).await;
        assert!(refused["message"].as_str().unwrap().contains("amount"), "{refused}");
    }
    let (status, body) = app.checkout(&json!({"amount": 1500.5}), None).await;
    assert_eq!((status, body["amount"].as_str()), (200, Some("1500.50")), "{body}");
    let (status, body) = app.checkout(&json!({"amount": "500000"}), None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn limits_are_stated_in_the_message() {
    let app = limited_app().await;
    let body = assert_refused(&app, post(r#"{"amount":"50"}"#, "application/json"), 422, "amount_too_small").await;
    assert!(body["message"].as_str().unwrap().contains("100"), "{body}");
}

#[tokio::test]
async fn oversized_body_is_a_413() {
    let app = limited_app().await;
    let body = json!({"amount": "100", "description": "x".repeat(20_000)}).to_string();
    assert_refused(&app, post(body, "application/json"), 413, "body_too_large").await;
}

#[tokio::test]
async fn other_fields_are_validated() {
    let app = limited_app().await;
    for body in [
        json!({"amount": "100", "description": "я".repeat(63)}),
        json!({"amount": "100", "description": "line\nbreak"}),
        json!({"amount": "100", "currency": "USD"}),
        json!({"amount": "100", "email": "nobody"}),
        json!({"amount": "100", "phone": "12"}),
        json!({"amount": "100", "accountId": "a".repeat(65)}),
        json!({"amount": "100", "cardSave": "yes"}),
        json!({"amount": "100", "method": "bitcoin"}),
    ] {
        assert_refused(&app, post(body.to_string(), "application/json"), 422, "invalid_field").await;
    }
}

#[tokio::test]
async fn bad_idempotency_keys_are_a_400() {
    let app = limited_app().await;
    for key in ["", "has space", &"k".repeat(256), "ключ"] {
        let request = Request::post("/api/checkout")
            .header("content-type", "application/json")
            .header("idempotency-key", axum::http::HeaderValue::from_bytes(key.as_bytes()).unwrap())
            .body(Body::from(r#"{"amount":"100"}"#))
            .unwrap();
        assert_refused(&app, request, 400, "invalid_idempotency_key").await;
    }
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_checkout() {
    let app = limited_app().await;
    let request = json!({"amount": "1500", "description": "Chair", "email": "payer@example.kz"});
    let (status, first) = app.checkout(&request, Some("order-42-attempt-1")).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = app.checkout(&request, Some("order-42-attempt-1")).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first, second);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);

    // Same key, different body: refused, nothing new stored.
    let (status, body) = app.checkout(&json!({"amount": "1600", "description": "Chair"}), Some("order-42-attempt-1")).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("idempotency_key_reused")), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);

    // A new key is a new invoice.
    let (status, third) = app.checkout(&request, Some("order-42-attempt-2")).await;
    assert_eq!(status, 200);
    assert_ne!(third["invoiceId"], first["invoiceId"]);
}

#[tokio::test]
async fn the_response_carries_what_the_widget_needs_and_no_secret() {
    let app = TestApp::spawn().await;
    let request = json!({
        "amount": "1500", "description": "Оплата заказа", "accountId": "user-7", "email": "a@b.kz",
        "phone": "+7 701 123 45 67", "language": "kk", "cardSave": true
    });
    let (status, body) = app.checkout(&request, None).await;
    assert_eq!(status, 200, "{body}");
    let invoice_id = body["invoiceId"].as_str().unwrap();
    let key = body["orderKey"].as_str().unwrap();
    assert!(invoice_id.len() == 12 && invoice_id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(key.len(), 32);
    assert_eq!(body["language"], "KZ");
    assert_eq!(body["phone"], "77011234567");
    assert_eq!(body["cardSave"], true);
    assert_eq!(body["method"], "p2p");
    assert_eq!(body["terminal"], epay_proxy::config::TEST_P2P_TERMINAL_ID);
    assert_eq!(body["backLink"], app.url(&format!("/?order={invoice_id}&lang=kk#key={key}")), "the key travels in the fragment");
    assert_eq!(body["scriptUrl"], app.url("/sandbox/payform/payment-api.js"));
    assert_eq!(body["payformOrigin"], app.base);
    assert_eq!(body["auth"]["token_type"], "Bearer");
    let stored = app.stored_order(invoice_id).await;
    let text = body.to_string();
    assert!(!text.contains(stored.secret_hash.expose()) && !text.contains("secret_hash"));
    assert!(!text.contains(epay_proxy::config::TEST_CLIENT_SECRET) && !text.contains("client_secret"));
}

#[tokio::test]
async fn card_payment_methods_ask_for_a_payment_scope_token() {
    let app = TestApp::spawn().await;
    let (status, body) = app.checkout(&json!({"amount": "100", "method": "pay"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["scope"], "payment");
    let (_, body) = app.checkout(&json!({"amount": "100", "method": "aft"}), None).await;
    assert_eq!(body["auth"]["scope"], "transfer");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(&[("ALLOWED_ORIGINS", "https://shop.example.kz")]).await;
    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/checkout")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,idempotency-key")
            .body(Body::empty())
            .unwrap()
    };
    use tower::ServiceExt;
    let router = epay_proxy::app(app.state.clone());
    let allowed = router.clone().oneshot(preflight("https://shop.example.kz")).await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://shop.example.kz");
    for _ in 0..3 {
        let denied = router.clone().oneshot(preflight("https://unlisted-shop.example")).await.unwrap();
        assert!(denied.headers().get("access-control-allow-origin").is_none());
    }
    // The proxy says why the page there cannot work, once for the origin, and nothing of the
    // allowed one.
    let warnings = app.logs().lines().filter(|l| l.contains("not in ALLOWED_ORIGINS")).map(str::to_owned).collect::<Vec<_>>();
    let about = |origin: &str| warnings.iter().filter(|l| l.contains(origin)).count();
    assert_eq!((about("unlisted-shop.example"), about("https://shop.example.kz\"")), (1, 0), "{warnings:#?}");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_checkout_leaves_a_usable_order() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"tokenDelayMs": 800})).await;
    // The payer's browser gives up while ePay is still minting the token.
    let impatient = reqwest::Client::builder().timeout(std::time::Duration::from_millis(200)).build().unwrap();
    let dropped = impatient
        .post(app.url("/api/checkout"))
        .header("idempotency-key", "gone-mid-checkout")
        .json(&json!({"amount": "100"}))
        .send()
        .await;
    assert!(dropped.unwrap_err().is_timeout());
    // The token step finishes anyway: the order is not stuck in `created`.
    crate::helpers::eventually("the token recorded", || async {
        app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending'").await == 1
    })
    .await;
    app.sandbox_control(json!({})).await;
    let (status, retry) = app.checkout(&json!({"amount": "100"}), Some("gone-mid-checkout")).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1, "the retry reuses the order");
    assert_eq!(retry["invoiceId"], app.stored_order(retry["invoiceId"].as_str().unwrap()).await.invoice_id);
}
