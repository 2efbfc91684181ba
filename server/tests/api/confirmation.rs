//! Confirmation through ePay's status API against a mock ePay: only "100" + CHARGE with the
//! order's own fields pays; "107" is asked again; anything that does not add up goes to a
//! human; orders without a postLink are reconciled; the schedule survives a restart.

use crate::helpers::mock_epay::{MockEpay, Reply, TOKEN_NUMERIC};
use crate::helpers::{TestApp, eventually, status_answer, success_for};
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
        let (_, view) = app.order_status(&order.invoice_id, order.order_key.expose()).await;
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
async fn auth_is_a_hold_only_on_two_stage_terminals() {
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
    // Held, not paid: the merchant captures it (tests/operations.rs).
    let held = two_stage.wait_for_state(&order.invoice_id, OrderState::Authorized).await;
    assert_eq!(held.captured_minor, None);
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
    let invoice_id: String = app.value("SELECT invoice_id FROM orders").await;
    assert_eq!(app.stored_order(&invoice_id).await.status, OrderState::StartFailed);
    let expired = app.wait_for_state(&invoice_id, OrderState::Expired).await;
    assert!(expired.last_check.unwrap().contains("102"));
    // The suffix stays reserved until the token can no longer be used: a second order with
    // the same last six digits is refused now...
    let suffix = invoice_id[invoice_id.len() - 6..].to_owned();
    assert!(insert_with_suffix(&app, "900000", &suffix).await.is_err(), "the suffix is still held");
    // ...and accepted once housekeeping has released it.
    let round = epay_proxy::maintenance::run_once(&app.state).await.unwrap();
    assert_eq!(round.held, 0);
    assert_eq!(app.state.open_orders.held(), 0);
    insert_with_suffix(&app, "900000", &suffix).await.expect("the released suffix can be drawn again");
    assert!(app.stored_order(&invoice_id).await.reserved_suffix.is_none());
}

/// Stores an order whose invoice is `prefix` + `suffix` and which holds that suffix, as a
/// checkout that happened to draw it would.
async fn insert_with_suffix(app: &TestApp, prefix: &str, suffix: &str) -> Result<(), epay_proxy::store::StoreError> {
    let (invoice_id, suffix) = (format!("{prefix}{suffix}"), suffix.to_owned());
    app.state
        .store
        .write(move |tx| {
            tx.execute(
                "INSERT INTO orders (invoice_id, invoice_suffix, reserved_suffix, order_key, secret_hash, amount_minor, currency,
                    terminal, method, language, status, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 100, 'KZT', 't', 'p2p', 'ru', 'pending', 0, 0)",
                epay_proxy::params![
                    invoice_id,
                    suffix,
                    suffix,
                    epay_proxy::secrets::new_order_key().expose(),
                    epay_proxy::secrets::new_secret_hash().expose()
                ],
            )?;
            Ok(())
        })
        .await
}

#[tokio::test]
async fn a_postlink_without_secret_hash_is_a_hint_that_asks_the_status_api_at_once() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
    let mut hint = success_for(&order);
    hint.as_object_mut().unwrap().remove("secret_hash");
    let (status, receipt) = app.post_raw("/api/epay/postlink", &hint.to_string()).await;
    assert_eq!((status, receipt), (200, json!({"result": "hint"})));
    // Not in ten minutes (RECONCILE_AFTER_SECS): now. And only the status API made it paid.
    let paid = app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert_eq!(mock.status_requests().len(), 1);
    assert_eq!(paid.approval_code.as_deref(), Some("157911"));
    let (verdict, reason): (String, Option<String>) = app.pairs("SELECT verdict, reason FROM notifications").await.remove(0);
    assert_eq!(verdict, "hint");
    assert!(reason.unwrap().contains("status API"));
}

