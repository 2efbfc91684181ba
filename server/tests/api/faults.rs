//! Refunds, captures and cancels against an ePay that misbehaves the ways a payment gateway
//! does (the sandbox's `operationFaults`, `statusLagMs`, `partlyRefundedAsRefund`,
//! `bonusMinor`): card payments of 3,000 ₸, partial refunds of 500, a 1 s timeout and a 4 s
//! settle window. Each row of issue 25's table is a test: what the sandbox performed must equal
//! what the proxy records, nothing is performed twice, and no order stays blocked.

use crate::helpers::console::{Person, console_with, person};
use crate::helpers::{TestApp, eventually};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

/// The proxy of these tests: ePay's answers time out after 1 s, and an operation ePay shows
/// no trace of goes to a person after 4 s (two answers 1 s apart).
async fn app() -> TestApp {
    console_with(&[("EPAY_TIMEOUT_SECS", "1"), ("EPAY_OPERATION_SETTLE_SECS", "4")]).await
}

/// A paid order of 3,000 ₸ (`bonus` of it in Halyk bonuses).
async fn paid(app: &TestApp, reference: &str, bonus_minor: u64) -> String {
    app.sandbox_control(json!({"bonusMinor": bonus_minor})).await;
    app.paid_merchant_order("3000", reference, OrderState::Paid).await
}

async fn refund(app: &TestApp, invoice_id: &str, amount: &str, key: &str) -> Value {
    let (status, body) = app.operation(invoice_id, "refunds", json!({"amount": amount}), key).await;
    assert_eq!(status, 201, "{body}");
    body["operation"].clone()
}

/// The status of the operation `key` made, once it is no longer in flight (or in review).
async fn settled(app: &TestApp, invoice_id: &str, key: &str) -> String {
    let stored = format!("{invoice_id}/refund/{key}");
    let mut status = String::new();
    for _ in 0..300 {
        let key = stored.clone();
        status = app
            .read(move |db| {
                db.query_one(
                    "SELECT status FROM operations WHERE idempotency_key = ?",
                    epay_proxy::params![key],
                    crate::helpers::database::first,
                )
            })
            .await;
        if matches!(status.as_str(), "succeeded" | "failed" | "review") {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("refund {key} on {invoice_id} stayed {status}");
}

/// What ePay performed and what the proxy recorded, in minor units, side by side.
async fn ledgers(app: &TestApp, invoice_id: &str) -> (u64, i64) {
    (app.refunded_by_epay(invoice_id).await, app.stored_order(invoice_id).await.refunded_minor)
}

/// No externalID was performed twice.
async fn each_performed_once(app: &TestApp) {
    let performed = app.sandbox_operations().await;
    let mut ids: Vec<&str> = performed.iter().filter_map(|op| op["externalId"].as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "an operation performed twice: {performed:?}");
}

/// One row: ePay meets the refund with `fault`; the proxy must end with what ePay did.
async fn row(fault: Value, reference: &str) -> (TestApp, String) {
    let app = app().await;
    let invoice_id = paid(&app, reference, 0).await;
    app.sandbox_control(json!({"operationFaults": [fault]})).await;
    refund(&app, &invoice_id, "500", "r-1").await;
    (app, invoice_id)
}

#[tokio::test]
async fn epay_performs_the_refund_then_never_answers() {
    let (app, invoice_id) = row(json!({"fault": "performThenHang"}), "f-1").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "succeeded");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 50_000));
    each_performed_once(&app).await;
}

#[tokio::test]
async fn epay_performs_the_refund_then_answers_500() {
    let (app, invoice_id) = row(json!({"fault": "performThen500"}), "f-2").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "succeeded");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 50_000));
}

