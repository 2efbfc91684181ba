//! Refunds, captures and cancels against an ePay that misbehaves the ways a payment gateway
//! does (the sandbox's `operationFaults`, `statusLagMs`, `partlyRefundedAsRefund`,
//! `bonusMinor`): card payments of 3,000 ₸, partial refunds of 500, a 1 s timeout and a 4 s
//! settle window. Each row of issue 25's table is a test: what the sandbox performed must equal
//! what the proxy records, nothing is performed twice, and no order stays blocked.

use crate::helpers::console::{Person, console_with, person};
use crate::helpers::receiver::{Receiver, SECRET};
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
    let receiver = Receiver::start(&[200]).await;
    let url = receiver.url();
    let app =
        console_with(&[("EPAY_TIMEOUT_SECS", "1"), ("EPAY_OPERATION_SETTLE_SECS", "4"), ("WEBHOOK_URL", &url), ("WEBHOOK_SECRET", SECRET)])
            .await;
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
        ["order.paid", "refund.succeeded", "order.review", "order.paid", "refund.failed", "order.review_resolved", "refund.succeeded"]
    );
    // The shop hears the decision with the order as the decision left it.
    eventually("order.review_resolved delivered", || async { !receiver.of_type("order.review_resolved").is_empty() }).await;
    let resolved = receiver.of_type("order.review_resolved")[0].json();
    assert_eq!(resolved["data"]["reviewResolution"]["decision"], "not_done", "{resolved}");
    assert_eq!(resolved["data"]["state"], "paid", "{resolved}");
    assert_eq!(resolved["data"]["operations"][1]["status"], "failed", "{resolved}");
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

/// Two instances on one database and one ePay, a lease shorter than one step (0.3 s) and a
/// slow ePay (it answers each refund after 1.2 s and performs it then): each instance's lookup
/// worker takes over operations the other is still waiting on, and finds no trace of them yet.
/// Every refund is performed exactly once (before, a takeover that saw no trace sent it
/// again), and every order ends with what ePay performed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_with_a_lease_shorter_than_a_step_perform_every_refund_once() {
    let vars = [("EPAY_TIMEOUT_SECS", "3"), ("EPAY_OPERATION_LEASE_SECS", "0.3"), ("EPAY_OPERATION_SETTLE_SECS", "60")];
    let first = TestApp::spawn_with(&vars).await;
    let second = first.second_instance(&vars).await;
    let mut invoices = Vec::new();
    for n in 0..6 {
        invoices.push(first.paid_merchant_order("3000", &format!("lease-{n}"), OrderState::Paid).await);
    }
    let late = vec![json!({"fault": "lateThenPerform", "ms": 1200}); 18];
    first.sandbox_control(json!({"operationFaults": late})).await;
    let refunds = invoices.iter().map(|invoice_id| {
        let (first, second) = (&first, &second);
        async move {
            for (n, instance) in [first, second, first].into_iter().enumerate() {
                let key = format!("lease-r{n}");
                let (status, body) = instance.operation(invoice_id, "refunds", json!({"amount": "500"}), &key).await;
                assert_eq!(status, 201, "{body}");
                assert_eq!(settled(instance, invoice_id, &key).await, "succeeded");
            }
        }
    });
    futures::future::join_all(refunds).await;
    each_performed_once(&first).await;
    assert_eq!(first.sandbox_operations().await.iter().filter(|op| op["kind"] == "refund").count(), 18);
    for invoice_id in &invoices {
        assert_eq!(ledgers(&first, invoice_id).await, (150_000, 150_000), "{invoice_id}");
        assert_eq!(second.stored_order(invoice_id).await.status, OrderState::Paid);
    }
}

/// What ePay does to one operation request in the property test.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    PerformThenHang,
    PerformThen500,
    LateThenPerform,
    Hang,
    Fail500,
}

impl Fault {
    fn rule(self, invoice_id: &str) -> Option<Value> {
        let fault = match self {
            Fault::None => return None,
            Fault::PerformThenHang => json!({"fault": "performThenHang"}),
            Fault::PerformThen500 => json!({"fault": "performThen500"}),
            Fault::LateThenPerform => json!({"fault": "lateThenPerform", "ms": 1500}),
            Fault::Hang => json!({"fault": "hang"}),
            Fault::Fail500 => json!({"fault": "fail500"}),
        };
        let mut rule = fault;
        rule["invoiceId"] = json!(invoice_id);
        Some(rule)
    }
}

