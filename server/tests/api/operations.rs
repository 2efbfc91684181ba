//! Capture, cancel and refund through the merchant API against the sandbox: ePay's rules,
//! the refund limit under concurrency, answers that never come, and the events each makes.

use std::time::Duration;

use crate::helpers::{TestApp, eventually};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

async fn two_stage_app() -> TestApp {
    let app = TestApp::spawn_with(&[("EPAY_TWO_STAGE", "true")]).await;
    app.sandbox_control(json!({"twoStage": true})).await;
    app
}

/// A write job and a reader read the same rows with the same column lists: the same order and
/// operation, read both ways, must be the same values (on SQLite the writer and the readers
/// are different connections, even different drivers' settings).
#[tokio::test]
async fn the_writer_and_the_readers_read_the_same_rows() {
    let app = two_stage_app().await;
    let invoice_id = app.paid_merchant_order("1500", "rows-1", OrderState::Authorized).await;
    let (status, captured) = app.operation(&invoice_id, "capture", json!({"amount": "1000"}), "rows-c").await;
    assert_eq!(status, 201, "{captured}");
    let order = app.stored_order(&invoice_id).await;
    let id = order.id;
    let operation_id: i64 = app
        .read(move |db| {
            db.query_one("SELECT id FROM operations WHERE order_id = ?", epay_proxy::params![id], crate::helpers::database::first)
        })
        .await;
    let (written_order, written_operation) = app
        .state
        .store
        .write(move |tx| {
            Ok((epay_proxy::store::orders::find_by_id(tx, id)?.unwrap(), epay_proxy::store::operations::find(tx, operation_id)?.unwrap()))
        })
        .await
        .unwrap();
    // Every field but the secrets through Debug (which hides them), the secrets themselves apart.
    assert_eq!(format!("{written_order:?}"), format!("{order:?}"));
    assert_eq!(written_order.order_key.expose(), order.order_key.expose());
    assert_eq!(written_order.secret_hash.expose(), order.secret_hash.expose());
    assert!(order.merchant_reference.is_some() && order.captured_minor == Some(100_000) && order.transaction_id.is_some(), "{order:?}");
    let read_operation = app.read(move |db| epay_proxy::store::operations::find(db, operation_id)).await.unwrap();
    assert_eq!(written_operation, read_operation);
}

#[tokio::test]
async fn a_two_stage_payment_is_authorized_then_captured_in_part() {
    let app = two_stage_app().await;
    let invoice_id = app.paid_merchant_order("1500", "op-1", OrderState::Authorized).await;
    assert_eq!(app.event_types(&invoice_id).await, ["order.authorized"], "AUTH is not paid");

    let (status, refused) = app.operation(&invoice_id, "refunds", json!({}), "r-1").await;
    assert_eq!((status, refused["error"].as_str()), (409, Some("operation_not_allowed")));
    assert!(refused["message"].as_str().unwrap().contains("capture up to 1500"), "{refused}");
    let (status, too_much) = app.operation(&invoice_id, "capture", json!({"amount": "1500.01"}), "c-0").await;
    assert_eq!((status, too_much["error"].as_str()), (422, Some("invalid_amount")));

    let (status, captured) = app.operation(&invoice_id, "capture", json!({"amount": "1000"}), "c-1").await;
    assert_eq!(status, 201, "{captured}");
    assert_eq!(captured["operation"]["status"], "succeeded");
    assert_eq!(captured["order"]["status"], "paid");
    assert_eq!(captured["order"]["capturedAmount"], "1000");
    assert_eq!(app.event_types(&invoice_id).await, ["order.authorized", "order.paid", "order.captured"]);

    // The same request again is the same capture; another body under the key is refused.
    let (status, again) = app.operation(&invoice_id, "capture", json!({"amount": "1000"}), "c-1").await;
    assert_eq!((status, again["operation"]["id"].clone()), (201, captured["operation"]["id"].clone()));
    let (status, reused) = app.operation(&invoice_id, "capture", json!({"amount": "900"}), "c-1").await;
    assert_eq!((status, reused["error"].as_str()), (422, Some("idempotency_key_reused")));
    let (status, twice) = app.operation(&invoice_id, "capture", json!({}), "c-2").await;
    assert_eq!((status, twice["error"].as_str()), (409, Some("operation_not_allowed")), "a CHARGE is not captured");
    let (status, cancel) = app.operation(&invoice_id, "cancel", json!({}), "x-1").await;
    assert_eq!((status, cancel["error"].as_str()), (409, Some("operation_not_allowed")), "nor cancelled");

    // Refunds come out of what was captured, not what was authorized.
    let (status, refund) = app.operation(&invoice_id, "refunds", json!({"amount": "1100"}), "r-2").await;
    assert_eq!((status, refund["error"].as_str()), (422, Some("invalid_amount")), "{refund}");
    let (status, refund) = app.operation(&invoice_id, "refunds", json!({"reason": "returned"}), "r-3").await;
    assert_eq!(status, 201, "{refund}");
    assert_eq!((refund["operation"]["amount"].as_str(), refund["order"]["status"].as_str()), (Some("1000"), Some("refunded")));
    assert_eq!(refund["order"]["refundedAmount"], "1000");
    assert_eq!(app.event_types(&invoice_id).await, ["order.authorized", "order.paid", "order.captured", "refund.succeeded"]);
}

