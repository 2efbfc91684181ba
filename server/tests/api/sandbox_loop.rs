//! The whole loop over TCP: checkout → token from the sandbox → the payer on the sandbox
//! payment page → postLink back to the proxy → order status. And the sandbox's own strictness.

use crate::helpers::{APPROVED_CARD, DECLINED_CARD, SILENT_CARD, TestApp, encode_params, eventually, payment_object};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

#[tokio::test]
async fn approved_card_pays_the_order_through_the_postlink() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    let (invoice_id, key) = (checkout["invoiceId"].as_str().unwrap(), checkout["orderKey"].as_str().unwrap());

    let redirect = app.pay(&checkout, APPROVED_CARD).await;
    assert_eq!(redirect, checkout["backLink"].as_str().unwrap());

    // postLink (confirming), then the status API (paid).
    app.wait_for_state(invoice_id, OrderState::Paid).await;
    let (status, view) = app.order_status(invoice_id, key).await;
    assert_eq!(status, 200);
    assert_eq!(view, json!({"status": "paid", "amount": "1500", "currency": "KZT", "cardMask": "411111...1111", "method": "p2p"}));
    let notifications: Vec<(String, String)> = app.pairs("SELECT endpoint, verdict FROM notifications").await;
    assert_eq!(notifications, [("postlink".to_owned(), "accepted".to_owned())]);
    let order = app.stored_order(invoice_id).await;
    assert!(order.transaction_id.is_some() && order.approval_code.as_deref().is_some_and(|c| c.len() == 6));
}

#[tokio::test]
async fn declined_card_fails_the_order_with_484() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("2000").await;
    let (invoice_id, key) = (checkout["invoiceId"].as_str().unwrap(), checkout["orderKey"].as_str().unwrap());
    let redirect = app.pay(&checkout, DECLINED_CARD).await;
    assert_eq!(redirect, checkout["failureBackLink"].as_str().unwrap());
    // The failure postLink carries no secret_hash (as the seed's failure sample): a hint, and
    // the status API's answer fails the order at once.
    app.wait_for_state(invoice_id, OrderState::Failed).await;
    let (_, view) = app.order_status(invoice_id, key).await;
    assert_eq!(view["status"], "failed");
    assert_eq!(view["failureCode"], 484);
    assert!(view.get("cardMask").is_none());
    let (endpoint, verdict): (String, String) = app.pairs("SELECT endpoint, verdict FROM notifications").await.remove(0);
    assert_eq!((endpoint.as_str(), verdict.as_str()), ("failure_postlink", "hint"));
}

