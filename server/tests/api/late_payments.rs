//! Short holds and late payments (issue 25, item 5): a merchant order payable for 15 minutes,
//! and a payment that arrives after its payable window. A hold is cancelled (no money moved);
//! a charge is kept (`order.paid_late`, `paidAfterExpiry`) or refunded, as `LATE_PAYMENTS`
//! says, through the operations path.

use crate::helpers::{APPROVED_CARD, TestApp, eventually};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

/// A 15-minute reservation whose payer got a token in time and pays after the window closed
/// (the window is moved into the past between the two). Returns the invoice id.
async fn paid_after_the_window(app: &TestApp, reference: &str) -> String {
    let body = json!({"amount": "3000", "description": "Ticket, row 7", "reference": reference, "payableForSecs": 900});
    let (status, order) = app.create_order(&body, reference).await;
    assert_eq!((status, order["payableForSecs"].as_i64()), (201, Some(900)), "{order}");
    let (invoice_id, key) = (order["invoiceId"].as_str().unwrap().to_owned(), order["orderKey"].as_str().unwrap().to_owned());
    let (status, checkout) = app.order_checkout(&invoice_id, &key).await;
    assert_eq!(status, 200, "{checkout}");
    // Sixteen minutes later: the payable window ended a minute ago; the token still works.
    let (invoice, closed) = (invoice_id.clone(), epay_proxy::store::now() - 60);
    let sql = "UPDATE orders SET expires_at = ?, created_at = created_at - 960 WHERE invoice_id = ?";
    app.state.store.write(move |tx| tx.execute(sql, epay_proxy::params![closed + 7_200, invoice])).await.unwrap();
    app.pay(&checkout, APPROVED_CARD).await;
    invoice_id
}

async fn merchant_view(app: &TestApp, invoice_id: &str) -> Value {
    let response = app.merchant(reqwest::Method::GET, &format!("/api/merchant/orders/{invoice_id}")).send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_late_charge_is_kept_by_default_and_announced() {
    let app = TestApp::spawn().await;
    let invoice_id = paid_after_the_window(&app, "late-keep").await;
    app.wait_for_state(&invoice_id, OrderState::Paid).await;
    let order = merchant_view(&app, &invoice_id).await;
    assert_eq!((order["status"].as_str(), order["paidAfterExpiry"].as_bool()), (Some("paid"), Some(true)), "{order}");
    assert_eq!(app.event_types(&invoice_id).await, ["order.paid", "order.paid_late"]);
    let note: String = app.value("SELECT note FROM admin_actions WHERE action = 'late_payment'").await;
    assert!(note.contains("after the payable window") && note.contains("kept"), "{note}");
    assert!(app.sandbox_operations().await.is_empty(), "nothing undone");
}

#[tokio::test]
async fn a_late_charge_is_refunded_when_the_shop_says_so() {
    let app = TestApp::spawn_with(&[("LATE_PAYMENTS", "refund")]).await;
    let invoice_id = paid_after_the_window(&app, "late-refund").await;
    let order = app.wait_for_state(&invoice_id, OrderState::Refunded).await;
    assert_eq!(order.refunded_minor, 300_000);
    assert_eq!(app.refunded_by_epay(&invoice_id).await, 300_000, "ePay refunded it, once");
    eventually("the events", || async { app.event_types(&invoice_id).await.len() == 3 }).await;
    assert_eq!(app.event_types(&invoice_id).await, ["order.paid", "order.paid_late", "refund.succeeded"]);
    let order = merchant_view(&app, &invoice_id).await;
    assert_eq!(order["operations"][0]["idempotencyKey"], "late_payment", "{order}");
}

#[tokio::test]
async fn a_late_hold_is_cancelled_and_no_money_moves() {
    let app = TestApp::spawn_with(&[("EPAY_TWO_STAGE", "true")]).await;
    app.sandbox_control(json!({"twoStage": true})).await;
    let invoice_id = paid_after_the_window(&app, "late-hold").await;
    app.wait_for_state(&invoice_id, OrderState::Cancelled).await;
    let performed = app.sandbox_operations().await;
    assert_eq!(performed.len(), 1, "{performed:?}");
    assert_eq!(performed[0]["kind"], "cancel");
    eventually("the events", || async { app.event_types(&invoice_id).await.len() == 3 }).await;
    assert_eq!(app.event_types(&invoice_id).await, ["order.authorized", "order.paid_late", "order.cancelled"]);
}

/// A payment made in the window is not late.
#[tokio::test]
async fn a_payment_in_the_window_is_not_late() {
    let app = TestApp::spawn_with(&[("LATE_PAYMENTS", "refund")]).await;
    let body = json!({"amount": "3000", "description": "Ticket", "reference": "in-time", "payableForSecs": 900});
    let (_, order) = app.create_order(&body, "in-time").await;
    let (invoice_id, key) = (order["invoiceId"].as_str().unwrap(), order["orderKey"].as_str().unwrap());
    let (_, checkout) = app.order_checkout(invoice_id, key).await;
    app.pay(&checkout, APPROVED_CARD).await;
    app.wait_for_state(invoice_id, OrderState::Paid).await;
    let order = merchant_view(&app, invoice_id).await;
    assert_eq!(order["paidAfterExpiry"].as_bool(), Some(false), "{order}");
    assert_eq!(app.event_types(invoice_id).await, ["order.paid"]);
}