/// A slow bank: it answers only after the proxy's timeout, and performs the refund then. The
/// proxy's first lookups see nothing yet; it looks again, and never sends it a second time.
#[tokio::test]
async fn a_slow_bank_performs_the_refund_after_the_timeout_and_it_is_performed_once() {
    let (app, invoice_id) = row(json!({"fault": "lateThenPerform", "ms": 2500}), "f-3").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "succeeded");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 50_000), "500 back, not 1,000");
    each_performed_once(&app).await;
    let sends: i64 = app.value("SELECT sends FROM operations").await;
    assert_eq!(sends, 1);
}

/// ePay never performs it and never answers: after the settle window a person is asked, and
/// "send it again" (the same externalID) does it, once.
#[tokio::test]
async fn epay_never_performs_or_answers_and_a_person_sends_it_again() {
    let (app, invoice_id) = row(json!({"fault": "hang"}), "f-4").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "review");
    assert_eq!(ledgers(&app, &invoice_id).await, (0, 0), "nothing sent again on a guess");
    let order = app.stored_order(&invoice_id).await;
    assert_eq!(order.status, OrderState::Review);
    let operator = person(&app, "aigerim").await;
    let (status, order) = decide(&app, &operator, &invoice_id, "send_again").await;
    assert_eq!(status, 200, "{order}");
    eventually("sent again and done", || async { ledgers(&app, &invoice_id).await == (50_000, 50_000) }).await;
    each_performed_once(&app).await;
    let external_ids: Vec<String> = app.column("SELECT external_id FROM operations").await;
    assert_eq!(app.sandbox_operations().await[0]["externalId"], external_ids[0], "the same externalID");
}

/// ePay answers 200 but its status API shows the old state for a while: looked up until it
/// shows the refund, inside the settle window.
#[tokio::test]
async fn epay_answers_200_and_its_status_api_lags() {
    let app = app().await;
    let invoice_id = paid(&app, "f-5", 0).await;
    app.sandbox_control(json!({"statusLagMs": 2500})).await;
    let first = refund(&app, &invoice_id, "500", "r-1").await;
    assert_eq!(first["status"], "accepted", "{first}");
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "succeeded");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 50_000));
}

/// ePay labels a partly refunded charge REFUND: the amounts decide, and a second partial
/// refund goes through.
#[tokio::test]
async fn a_partly_refunded_charge_labelled_refund() {
    let app = app().await;
    let invoice_id = paid(&app, "f-6", 0).await;
    app.sandbox_control(json!({"partlyRefundedAsRefund": true})).await;
    assert_eq!(refund(&app, &invoice_id, "500", "r-1").await["status"], "succeeded");
    assert_eq!(refund(&app, &invoice_id, "500", "r-2").await["status"], "succeeded");
    assert_eq!(ledgers(&app, &invoice_id).await, (100_000, 100_000));
    assert_eq!(app.stored_order(&invoice_id).await.status, OrderState::Paid);
}

/// An order paid 2,400 by card and 600 in Halyk bonuses: the bonus part is not "returned", a
/// refund ePay never performs goes to a person, "ePay did not" fails it, and the next refund on
/// that order goes through (before, the order was blocked for good).
#[tokio::test]
async fn a_bonus_order_whose_refund_never_happened_is_unblocked_by_a_person() {
    let app = app().await;
    let invoice_id = paid(&app, "f-7", 60_000).await;
    let order = app.stored_order(&invoice_id).await;
    assert_eq!(order.amount_bonus_minor, Some(60_000));
    assert_eq!(refund(&app, &invoice_id, "500", "r-0").await["status"], "succeeded", "600 of bonuses is not a refund");
    app.sandbox_control(json!({"operationFaults": [{"fault": "hang"}]})).await;
    refund(&app, &invoice_id, "500", "r-1").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "review");
    let (status, blocked) = app.operation(&invoice_id, "refunds", json!({"amount": "500"}), "r-2").await;
    assert_eq!((status, blocked["error"].as_str()), (409, Some("operation_not_allowed")), "{blocked}");

    let operator = person(&app, "aigerim").await;
    let (status, wrong) = decide(&app, &operator, &invoice_id, "paid").await;
    assert_eq!(status, 409, "a payment's decision does not settle a refund: {wrong}");
    assert!(wrong["message"].as_str().unwrap().contains("not_done"), "{wrong}");
    let (status, order) = decide(&app, &operator, &invoice_id, "not_done").await;
    assert_eq!((status, order["state"].as_str()), (200, Some("paid")), "{order}");
    assert_eq!(order["reviewResolution"]["decision"], "not_done");
    assert_eq!(refund(&app, &invoice_id, "500", "r-3").await["status"], "succeeded", "the next refund goes through");
    assert_eq!(ledgers(&app, &invoice_id).await, (100_000, 100_000));
    eventually("the events", || async {
        let events = app.event_types(&invoice_id).await;
        events.iter().filter(|e| *e == "refund.succeeded").count() == 2 && events.contains(&"refund.failed".to_owned())
    })
    .await;
    let events = app.event_types(&invoice_id).await;
    assert_eq!(
        events,
        ["order.paid", "refund.succeeded", "order.review", "order.review_resolved", "order.paid", "refund.failed", "refund.succeeded"]
    );
}

