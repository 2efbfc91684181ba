//! The ePay token client against a mock ePay on loopback: what it sends, and what the
//! checkout answers for every kind of answer (or silence) it gets back.

use std::time::Duration;

use crate::helpers::TestApp;
use crate::helpers::mock_epay::{MockEpay, Reply, TOKEN_NUMERIC, TOKEN_STRING};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

async fn app_against(mock: &MockEpay) -> TestApp {
    TestApp::spawn_with(&[("EPAY_ENV", "test"), ("EPAY_OAUTH_URL", &mock.token_url()), ("EPAY_TIMEOUT_SECS", "1")]).await
}

#[tokio::test]
async fn sends_every_documented_field_as_multipart_and_passes_the_token_through_untouched() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock).await;
    let (status, body) = app.checkout(&json!({"amount": "1500.50", "description": "Заказ 42"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"], serde_json::from_str::<Value>(TOKEN_NUMERIC).unwrap());

    let forms = mock.forms();
    assert_eq!(forms.len(), 1);
    let form = &forms[0];
    let invoice_id = body["invoiceId"].as_str().unwrap();
    let stored = app.stored_order(invoice_id).await;
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "transfer");
    assert_eq!(form["client_id"], "test");
    assert_eq!(form["client_secret"], epay_proxy::config::TEST_CLIENT_SECRET);
    assert_eq!(form["terminal"], epay_proxy::config::TEST_P2P_TERMINAL_ID);
    assert_eq!(form["invoiceID"], invoice_id);
    assert_eq!(form["amount"], "1500.50");
    assert_eq!(form["currency"], "KZT");
    assert_eq!(form["postLink"], app.url("/api/epay/postlink"));
    assert_eq!(form["failurePostLink"], app.url("/api/epay/failure-postlink"));
    assert_eq!(form["secret_hash"], stored.secret_hash.expose());
    assert_eq!(form.len(), 11, "unexpected fields: {form:?}");
    assert_eq!(stored.status, OrderState::Pending);

    // The browser never sees the merchant's secret or the invoice's secret_hash.
    let text = body.to_string();
    assert!(!text.contains(epay_proxy::config::TEST_CLIENT_SECRET));
    assert!(!text.contains(stored.secret_hash.expose()));
}

#[tokio::test]
async fn expires_in_as_a_string_is_accepted_and_returned_as_epay_sent_it() {
    let mock = MockEpay::start(Reply::ok(TOKEN_STRING)).await;
    let app = app_against(&mock).await;
    let (status, body) = app.checkout(&json!({"amount": "100"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["expires_in"], "7200");
    let stored = app.stored_order(body["invoiceId"].as_str().unwrap()).await;
    let expires_in = stored.token_expires_at.unwrap() - stored.created_at;
    assert!((7199..=7201).contains(&expires_in), "{expires_in}");
}

/// Each failure answers with a JSON error and leaves the order `start_failed`, never half-written.
async fn assert_start_failure(reply: Reply, expected_status: u16, expected_code: &str) {
    let mock = MockEpay::start(reply).await;
    let app = app_against(&mock).await;
    let (status, body) = app.checkout(&json!({"amount": "100"}), Some("attempt-1")).await;
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], expected_code);
    assert!(body["message"].as_str().unwrap().contains("retry"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'start_failed' AND token_response IS NULL").await, 1);
    let error: String = app.value("SELECT start_error FROM orders").await;
    assert!(!error.contains(epay_proxy::config::TEST_CLIENT_SECRET));

    // ePay recovers; a retry with the same key starts the same order, not a second one.
    mock.set_reply(Reply::ok(TOKEN_NUMERIC));
    let (status, retried) = app.checkout(&json!({"amount": "100"}), Some("attempt-1")).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending'").await, 1);
    let forms = mock.forms();
    assert_eq!(forms.len(), 2);
    assert_eq!(forms[0]["invoiceID"], forms[1]["invoiceID"]);
    assert_eq!(retried["invoiceId"], forms[1]["invoiceID"].as_str());
}

#[tokio::test]
async fn unauthorized_answers_bad_gateway() {
    assert_start_failure(Reply::status(401, r#"{"error":"invalid_client"}"#), 502, "upstream_error").await;
}

#[tokio::test]
async fn server_error_answers_bad_gateway() {
    assert_start_failure(Reply::status(500, "Internal Server Error"), 502, "upstream_error").await;
}

#[tokio::test]
async fn garbage_answers_bad_gateway() {
    assert_start_failure(Reply::ok("<html>maintenance</html>"), 502, "upstream_error").await;
}

#[tokio::test]
async fn a_token_without_access_token_answers_bad_gateway() {
    assert_start_failure(Reply::ok(r#"{"expires_in":7200}"#), 502, "upstream_error").await;
}

#[tokio::test]
async fn timeout_answers_gateway_timeout() {
    assert_start_failure(Reply::slow(Duration::from_secs(3)), 504, "upstream_timeout").await;
}

#[tokio::test]
async fn unreachable_epay_answers_bad_gateway() {
    // A port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/oauth2/token");
    let app = TestApp::spawn_with(&[("EPAY_ENV", "test"), ("EPAY_OAUTH_URL", &url)]).await;
    let (status, body) = app.checkout(&json!({"amount": "100"}), None).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "upstream_error");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'start_failed'").await, 1);
}

#[tokio::test]
async fn the_client_reports_typed_errors() {
    use epay_proxy::epay::{EpayClient, EpayError, PaymentTokenRequest};
    let mock = MockEpay::start(Reply::status(401, "nope")).await;
    let app = app_against(&mock).await;
    let client = EpayClient::new(std::sync::Arc::new(app.state.config.epay.clone()));
    let request = PaymentTokenRequest {
        scope: "transfer",
        terminal: epay_proxy::config::TEST_P2P_TERMINAL_ID.into(),
        invoice_id: "123456789".into(),
        amount: epay_api_types::Amount::from_minor(100),
        currency: "KZT".into(),
        secret_hash: "X".into(),
    };
    assert!(matches!(client.payment_token(&request).await, Err(EpayError::Status { status: 401, .. })));
    mock.set_reply(Reply::ok("[]"));
    assert!(matches!(client.payment_token(&request).await, Err(EpayError::Malformed(_))));
    mock.set_reply(Reply::slow(Duration::from_secs(3)));
    assert!(matches!(client.payment_token(&request).await, Err(EpayError::Timeout(_))));
    mock.set_reply(Reply::ok(TOKEN_STRING));
    let token = client.payment_token(&request).await.unwrap();
    assert_eq!((token.access_token.as_str(), token.expires_in), ("DCEB8O_ZM5U7SO_T_U5EJQ", 7200));
}