#[tokio::test]
async fn a_hold_is_cancelled_and_then_nothing_more_is_possible() {
    let app = two_stage_app().await;
    let invoice_id = app.paid_merchant_order("800", "op-2", OrderState::Authorized).await;
    let (status, cancelled) = app.operation(&invoice_id, "cancel", Value::Null, "x-1").await;
    assert_eq!(status, 201, "{cancelled}");
    assert_eq!((cancelled["operation"]["status"].as_str(), cancelled["order"]["status"].as_str()), (Some("succeeded"), Some("cancelled")));
    for (operation, key) in [("capture", "c-1"), ("refunds", "r-1"), ("cancel", "x-2")] {
        let (status, body) = app.operation(&invoice_id, operation, json!({}), key).await;
        assert_eq!((status, body["error"].as_str()), (409, Some("operation_not_allowed")), "{operation}");
        assert!(body["message"].as_str().unwrap().contains("cancelled"), "{body}");
    }
    assert_eq!(app.event_types(&invoice_id).await, ["order.authorized", "order.cancelled"]);
}

#[tokio::test]
async fn partial_refunds_respect_the_minimum_and_never_exceed_the_charge() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-3", OrderState::Paid).await;
    let (status, small) = app.operation(&invoice_id, "refunds", json!({"amount": "9.99"}), "r-1").await;
    assert_eq!((status, small["error"].as_str()), (422, Some("invalid_amount")));
    assert!(small["message"].as_str().unwrap().contains("at least 10"), "{small}");
    let (status, part) = app.operation(&invoice_id, "refunds", json!({"amount": "500", "reason": "one cup broken"}), "r-2").await;
    assert_eq!(status, 201, "{part}");
    assert_eq!((part["order"]["status"].as_str(), part["order"]["refundedAmount"].as_str()), (Some("paid"), Some("500")));
    let (status, over) = app.operation(&invoice_id, "refunds", json!({"amount": "1000.01"}), "r-3").await;
    assert_eq!((status, over["error"].as_str()), (422, Some("invalid_amount")));
    assert!(over["message"].as_str().unwrap().contains("at most 1000"), "{over}");
    let (status, rest) = app.operation(&invoice_id, "refunds", json!({}), "r-4").await;
    assert_eq!((status, rest["operation"]["amount"].as_str(), rest["order"]["status"].as_str()), (201, Some("1000"), Some("refunded")));
    let (status, more) = app.operation(&invoice_id, "refunds", json!({}), "r-5").await;
    assert_eq!((status, more["error"].as_str()), (409, Some("operation_not_allowed")));
    let refunds: Vec<&str> = rest["order"]["operations"].as_array().unwrap().iter().map(|o| o["amount"].as_str().unwrap()).collect();
    assert_eq!(refunds, ["500", "1000"]);
    assert_eq!(app.event_types(&invoice_id).await, ["order.paid", "refund.succeeded", "refund.succeeded"]);
}

