//! postLink / failurePostLink: only a notification that passes every check moves an order;
//! every notification is stored with its verdict; duplicates change nothing; paid is final.

use crate::helpers::{TestApp, failure_for, success_for};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

async fn notify(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    app.post_raw(path, &body.to_string()).await
}

async fn verdicts(app: &TestApp) -> Vec<(String, Option<String>)> {
    app.pairs("SELECT verdict, reason FROM notifications ORDER BY id").await
}

const POSTLINK: &str = "/api/epay/postlink";
const FAILURE_POSTLINK: &str = "/api/epay/failure-postlink";

#[tokio::test]
async fn a_valid_success_is_recorded_but_only_the_status_api_can_make_it_paid() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500").await;
    let key = order.order_key.expose().to_owned();
    let body = success_for(&order);
    let (status, receipt) = notify(&app, POSTLINK, &body).await;
    assert_eq!((status, &receipt), (200, &json!({"result": "accepted"})));

    let confirming = app.stored_order(&order.invoice_id).await;
    assert_eq!(confirming.status, OrderState::Confirming);
    assert_eq!(confirming.card_mask.as_deref(), Some("440043...2222"));
    assert_eq!(confirming.transaction_id.as_deref(), Some("1d1a11f1-1111-111c-1113b-e8340ce51111"));
    let raw: String = app.value("SELECT raw_body FROM notifications").await;
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap(), body);

    // The sandbox knows no such transaction (nobody paid): the order is asked about and
    // stays unpaid, and the payer sees "pending".
    crate::helpers::eventually("a status question", || async { app.stored_order(&order.invoice_id).await.check_attempts > 0 }).await;
    let asked = app.stored_order(&order.invoice_id).await;
    assert_eq!(asked.status, OrderState::Confirming);
    assert!(asked.last_check.unwrap().contains("102"));
    let (status, view) = app.order_status(&order.invoice_id, &key).await;
    assert_eq!((status, view), (200, json!({"status": "pending", "amount": "1500", "currency": "KZT", "method": "p2p"})));
}

#[tokio::test]
async fn duplicates_change_nothing_and_paid_never_regresses() {
    let app = TestApp::spawn().await;
    let paid = app.paid_order("1500").await;

    let (status, receipt) = notify(&app, POSTLINK, &success_for(&paid)).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("duplicate")));
    let (status, receipt) = notify(&app, FAILURE_POSTLINK, &failure_for(&paid)).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("ignored")));
    let (status, receipt) = notify(&app, POSTLINK, &failure_for(&paid)).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("ignored")));

    let after = app.stored_order(&paid.invoice_id).await;
    assert_eq!(after.status, OrderState::Paid);
    assert_eq!((after.updated_at, &after.card_mask), (paid.updated_at, &paid.card_mask));
    assert_eq!(after.failure_code, None);
    let verdicts: Vec<String> = verdicts(&app).await.into_iter().map(|(v, _)| v).collect();
    assert_eq!(verdicts, ["accepted", "duplicate", "ignored", "ignored"]);
}

#[tokio::test]
async fn a_second_transaction_on_a_paid_order_is_flagged_for_a_human() {
    let app = TestApp::spawn().await;
    let order = app.paid_order("1500").await;
    let mut second = success_for(&order);
    second["id"] = json!("22222222-2222-2222-2222-222222222222");
    let (status, receipt) = notify(&app, POSTLINK, &second).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("ignored")));
    let after = app.stored_order(&order.invoice_id).await;
    assert_eq!(after.status, OrderState::Paid);
    assert!(after.review_reason.unwrap().contains("second successful transaction"));
}

#[tokio::test]
async fn a_failure_fails_the_order_with_its_reason_at_either_endpoint() {
    let app = TestApp::spawn().await;
    for path in [FAILURE_POSTLINK, POSTLINK] {
        let order = app.pending_order("2500").await;
        let key = order.order_key.expose().to_owned();
        let (status, receipt) = notify(&app, path, &failure_for(&order)).await;
        assert_eq!((status, receipt["result"].as_str()), (200, Some("accepted")), "{path}");
        let (_, view) = app.order_status(&order.invoice_id, &key).await;
        assert_eq!(
            view,
            json!({"status": "failed", "amount": "2500", "currency": "KZT", "failureReason": "Недостаточно средств", "failureCode": 484, "method": "p2p"})
        );
        // The same failure again is a duplicate.
        let (_, receipt) = notify(&app, path, &failure_for(&order)).await;
        assert_eq!(receipt["result"], "duplicate");
    }
}

#[tokio::test]
async fn a_success_after_a_decline_goes_to_confirmation() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("2500").await;
    notify(&app, FAILURE_POSTLINK, &failure_for(&order)).await;
    let (_, receipt) = notify(&app, POSTLINK, &success_for(&order)).await;
    assert_eq!(receipt["result"], "accepted");
    let after = app.stored_order(&order.invoice_id).await;
    assert_eq!((after.status, after.failure_code), (OrderState::Confirming, None));
}