#[tokio::test]
async fn hints_cannot_make_the_proxy_hammer_epay_and_never_pay_by_themselves() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![json!({"resultCode": "102", "resultMessage": "not found"})]);
    let mut hint = success_for(&order);
    hint.as_object_mut().unwrap().remove("secret_hash");
    for _ in 0..20 {
        let (status, receipt) = app.post_raw("/api/epay/postlink", &hint.to_string()).await;
        assert_eq!((status, receipt["result"].as_str()), (200, Some("hint")));
    }
    eventually("the one status question", || async { !mock.status_requests().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(mock.status_requests().len(), 1, "twenty hints within a second make one question");
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'hint'").await, 20);
    assert_eq!(app.stored_order(&order.invoice_id).await.status, OrderState::Pending);
    // A present but wrong secret_hash is no hint: forged, refused, nobody is asked.
    let mut forged = success_for(&order);
    forged["secret_hash"] = json!("NOTTHEORDERSSECRETHASHATALLX");
    assert_eq!(app.post_raw("/api/epay/postlink", &forged.to_string()).await.0, 403);
}

#[tokio::test]
async fn a_genuine_postlink_that_disagrees_with_the_order_is_kept_and_the_status_api_decides() {
    for (field, value) in [("amount", json!(1)), ("currency", json!("USD")), ("terminal", json!("67e34d63-102f-4bd1-898e-370781d0074d"))] {
        let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
        let app = app_against(&mock, &[]).await;
        // The status API agrees with the order: paid.
        let order = app.pending_order("1500").await;
        mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
        let mut body = success_for(&order);
        body[field] = value.clone();
        let (status, receipt) = app.post_raw("/api/epay/postlink", &body.to_string()).await;
        assert_eq!((status, receipt["result"].as_str()), (200, Some("accepted")), "{field}");
        app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
        let reason: Option<String> = app.value("SELECT reason FROM notifications").await;
        assert!(reason.unwrap().contains(field), "{field}");

        // The status API says what the notification said: a human looks.
        let other = app.pending_order("1500").await;
        let mut contradicting = status_answer(&other, "100", "CHARGE");
        contradicting["transaction"][field] = value.clone();
        mock.answer_status(vec![contradicting]);
        let mut body = success_for(&other);
        body[field] = value;
        app.post_raw("/api/epay/postlink", &body.to_string()).await;
        app.wait_for_state(&other.invoice_id, OrderState::Review).await;
    }
}

#[tokio::test]
async fn status_answers_with_http_4xx_are_read_as_answers() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[("RECONCILE_AFTER_SECS", "1")]).await;
    let order = app.pending_order("1500").await;
    let rejected = status_answer(&order, "101", "REJECT");
    mock.answer_status(vec![json!({"__http": 400, "__body": rejected})]);
    let failed = app.wait_for_state(&order.invoice_id, OrderState::Failed).await;
    assert!(failed.last_check.is_none() || !failed.last_check.unwrap().contains("unavailable"));

    // "Not found" with HTTP 404, after the token expired: expired, as with HTTP 200.
    let short = r#"{"access_token":"SHORT","expires_in":1,"refresh_token":"","scope":"transfer","token_type":"Bearer"}"#;
    let mock = MockEpay::start(Reply::ok(short)).await;
    let app = app_against(&mock, &[("RECONCILE_AFTER_SECS", "1"), ("ORDER_EXPIRY_GRACE_SECS", "1")]).await;
    mock.answer_status(vec![json!({"__http": 404, "__body": {"resultCode": "102", "resultMessage": "not found"}})]);
    let checkout = app.checkout_ok("1500").await;
    let expired = app.wait_for_state(checkout["invoiceId"].as_str().unwrap(), OrderState::Expired).await;
    assert!(expired.last_check.unwrap().contains("102"));

    // A 5xx is an outage, whatever its body: asked again.
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    mock.answer_status(vec![json!({"__http": 502, "__body": {"resultCode": "101"}}), status_answer(&order, "100", "CHARGE")]);
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    let paid = app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert!(paid.last_check.unwrap().contains("502"));
}