#[tokio::test]
async fn a_refused_postlink_is_retried_until_it_lands() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"deliveryRetryMs": 50})).await;
    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap().to_owned();
    // Break the order's secret_hash in the store: the proxy now refuses the postLink.
    let writer_breaks = invoice_id.clone();
    app.state
        .store
        .write(move |tx| {
            // Bound, not written into the SQL, which a log line might show.
            tx.execute(
                "UPDATE orders SET secret_hash = ? WHERE invoice_id = ?",
                epay_proxy::params!["WRONGWRONGWRONGWRONGWRONGWRO", writer_breaks],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    app.pay(&checkout, APPROVED_CARD).await;
    eventually("two refused attempts", || async { app.count("SELECT COUNT(*) FROM notifications WHERE verdict = 'rejected'").await >= 2 })
        .await;
    assert_eq!(app.stored_order(&invoice_id).await.status, OrderState::Pending);
}

#[tokio::test]
async fn the_payment_page_checks_the_payment_object_against_its_token() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    let open = |object: Value, flag: &str| {
        let url =
            format!("{}?params={}{flag}", app.url("/sandbox/payform/"), lz_str::compress_to_encoded_uri_component(&encode_params(&object)));
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, html) = open(payment_object(&checkout), "&isTransfer=true").await;
    assert_eq!(status, 200);
    assert!(html.contains("SANDBOX") && html.contains("1\u{a0}500\u{a0}₸") && html.contains(checkout["invoiceId"].as_str().unwrap()));

    for (field, value, complaint) in [
        ("amount", json!(1), "amount"),
        ("invoiceId", json!("123456789012"), "invoiceId"),
        ("terminal", json!("67e34d63-102f-4bd1-898e-370781d0074d"), "terminal"),
        ("currency", json!("USD"), "currency"),
        ("cardSave", json!("yes"), "cardSave"),
    ] {
        let mut object = payment_object(&checkout);
        object[field] = value;
        let (status, html) = open(object, "&isTransfer=true").await;
        assert_eq!(status, 400, "{field}");
        assert!(html.contains(complaint), "{field}: {html}");
    }
    let mut object = payment_object(&checkout);
    object["auth"]["access_token"] = json!("FORGED");
    assert_eq!(open(object, "&isTransfer=true").await.0, 400);
    // A transfer token cannot open the card-payment form.
    let (status, html) = open(payment_object(&checkout), "").await;
    assert_eq!(status, 400);
    assert!(html.contains("transfer"), "{html}");
    assert_eq!(app.http.get(app.url("/sandbox/payform/?params=garbage")).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn a_paid_invoice_cannot_be_paid_or_tokenised_again() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    app.pay(&checkout, APPROVED_CARD).await;
    let page = app.http.get(app.payform_url(&checkout, "&isTransfer=true")).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("already paid"));
}

#[tokio::test]
async fn the_status_api_answers_behind_a_service_token() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    let status_url = app.url(&format!("/sandbox/api/check-status/payment/transaction/{invoice_id}"));

    let unauthorised = app.http.get(&status_url).bearer_auth(checkout["auth"]["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(unauthorised.status(), 401, "a payment token is not a service token");

    let service = app.state.epay.service_token(&app.state.config.epay.p2p_terminal_id).await.unwrap();
    let get = |url: String| {
        let (http, token) = (app.http.clone(), service.access_token.clone());
        async move { http.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(get(status_url.clone()).await["resultCode"], "102");
    app.pay(&checkout, APPROVED_CARD).await;
    let found = get(status_url).await;
    assert_eq!(found["resultCode"], "100");
    assert_eq!(found["transaction"]["statusName"], "CHARGE");
    assert_eq!(found["transaction"]["amount"], 1500);
    assert_eq!(found["transaction"]["invoiceID"], invoice_id);
    assert_eq!(found["transaction"]["terminalID"], app.state.config.epay.p2p_terminal_id.as_str());
    // A transfer is answered in the P2P page's shape.
    let p2p = get(app.url(&format!("/sandbox/api/check-status/p2p/transaction/{invoice_id}"))).await;
    assert_eq!((p2p["result"]["code"].clone(), p2p["transaction"]["p2p"]["statusName"].clone()), (json!("100"), json!("CHARGE")));
}

#[tokio::test]
async fn the_control_knobs_fail_tokens_and_stringify_expires_in() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"failTokens": 1, "failTokensStatus": 503})).await;
    let (status, body) = app.checkout(&json!({"amount": "100"}), Some("k1")).await;
    assert_eq!((status, body["error"].as_str()), (502, Some("upstream_error")));
    let (status, body) = app.checkout(&json!({"amount": "100"}), Some("k1")).await;
    assert_eq!(status, 200, "the retry with the same key succeeds: {body}");
    app.sandbox_control(json!({"expiresInAsString": true})).await;
    assert_eq!(app.checkout_ok("100").await["auth"]["expires_in"], "7200");
}

#[tokio::test]
async fn payment_api_js_defines_halyk_like_the_real_script() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/sandbox/payform/payment-api.js")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/javascript; charset=utf-8");
    let script = response.text().await.unwrap();
    for part in [
        "window.halyk",
        "p2p: redirect(\"&isTransfer=true\")",
        "isOCT",
        "isAFT",
        "isShortForm",
        "compressToEncodedURIComponent",
        "var LZString",
    ] {
        assert!(script.contains(part), "payment-api.js lacks {part}");
    }
}