/// A notification that fails a check is stored as rejected and never touches the order.
async fn assert_rejected(
    app: &TestApp,
    order: &epay_proxy::store::orders::OrderRow,
    path: &str,
    body: &Value,
    status: u16,
    reason_part: &str,
) {
    let before = app.stored_order(&order.invoice_id).await;
    let (got, answer) = notify(app, path, body).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(answer["error"], "rejected");
    let after = app.stored_order(&order.invoice_id).await;
    assert_eq!((after.status, after.updated_at), (before.status, before.updated_at));
    let (verdict, reason) = verdicts(app).await.pop().unwrap();
    assert_eq!(verdict, "rejected");
    assert!(reason.clone().unwrap_or_default().contains(reason_part), "{reason:?}");
}

#[tokio::test]
async fn forged_and_malformed_notifications_are_rejected() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500").await;

    let mut wrong_secret = success_for(&order);
    wrong_secret["secret_hash"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_rejected(&app, &order, POSTLINK, &wrong_secret, 403, "secret_hash").await;

    let mut number_secret = success_for(&order);
    number_secret["secret_hash"] = json!(12345);
    assert_rejected(&app, &order, POSTLINK, &number_secret, 403, "secret_hash").await;

    let mut unknown = success_for(&order);
    unknown["invoiceId"] = json!("999999999999");
    let (status, unknown_answer) = notify(&app, POSTLINK, &unknown).await;
    let (_, wrong_answer) = notify(&app, POSTLINK, &wrong_secret).await;
    assert_eq!(status, 403);
    assert_eq!(unknown_answer, wrong_answer, "a forger must not tell an unknown invoice from a wrong secret");

    assert_rejected(&app, &order, FAILURE_POSTLINK, &success_for(&order), 422, "failurePostLink").await;

    let mut no_code = success_for(&order);
    no_code.as_object_mut().unwrap().remove("code");
    assert_rejected(&app, &order, POSTLINK, &no_code, 400, "code").await;

    assert_eq!(app.stored_order(&order.invoice_id).await.status, OrderState::Pending);
}

#[tokio::test]
async fn malformed_bodies_are_stored_and_refused() {
    let app = TestApp::spawn().await;
    for body in ["not json", "[1,2,3]", "", r#"{"code":"ok"}"#] {
        let (status, answer) = app.post_raw(POSTLINK, body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "rejected");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'rejected' AND order_id IS NULL").await, 4);
    let (status, _) = app.post_raw(POSTLINK, &"x".repeat(70_000)).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn numbers_as_strings_are_read_leniently() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500.50").await;
    let mut body = success_for(&order);
    body["amount"] = json!("1500.50");
    body["reasonCode"] = json!("0");
    body["invoiceId"] = json!(order.invoice_id.parse::<u64>().unwrap());
    body["unknownNewField"] = json!({"nested": true});
    let (status, receipt) = notify(&app, POSTLINK, &body).await;
    assert_eq!((status, receipt["result"].as_str()), (200, Some("accepted")));
}

#[tokio::test]
async fn order_status_needs_the_orders_key() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500").await;
    let key = order.order_key.expose().to_owned();
    let (status, view) = app.order_status(&order.invoice_id, &key).await;
    assert_eq!((status, view), (200, json!({"status": "pending", "amount": "1500", "currency": "KZT", "method": "p2p"})));

    let (status, body) = app.order_status(&order.invoice_id, "wrong-key").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, unknown) = app.order_status("999999999999", &key).await;
    assert_eq!((status, &unknown), (404, &body), "unknown invoice and wrong key must look alike");

    let response = app.http.get(app.url(&format!("/api/orders/{}", order.invoice_id))).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "order_key_required");
}

#[tokio::test]
async fn thousands_of_forged_notifications_are_all_rejected() {
    let app = TestApp::spawn().await;
    let order = app.pending_order("1500").await;
    let real = order.secret_hash.expose().to_owned();
    let mut forgeries: Vec<Value> = vec![
        json!(real.to_lowercase()),
        json!(real[..27].to_owned()),
        json!(format!("{real}A")),
        json!(format!(" {real}")),
        json!(1234),
        json!(true),
        json!([real.clone()]),
        json!({"secret_hash": real.clone()}),
        json!("JDKCNDDGGDTPSKJD"),
        json!(epay_proxy::config::TEST_CLIENT_SECRET),
    ];
    // Every single-letter change of the real value, and random guesses.
    for position in 0..real.len() {
        for letter in [b'A', b'M', b'Z'] {
            let mut bytes = real.clone().into_bytes();
            if bytes[position] != letter {
                bytes[position] = letter;
                forgeries.push(json!(String::from_utf8(bytes).unwrap()));
            }
        }
    }
    while forgeries.len() < 2_000 {
        forgeries.push(json!(epay_proxy::secrets::new_secret_hash().expose()));
    }
    let mut accepted = 0;
    for forged in &forgeries {
        let mut body = success_for(&order);
        body["secret_hash"] = forged.clone();
        let (status, _) = app.post_raw(POSTLINK, &body.to_string()).await;
        if status == 200 {
            accepted += 1;
        }
    }
    println!("forged notifications tried: {}, accepted: {accepted}", forgeries.len());
    assert_eq!(accepted, 0);
    assert_eq!(app.stored_order(&order.invoice_id).await.status, OrderState::Pending);
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'rejected'").await, 2_000);
}