/// One operation at a time per order: of refunds sent at once, one is taken and the others are
/// told to retry (409); retried one after another, they stop where the charge ends.
#[tokio::test]
async fn concurrent_refunds_never_exceed_what_was_charged() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-4", OrderState::Paid).await;
    let requests = (0..10).map(|n| {
        let (app, invoice_id) = (&app, invoice_id.clone());
        async move { app.operation(&invoice_id, "refunds", json!({"amount": "200"}), &format!("race-{n}")).await }
    });
    let answers = futures::future::join_all(requests).await;
    let succeeded = answers.iter().filter(|(status, body)| *status == 201 && body["operation"]["status"] == "succeeded").count();
    let busy = answers.iter().filter(|(status, body)| *status == 409 && body["message"].as_str().unwrap().contains("in progress")).count();
    assert_eq!(succeeded + busy, 10, "{answers:?}");
    assert!(succeeded >= 1, "{answers:?}");
    // The merchant retries each refused one with its own key, one after another.
    let mut outcomes = Vec::new();
    for n in 0..10 {
        let (status, body) = app.operation(&invoice_id, "refunds", json!({"amount": "200"}), &format!("retry-{n}")).await;
        outcomes.push((status, body["error"].as_str().map(str::to_owned)));
    }
    let taken = outcomes.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(succeeded + taken, 7, "7 × 200 fit in 1500, the 8th would not: {outcomes:?}");
    assert!(outcomes[taken..].iter().all(|(status, error)| *status == 422 && error.as_deref() == Some("invalid_amount")), "{outcomes:?}");
    let order = app.stored_order(&invoice_id).await;
    assert_eq!(order.refunded_minor, 140_000);
    let held: i64 =
        app.value("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM operations WHERE kind = 'refund' AND status = 'succeeded'").await;
    assert!(held <= order.captured_minor.unwrap());
}

#[tokio::test]
async fn a_refund_without_an_answer_is_looked_up_not_repeated_blindly() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-5", OrderState::Paid).await;
    // ePay performs the refund but answers after the proxy's 2 s timeout.
    app.sandbox_control(json!({"slowOperations": 1, "slowOperationMs": 3000})).await;
    let (status, pending) = app.operation(&invoice_id, "refunds", json!({}), "r-1").await;
    assert_eq!(status, 201, "{pending}");
    assert_eq!(pending["operation"]["status"], "unknown");
    assert_eq!(pending["order"]["status"], "paid", "nothing assumed");
    eventually("the lookup finds the refund", || async { app.stored_order(&invoice_id).await.status == OrderState::Refunded }).await;
    let message: String = app.value("SELECT epay_answer FROM operations").await;
    assert!(message.contains("the status API shows it"), "found by asking, not by sending again: {message}");
    assert_eq!(app.event_types(&invoice_id).await, ["order.paid", "refund.succeeded"]);
    assert_eq!(performed(&app).await, 1, "ePay was asked to refund once");
}