#[tokio::test]
async fn a_payment_whose_postlink_never_comes_is_found_by_reconciliation() {
    let app = TestApp::spawn_with(&[("RECONCILE_AFTER_SECS", "1")]).await;
    let checkout = app.checkout_ok("3000").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    app.pay(&checkout, SILENT_CARD).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 0, "the silent card sends no postLink");
    let paid = app.wait_for_state(invoice_id, OrderState::Paid).await;
    assert_eq!(paid.card_mask.as_deref(), Some("555555...4444"));
    let (_, view) = app.order_status(invoice_id, checkout["orderKey"].as_str().unwrap()).await;
    assert_eq!(view["status"], "paid");
}

#[tokio::test]
async fn the_sandbox_status_api_says_in_progress_when_told() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"statusInProgress": 2})).await;
    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    app.pay(&checkout, APPROVED_CARD).await;
    let paid = app.wait_for_state(invoice_id, OrderState::Paid).await;
    // Paid only after "107" was answered and the order asked about again.
    assert!(paid.last_check.as_deref().is_some_and(|said| said.contains("resultCode 107")), "{:?}", paid.last_check);
}

/// The sandbox payment page for `checkout`, opened with `flag`, and its session id.
async fn payment_page(app: &TestApp, checkout: &Value, flag: &str) -> (u16, String) {
    let page = app.http.get(app.payform_url(checkout, flag)).send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

fn session_of(html: &str) -> &str {
    html.split("name=\"session\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("session field")
}

#[tokio::test]
async fn a_transfer_is_card_to_card_with_a_fee_and_the_order_keeps_its_amount() {
    let app = TestApp::spawn().await;
    let checkout = app.checkout_ok("1500").await;
    let (status, html) = payment_page(&app, &checkout, "&isTransfer=true").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"receiver\""), "the transfer form asks for the receiver's card");
    assert!(html.contains("data-fee>50\u{a0}₸") && html.contains("data-total>1\u{a0}550\u{a0}₸"), "{html}");
    // A receiving card that is not a card number is refused on the page.
    let refused = app
        .http
        .post(app.url("/sandbox/payform/pay"))
        .form(&[("session", session_of(&html)), ("card", APPROVED_CARD), ("expiry", "12/30"), ("cvc", "123"), ("receiver", "1234")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("receiver"));

    app.pay(&checkout, APPROVED_CARD).await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    let paid = app.wait_for_state(invoice_id, OrderState::Paid).await;
    assert_eq!(paid.amount_minor, 150_000, "the order's amount is the transfer amount");
    // Like the merchant document's samples, the postLink reports no fee: the amount is the
    // transfer's.
    assert_eq!(paid.fee_minor, None);
    let body: String = app.value("SELECT raw_body FROM notifications").await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((body["amount"].clone(), body.get("fee")), (json!(1500), None));

    // A card payment has no receiver and no fee.
    let (_, card_page) = payment_page(&app, &app.checkout_ok("1500").await, "").await;
    assert!(!card_page.contains("name=\"receiver\"") && !card_page.contains("data-fee"));
}

/// Whether ePay's amount includes a transfer's fee is not published. Reported beside it (as
/// Halyk's SDK has `fee`), it still pays (`confirm::decide`'s tests); inside the amount with
/// no `fee` to explain it, as the sandbox's `feeInAmount` answers, the amount is not the
/// order's: a person looks, and nothing is paid by itself.
#[tokio::test]
async fn a_fee_inside_the_amount_that_nothing_explains_goes_to_a_person() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"feeInAmount": true})).await;
    let checkout = app.checkout_ok("10000").await;
    app.pay(&checkout, APPROVED_CARD).await;
    let review = app.wait_for_state(checkout["invoiceId"].as_str().unwrap(), OrderState::Review).await;
    assert!(review.review_reason.as_deref().is_some_and(|r| r.contains("amount")), "{:?}", review.review_reason);
}

