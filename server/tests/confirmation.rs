//! Confirmation through ePay's status API against a mock ePay: only "100" + CHARGE with the
//! order's own fields pays; "107" is asked again; anything that does not add up goes to a
//! human; orders without a postLink are reconciled; the schedule survives a restart.

mod common;

use common::mock_epay::{MockEpay, Reply, TOKEN_NUMERIC};
use common::{TestApp, eventually, status_answer, success_for};
use epay_proxy::store::orders::{OrderRow, OrderState};
use serde_json::json;

async fn app_against(mock: &MockEpay, extra: &[(&str, &str)]) -> TestApp {
    let (token, api) = (mock.token_url(), mock.api_url());
    let mut vars = vec![("EPAY_ENV", "test"), ("EPAY_OAUTH_URL", token.as_str()), ("EPAY_API_URL", api.as_str())];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// A pending order (token from the mock) and its valid success postLink.
async fn notified_order(app: &TestApp) -> OrderRow {
    let order = app.pending_order("1500").await;
    let (status, receipt) = app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("accepted")));
    order
}

#[tokio::test]
async fn in_progress_is_asked_again_until_charge_pays() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![
        json!({"resultCode": "107", "resultMessage": "in progress"}),
        json!({"resultCode": "107", "resultMessage": "in progress"}),
        status_answer(&order, "100", "CHARGE"),
    ]);
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    let paid = app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert_eq!(paid.approval_code.as_deref(), Some("157911"));
    // The P2P status endpoint, asked three times with one cached service token.
    let asked = mock.status_requests();
    assert_eq!(asked, vec![format!("p2p/{}", order.invoice_id); 3]);
    let service: Vec<_> = mock.forms().into_iter().filter(|f| f["scope"].contains("webapi")).collect();
    assert_eq!(service.len(), 1, "the service token is reused");
    assert_eq!(service[0]["scope"], epay_proxy::epay::SERVICE_SCOPE);
    assert!(!service[0].contains_key("invoiceID") && !service[0].contains_key("amount") && !service[0].contains_key("secret_hash"));
    assert_eq!(service[0]["client_secret"], epay_proxy::config::TEST_CLIENT_SECRET);
}

#[tokio::test]
async fn a_mismatching_status_answer_sends_the_order_to_a_human_and_never_pays() {
    for (field, value) in [("amount", json!(1)), ("currency", json!("USD")), ("terminal", json!("67e34d63-102f-4bd1-898e-370781d0074d"))] {
        let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
        let app = app_against(&mock, &[]).await;
        let order = app.pending_order("1500").await;
        let mut answer = status_answer(&order, "100", "CHARGE");
        answer["transaction"][field] = value;
        mock.answer_status(vec![answer]);
        app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
        let review = app.wait_for_state(&order.invoice_id, OrderState::Review).await;
        assert!(review.review_reason.as_deref().unwrap().contains(field), "{field}: {:?}", review.review_reason);
        let (_, view) = app.order_status(&order.invoice_id, &order.order_key).await;
        assert_eq!(view["status"], "pending", "the payer is not told paid");
    }
}

#[tokio::test]
async fn a_rejection_after_a_success_postlink_goes_to_a_human() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    mock.answer_status(vec![json!({"resultCode": "101", "resultMessage": "rejected"})]);
    let order = notified_order(&app).await;
    let review = app.wait_for_state(&order.invoice_id, OrderState::Review).await;
    assert!(review.review_reason.unwrap().contains("101"));
}

#[tokio::test]
async fn auth_pays_only_on_two_stage_terminals() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let one_stage = app_against(&mock, &[]).await;
    let order = one_stage.pending_order("1500").await;
    mock.answer_status(vec![status_answer(&order, "100", "AUTH")]);
    one_stage.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    eventually("asked twice", || async { one_stage.stored_order(&order.invoice_id).await.check_attempts >= 2 }).await;
    assert_eq!(one_stage.stored_order(&order.invoice_id).await.status, OrderState::Confirming);

    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let two_stage = app_against(&mock, &[("EPAY_TWO_STAGE", "true")]).await;
    let order = two_stage.pending_order("1500").await;
    mock.answer_status(vec![status_answer(&order, "100", "AUTH")]);
    two_stage.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    two_stage.wait_for_state(&order.invoice_id, OrderState::Paid).await;
}

#[tokio::test]
async fn an_unavailable_status_api_is_asked_again_later() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![json!({"__http": 503}), status_answer(&order, "100", "CHARGE")]);
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    let paid = app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert!(paid.last_check.unwrap().contains("503"));
}

#[tokio::test]
async fn an_order_without_a_postlink_is_reconciled_or_expires() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[("RECONCILE_AFTER_SECS", "1")]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
    app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 0);

    // A token that expired long ago and no transaction at ePay: expired.
    let short = r#"{"access_token":"SHORT","expires_in":1,"refresh_token":"","scope":"transfer","token_type":"Bearer"}"#;
    let mock = MockEpay::start(Reply::ok(short)).await;
    let app = app_against(&mock, &[("RECONCILE_AFTER_SECS", "1"), ("ORDER_EXPIRY_GRACE_SECS", "1")]).await;
    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    let expired = app.wait_for_state(invoice_id, OrderState::Expired).await;
    assert!(expired.last_check.unwrap().contains("102"));
    let (_, view) = app.order_status(invoice_id, checkout["orderKey"].as_str().unwrap()).await;
    assert_eq!(view["status"], "expired");
}

#[tokio::test]
async fn the_schedule_survives_a_restart() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    mock.answer_status(vec![json!({"resultCode": "107", "resultMessage": "in progress"})]);
    let order = notified_order(&app).await;
    eventually("asked once", || async { app.stored_order(&order.invoice_id).await.check_attempts >= 1 }).await;

    let app = app.restart().await;
    mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
    app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
}

#[tokio::test]
async fn a_checkout_that_never_started_expires_and_frees_its_invoice_suffix() {
    let mock = MockEpay::start(Reply::status(500, "down")).await;
    let app = app_against(&mock, &[("RECONCILE_AFTER_SECS", "1"), ("ORDER_EXPIRY_GRACE_SECS", "1")]).await;
    let (status, _) = app.checkout(&json!({"amount": "100"}), Some("never-retried")).await;
    assert_eq!(status, 502);
    let invoice_id: String = sqlx::query_scalar("SELECT invoice_id FROM orders").fetch_one(app.state.store.reader()).await.unwrap();
    assert_eq!(app.stored_order(&invoice_id).await.status, OrderState::StartFailed);
    let expired = app.wait_for_state(&invoice_id, OrderState::Expired).await;
    assert!(expired.last_check.unwrap().contains("102"));
    // Expired orders no longer hold their last six digits.
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE invoice_suffix = ? AND status IN ('created', 'pending', 'start_failed', 'confirming')",
    )
    .bind(&invoice_id[invoice_id.len() - 6..])
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(open, 0);
}