/// "ePay did it": the refund counts (refund.succeeded), and a refund of the rest goes through.
#[tokio::test]
async fn a_person_says_epay_did_it_and_the_refund_counts() {
    let (app, invoice_id) = row(json!({"fault": "hang"}), "f-8").await;
    assert_eq!(settled(&app, &invoice_id, "r-1").await, "review");
    let operator = person(&app, "aigerim").await;
    let (status, order) = decide(&app, &operator, &invoice_id, "done").await;
    assert_eq!((status, order["refundedAmount"].as_str(), order["state"].as_str()), (200, Some("500"), Some("paid")), "{order}");
    let (status, rest) = app.operation(&invoice_id, "refunds", json!({}), "r-rest").await;
    // ePay never performed the first: its ledger holds 3,000 where the proxy now records 2,500.
    assert_eq!(status, 201, "{rest}");
    assert_eq!(rest["operation"]["status"], "review", "ePay's ledger disagrees: a person again, nothing sent");
    assert!(rest["order"]["reviewReason"].as_str().unwrap().contains("holding 3000"), "{rest}");
    assert_eq!(ledgers(&app, &invoice_id).await, (0, 50_000), "what the person said, and ePay's own: both shown");
    let (status, _) = decide(&app, &operator, &invoice_id, "not_done").await;
    assert_eq!(status, 200);
}

/// A "send again" is refused by the ledger when ePay did it after all (late): nothing is sent.
#[tokio::test]
async fn send_again_sends_nothing_when_epay_shows_the_refund_after_all() {
    let app = app().await;
    let invoice_id = paid(&app, "f-9", 0).await;
    // ePay performs it only after the settle window and a person's look.
    app.sandbox_control(json!({"operationFaults": [{"fault": "lateThenPerform", "ms": 9000}]})).await;
    refund(&app, &invoice_id, "500", "r-1").await;
    eventually("no trace, then a person", || async { app.stored_order(&invoice_id).await.status == OrderState::Review }).await;
    eventually("ePay does it late", || async { app.refunded_by_epay(&invoice_id).await == 50_000 }).await;
    let operator = person(&app, "aigerim").await;
    let (status, order) = decide(&app, &operator, &invoice_id, "send_again").await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["state"], "review", "ePay's ledger shows it: back to the person, with figures");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 0), "not sent again");
    let (_, order) = decide(&app, &operator, &invoice_id, "done").await;
    assert_eq!(order["refundedAmount"], "500");
    assert_eq!(ledgers(&app, &invoice_id).await, (50_000, 50_000));
    each_performed_once(&app).await;
}

async fn decide(app: &TestApp, operator: &Person, invoice_id: &str, decision: &str) -> (u16, Value) {
    let body = json!({"decision": decision, "checked": "ePay cabinet", "note": "issue 25"});
    operator.post(app, &format!("/api/admin/orders/{invoice_id}/review"), body, &format!("decide-{decision}-{}", rand_suffix())).await
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}
