//! The sandbox answers in the shapes of ePay's published samples (`docs/epay-samples/`): every
//! answer it gives the proxy has the same keys, at every level, with the same JSON types as its
//! sample, so the sandbox and the proxy cannot drift away from ePay together again.

use std::path::PathBuf;

use crate::helpers::{APPROVED_CARD, DECLINED_CARD, JsonAnswer, TestApp};
use epay_proxy::config::{TEST_CARD_TERMINAL_ID, TEST_CLIENT_SECRET, TEST_P2P_TERMINAL_ID};
use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/epay-samples").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `actual` differs in shape from `expected`: keys missing or extra (except `optional`
/// ones), and values of another JSON type, at every level.
fn differences(at: &str, expected: &Value, actual: &Value, optional: &[&str]) -> Vec<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut found = Vec::new();
            for key in e.keys().filter(|k| !a.contains_key(*k) && !optional.contains(&k.as_str())) {
                found.push(format!("{at}.{key} is missing"));
            }
            for key in a.keys().filter(|k| !e.contains_key(*k) && !optional.contains(&k.as_str())) {
                found.push(format!("{at}.{key} is not in the sample"));
            }
            for (key, value) in e.iter().filter_map(|(k, v)| a.get(k).map(|a| (k, (v, a)))) {
                found.extend(differences(&format!("{at}.{key}"), value.0, value.1, optional));
            }
            found
        }
        (e, a) if kind(e) != kind(a) => vec![format!("{at} is a {} ({a}), the sample's a {}", kind(a), kind(e))],
        _ => Vec::new(),
    }
}

#[track_caller]
fn assert_shape(sample_name: &str, actual: &Value, optional: &[&str]) {
    let found = differences("$", &sample(sample_name), actual, optional);
    assert!(found.is_empty(), "the sandbox's answer is not shaped like {sample_name}:\n{}\n{actual:#}", found.join("\n"));
}

