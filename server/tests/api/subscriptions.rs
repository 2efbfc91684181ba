//! Subscriptions on the sandbox and the test clock (docs/saved-cards.md): a year of monthly
//! billing with declines and retries in seconds; each period charged once, even with two
//! instances killed in the middle of a charge.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::database::{self, TestDatabase};
use crate::helpers::receiver::Receiver;
use crate::helpers::{APPROVED_CARD, JsonAnswer, MERCHANT_KEY, TestApp, pay_on_payform, process};
use crate::saved_cards::saved_card;

const DAY: i64 = 86_400;

async fn subscribe(app: &TestApp, account: &str, card: &str, key: &str) -> Value {
    let body = json!({"accountId": account, "card": card, "amount": "4990", "interval": "month", "description": "Plan"});
    let response =
        app.merchant(reqwest::Method::POST, "/api/merchant/subscriptions").header("Idempotency-Key", key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.merchant(reqwest::Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, id: &str, body: Value) {
    let response = app.merchant(reqwest::Method::PATCH, &format!("/api/merchant/subscriptions/{id}")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

async fn advance(app: &TestApp, seconds: i64) {
    let response =
        app.merchant(reqwest::Method::POST, "/api/merchant/test-clock/advance").json(&json!({"seconds": seconds})).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

/// Waits until no subscription has anything due on the test clock.
async fn settled(app: &TestApp) {
    for _ in 0..400 {
        let now = get(app, "/api/merchant/test-clock").await["now"].as_str().unwrap().to_owned();
        let subs = get(app, "/api/merchant/subscriptions").await;
        let resting = subs["data"].as_array().unwrap().iter().all(|sub| {
            let pending = sub["latestCharge"]["status"] == "pending";
            !pending && sub["nextChargeAt"].as_str().is_none_or(|next| next > now.as_str())
        });
        if resting {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs: Vec<String> = app.logs().lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).map(str::to_owned).collect();
    panic!("subscriptions never settled: {:#}\n{}", get(app, "/api/merchant/subscriptions").await, logs.join("\n"));
}

async fn events_of(app: &TestApp, sub_ref: &str) -> Vec<String> {
    let sub_ref = sub_ref.to_owned();
    app.read(move |db| {
        db.query_all(
            "SELECT e.type FROM webhook_events e JOIN subscriptions s ON s.id = e.subscription_id WHERE s.sub_ref = ? ORDER BY e.id",
            epay_proxy::params![sub_ref],
            database::first,
        )
    })
    .await
}

fn count(events: &[String], kind: &str) -> usize {
    events.iter().filter(|e| *e == kind).count()
}

/// Three customers, a year of monthly billing moved through in a month's steps:
/// - a card whose 2nd charge is declined: retried a day later and paid; every period paid once;
/// - a card that always declines: retried after 1, 3 and 5 days, then past due, then cancelled
///   when the unpaid month ends;
/// - a card that expires after its first charge: past due at once (no retry can help), then
///   cancelled.
#[tokio::test]
async fn a_year_of_monthly_billing_with_declines_and_retries_runs_on_the_test_clock() {
    let app = TestApp::spawn().await;
    let once_declined = saved_card(&app, "yearly", "4000000000000341", "y-save").await;
    let broke = saved_card(&app, "broke", "4000000000000002", "b-save").await;
    let expiring = saved_card(&app, "expiring", "4000000000000069", "e-save").await;
    let yearly = subscribe(&app, "yearly", &once_declined, "sub-yearly").await;
    let unpaid = subscribe(&app, "broke", &broke, "sub-broke").await;
    let expired = subscribe(&app, "expiring", &expiring, "sub-expiring").await;
    assert_eq!(yearly["status"], "active");
    settled(&app).await;

    let started = std::time::Instant::now();
    for _ in 0..12 {
        advance(&app, 31 * DAY).await;
        settled(&app).await;
    }
    let elapsed = started.elapsed();

    let yearly = get(&app, &format!("/api/merchant/subscriptions/{}", yearly["id"].as_str().unwrap())).await;
    let charges = yearly["charges"].as_array().unwrap();
    let paid: Vec<i64> = charges.iter().filter(|c| c["status"] == "paid").map(|c| c["period"].as_i64().unwrap()).collect();
    let logs: Vec<String> = app.logs().lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).map(str::to_owned).collect();
    assert_eq!(
        paid,
        (1..=13).collect::<Vec<_>>(),
        "13 monthly periods began within 372 days, each paid once: {yearly:#}\n{}",
        logs.join("\n")
    );
    let declined: Vec<_> = charges.iter().filter(|c| c["status"] == "failed").collect();
    assert_eq!(declined.len(), 1, "{yearly:#}");
    assert_eq!((declined[0]["period"].as_i64(), declined[0]["declineCode"].as_str()), (Some(2), Some("insufficient_funds")));
    let retried = charges.iter().find(|c| c["period"] == 2 && c["attempt"] == 2).expect("period 2 retried");
    assert_eq!(retried["status"], "paid");
    assert_eq!(yearly["status"], "active");
    assert_eq!(yearly["currentPeriod"], 14);
    let events = events_of(&app, yearly["id"].as_str().unwrap()).await;
    assert_eq!((count(&events, "subscription.renewed"), count(&events, "subscription.payment_failed")), (13, 1), "{events:?}");

    let unpaid = get(&app, &format!("/api/merchant/subscriptions/{}", unpaid["id"].as_str().unwrap())).await;
    assert_eq!((unpaid["status"].as_str(), unpaid["statusReason"].as_str()), (Some("cancelled"), Some("unpaid")), "{unpaid:#}");
    let attempts: Vec<i64> = unpaid["charges"].as_array().unwrap().iter().map(|c| c["attempt"].as_i64().unwrap()).collect();
    assert_eq!(attempts, vec![1, 2, 3, 4], "the first charge and three retries, all of period 1");
    let events = events_of(&app, unpaid["id"].as_str().unwrap()).await;
    assert_eq!(
        (count(&events, "subscription.payment_failed"), count(&events, "subscription.past_due"), count(&events, "subscription.cancelled")),
        (4, 1, 1),
        "{events:?}"
    );

    let expired = get(&app, &format!("/api/merchant/subscriptions/{}", expired["id"].as_str().unwrap())).await;
    assert_eq!((expired["status"].as_str(), expired["statusReason"].as_str()), (Some("cancelled"), Some("unpaid")), "{expired:#}");
    let charges = expired["charges"].as_array().unwrap();
    assert_eq!(charges.len(), 2, "no retry of an expired card: {expired:#}");
    assert_eq!(charges[1]["declineCode"], "card_expired");
    let events = events_of(&app, expired["id"].as_str().unwrap()).await;
    assert!(events.contains(&"subscription.past_due".to_owned()) && events.last().map(String::as_str) == Some("subscription.cancelled"));

    // What ePay was asked: one payment per charge the proxy shows, no more.
    let epay: Value = app.http.get(app.url("/sandbox/cards")).send().await.unwrap().json().await.unwrap();
    let mut charged: Vec<i64> = epay["cards"].as_array().unwrap().iter().map(|c| c["charges"].as_i64().unwrap()).collect();
    charged.sort();
    assert_eq!(charged, vec![2, 4, 14], "{epay}");
    eprintln!("a year of three subscriptions billed on the test clock in {elapsed:?}");
}

#[tokio::test]
async fn the_shop_pauses_resumes_changes_and_cancels_a_subscription() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "c-1", APPROVED_CARD, "c1-save").await;
    let sub = subscribe(&app, "c-1", &card, "sub-c1").await;
    let id = sub["id"].as_str().unwrap().to_owned();
    settled(&app).await;
    let post = |path: String, body: Value| {
        let request = app.merchant(reqwest::Method::POST, &path).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    // Paused for two months: those periods are not charged; resuming charges the current one.
    let (status, paused) = post(format!("/api/merchant/subscriptions/{id}/pause"), json!({})).await;
    assert_eq!((status, paused["status"].as_str()), (200, Some("paused")));
    advance(&app, 70 * DAY).await;
    settled(&app).await;
    let (_, resumed) = post(format!("/api/merchant/subscriptions/{id}/resume"), json!({})).await;
    assert_eq!((resumed["status"].as_str(), resumed["currentPeriod"].as_i64()), (Some("active"), Some(3)), "{resumed:#}");
    settled(&app).await;
    let after = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    let periods: Vec<i64> = after["charges"].as_array().unwrap().iter().map(|c| c["period"].as_i64().unwrap()).collect();
    assert_eq!(periods, vec![1, 3], "period 2 fell in the pause: {after:#}");

    // A new amount from the next period on.
    patch(&app, &id, json!({"amount": "5990"})).await;
    advance(&app, 31 * DAY).await;
    settled(&app).await;
    let after = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    let amounts: Vec<&str> = after["charges"].as_array().unwrap().iter().map(|c| c["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, vec!["4990", "4990", "5990"]);

    // Cancelled at the period's end: no further charge, and the event says so.
    let (_, cancelling) = post(format!("/api/merchant/subscriptions/{id}/cancel"), json!({"atPeriodEnd": true})).await;
    assert_eq!((cancelling["status"].as_str(), cancelling["cancelAtPeriodEnd"].as_bool()), (Some("active"), Some(true)));
    advance(&app, 31 * DAY).await;
    settled(&app).await;
    let ended = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    assert_eq!((ended["status"].as_str(), ended["statusReason"].as_str()), (Some("cancelled"), Some("cancelled_by_merchant")));
    assert_eq!(ended["charges"].as_array().unwrap().len(), 3, "nothing charged after the cancel: {ended:#}");
    let (status, error) = post(format!("/api/merchant/subscriptions/{id}/resume"), json!({})).await;
    assert_eq!((status, error["error"].as_str()), (409, Some("operation_not_allowed")));
}

#[tokio::test]
async fn a_deleted_card_puts_the_subscription_past_due_with_its_reason_and_a_new_card_pays_it() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "c-2", APPROVED_CARD, "c2-save").await;
    let spare = saved_card(&app, "c-2", APPROVED_CARD, "c2-spare").await;
    let sub = subscribe(&app, "c-2", &card, "sub-c2").await;
    let id = sub["id"].as_str().unwrap().to_owned();
    settled(&app).await;
    let deleted = app.merchant(reqwest::Method::DELETE, &format!("/api/merchant/customers/c-2/cards/{card}")).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    advance(&app, 31 * DAY).await;
    settled(&app).await;
    let past_due = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    assert_eq!((past_due["status"].as_str(), past_due["statusReason"].as_str()), (Some("past_due"), Some("card_deleted")), "{past_due:#}");
    assert_eq!(past_due["charges"].as_array().unwrap().len(), 1, "the deleted card was never charged");
    assert!(events_of(&app, &id).await.contains(&"subscription.past_due".to_owned()));

    patch(&app, &id, json!({"card": spare})).await;
    settled(&app).await;
    let active = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    assert_eq!((active["status"].as_str(), active["currentPeriod"].as_i64()), (Some("active"), Some(3)), "{active:#}");
    assert_eq!(active["charges"][1]["status"], "paid", "the new card paid period 2 at once");
}

/// A retry charges the period's own amount, whatever changed since; a past-due subscription
/// cannot be paused around its retries.
#[tokio::test]
async fn a_retry_keeps_the_periods_amount_and_a_past_due_subscription_is_not_paused() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "c-5", "4000000000000002", "c5-save").await;
    let sub = subscribe(&app, "c-5", &card, "sub-c5").await;
    let id = sub["id"].as_str().unwrap().to_owned();
    settled(&app).await;
    patch(&app, &id, json!({"amount": "5990"})).await;
    advance(&app, 10 * DAY).await;
    settled(&app).await;
    let past_due = get(&app, &format!("/api/merchant/subscriptions/{id}")).await;
    let amounts: Vec<&str> = past_due["charges"].as_array().unwrap().iter().map(|c| c["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, vec!["4990"; 4], "every attempt of period 1 at its amount: {past_due:#}");
    assert_eq!(past_due["status"], "past_due");
    let response = app.merchant(reqwest::Method::POST, &format!("/api/merchant/subscriptions/{id}/pause")).send().await.unwrap();
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn bad_subscription_requests_are_refused_with_the_field_to_fix() {
    let app = TestApp::spawn().await;
    let card = saved_card(&app, "c-3", APPROVED_CARD, "c3-save").await;
    for (body, code, field) in [
        (json!({"accountId": "c-3", "card": card, "amount": "0", "interval": "month", "description": "x"}), "invalid_amount", "amount"),
        (
            json!({"accountId": "c-3", "card": card, "amount": "1", "interval": "month", "description": "x", "intervalCount": 0}),
            "invalid_field",
            "intervalCount",
        ),
        (
            json!({"accountId": "c-3", "card": card, "amount": "1", "interval": "month", "description": "x", "retryDays": [0]}),
            "invalid_field",
            "retryDays",
        ),
        (
            json!({"accountId": "c-3", "card": card, "amount": "1", "interval": "month", "description": "x", "start": "2020-01-01T00:00:00Z"}),
            "invalid_field",
            "past",
        ),
        (json!({"accountId": "other", "card": card, "amount": "1", "interval": "month", "description": "x"}), "card_not_usable", "card"),
    ] {
        let response = app
            .merchant(reqwest::Method::POST, "/api/merchant/subscriptions")
            .header("Idempotency-Key", field)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], code, "{error}");
        assert!(error["message"].as_str().unwrap().contains(field), "{error}");
    }
    let valid = json!({"accountId": "c-3", "card": card, "amount": "1", "interval": "month", "description": "x"});
    let response = app.merchant(reqwest::Method::POST, "/api/merchant/subscriptions").json(&valid).send().await.unwrap();
    assert_eq!(response.status(), 400, "no Idempotency-Key");
    // The same key and body: the same subscription, created once.
    let first = subscribe(&app, "c-3", &card, "same").await;
    let again = subscribe(&app, "c-3", &card, "same").await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(get(&app, "/api/merchant/subscriptions?accountId=c-3").await["data"].as_array().unwrap().len(), 1);
}

/// Two proxies on one PostgreSQL database bill one subscription; ePay performs its first charge
/// but answers after their timeout, and both are killed (SIGKILL) while it is in flight, then
/// restarted. The period is charged once: its one order is found paid in the status API, never
/// sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_period_is_charged_once_when_both_instances_are_killed_mid_charge() {
    if database::postgres_server().is_none() {
        eprintln!("needs PostgreSQL (EPAY_TEST_POSTGRES): scripts/test runs it there");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let receiver = Receiver::start(&[200]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let (mut epay, epay_base, mut instances) =
        crate::instances::start_cluster(2, &http, &test_database.url, &receiver.url(), dir.path()).await;
    let first = instances[0].base.clone();
    let merchant = |method: reqwest::Method, path: &str| http.request(method, format!("{first}{path}")).bearer_auth(MERCHANT_KEY);

    // A customer saves a card, paying an order that offered it.
    let body = json!({"amount": "100", "description": "trial", "reference": "trial-1", "accountId": "k-1", "allowSaveCard": true});
    let order: Value =
        merchant(reqwest::Method::POST, "/api/merchant/orders").header("Idempotency-Key", "trial-1").json(&body).json_answer().await;
    let invoice = order["invoiceId"].as_str().unwrap();
    let checkout: Value = http
        .post(format!("{first}/api/orders/{invoice}/checkout"))
        .header("X-Order-Key", order["orderKey"].as_str().unwrap())
        .json(&json!({"saveCard": true}))
        .json_answer()
        .await;
    assert!(pay_on_payform(&http, &epay_base, &checkout, APPROVED_CARD).await.unwrap().status().is_redirection());
    let card = loop {
        let cards: Value = merchant(reqwest::Method::GET, "/api/merchant/customers/k-1/cards").send().await.unwrap().json().await.unwrap();
        if let Some(card) = cards["data"].as_array().unwrap().iter().find(|c| c["status"] == "active") {
            break card["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // ePay will perform the first charge, but answer only after 5 s (the proxies wait 2 s).
    let control = json!({"operationFaults": [{"fault": "lateThenPerform", "ms": 5000}]});
    assert!(http.post(format!("{epay_base}/sandbox/control")).json(&control).send().await.unwrap().status().is_success());
    let body = json!({"accountId": "k-1", "card": card, "amount": "990", "interval": "month", "description": "Plan"});
    let sub: Value = merchant(reqwest::Method::POST, "/api/merchant/subscriptions")
        .header("Idempotency-Key", "k-1-plan")
        .json(&body)
        .json_answer()
        .await;
    let sub_id = sub["id"].as_str().unwrap().to_owned();
    // Whichever instance claimed it has sent the charge by now; both die mid-flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sent_yet(&test_database.url).await.is_none() {
        assert!(std::time::Instant::now() < deadline, "the charge was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for instance in &mut instances {
        instance.kill();
    }
    for instance in &mut instances {
        instance.restart();
    }
    for instance in &instances {
        process::wait_healthy(&http, &instance.base).await;
    }
    // The claim runs out; an instance takes it over and finds the payment in the status API.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let billed = loop {
        let view: Value =
            merchant(reqwest::Method::GET, &format!("/api/merchant/subscriptions/{sub_id}")).send().await.unwrap().json().await.unwrap();
        if view["currentPeriod"] == 2 {
            break view;
        }
        assert!(std::time::Instant::now() < deadline, "period 1 never settled: {view:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(billed["charges"].as_array().unwrap().len(), 1, "one order for period 1: {billed:#}");
    assert_eq!(billed["charges"][0]["status"], "paid");
    let epay_cards: Value = http.get(format!("{epay_base}/sandbox/cards")).send().await.unwrap().json().await.unwrap();
    assert_eq!(epay_cards["cards"][0]["charges"], 1, "ePay was asked to charge once: {epay_cards}");
    eprintln!("killed mid-charge: ePay charged {} time(s); the proxy shows {billed}", epay_cards["cards"][0]["charges"]);
    let _ = epay.kill();
}

async fn sent_yet(database_url: &str) -> Option<i64> {
    database::read(database_url, |db| {
        db.query_optional(
            "SELECT sent_ms FROM card_charges c JOIN subscription_charges s ON s.order_id = c.order_id",
            epay_proxy::params![],
            database::first,
        )
    })
    .await
    .flatten()
}

/// The console: viewers read a customer's cards and subscriptions; only an operator, with the
/// session's CSRF token, deletes a card or cancels a subscription, and who did it is recorded.
#[tokio::test]
async fn the_console_shows_a_customer_and_only_an_operator_deletes_or_cancels_with_a_trail() {
    use crate::helpers::console::{console, person};
    let app = console().await;
    let card = saved_card(&app, "c-4", APPROVED_CARD, "c4-save").await;
    let sub = subscribe(&app, "c-4", &card, "sub-c4").await;
    let id = sub["id"].as_str().unwrap().to_owned();
    settled(&app).await;
    let (viewer, operator) = (person(&app, "dana").await, person(&app, "aigerim").await);

    let (status, customers) = viewer.get(&app, "/api/admin/customers?q=c-4").await;
    assert_eq!(status, 200);
    assert_eq!(customers[0], json!({"accountId": "c-4", "activeCards": 1, "activeSubscriptions": 1}));
    let (status, customer) = viewer.get(&app, "/api/admin/customers/c-4").await;
    assert_eq!(status, 200);
    assert_eq!(customer["subscriptions"][0]["charges"][0]["status"], "paid", "{customer:#}");
    assert_eq!(viewer.get(&app, "/api/admin/customers/nobody").await.0, 404);

    let delete = format!("/api/admin/customers/c-4/cards/{card}");
    let refused = viewer.request(&app, reqwest::Method::DELETE, &delete).send().await.unwrap();
    assert_eq!(refused.status(), 403, "a viewer");
    let no_csrf = app.http.delete(app.url(&delete)).header("cookie", &operator.cookie).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403, "without the session's CSRF token");
    let deleted: Value = operator.request(&app, reqwest::Method::DELETE, &delete).send().await.unwrap().json().await.unwrap();
    assert_eq!(deleted["status"], "deleted", "{deleted}");

    let (status, cancelled) = operator.post(&app, &format!("/api/admin/subscriptions/{id}/cancel"), json!({}), "cancel-1").await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let trail: Vec<(String, String)> = app.pairs("SELECT action, actor FROM admin_actions ORDER BY id").await;
    assert_eq!(trail, vec![("delete_card".to_owned(), "aigerim".to_owned()), ("cancel_subscription".to_owned(), "aigerim".to_owned())]);
    let deleted_by: String = app.value("SELECT deleted_by FROM saved_cards").await;
    assert_eq!(deleted_by, "console: aigerim");
}