/// An operation the merchant asks for: a capture of a share of the hold (in percent), a
/// cancel, or a refund of a share of what is left.
#[derive(Clone, Copy, Debug)]
enum Asked {
    Capture(u8),
    Cancel,
    Refund(u8),
}

#[derive(Clone, Debug)]
struct Plan {
    two_stage: bool,
    steps: Vec<(Asked, Fault)>,
}

/// Plans a merchant could make: a hold captured (in part or whole) or cancelled, then refunds
/// of what was charged; or a charge refunded. Each request meets a random fault.
fn plans() -> impl proptest::strategy::Strategy<Value = Vec<Plan>> {
    use proptest::prelude::*;
    let fault = || {
        prop_oneof![
            3 => Just(Fault::None),
            1 => Just(Fault::PerformThenHang),
            1 => Just(Fault::PerformThen500),
            1 => Just(Fault::LateThenPerform),
            1 => Just(Fault::Hang),
            1 => Just(Fault::Fail500),
        ]
    };
    let hold = prop_oneof![3 => (30u8..=100).prop_map(Asked::Capture), 1 => Just(Asked::Cancel)];
    let refunds = proptest::collection::vec(((10u8..=100).prop_map(Asked::Refund), fault()), 0..=3);
    let plan = (any::<bool>(), hold, fault(), refunds).prop_map(|(two_stage, hold, hold_fault, refunds)| {
        let mut steps = if two_stage { vec![(hold, hold_fault)] } else { Vec::new() };
        if !matches!(steps.first(), Some((Asked::Cancel, _))) {
            steps.extend(refunds);
        }
        Plan { two_stage, steps }
    });
    proptest::collection::vec(plan, 3..=4)
}

/// What a person finds in ePay's cabinet about the operation in review on `invoice_id`, and
/// decides: "done" when ePay performed more of its kind than the proxy recorded, else "send
/// it again".
async fn person_decides(app: &TestApp, invoice_id: &str) {
    let invoice = invoice_id.to_owned();
    let (kind, recorded): (String, i64) = app
        .read(move |db| {
            db.query_one(
                "SELECT p.kind, (SELECT COUNT(*) FROM operations s WHERE s.order_id = p.order_id AND s.kind = p.kind AND s.status = 'succeeded')
                   FROM operations p JOIN orders o ON o.id = p.order_id WHERE o.invoice_id = ? AND p.status = 'review'",
                epay_proxy::params![invoice],
                crate::helpers::database::pair,
            )
        })
        .await;
    let epay_kind = if kind == "capture" { "charge" } else { kind.as_str() };
    let performed = app.sandbox_operations().await.iter().filter(|op| op["invoiceId"] == invoice_id && op["kind"] == epay_kind).count();
    let decision = if performed as i64 > recorded { "done" } else { "send-again" };
    epay_proxy::operations::review::from_cli(
        &app.state.store,
        &app.state.epay,
        &[invoice_id, decision, "--checked", "the sandbox's operations"],
    )
    .await
    .unwrap();
}

/// An order of 3,000 ₸ paid for `plan`: held (two-stage) or charged.
async fn pay_for(app: &TestApp, n: usize, plan: &Plan) -> String {
    app.sandbox_control(json!({"twoStage": plan.two_stage})).await;
    let state = if plan.two_stage { OrderState::Authorized } else { OrderState::Paid };
    app.paid_merchant_order("3000", &format!("plan-{n}-{}", rand_suffix()), state).await
}