/// A token straight from the sandbox's OAuth endpoint.
async fn token(app: &TestApp, fields: &[(&str, &str)]) -> Value {
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", "test"), ("client_secret", TEST_CLIENT_SECRET)];
    form.extend_from_slice(fields);
    let response = app.http.post(app.url("/sandbox/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn service_token(app: &TestApp) -> String {
    let scope = epay_proxy::epay::SERVICE_SCOPE;
    token(app, &[("scope", scope), ("terminal", TEST_P2P_TERMINAL_ID)]).await["access_token"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, kind: &str, invoice_id: &str) -> Value {
    let url = app.url(&format!("/sandbox/api/check-status/{kind}/transaction/{invoice_id}"));
    let response = app.http.get(url).bearer_auth(service_token(app).await).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn token_answers_have_the_samples_shape() {
    let app = TestApp::spawn().await;
    let post_link = app.url("/api/epay/postlink");
    let transfer = token(&app, &[("scope", "transfer"), ("terminal", TEST_P2P_TERMINAL_ID), ("secret_hash", "JDKCNDDGGDTPSKJD")]).await;
    assert_shape("token-transfer.200.json", &transfer, &[]);
    let payment = token(
        &app,
        &[
            ("scope", "payment"),
            ("terminal", TEST_CARD_TERMINAL_ID),
            ("invoiceID", "000000001"),
            ("amount", "100"),
            ("currency", "KZT"),
            ("postLink", &post_link),
        ],
    )
    .await;
    assert_shape("token-payment.200.json", &payment, &[]);
    let service = token(&app, &[("scope", epay_proxy::epay::SERVICE_SCOPE), ("terminal", TEST_P2P_TERMINAL_ID)]).await;
    assert_shape("token-service.200.json", &service, &[]);
}

#[tokio::test]
async fn status_answers_have_the_card_and_the_transfer_shapes() {
    let app = TestApp::spawn().await;
    // A transfer (the default method) and a card payment, both paid.
    let transfer = app.checkout_ok("1500").await;
    app.pay(&transfer, APPROVED_CARD).await;
    let transfer_id = transfer["invoiceId"].as_str().unwrap();
    app.wait_for_state(transfer_id, OrderState::Paid).await;
    let (code, card) = app.checkout(&json!({"amount": "2500", "method": "pay"}), None).await;
    assert_eq!(code, 200, "{card}");
    app.pay(&card, APPROVED_CARD).await;
    let card_id = card["invoiceId"].as_str().unwrap();
    app.wait_for_state(card_id, OrderState::Paid).await;

    let p2p = status(&app, "p2p", transfer_id).await;
    assert_shape("status-p2p-charge.200.json", &p2p, &[]);
    assert_eq!(p2p["transaction"]["p2p"]["terminalID"], TEST_P2P_TERMINAL_ID);
    assert_ne!(p2p["transaction"]["p2p"]["terminal"], TEST_P2P_TERMINAL_ID, "terminal is the short number");
    let payment = status(&app, "payment", card_id).await;
    assert_shape("status-payment-charge.200.json", &payment, &[]);
    assert_eq!(payment["transaction"]["orgAmount"], payment["transaction"]["amount"]);

    assert_shape("status-p2p-not-found.200.json", &status(&app, "p2p", "999999999999").await, &[]);
    assert_shape("status-payment-not-found.200.json", &status(&app, "payment", "999999999999").await, &[]);
    app.sandbox_control(json!({"statusInProgress": 2})).await;
    assert_shape("status-payment-in-progress.200.json", &status(&app, "payment", card_id).await, &[]);
    assert_shape("status-p2p-not-found.200.json", &status(&app, "p2p", transfer_id).await, &[]);

    // A declined payment: the card sample's shape, statusName REJECT.
    let (_, declined) = app.checkout(&json!({"amount": "700", "method": "pay"}), None).await;
    app.pay(&declined, DECLINED_CARD).await;
    let rejected = status(&app, "payment", declined["invoiceId"].as_str().unwrap()).await;
    assert_shape("status-payment-reject.200.json", &rejected, &[]);
    assert_eq!(rejected["transaction"]["statusName"], "REJECT");
}

#[tokio::test]
async fn postlinks_have_the_merchant_documents_shapes() {
    let app = TestApp::spawn().await;
    let paid = app.checkout_ok("1500").await;
    app.pay(&paid, APPROVED_CARD).await;
    let declined = app.checkout_ok("1500").await;
    app.pay(&declined, DECLINED_CARD).await;
    app.wait_for_state(declined["invoiceId"].as_str().unwrap(), OrderState::Failed).await;
    let bodies: Vec<(String, String)> = app.pairs("SELECT endpoint, raw_body FROM notifications ORDER BY id").await;
    let body = |endpoint: &str| -> Value {
        serde_json::from_str(&bodies.iter().find(|(e, _)| e == endpoint).unwrap_or_else(|| panic!("no {endpoint}: {bodies:?}")).1).unwrap()
    };
    // secret_hash: the document says ePay returns it; its samples do not show it.
    assert_shape("postlink-success.json", &body("postlink"), &["secret_hash"]);
    assert_shape("postlink-failure.json", &body("failure_postlink"), &[]);
}

#[tokio::test]
async fn operation_answers_have_the_pages_shapes_and_requests_are_read_where_the_pages_put_them() {
    let app = TestApp::spawn().await;
    let (_, card) = app.checkout(&json!({"amount": "1500", "method": "pay"}), None).await;
    app.pay(&card, APPROVED_CARD).await;
    let invoice_id = card["invoiceId"].as_str().unwrap();
    app.wait_for_state(invoice_id, OrderState::Paid).await;
    let transaction_id = app.stored_order(invoice_id).await.transaction_id.unwrap();
    let refund = |query: &'static str, body: Option<Value>| {
        let mut request = app.http.post(app.url(&format!("/sandbox/api/operation/{transaction_id}/refund{query}")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async { request.bearer_auth(service_token(&app).await).send().await.unwrap() }
    };
    // A partial refund in the query: HTTP 200 with no body, the charge shrinks by it.
    let done = refund("?amount=300&externalID=ext-1", None).await;
    assert_eq!(done.status(), 200);
    assert!(done.bytes().await.unwrap().is_empty(), "the pages print no body");
    let t = status(&app, "payment", invoice_id).await["transaction"].clone();
    assert_eq!((t["amount"].clone(), t["orgAmount"].clone(), t["payoutAmount"].clone()), (json!(1200), json!(1500), json!(300)));
    // The same externalID again is performed again: the pages do not promise otherwise.
    assert_eq!(refund("?amount=300&externalID=ext-1", None).await.status(), 200);
    let t = status(&app, "payment", invoice_id).await["transaction"].clone();
    assert_eq!(t["amount"], json!(900));
    // Every refund is at least 10 tenge; the error has the pages' shape.
    let small = refund("?amount=9.99&externalID=ext-2", None).await;
    assert_eq!(small.status(), 400);
    assert_shape("operation-error.400.json", &small.json().await.unwrap(), &[]);
    // An amount in a JSON body is not where the page puts it: the whole charge is refunded.
    assert_eq!(refund("?externalID=ext-3", Some(json!({"amount": 100}))).await.status(), 200);
    let t = status(&app, "payment", invoice_id).await["transaction"].clone();
    assert_eq!((t["statusName"].clone(), t["amount"].clone()), (json!("REFUND"), json!(0)));
    let performed: u32 = app.http.get(app.url("/sandbox/operations-performed")).send().await.unwrap().json().await.unwrap();
    assert_eq!(performed, 3, "the refused one moved nothing");
}

/// A payment by a saved card and a card's deactivation, answered in the shapes of their
/// samples (the first from a public integration, unconfirmed; the second from ePay's page).
#[tokio::test]
async fn saved_card_answers_have_the_shapes_of_their_samples() {
    let app = TestApp::spawn().await;
    crate::saved_cards::saved_card(&app, "shapes", APPROVED_CARD, "shapes-save").await;
    let cards: Value = app.http.get(app.url("/sandbox/cards")).send().await.unwrap().json().await.unwrap();
    let card_id = cards["cards"][0]["cardId"].as_str().unwrap().to_owned();
    let invoice = "000000777001";
    let payment_token = token(
        &app,
        &[
            ("scope", "webapi usermanagement email_send verification statement statistics payment"),
            ("invoiceID", invoice),
            ("amount", "100"),
            ("currency", "KZT"),
            ("terminal", TEST_CARD_TERMINAL_ID),
            ("postLink", &app.url("/api/epay/postlink")),
        ],
    )
    .await;
    let body = json!({"paymentType": "cardId", "cardId": {"id": card_id}, "amount": 100, "currency": "KZT", "invoiceId": invoice,
        "terminalId": TEST_CARD_TERMINAL_ID, "description": "shapes", "accountId": "shapes", "email": "", "phone": "", "language": "rus",
        "postLink": app.url("/api/epay/postlink"), "failurePostLink": ""});
    let answer: Value = app
        .http
        .post(app.url("/sandbox/api/payments/cards/auth"))
        .bearer_auth(payment_token["access_token"].as_str().unwrap())
        .json(&body)
        .json_answer()
        .await;
    assert_shape("payment-by-card-id.200.json", &answer, &[]);

    let service = service_token(&app).await;
    let deactivated: Value =
        app.http.post(app.url(&format!("/sandbox/api/card/deactivate/{card_id}"))).bearer_auth(&service).json_answer().await;
    assert_shape("card-deactivate.200.json", &deactivated, &[]);
    assert_eq!(deactivated, sample("card-deactivate.200.json"), "the page's words");
}