/// A 5xx is no answer: ePay may have done it. The status API shows the charge untouched for the
/// settle window, so a person is asked; nothing is sent again before they say so, and then it
/// is the same operation (the same externalID), done once. A first 4xx fails the refund.
#[tokio::test]
async fn a_5xx_is_never_sent_again_on_a_guess_and_a_first_4xx_fails_the_refund() {
    let app = TestApp::spawn_with(&[("EPAY_OPERATION_SETTLE_SECS", "2")]).await;
    let invoice_id = app.paid_merchant_order("1500", "op-6", OrderState::Paid).await;
    app.sandbox_control(json!({"failOperations": 1})).await;
    let (status, first) = app.operation(&invoice_id, "refunds", json!({"amount": "300"}), "r-1").await;
    assert_eq!((status, first["operation"]["status"].as_str()), (201, Some("unknown")), "{first}");
    let order = app.wait_for_state(&invoice_id, OrderState::Review).await;
    assert!(order.review_reason.as_deref().is_some_and(|r| r.contains("no trace")), "{:?}", order.review_reason);
    assert_eq!(performed(&app).await, 0, "not sent again by itself");
    let said = epay_proxy::operations::review::from_cli(
        &app.state.store,
        &app.state.epay,
        &[&invoice_id, "send-again", "--checked", "cabinet: no refund"],
    )
    .await
    .unwrap();
    assert!(said.contains("sent again"), "{said}");
    eventually("the partial refund sent again and done", || async { app.stored_order(&invoice_id).await.refunded_minor == 30_000 }).await;
    let ids: Vec<String> = app.column("SELECT external_id FROM operations").await;
    assert_eq!(ids.len(), 1, "one operation, one externalID, however often it was sent");
    assert_eq!(performed(&app).await, 1);
    assert_eq!(app.stored_order(&invoice_id).await.status, OrderState::Paid, "out of review");

    // ePay refuses (its transaction is not the one the order names): failed, nothing moved.
    let order_id = app.stored_order(&invoice_id).await.id;
    app.state
        .store
        .write(move |tx| tx.execute("UPDATE orders SET transaction_id = 'no-such' WHERE id = ?", epay_proxy::params![order_id]))
        .await
        .unwrap();
    let (status, refused) = app.operation(&invoice_id, "refunds", json!({"amount": "300"}), "r-2").await;
    assert_eq!((status, refused["operation"]["status"].as_str()), (201, Some("failed")), "{refused}");
    assert!(refused["operation"]["message"].as_str().unwrap().contains("ePay refused"), "{refused}");
    assert_eq!(refused["order"]["refundedAmount"], "300");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let events = app.event_types(&invoice_id).await;
    assert_eq!(events, ["order.paid", "order.review", "order.paid", "order.review_resolved", "refund.succeeded", "refund.failed"]);
}

#[tokio::test]
async fn operations_need_a_key_an_order_and_a_proper_body() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-7", OrderState::Paid).await;
    let response =
        app.merchant(reqwest::Method::POST, &format!("/api/merchant/orders/{invoice_id}/refunds")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let (status, body) = app.operation("999999999999", "refunds", json!({}), "k").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) = app.operation(&invoice_id, "refunds", json!({"amount": "1", "extra": 1}), "k2").await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_field")));
    let (status, body) = app.operation(&invoice_id, "refunds", json!({"amount": "abc"}), "k3").await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_amount")));
    let response =
        app.http.post(app.url(&format!("/api/merchant/orders/{invoice_id}/refunds"))).header("Idempotency-Key", "k4").send().await.unwrap();
    assert_eq!(response.status(), 401, "the merchant key is required");
}

/// How many charge, cancel and refund requests the sandbox performed.
async fn performed(app: &TestApp) -> u32 {
    app.http.get(app.url("/sandbox/operations-performed")).send().await.unwrap().json().await.unwrap()
}