/// Runs `plan` on the order `invoice_id`; returns what the merchant was told of each step.
async fn run_plan(app: &TestApp, n: usize, invoice_id: String, plan: &Plan) -> String {
    let mut log = String::new();
    for (step, (asked, _)) in plan.steps.iter().enumerate() {
        let order = app.stored_order(&invoice_id).await;
        let (path, body) = match *asked {
            Asked::Capture(share) => ("capture", json!({"amount": (order.amount_minor * i64::from(share) / 10_000).max(10).to_string()})),
            Asked::Cancel => ("cancel", Value::Null),
            Asked::Refund(share) => {
                let left = order.captured_minor.unwrap_or(order.amount_minor) - order.refunded_minor;
                let amount = (left * i64::from(share) / 100).max(1_000);
                ("refunds", json!({"amount": epay_api_types::Amount::from_minor(amount as u64).to_string()}))
            }
        };
        let key = format!("plan-{n}-{step}");
        let (status, answer) = app.operation(&invoice_id, path, body, &key).await;
        log.push_str(&format!("{path} {status}; "));
        if status != 201 {
            continue; // not allowed in the order's state, or more than is left: nothing stored
        }
        let id = answer["operation"]["id"].as_str().unwrap().trim_start_matches("op_").parse::<i64>().unwrap();
        loop {
            let status: String = app
                .read(move |db| {
                    db.query_one("SELECT status FROM operations WHERE id = ?", epay_proxy::params![id], crate::helpers::database::first)
                })
                .await;
            match status.as_str() {
                "succeeded" | "failed" => break,
                "review" => person_decides(app, &invoice_id).await,
                _ => {}
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    // ePay and the proxy agree, and the order is not blocked.
    let order = app.stored_order(&invoice_id).await;
    let performed = app.sandbox_operations().await;
    let of = |kind: &str| performed.iter().filter(|op| op["invoiceId"] == invoice_id.as_str() && op["kind"] == kind).collect::<Vec<_>>();
    assert_eq!(app.refunded_by_epay(&invoice_id).await as i64, order.refunded_minor, "refunds of {invoice_id}: {log}");
    assert!(of("charge").len() <= 1 && of("cancel").len() <= 1, "a capture or cancel performed twice: {log}");
    if let Some(capture) = of("charge").first() {
        assert_eq!(capture["amountMinor"].as_i64(), order.captured_minor, "{log}");
    }
    assert_eq!(of("cancel").len() == 1, order.status == OrderState::Cancelled, "{log}");
    assert_ne!(order.status, OrderState::Review, "{log}");
    let open: i64 = app
        .read(move |db| {
            db.query_one(
                "SELECT COUNT(*) FROM operations WHERE order_id = ? AND status NOT IN ('succeeded', 'failed')",
                epay_proxy::params![order.id],
                crate::helpers::database::first,
            )
        })
        .await;
    assert_eq!(open, 0, "{log}");
    log
}

/// Random sequences of captures, cancels and refunds on several orders at once, each request
/// met by a random fault: for every order, what the sandbox performed equals what the proxy
/// reports, no request of the merchant is performed twice, and no order stays blocked. A late
/// bank performs within the settle window, as the window assumes: one later than the window
/// and a person's "send again" after it can both be performed
/// (`send_again_sends_nothing_when_epay_shows_the_refund_after_all` covers the one that lands
/// before the repeat's snapshot).
#[test]
fn random_operations_under_random_faults_keep_the_proxy_equal_to_epay() {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut runner = TestRunner::new(Config { cases: 4, failure_persistence: None, ..Config::default() });
    runner
        .run(&plans(), |plans| {
            runtime.block_on(async {
                let app =
                    console_with(&[("EPAY_TIMEOUT_SECS", "1"), ("EPAY_OPERATION_SETTLE_SECS", "3"), ("EPAY_TWO_STAGE", "true")]).await;
                // The payments one by one (the sandbox holds or charges as it is told), then
                // every fault at once, each for its order's requests.
                let mut invoices = Vec::new();
                for (n, plan) in plans.iter().enumerate() {
                    invoices.push(pay_for(&app, n, plan).await);
                }
                let faults: Vec<Value> = plans
                    .iter()
                    .zip(&invoices)
                    .flat_map(|(plan, invoice_id)| plan.steps.iter().filter_map(|(_, fault)| fault.rule(invoice_id)))
                    .collect();
                app.sandbox_control(json!({"operationFaults": faults})).await;
                let runs = plans.iter().zip(invoices).enumerate().map(|(n, (plan, invoice_id))| run_plan(&app, n, invoice_id, plan));
                futures::future::join_all(runs).await;
                each_performed_once(&app).await;
            });
            Ok(())
        })
        .unwrap();
}