/// Halyk bonuses pay part of the price: `amount + amountBonus` is the order's amount, and the
/// merchant API shows both.
#[tokio::test]
async fn a_payment_partly_in_bonuses_pays_the_order_and_shows_the_bonus_part() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"bonusMinor": 30_000})).await;
    let invoice_id = app.paid_merchant_order("1500", "bonus-1", OrderState::Paid).await;
    let order = app.stored_order(&invoice_id).await;
    assert_eq!((order.amount_bonus_minor, order.org_amount_minor, order.payout_amount_minor), (Some(30_000), None, Some(0)));
    let view: Value =
        app.merchant(reqwest::Method::GET, &format!("/api/merchant/orders/{invoice_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!((view["status"].as_str(), view["payment"]["amountBonus"].as_str()), (Some("paid"), Some("300")), "{view}");
}

#[tokio::test]
async fn success_postlinks_without_secret_hash_still_end_paid_through_the_status_api() {
    let app = TestApp::spawn().await;
    app.sandbox_control(json!({"omitSecretHash": true})).await;
    let checkout = app.checkout_ok("1500").await;
    app.pay(&checkout, APPROVED_CARD).await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap();
    app.wait_for_state(invoice_id, OrderState::Paid).await;
    let verdict: String = app.value("SELECT verdict FROM notifications").await;
    assert_eq!(verdict, "hint");
}

#[tokio::test]
async fn epays_published_test_cards_work_beside_the_sandboxs_own() {
    let app = TestApp::spawn().await;
    let (_, html) = payment_page(&app, &app.checkout_ok("100").await, "&isTransfer=true").await;
    for number in ["4405 6397 0401 5096", "5522 0427 0506 6736", "3775 1450 0004 820", "4003 0327 0454 7597", "5578 3427 1075 0560"] {
        assert!(html.contains(number), "{number} is listed");
    }
    let working = app.checkout_ok("100").await;
    app.pay(&working, "4405639704015096").await;
    app.wait_for_state(working["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    let blocked = app.checkout_ok("100").await;
    app.pay(&blocked, "4003032704547597").await;
    app.wait_for_state(blocked["invoiceId"].as_str().unwrap(), OrderState::Failed).await;
}

#[tokio::test]
async fn the_sandbox_sends_payers_only_to_allowed_origins() {
    let app = TestApp::spawn().await;
    let mut checkout = app.checkout_ok("100").await;
    checkout["backLink"] = json!("https://evil.example/steal");
    let (status, html) = payment_page(&app, &checkout, "&isTransfer=true").await;
    assert_eq!(status, 400);
    assert!(html.contains("ALLOWED_ORIGINS"), "{html}");
}

#[tokio::test]
async fn the_payment_page_refuses_the_words_null_and_undefined() {
    let app = TestApp::spawn().await;
    let mut checkout = app.checkout_ok("100").await;
    checkout["email"] = json!("null");
    let (status, html) = payment_page(&app, &checkout, "&isTransfer=true").await;
    assert_eq!(status, 400);
    assert!(html.contains("email"), "{html}");
}

#[tokio::test]
async fn a_saved_card_is_stored_and_shown_to_whoever_is_on_call() {
    let app = TestApp::spawn().await;
    let (status, saving) = app.checkout(&json!({"amount": "1500", "cardSave": true}), None).await;
    assert_eq!(status, 200, "{saving}");
    app.pay(&saving, APPROVED_CARD).await;
    let paid = app.wait_for_state(saving["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    let card_id = paid.card_id.clone().expect("the cardId of a cardSave order is stored");
    assert_eq!((paid.card_type.as_deref(), paid.card_mask.as_deref()), (Some("VISA"), Some("411111...1111")));
    let shown = epay_proxy::inspect::show_order(&app.state.store, &paid.invoice_id).await.unwrap().unwrap();
    assert_eq!(shown["savedCard"], json!({"cardId": card_id, "cardMask": "411111...1111", "cardType": "VISA"}));

    // Without cardSave, ePay's cardId is not kept (its scheme is: it identifies nobody).
    let plain = app.checkout_ok("1500").await;
    app.pay(&plain, APPROVED_CARD).await;
    let paid = app.wait_for_state(plain["invoiceId"].as_str().unwrap(), OrderState::Paid).await;
    assert_eq!((paid.card_id, paid.card_type.as_deref()), (None, Some("VISA")));
    let shown = epay_proxy::inspect::show_order(&app.state.store, &paid.invoice_id).await.unwrap().unwrap();
    assert_eq!(shown["savedCard"], json!(null));
}