/// A 4xx to a repeat may mean "already done": it is looked up like no answer, never taken as
/// "failed" (a failed refund that happened would let the merchant refund twice).
#[tokio::test]
async fn a_refused_repeat_is_looked_up_not_failed() {
    let app = TestApp::spawn_with(&[("EPAY_OPERATION_SETTLE_SECS", "2")]).await;
    let invoice_id = app.paid_merchant_order("1500", "op-8", OrderState::Paid).await;
    // No answer; then, sent again by a person, the repeat is refused; then sent again, done.
    app.sandbox_control(json!({"failOperations": 1, "refuseOperations": 1})).await;
    let (status, first) = app.operation(&invoice_id, "refunds", json!({"amount": "300"}), "r-1").await;
    assert_eq!((status, first["operation"]["status"].as_str()), (201, Some("unknown")), "{first}");
    let args = [invoice_id.as_str(), "send-again", "--checked", "cabinet: none"];
    for round in 0..2 {
        app.wait_for_state(&invoice_id, OrderState::Review).await;
        epay_proxy::operations::review::from_cli(&app.state.store, &app.state.epay, &args).await.unwrap();
        if round == 0 {
            eventually("the repeat refused and looked up", || async {
                app.value::<String>("SELECT status FROM operations").await == "unknown"
            })
            .await;
            let said: String = app.value("SELECT epay_answer FROM operations").await;
            assert!(said.contains("refused the repeat"), "{said}");
        }
    }
    eventually("the refund done after a refused repeat", || async { app.stored_order(&invoice_id).await.refunded_minor == 30_000 }).await;
    let (status, sends): (String, i64) =
        app.read(|db| db.query_one("SELECT status, sends FROM operations", epay_proxy::params![], crate::helpers::database::pair)).await;
    assert_eq!((status.as_str(), sends), ("succeeded", 3), "no answer, a refused repeat, then done");
    assert_eq!(performed(&app).await, 1);
    assert!(!app.event_types(&invoice_id).await.contains(&"refund.failed".to_owned()), "no refund.failed on the way");
}

/// No answer, and then the status API shows the charge reduced by more than was asked (a refund
/// in ePay's cabinet): the proxy never silently disagrees with ePay's ledger. A person decides:
/// the operation and its order go to review (order.review to the shop, with both figures),
/// nothing is sent again, and no other operation is taken until then.
#[tokio::test]
async fn a_refund_the_status_api_cannot_account_for_goes_to_a_person() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-9", OrderState::Paid).await;
    app.sandbox_control(json!({"failOperations": 1})).await;
    let (status, first) = app.operation(&invoice_id, "refunds", json!({"amount": "300"}), "r-1").await;
    assert_eq!((status, first["operation"]["status"].as_str()), (201, Some("unknown")), "{first}");
    // Meanwhile someone refunds 500 in ePay's cabinet.
    let transaction_id = app.stored_order(&invoice_id).await.transaction_id.unwrap();
    let service = app.state.epay.service_token(&app.state.config.epay.p2p_terminal_id).await.unwrap();
    let cabinet = app
        .http
        .post(app.url(&format!("/sandbox/api/operation/{transaction_id}/refund?amount=500&externalID=cabinet")))
        .bearer_auth(service.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(cabinet.status(), 200);
    let order = app.wait_for_state(&invoice_id, OrderState::Review).await;
    let reason = order.review_reason.unwrap_or_default();
    assert!(reason.contains("500 returned") && reason.contains("asked for 300"), "both figures: {reason}");
    let status: String = app.value("SELECT status FROM operations").await;
    assert_eq!(status, "review");
    assert_eq!(performed(&app).await, 1, "only the cabinet's refund: the proxy's was not sent again");
    let (status, second) = app.operation(&invoice_id, "refunds", json!({"amount": "100"}), "r-2").await;
    assert_eq!((status, second["error"].as_str()), (409, Some("operation_not_allowed")), "{second}");
    eventually("order.review sent", || async { app.event_types(&invoice_id).await.contains(&"order.review".to_owned()) }).await;

    // A person records ePay's ledger as it is: 500 came back, at least the 300 asked; the rest
    // is a refund made outside the proxy. The proxy's ledger equals ePay's again.
    let args = [invoice_id.as_str(), "epay-ledger", "--checked", "ePay cabinet: a refund of 500"];
    let said = epay_proxy::operations::review::from_cli(&app.state.store, &app.state.epay, &args).await.unwrap();
    assert!(said.contains("settled"), "{said}");
    let order = app.stored_order(&invoice_id).await;
    assert_eq!((order.status, order.refunded_minor), (OrderState::Paid, 50_000));
    let amounts: Vec<(String, i64)> = app.pairs("SELECT status, amount_minor FROM operations ORDER BY id").await;
    assert_eq!(amounts, [("succeeded".to_owned(), 30_000), ("succeeded".to_owned(), 20_000)]);
    let (status, next) = app.operation(&invoice_id, "refunds", json!({"amount": "100"}), "r-3").await;
    assert_eq!((status, next["operation"]["status"].as_str()), (201, Some("succeeded")), "the next refund is sent: {next}");
    assert_eq!(performed(&app).await, 2, "the cabinet's refund and the next one");
}

