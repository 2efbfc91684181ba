//! Fiscal receipts end to end (docs/fiscal-receipts.md): a proxy with `FISCAL_REGISTRAR=webkassa`
//! on the sandbox's Webkassa issues a sale receipt when an order is paid and a return receipt
//! for each refund, once each, whatever the registrar does meanwhile.

use std::time::Duration;

use epay_proxy::store::orders::OrderState;
use serde_json::{Value, json};

use crate::helpers::{APPROVED_CARD, JsonAnswer, TestApp};

const FISCAL: [(&str, &str); 3] = [("FISCAL_REGISTRAR", "webkassa"), ("FISCAL_VAT_RATE", "16"), ("WEBKASSA_TIMEOUT_SECS", "2")];

async fn fiscal_app(extra: &[(&str, &str)]) -> TestApp {
    let vars: Vec<(&str, &str)> = FISCAL.iter().copied().chain(extra.iter().copied()).collect();
    crate::helpers::console::console_with(&vars).await
}

async fn order_view(app: &TestApp, invoice_id: &str) -> Value {
    let response = app.merchant(reqwest::Method::GET, &format!("/api/merchant/orders/{invoice_id}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The order's receipts once `count` of them are issued (at most 15 s).
async fn issued_receipts(app: &TestApp, invoice_id: &str, count: usize) -> Vec<Value> {
    for _ in 0..300 {
        let receipts = order_view(app, invoice_id).await["receipts"].as_array().cloned().unwrap_or_default();
        if receipts.iter().filter(|r| r["status"] == "issued").count() >= count {
            return receipts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} receipts not issued for {invoice_id}: {}\n{}", order_view(app, invoice_id).await["receipts"], app.logs());
}

/// Every receipt waiting is due now (what the console's retry does, without waiting for it).
async fn due_now(app: &TestApp) {
    app.state.store.write(|tx| tx.execute("UPDATE receipts SET next_attempt_ms = 0 WHERE status = 'due'", &[])).await.unwrap();
}

async fn webkassa_receipts(app: &TestApp) -> Vec<Value> {
    app.http.get(app.url("/sandbox/webkassa/receipts")).send().await.unwrap().json().await.unwrap()
}

async fn webkassa_control(app: &TestApp, control: Value) {
    assert!(app.http.post(app.url("/sandbox/webkassa/control")).json(&control).send().await.unwrap().status().is_success());
}

/// A merchant order with `items`, paid with the approved card.
async fn paid_order(app: &TestApp, reference: &str, amount: &str, items: Value) -> String {
    let body =
        json!({"amount": amount, "description": "Чай и доставка", "reference": reference, "email": "buyer@example.kz", "items": items});
    let (status, order) = app.create_order(&body, &format!("create-{reference}")).await;
    assert_eq!(status, 201, "{order}");
    let (invoice_id, key) = (order["invoiceId"].as_str().unwrap().to_owned(), order["orderKey"].as_str().unwrap());
    let (status, checkout) = app.order_checkout(&invoice_id, key).await;
    assert_eq!(status, 200, "{checkout}");
    app.pay(&checkout, APPROVED_CARD).await;
    app.wait_for_state(&invoice_id, OrderState::Paid).await;
    invoice_id
}

fn tea_and_delivery() -> Value {
    json!([
        {"name": "Чай «Алатау», 250 г", "quantity": "3", "price": "1333.33", "vat": "16"},
        {"name": "Пиала", "quantity": 0.5, "price": "999.98"},
        {"name": "Доставка", "price": "500.01", "vat": "none", "unitCode": 5114}
    ])
}

#[tokio::test]
async fn a_payment_a_partial_refund_and_the_rest_each_get_one_receipt() {
    let app = fiscal_app(&[]).await;
    // 3 × 1 333.33 + 0.5 × 999.98 + 500.01 = 3 999.99 + 499.99 + 500.01
    let invoice_id = paid_order(&app, "fiscal-1", "4999.99", tea_and_delivery()).await;
    let sale = issued_receipts(&app, &invoice_id, 1).await;
    assert_eq!(sale.len(), 1);
    assert_eq!((sale[0]["kind"].as_str(), sale[0]["amount"].as_str()), (Some("sale"), Some("4999.99")));
    assert!(sale[0]["url"].as_str().unwrap().contains(sale[0]["fiscalSign"].as_str().unwrap()), "the OFD link names the fiscal sign");

    let (status, refund) = app.operation(&invoice_id, "refunds", json!({"amount": "1000"}), "part").await;
    assert_eq!(status, 201, "{refund}");
    let two = issued_receipts(&app, &invoice_id, 2).await;
    assert_eq!((two[1]["kind"].as_str(), two[1]["amount"].as_str()), (Some("return"), Some("1000")));
    let (status, rest) = app.operation(&invoice_id, "refunds", json!({"amount": "3999.99"}), "rest").await;
    assert_eq!(status, 201, "{rest}");
    let three = issued_receipts(&app, &invoice_id, 3).await;
    assert_eq!(three[2]["amount"], "3999.99");

    // What Webkassa received: one sale, two returns based on it, adding up to the sale line by line.
    let issued = webkassa_receipts(&app).await;
    println!("receipts as the sandbox's Webkassa received them:\n{}", serde_json::to_string_pretty(&issued).unwrap());
    assert_eq!(issued.iter().map(|r| r["operationType"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 3, 3]);
    assert_eq!(issued.iter().map(|r| r["totalMinor"].as_i64().unwrap()).collect::<Vec<_>>(), [499_999, 100_000, 399_999]);
    let sale_request = &issued[0]["request"];
    assert_eq!(sale_request["CustomerEmail"], "buyer@example.kz");
    assert_eq!(sale_request["ExternalOrderNumber"], invoice_id.as_str());
    let taxes: Vec<(Value, Value, Value)> = sale_request["Positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["TaxType"].clone(), p["TaxPercent"].clone(), p["Tax"].clone()))
        .collect();
    assert_eq!(taxes, [(json!(100), json!(16), json!(551.72)), (json!(100), json!(16), json!(68.96)), (json!(0), json!(0), json!(0))]);
    for returned in &issued[1..] {
        assert_eq!(returned["request"]["ReturnBasisDetails"]["CheckNumber"], issued[0]["checkNumber"]);
    }
    let per_line = |r: &Value| -> Vec<f64> {
        r["request"]["Positions"].as_array().unwrap().iter().map(|p| p["Price"].as_f64().unwrap() * p["Count"].as_f64().unwrap()).collect()
    };
    let returned: Vec<f64> = per_line(&issued[1]).iter().zip(per_line(&issued[2])).map(|(a, b)| ((a + b) * 100.0).round()).collect();
    assert_eq!(returned, [399_999.0, 49_999.0, 50_001.0], "the two returns give back each line exactly");

    let events = app.event_types(&invoice_id).await;
    assert_eq!(events.iter().filter(|e| *e == "receipt.issued").count(), 3, "{events:?}");
    let control: Value = app.http.get(app.url("/sandbox/webkassa/control")).send().await.unwrap().json().await.unwrap();
    assert_eq!(control["requests"], 3, "three receipt requests reached Webkassa, none repeated");
}

#[tokio::test]
async fn items_that_do_not_add_up_are_refused_and_nothing_is_stored() {
    let app = fiscal_app(&[]).await;
    let body = json!({"amount": "6000", "description": "x", "reference": "bad-items", "items": tea_and_delivery()});
    let (status, error) = app.create_order(&body, "bad-items").await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"], "invalid_field");
    assert!(error["message"].as_str().unwrap().contains("499999 tiyn, the order is 600000"), "{error}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
}

#[tokio::test]
async fn without_a_registrar_nothing_fiscal_happens() {
    let app = TestApp::spawn().await;
    let invoice_id = app.paid_merchant_order("1500", "no-fiscal", OrderState::Paid).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(order_view(&app, &invoice_id).await.get("receipts").is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM receipts").await, 0);
    assert!(webkassa_receipts(&app).await.is_empty());
}

#[tokio::test]
async fn an_expired_token_and_a_shift_over_24_hours_are_handled_and_the_receipt_goes_through() {
    let app = fiscal_app(&[]).await;
    // A first receipt opens the shift; then the shift is "over 24 hours" and the token expires.
    let first = paid_order(&app, "shift-1", "100", json!(null)).await;
    issued_receipts(&app, &first, 1).await;
    webkassa_control(&app, json!({"shiftOver24Hours": true, "expireTokens": 1})).await;
    let second = paid_order(&app, "shift-2", "200", json!(null)).await;
    let receipts = issued_receipts(&app, &second, 1).await;
    assert_eq!(receipts[0]["status"], "issued");
    let issued = webkassa_receipts(&app).await;
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[1]["shift"].as_i64(), issued[0]["shift"].as_i64().map(|s| s + 1), "a Z-report closed the old shift first");
}

#[tokio::test]
async fn a_blocked_cash_register_raises_an_alert_and_receipts_wait_until_it_is_fixed() {
    let app = fiscal_app(&[]).await;
    webkassa_control(&app, json!({"blocked": true})).await;
    let invoice_id = paid_order(&app, "blocked", "100", json!(null)).await;
    let mut alert = None;
    for _ in 0..200 {
        alert = app.read(|db| epay_proxy::store::receipts::register(db, "SWK00000001")).await.alert;
        if alert.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(alert.as_deref(), Some("cash_register_blocked"));
    let view = order_view(&app, &invoice_id).await;
    assert_eq!(view["status"], "paid", "the payment goes on");
    assert_eq!(view["receipts"][0]["status"], "due");
    assert!(view["receipts"][0]["error"].as_str().unwrap().contains("Касса заблокирована"), "{view}");

    // Fixed: the receipt goes through at its next attempt (made due now, as the console's
    // retry does), and the alert is gone.
    webkassa_control(&app, json!({})).await;
    due_now(&app).await;
    issued_receipts(&app, &invoice_id, 1).await;
    let register = app.read(|db| epay_proxy::store::receipts::register(db, "SWK00000001")).await;
    assert_eq!(register.alert, None);
}

#[tokio::test]
async fn a_receipt_whose_answer_was_lost_is_looked_up_and_never_issued_twice() {
    {
        let app = fiscal_app(&[]).await;
        webkassa_control(&app, json!({"issueThenHang": 1})).await;
        let invoice_id = paid_order(&app, "lost", "100", json!(null)).await;
        // The first request times out (2 s) after Webkassa issued it; the next attempt (10 s
        // later, brought forward here) looks it up first and finds it.
        for _ in 0..200 {
            if app.count("SELECT COUNT(*) FROM receipts WHERE last_error IS NOT NULL").await == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        due_now(&app).await;
        let receipts = issued_receipts(&app, &invoice_id, 1).await;
        let issued = webkassa_receipts(&app).await;
        assert_eq!(issued.len(), 1, "Webkassa issued it once");
        assert_eq!(receipts[0]["fiscalSign"], issued[0]["checkNumber"]);
        let control: Value = app.http.get(app.url("/sandbox/webkassa/control")).send().await.unwrap().json().await.unwrap();
        assert_eq!(control["requests"], 1, "found by its number, never sent again");
    }
}

/// The proxy is killed with SIGKILL after Webkassa issued a receipt and before its answer came
/// back; restarted, it looks the receipt up under its number and records it: Webkassa received
/// one request and issued one receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_killed_mid_issue_finds_the_receipt_and_never_issues_it_twice() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::helpers::database::TestDatabase::new(dir.path());
    let receiver = crate::helpers::receiver::Receiver::start(&[200]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let fiscal = |epay: &str| {
        vec![
            ("FISCAL_REGISTRAR", "webkassa".to_owned()),
            ("FISCAL_VAT_RATE", "16".to_owned()),
            ("WEBKASSA_URL", format!("{epay}/sandbox/webkassa")),
            ("WEBKASSA_TIMEOUT_SECS", "2".to_owned()),
        ]
    };
    let (mut epay, epay_base, mut instances) =
        crate::instances::start_cluster_with(1, &http, &database.url, &receiver.url(), dir.path(), &fiscal).await;
    let base = instances[0].base.clone();
    let webkassa = |path: &str| format!("{epay_base}/sandbox/webkassa/{path}");
    // Webkassa issues the first receipt and never answers.
    assert!(http.post(webkassa("control")).json(&json!({"issueThenHang": 1})).send().await.unwrap().status().is_success());

    let body = json!({"amount": "1500", "description": "Чай", "reference": "killed-1"});
    let invoice = crate::helpers::paid_merchant_order_at(&http, &base, &epay_base, &body, "killed-1").await;

    // The receipt has left and Webkassa issued it: the proxy dies waiting for the answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let issued: Vec<Value> = http.get(webkassa("receipts")).send().await.unwrap().json().await.unwrap();
        if issued.len() == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "Webkassa never received the receipt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    instances[0].kill();
    instances[0].restart();
    crate::helpers::process::wait_healthy(&http, &base).await;

    // On SQLite the restart takes its claims back at once; on PostgreSQL the claim runs out (16 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let receipt = loop {
        let view: Value =
            http.get(format!("{base}/api/merchant/orders/{invoice}")).bearer_auth(crate::helpers::MERCHANT_KEY).json_answer().await;
        if view["receipts"][0]["status"] == "issued" {
            break view["receipts"][0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "the receipt was not recorded after the restart: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let issued: Vec<Value> = http.get(webkassa("receipts")).send().await.unwrap().json().await.unwrap();
    let control: Value = http.get(webkassa("control")).send().await.unwrap().json().await.unwrap();
    println!(
        "after kill -9 mid-issue: the proxy recorded {receipt}; Webkassa issued {} receipt(s) for {} receipt request(s)",
        issued.len(),
        control["requests"]
    );
    assert_eq!(issued.len(), 1, "issued once");
    assert_eq!(control["requests"], 1, "the restarted proxy looked it up, it did not send it again");
    assert_eq!(receipt["fiscalSign"], issued[0]["checkNumber"]);
    epay.kill().unwrap();
    epay.wait().unwrap();
    instances[0].kill();
}

/// The daily close: a shift opened by a receipt is closed by the schedule once it is 23 hours
/// old (or past `FISCAL_ZREPORT_AT`), on the instance holding the lease, and the next receipt
/// opens a new shift.
#[tokio::test]
async fn the_schedule_closes_a_shift_before_it_is_24_hours_old() {
    let app = fiscal_app(&[]).await;
    let first = paid_order(&app, "day-1", "100", json!(null)).await;
    issued_receipts(&app, &first, 1).await;
    let registrar = epay_proxy::fiscal::webkassa_client::WebkassaClient::new(app.state.config.fiscal.webkassa.clone().unwrap());
    let settings = app.state.config.fiscal.clone();
    assert!(!epay_proxy::fiscal::shift::round(&app.state, &registrar, &settings, "test").await.unwrap(), "a fresh shift stays open");

    // The shift opened 23 hours ago.
    let opened = epay_proxy::store::now_ms() - epay_proxy::fiscal::shift::LONGEST_SHIFT_MS;
    app.state
        .store
        .write(move |tx| tx.execute("UPDATE fiscal_registers SET shift_opened_ms = ?", epay_proxy::params![opened]))
        .await
        .unwrap();
    assert!(epay_proxy::fiscal::shift::round(&app.state, &registrar, &settings, "test").await.unwrap(), "closed");
    let register = app.read(|db| epay_proxy::store::receipts::register(db, "SWK00000001")).await;
    assert_eq!(register.shift_opened_ms, None);
    assert!(register.last_closed_ms.is_some());
    let control: Value = app.http.get(app.url("/sandbox/webkassa/control")).send().await.unwrap().json().await.unwrap();
    assert_eq!(control["shiftOpen"], false, "Webkassa's shift is closed");

    let second = paid_order(&app, "day-2", "100", json!(null)).await;
    issued_receipts(&app, &second, 1).await;
    let issued = webkassa_receipts(&app).await;
    assert_eq!(issued[1]["shift"].as_i64(), issued[0]["shift"].as_i64().map(|s| s + 1), "the next receipt opened a new shift");
}

/// A person's "ask again" never cuts a live claim short: while an instance holds the receipt it
/// is refused (409, try later); once the claim has ended it makes the receipt due now.
#[tokio::test]
async fn asking_again_waits_for_the_instance_issuing_the_receipt() {
    use epay_proxy::store::receipts::{self, Retry};
    let app = fiscal_app(&[]).await;
    webkassa_control(&app, json!({"blocked": true})).await;
    let invoice_id = paid_order(&app, "held", "100", json!(null)).await;
    let id = loop {
        let ids: Vec<i64> = app.column("SELECT id FROM receipts WHERE attempts > 0").await;
        if let Some(id) = ids.first() {
            break *id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    // Another instance claims it now, for a minute.
    let now = epay_proxy::store::now_ms();
    let claimed = app
        .state
        .store
        .write(move |tx| {
            tx.execute("UPDATE receipts SET next_attempt_ms = 0", &[])?;
            receipts::claim_due(tx, now, now + 60_000)
        })
        .await
        .unwrap();
    assert_eq!(claimed.map(|r| r.id), Some(id));
    let retried = app.state.store.write(move |tx| receipts::retry(tx, id)).await.unwrap();
    assert_eq!(retried, Retry::InFlight);

    let operator = crate::helpers::console::person(&app, "aigerim").await;
    let (status, refused) = operator.post(&app, &format!("/api/admin/receipts/rcpt_{id}/retry"), json!({}), "r1").await;
    assert_eq!((status, refused["error"].as_str()), (409, Some("operation_not_allowed")), "{refused}");
    let (status, listed) = operator.get(&app, "/api/admin/receipts?status=due").await;
    assert_eq!(status, 200);
    assert_eq!((listed["due"].as_i64(), listed["register"]["alert"].as_str()), (Some(1), Some("cash_register_blocked")), "{listed}");
    let (status, bad) = operator.get(&app, "/api/admin/receipts?status=lost").await;
    assert_eq!((status, bad["error"].as_str()), (422, Some("invalid_field")));

    // The claim ended (its instance died) and its next attempt is an hour away; the register is
    // fixed; asking again issues it now.
    let later = now + 3_600_000;
    app.state
        .store
        .write(move |tx| tx.execute("UPDATE receipts SET claimed_until_ms = 1, next_attempt_ms = ?", epay_proxy::params![later]))
        .await
        .unwrap();
    webkassa_control(&app, json!({})).await;
    let (status, due) = operator.post(&app, &format!("/api/admin/receipts/rcpt_{id}/retry"), json!({}), "r2").await;
    assert_eq!((status, due["status"].as_str()), (200, Some("due")), "{due}");
    issued_receipts(&app, &invoice_id, 1).await;
    let (status, issued) = operator.post(&app, &format!("/api/admin/receipts/rcpt_{id}/retry"), json!({}), "r3").await;
    assert_eq!(status, 409, "an issued receipt is never asked for again: {issued}");
    let viewer = crate::helpers::console::person(&app, "dana").await;
    let (status, _) = viewer.post(&app, &format!("/api/admin/receipts/rcpt_{id}/retry"), json!({}), "r4").await;
    assert_eq!(status, 403, "viewers read only");
}