#[tokio::test]
async fn a_late_success_for_a_released_suffix_goes_to_review_and_is_never_lost() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[("ORDER_EXPIRY_GRACE_SECS", "1")]).await;
    let order = app.pending_order("1500").await;
    app.post_raw("/api/epay/failure-postlink", &crate::helpers::failure_for(&order).to_string()).await;
    assert_eq!(app.stored_order(&order.invoice_id).await.status, OrderState::Failed);
    // Its token runs out; housekeeping releases the suffix; a new order draws it.
    let id = order.id;
    app.state
        .store
        .write(move |tx| tx.execute("UPDATE orders SET token_expires_at = 1 WHERE id = ?", epay_proxy::params![id]).map(|_| ()))
        .await
        .unwrap();
    epay_proxy::maintenance::run_once(&app.state).await.unwrap();
    let suffix = &order.invoice_id[order.invoice_id.len() - 6..];
    insert_with_suffix(&app, "800000", suffix).await.unwrap();

    // Money moved after all: the notification is kept, the order goes to a human.
    let (status, receipt) = app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("accepted")));
    let review = app.stored_order(&order.invoice_id).await;
    assert_eq!(review.status, OrderState::Review);
    assert!(review.review_reason.unwrap().contains(&format!("800000{suffix}")));
    assert_eq!(review.transaction_id.as_deref(), Some("1d1a11f1-1111-111c-1113b-e8340ce51111"));
}

#[tokio::test]
async fn a_success_for_an_expired_order_whose_suffix_is_free_is_confirmed_as_usual() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    let id = order.id;
    app.state
        .store
        .write(move |tx| {
            tx.execute(
                "UPDATE orders SET status = 'expired', token_expires_at = 1, next_check_ms = NULL WHERE id = ?",
                epay_proxy::params![id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    epay_proxy::maintenance::run_once(&app.state).await.unwrap();
    assert!(app.stored_order(&order.invoice_id).await.reserved_suffix.is_none());
    mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    let paid = app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    assert!(paid.reserved_suffix.is_some(), "a paid order holds its suffix again");
}

#[tokio::test]
async fn a_stale_writer_never_moves_an_order_back() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let order = app.pending_order("1500").await;
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    // A token recorded late (a retry that raced the postLink) does not reopen the order.
    let id = order.id;
    let taken = app.state.store.write(move |tx| epay_proxy::store::orders::record_token(tx, id, "{}", 1, 0)).await.unwrap();
    assert!(!taken);
    assert_eq!(app.stored_order(&order.invoice_id).await.status, OrderState::Confirming);

    // A status decision made on an older version of the row is not applied.
    let stale = app.stored_order(&order.invoice_id).await;
    let reason = "flagged meanwhile";
    app.state.store.write(move |tx| epay_proxy::store::orders::flag_for_review(tx, id, reason)).await.unwrap();
    let decision = epay_proxy::confirm::Decision::Pay(Default::default());
    let version = stale.version;
    let applied = app
        .state
        .store
        .write(move |tx| epay_proxy::confirm::apply(tx, id, version, &decision, 1_000, epay_proxy::config::LatePayments::Keep))
        .await
        .unwrap();
    assert!(!applied);
    assert_ne!(app.stored_order(&order.invoice_id).await.status, OrderState::Paid);
}

#[tokio::test]
async fn card_payments_and_transfers_use_their_own_terminal_end_to_end() {
    let mock = MockEpay::start(Reply::ok(TOKEN_NUMERIC)).await;
    let app = app_against(&mock, &[]).await;
    let (status, body) = app.checkout(&json!({"amount": "1500", "method": "pay"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["terminal"], epay_proxy::config::TEST_CARD_TERMINAL_ID);
    let order = app.stored_order(body["invoiceId"].as_str().unwrap()).await;
    assert_eq!(order.terminal, epay_proxy::config::TEST_CARD_TERMINAL_ID);
    mock.answer_status(vec![status_answer(&order, "100", "CHARGE")]);
    app.post_raw("/api/epay/postlink", &success_for(&order).to_string()).await;
    app.wait_for_state(&order.invoice_id, OrderState::Paid).await;
    let forms = mock.forms();
    let payment = forms.iter().find(|f| f["scope"] == "payment").unwrap();
    assert_eq!(payment["terminal"], epay_proxy::config::TEST_CARD_TERMINAL_ID);
    let service = forms.iter().find(|f| f["scope"].contains("webapi")).unwrap();
    assert_eq!(service["terminal"], epay_proxy::config::TEST_CARD_TERMINAL_ID, "the service token of the order's terminal");
    assert_eq!(mock.status_requests(), vec![format!("payment/{}", order.invoice_id)]);

    let (_, transfer) = app.checkout(&json!({"amount": "1500", "method": "p2p"}), None).await;
    assert_eq!(transfer["terminal"], epay_proxy::config::TEST_P2P_TERMINAL_ID);
}