/// A crash between storing an operation and ePay's answer: the stored operation's claim ends
/// and the lookup worker takes it over (the order is not stuck answering 409).
#[tokio::test]
async fn an_operation_whose_request_died_is_taken_over_by_the_lookup_worker() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-10", OrderState::Paid).await;
    let order_id = app.stored_order(&invoice_id).await.id;
    // What the request stored before it died: pending, claimed until a moment ago.
    store_refund(&app, order_id, "pending", epay_proxy::store::now_ms() - 1).await;
    eventually("the worker finishes it", || async { app.stored_order(&invoice_id).await.refunded_minor == 40_000 }).await;
    assert_eq!(performed(&app).await, 1);
    let (status, next) = app.operation(&invoice_id, "refunds", json!({"amount": "100"}), "r-next").await;
    assert_eq!((status, next["operation"]["status"].as_str()), (201, Some("succeeded")), "{next}");
}

/// Stores a refund of 400 ₸ on `order_id` as a request or a worker left it: `status`, claimed
/// (due) until `next_check_ms`. Returns its id.
async fn store_refund(app: &TestApp, order_id: i64, status: &'static str, next_check_ms: i64) -> i64 {
    app.state
        .store
        .write(move |tx| {
            tx.query_one(
                "INSERT INTO operations (order_id, kind, amount_minor, external_id, idempotency_key, fingerprint, status, next_check_ms,
                    created_at, updated_at)
                 VALUES (?, 'refund', 40000, 'ext-stored', 'stored', 'f', ?, ?, 0, 0) RETURNING id",
                epay_proxy::params![order_id, status, next_check_ms],
                |row| row.get(0),
            )
        })
        .await
        .unwrap()
}

type WriteJob = dyn FnMut(&mut epay_proxy::store::Tx) -> Result<bool, epay_proxy::store::StoreError> + Send;

/// Only the holder of an operation's claim records its result: a worker whose claim was taken
/// over (its lease ended) records nothing, and cannot renew it.
#[tokio::test]
async fn only_the_claims_holder_records_an_operation() {
    use epay_proxy::store::operations;
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "op-11", OrderState::Paid).await;
    let order_id = app.stored_order(&invoice_id).await.id;
    let now = epay_proxy::store::now_ms();
    let id = store_refund(&app, order_id, "unknown", now + 600_000).await;
    let store = app.state.store.clone();
    let write = |job: Box<WriteJob>| {
        let store = store.clone();
        async move { store.write(job).await.unwrap() }
    };
    // Instance A holds it until +600 s; its lease ends and instance B claims it.
    let (a, b) = (now + 600_000, now + 700_000);
    let taken = app.state.store.write(move |tx| operations::claim_due(tx, a, b, 10)).await.unwrap();
    assert_eq!(taken.iter().map(|op| op.id).collect::<Vec<_>>(), [id]);
    assert!(!write(Box::new(move |tx| operations::renew(tx, id, a, a + 1))).await, "A cannot renew what B holds");
    assert!(!write(Box::new(move |tx| operations::succeed(tx, id, a, "late"))).await, "A's late answer is ignored");
    assert_eq!(app.stored_order(&invoice_id).await.refunded_minor, 0);
    assert!(write(Box::new(move |tx| operations::succeed(tx, id, b, "looked up"))).await, "B records it");
    assert_eq!(app.stored_order(&invoice_id).await.refunded_minor, 40_000);
    assert!(!write(Box::new(move |tx| operations::succeed(tx, id, b, "again"))).await, "once");
}
