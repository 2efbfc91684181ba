//! Saved cards end to end on the sandbox (docs/saved-cards.md): a card is kept only when the
//! shop offers it and the payer agrees; the shop charges it server to server, once, with the
//! status API deciding; a deleted card is deactivated at ePay and never pays again.

use serde_json::{Value, json};

use crate::helpers::{APPROVED_CARD, TestApp, eventually};
use epay_proxy::store::orders::OrderState;

/// A merchant order for `account` that offers to save the card (`allow`).
async fn offering_order(app: &TestApp, reference: &str, account: &str, allow: bool) -> Value {
    let body = json!({"amount": "1500", "description": "Plan", "reference": reference, "accountId": account, "allowSaveCard": allow});
    let (status, order) = app.create_order(&body, &format!("create-{reference}")).await;
    assert_eq!(status, 201, "{order}");
    order
}

/// Starts paying `order` as the widget does, with the payer's answer `save` (`None`: no body).
async fn start(app: &TestApp, order: &Value, save: Option<bool>) -> (u16, Value) {
    let invoice_id = order["invoiceId"].as_str().unwrap();
    let mut request =
        app.http.post(app.url(&format!("/api/orders/{invoice_id}/checkout"))).header("X-Order-Key", order["orderKey"].as_str().unwrap());
    if let Some(save) = save {
        request = request.json(&json!({"saveCard": save}));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn cards_of(app: &TestApp, account: &str) -> Vec<Value> {
    let response = app.merchant(reqwest::Method::GET, &format!("/api/merchant/customers/{account}/cards")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// What the sandbox (ePay) knows of its saved cards.
async fn epay_cards(app: &TestApp) -> Value {
    app.http.get(app.url("/sandbox/cards")).send().await.unwrap().json().await.unwrap()
}

/// A card of `number` saved for `account` by a paid order the payer agreed on; its id.
pub async fn saved_card(app: &TestApp, account: &str, number: &str, reference: &str) -> String {
    let order = offering_order(app, reference, account, true).await;
    let (status, checkout) = start(app, &order, Some(true)).await;
    assert_eq!(status, 200, "{checkout}");
    assert_eq!(checkout["cardSave"], true, "ePay is asked to save the card");
    app.pay(&checkout, number).await;
    app.wait_for_state(order["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    let invoice_id = order["invoiceId"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let cards = cards_of(app, account).await;
        if let Some(card) = cards.iter().find(|c| c["savedByInvoiceId"] == invoice_id.as_str() && c["status"] == "active") {
            return card["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the card {invoice_id} saved never became active: {:?}", cards_of(app, account).await);
}

async fn charge(app: &TestApp, account: &str, card: &str, amount: &str, key: &str) -> (u16, Value, bool) {
    let body = json!({"amount": amount, "description": "Monthly plan", "reference": key, "accountId": account, "savedCard": card});
    let response =
        app.merchant(reqwest::Method::POST, "/api/merchant/orders").header("Idempotency-Key", key).json(&body).send().await.unwrap();
    let (status, replayed) = (response.status().as_u16(), response.headers().contains_key("idempotent-replayed"));
    (status, response.json().await.unwrap_or(Value::Null), replayed)
}

#[tokio::test]
async fn a_card_is_kept_only_when_the_shop_offers_it_and_the_payer_agrees() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "cust-1", APPROVED_CARD, "agreed").await;
    let cards = cards_of(&app, "cust-1").await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    let shown = &cards[0];
    assert_eq!(
        (shown["id"].as_str(), shown["cardMask"].as_str(), shown["cardType"].as_str()),
        (Some(card.as_str()), Some("411111...1111"), Some("VISA"))
    );
    assert_eq!(shown["issuer"], "HALYK BANK (SANDBOX)");
    // ePay's cardId never leaves the proxy, and no card number is kept.
    let epay_id = epay_cards(&app).await["cards"][0]["cardId"].as_str().unwrap().to_owned();
    let listed = serde_json::to_string(&cards).unwrap();
    assert!(!listed.contains(&epay_id) && !listed.contains("4111111111111111"), "{listed}");

    // Offered, but the payer said no: ePay is not asked to save it, and nothing is kept.
    let declined = offering_order(&app, "no-thanks", "cust-1", true).await;
    let (status, view) = app.order_status(declined["invoiceId"].as_str().unwrap(), declined["orderKey"].as_str().unwrap()).await;
    assert_eq!((status, &view["allowSaveCard"]), (200, &json!(true)), "the widget is told to ask");
    let (_, checkout) = start(&app, &declined, None).await;
    assert_eq!(checkout["cardSave"], false);
    app.pay(&checkout, APPROVED_CARD).await;
    app.wait_for_state(declined["invoiceId"].as_str().unwrap(), OrderState::Paid).await;

    // Not offered: the payer cannot ask for it.
    let plain = offering_order(&app, "plain", "cust-1", false).await;
    let (_, view) = app.order_status(plain["invoiceId"].as_str().unwrap(), plain["orderKey"].as_str().unwrap()).await;
    assert_eq!(view["allowSaveCard"], json!(null));
    let (status, error) = start(&app, &plain, Some(true)).await;
    assert_eq!((status, error["error"].as_str()), (422, Some("invalid_field")), "{error}");

    // A payer's own checkout names its account in the browser: its card is never a customer's.
    let (status, open) = app.checkout(&json!({"amount": "1500", "accountId": "cust-1", "cardSave": true}), None).await;
    assert_eq!(status, 200, "{open}");
    app.pay(&open, APPROVED_CARD).await;
    app.wait_for_state(open["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    assert_eq!(cards_of(&app, "cust-1").await.len(), 1, "still only the card the payer agreed to");
    assert!(cards_of(&app, "someone-else").await.is_empty());
}

#[tokio::test]
async fn the_shop_charges_a_saved_card_once_and_the_status_api_decides() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "cust-2", APPROVED_CARD, "save-2").await;
    let (status, order, replayed) = charge(&app, "cust-2", &card, "990", "period-1").await;
    assert_eq!((status, replayed), (201, false), "{order}");
    let answer: String = app.value("SELECT answer FROM card_charges").await;
    assert_eq!(order["status"], "paid", "{order} {answer}");
    assert_eq!(order["amount"], "990");
    let invoice_id = order["invoiceId"].as_str().unwrap().to_owned();
    let stored = app.stored_order(&invoice_id).await;
    assert_eq!(stored.status, OrderState::Paid, "the status API made it paid");

    // The same request again is the same order, and ePay is not asked again.
    let (status, again, replayed) = charge(&app, "cust-2", &card, "990", "period-1").await;
    assert_eq!((status, replayed, again["invoiceId"].as_str()), (201, true, Some(invoice_id.as_str())));
    let epay = epay_cards(&app).await;
    assert_eq!(epay["cards"][0]["charges"], 1, "{epay}");
    let listed = cards_of(&app, "cust-2").await;
    assert!(listed[0]["lastUsedAt"].is_string(), "{listed:?}");

    // Another customer's card cannot be named, nor an unknown one.
    let (status, error, _) = charge(&app, "intruder", &card, "990", "steal").await;
    assert_eq!((status, error["error"].as_str()), (422, Some("card_not_usable")), "{error}");
    let (status, error, _) = charge(&app, "cust-2", "card_000000000000000000000000", "990", "unknown").await;
    assert_eq!((status, error["error"].as_str()), (422, Some("card_not_usable")), "{error}");

    // The order a saved card paid has no payment page: the widget can neither start it nor get
    // its token (a service token).
    let (status, view) = app.order_status(&invoice_id, order["orderKey"].as_str().unwrap()).await;
    assert_eq!((status, view["payable"].as_bool()), (200, None), "{view}");
    let (status, refused) = app.order_checkout(&invoice_id, order["orderKey"].as_str().unwrap()).await;
    assert_eq!((status, refused["error"].as_str()), (409, Some("checkout_finished")), "{refused}");
    assert!(refused.get("auth").is_none());

    // Deleted since: a replay still answers the paid order, not the card's refusal.
    let deleted = app.merchant(reqwest::Method::DELETE, &format!("/api/merchant/customers/cust-2/cards/{card}")).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    let (status, again, replayed) = charge(&app, "cust-2", &card, "990", "period-1").await;
    assert_eq!((status, replayed, again["status"].as_str()), (201, true, Some("paid")), "{again}");
}

#[tokio::test]
async fn the_same_charge_sent_at_once_several_times_pays_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let card = saved_card(&app, "cust-7", APPROVED_CARD, "save-7").await;
    let tries: Vec<_> = (0..6)
        .map(|_| {
            let (app, card) = (app.clone(), card.clone());
            tokio::spawn(async move { charge(&app, "cust-7", &card, "990", "at-once").await })
        })
        .collect();
    let mut invoices = std::collections::HashSet::new();
    for answer in tries {
        let (status, order, _) = answer.await.unwrap();
        assert_eq!(status, 201, "{order}");
        invoices.insert(order["invoiceId"].as_str().unwrap().to_owned());
    }
    assert_eq!(invoices.len(), 1, "one order");
    assert_eq!(epay_cards(&app).await["cards"][0]["charges"], 1, "ePay was asked once");
}

#[tokio::test]
async fn a_declined_charge_says_why_for_people_and_for_programs() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "cust-3", "4000000000000002", "save-3").await;
    let (status, order, _) = charge(&app, "cust-3", &card, "990", "declined-1").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "failed", "{order}");
    assert_eq!(order["payment"]["declineCode"], "insufficient_funds", "{order}");
    assert_eq!(order["payment"]["failureCode"], 484);
    assert!(order["payment"]["failureReason"].as_str().is_some_and(|r| !r.is_empty()), "{order}");
}

#[tokio::test]
async fn a_charge_whose_answer_is_lost_is_never_sent_again() {
    let app = TestApp::spawn_with(&[("EPAY_TIMEOUT_SECS", "1")]).await;
    let card = saved_card(&app, "cust-4", APPROVED_CARD, "save-4").await;
    app.sandbox_control(json!({"operationFaults": [{"fault": "performThenHang"}]})).await;
    let (status, order, _) = charge(&app, "cust-4", &card, "700", "lost-1").await;
    assert_eq!(status, 201, "{order}");
    let invoice_id = order["invoiceId"].as_str().unwrap().to_owned();
    // The payment happened at ePay; the proxy learns it from the status API, not from a resend.
    app.wait_for_state(&invoice_id, OrderState::Paid).await;
    let (status, again, replayed) = charge(&app, "cust-4", &card, "700", "lost-1").await;
    assert_eq!((status, replayed, again["status"].as_str()), (201, true, Some("paid")));
    assert_eq!(epay_cards(&app).await["cards"][0]["charges"], 1, "one payment, whatever was repeated");
    let answer: String = app.value("SELECT answer FROM card_charges").await;
    assert!(answer.starts_with("no answer"), "{answer}");
}

#[tokio::test]
async fn a_deleted_card_is_deactivated_at_epay_and_never_pays_again() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "cust-5", APPROVED_CARD, "save-5").await;
    let delete = || app.merchant(reqwest::Method::DELETE, &format!("/api/merchant/customers/cust-5/cards/{card}")).send();
    let response = delete().await.unwrap();
    assert_eq!(response.status(), 200);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!((deleted["status"].as_str(), deleted["deactivatedAtEpay"].as_bool()), (Some("deleted"), Some(true)), "{deleted}");
    let epay = epay_cards(&app).await;
    assert_eq!((epay["cards"][0]["deactivated"].as_bool(), epay["deactivations"].as_i64()), (Some(true), Some(1)));

    let (status, error, _) = charge(&app, "cust-5", &card, "990", "after-delete").await;
    assert_eq!((status, error["error"].as_str()), (422, Some("card_not_usable")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("deleted"), "{error}");

    // Deleting it again answers the same and asks ePay nothing more; an unknown card is 404.
    let again: Value = delete().await.unwrap().json().await.unwrap();
    assert_eq!(again["status"], "deleted");
    assert_eq!(epay_cards(&app).await["deactivations"], 1);
    let missing = app.merchant(reqwest::Method::DELETE, "/api/merchant/customers/cust-5/cards/card_nope").send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_deactivation_epay_refused_is_asked_again_until_it_is_done() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "cust-6", APPROVED_CARD, "save-6").await;
    // The service token cannot be had: the deactivation cannot be sent.
    app.sandbox_control(json!({"failTokens": 1})).await;
    let response = app.merchant(reqwest::Method::DELETE, &format!("/api/merchant/customers/cust-6/cards/{card}")).send().await.unwrap();
    let deleted: Value = response.json().await.unwrap();
    assert_eq!((deleted["status"].as_str(), deleted["deactivatedAtEpay"].as_bool()), (Some("deleted"), Some(false)), "{deleted}");
    // Its retry is due in a minute; bring it forward, and the worker does it.
    let due_now = "UPDATE saved_cards SET deactivate_next_ms = 0 WHERE deactivate_next_ms IS NOT NULL";
    app.state.store.write(move |tx| tx.execute(due_now, epay_proxy::params![])).await.unwrap();
    eventually("ePay deactivated the card", || async { epay_cards(&app).await["deactivations"] == 1 }).await;
    eventually("the proxy recorded it", || async { cards_of(&app, "cust-6").await[0]["deactivatedAtEpay"] == true }).await;
}
