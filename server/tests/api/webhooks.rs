//! Webhooks: every state change is one signed event (Standard Webhooks), written with the
//! change, delivered until a 2xx with the same webhook-id, resumed after a restart.

use std::time::Duration;

use crate::helpers::database::{self, TestDatabase, first, pair};
use crate::helpers::receiver::{Receiver, SECRET};
use crate::helpers::{TestApp, eventually};
use epay_proxy::params;
use epay_proxy::store::orders::{self, OrderState};
use reqwest::Method;
use serde_json::Value;

async fn app_sending_to(receiver_url: &str) -> TestApp {
    TestApp::spawn_with(&[("WEBHOOK_URL", receiver_url), ("WEBHOOK_SECRET", SECRET), ("WEBHOOK_FIRST_RETRY_MS", "5")]).await
}

async fn event_rows(app: &TestApp, invoice_id: &str) -> Vec<(String, String, i64)> {
    let invoice_id = invoice_id.to_owned();
    app.read(move |db| {
        db.query_all(
            "SELECT e.type, e.status, e.attempts FROM webhook_events e JOIN orders o ON o.id = e.order_id WHERE o.invoice_id = ? ORDER BY e.id",
            params![invoice_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    })
    .await
}

#[tokio::test]
async fn a_paid_order_sends_one_signed_order_paid_event() {
    let receiver = Receiver::start(&[200]).await;
    let app = app_sending_to(&receiver.url()).await;
    let invoice_id = app.paid_merchant_order("1500", "wh-1", OrderState::Paid).await;
    eventually("the event delivered", || async { !receiver.of_type("order.paid").is_empty() }).await;

    let delivery = &receiver.of_type("order.paid")[0];
    // Verified by the standard's own library, with the secret the shop holds.
    standardwebhooks::Webhook::new(SECRET).unwrap().verify(&delivery.body, &delivery.headers).expect("a valid Standard Webhooks signature");
    assert!(delivery.header("webhook-id").starts_with("msg_"));
    assert!(delivery.header("webhook-signature").starts_with("v1,"));
    let body = delivery.json();
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"]["invoiceId"], invoice_id.as_str());
    assert_eq!(body["data"]["status"], "paid");
    assert_eq!(body["data"]["reference"], "wh-1");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    let wrong = standardwebhooks::Webhook::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert!(wrong.verify(&delivery.body, &delivery.headers).is_err(), "another secret does not verify");

    eventually("recorded as delivered", || async {
        event_rows(&app, &invoice_id).await.iter().any(|(_, status, _)| status == "delivered")
    })
    .await;
    assert_eq!(event_rows(&app, &invoice_id).await, [("order.paid".to_owned(), "delivered".to_owned(), 1)], "one change, one event");
    assert_eq!(receiver.deliveries().len(), 1);

    let (status, page) = {
        let response = app.merchant(Method::GET, &format!("/api/merchant/events?invoiceId={invoice_id}")).send().await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["events"][0]["type"], "order.paid");
    assert_eq!(page["events"][0]["status"], "delivered");
    assert_eq!(page["events"][0]["attempts"][0]["statusCode"], 200);
    assert_eq!(page["events"][0]["payload"]["data"]["invoiceId"], invoice_id.as_str());
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_until_it_answers_2xx() {
    let receiver = Receiver::start(&[500, 500, 500, 200]).await;
    let app = app_sending_to(&receiver.url()).await;
    let invoice_id = app.paid_merchant_order("700", "wh-2", OrderState::Paid).await;
    eventually("delivered on the fourth attempt", || async {
        event_rows(&app, &invoice_id).await.iter().any(|(_, s, _)| s == "delivered")
    })
    .await;
    let deliveries = receiver.of_type("order.paid");
    assert_eq!(deliveries.len(), 4);
    let ids: std::collections::HashSet<String> = deliveries.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), 1, "the same webhook-id every time");
    assert!(deliveries.iter().all(|d| d.body == deliveries[0].body), "the same body every time");
    for delivery in &deliveries {
        standardwebhooks::Webhook::new(SECRET).unwrap().verify(&delivery.body, &delivery.headers).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.of_type("order.paid").len(), 4, "nothing after the 2xx");
    assert_eq!(event_rows(&app, &invoice_id).await, [("order.paid".to_owned(), "delivered".to_owned(), 4)]);

    // Resent on request: the same id and body once more.
    let event_id = deliveries[0].header("webhook-id");
    let response = app.merchant(Method::POST, &format!("/api/merchant/events/{event_id}/resend")).send().await.unwrap();
    assert_eq!(response.status(), 202);
    eventually("resent", || async { receiver.of_type("order.paid").len() == 5 }).await;
    assert_eq!(receiver.of_type("order.paid")[4].header("webhook-id"), event_id);
    let response = app.merchant(Method::POST, "/api/merchant/events/msg_nope/resend").send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn an_event_waits_through_a_restart_and_is_delivered_once_after_it() {
    // A port nobody listens on yet: the receiver is down while the order is paid.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = app_sending_to(&format!("http://{port}/hooks")).await;
    let invoice_id = app.paid_merchant_order("900", "wh-3", OrderState::Paid).await;
    eventually("a failed attempt", || async { event_rows(&app, &invoice_id).await.first().is_some_and(|(_, _, attempts)| *attempts >= 1) })
        .await;
    assert_eq!(event_rows(&app, &invoice_id).await[0].1, "pending");

    let app = app.restart().await;
    let receiver = Receiver::start_on(port, &[200]).await;
    eventually("delivered after the restart", || async { !receiver.of_type("order.paid").is_empty() }).await;
    eventually("recorded", || async { event_rows(&app, &invoice_id).await[0].1 == "delivered" }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.of_type("order.paid").len(), 1);
    assert_eq!(event_rows(&app, &invoice_id).await.len(), 1, "one event for one change, across the restart");
}

#[tokio::test]
async fn no_event_is_written_for_a_change_that_does_not_commit() {
    let app = TestApp::spawn().await;
    let order = app.merchant_order("100", "wh-4").await;
    let invoice_id = order["invoiceId"].as_str().unwrap().to_owned();
    let id = app.state.store.read({
        let invoice_id = invoice_id.clone();
        move |db| orders::find_by_invoice(db, &invoice_id)
    });
    let id = id.await.unwrap().unwrap().id;
    let rolled_back = app
        .state
        .store
        .write(move |tx| {
            orders::expire(tx, id, "a change that does not commit")?;
            Err::<(), _>(epay_proxy::store::StoreError::Closed)
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(event_rows(&app, &invoice_id).await, []);
    // And a change that commits has its event in the same transaction.
    app.state.store.write(move |tx| orders::expire(tx, id, "a change that commits")).await.unwrap();
    assert_eq!(event_rows(&app, &invoice_id).await, [("order.expired".to_owned(), "pending".to_owned(), 0)]);
}

#[test]
fn a_new_secret_is_one_the_standard_accepts() {
    let secret = epay_proxy::webhooks::new_secret();
    assert!(secret.starts_with("whsec_"));
    assert!(standardwebhooks::Webhook::new(&secret).is_ok());
    assert_ne!(secret, epay_proxy::webhooks::new_secret());
}

/// The real binary, killed with SIGKILL after orders were paid and before their events could be
/// delivered (the receiver was failing), then restarted: every event is delivered, one per
/// change, with the webhook-id it had before the crash.
#[tokio::test]
async fn kill_9_between_a_change_and_its_delivery_loses_nothing_and_doubles_nothing() {
    use crate::helpers::MERCHANT_KEY;
    let receiver = Receiver::start(&[503]).await;
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let database = test_database.url.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_epay-proxy"))
            .env("EPAY_ENV", "sandbox")
            .env("LISTEN", format!("127.0.0.1:{port}"))
            .env("PUBLIC_URL", &base)
            .env("DATABASE_URL", &database)
            .env("WIDGET_DIR", "/nonexistent")
            // A delivery cut by the kill is this instance's for 4 s (the lease), then due again.
            .env("WEBHOOK_TIMEOUT_SECS", "1")
            .env("RUST_LOG", "warn")
            .env("MERCHANT_API_KEY", MERCHANT_KEY)
            .env("WEBHOOK_URL", receiver.url())
            .env("WEBHOOK_SECRET", SECRET)
            .env("WEBHOOK_FIRST_RETRY_MS", "50")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start epay-proxy")
    };
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let healthy = async || {
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the proxy did not come up");
    };
    let mut proxy = start();
    healthy().await;

    let mut invoices = Vec::new();
    for n in 0..5 {
        let body = serde_json::json!({"amount": "1500", "description": "kill -9", "reference": format!("k9-{n}")});
        let invoice_id = crate::helpers::paid_merchant_order_at(&http, &base, &base, &body, &format!("k9-{n}")).await;
        invoices.push(invoice_id);
    }
    // Every order paid, every event tried and refused at least once: then SIGKILL.
    let count = async |sql: &'static str| -> i64 { database::read(&database, move |db| db.query_one(sql, params![], first)).await };
    let tried = async || count("SELECT COUNT(*) FROM webhook_events WHERE type = 'order.paid' AND attempts >= 1").await;
    eventually("five paid orders, their events refused", || async { tried().await == 5 }).await;
    proxy.kill().expect("SIGKILL");
    proxy.wait().unwrap();
    let before: Vec<(String, String)> =
        database::read(&database, |db| db.query_all("SELECT event_id, status FROM webhook_events ORDER BY id", params![], pair)).await;
    assert_eq!(before.len(), 5);
    assert!(before.iter().all(|(_, status)| status == "pending"), "{before:?}");

    receiver.answer(200);
    let mut proxy = start();
    healthy().await;
    let delivered = async || count("SELECT COUNT(*) FROM webhook_events WHERE status = 'delivered'").await;
    eventually("every event delivered after the restart", || async { delivered().await == 5 }).await;
    proxy.kill().unwrap();
    proxy.wait().unwrap();

    let per_order: Vec<(String, i64)> = database::read(&database, |db| {
        db.query_all(
            "SELECT o.invoice_id, COUNT(e.id) FROM orders o LEFT JOIN webhook_events e ON e.order_id = o.id AND e.type = 'order.paid'
             GROUP BY o.id, o.invoice_id",
            params![],
            pair,
        )
    })
    .await;
    assert_eq!(per_order.len(), 5);
    assert!(per_order.iter().all(|(invoice, events)| invoices.contains(invoice) && *events == 1), "one event per change: {per_order:?}");
    let after: Vec<String> =
        database::read(&database, |db| db.query_all("SELECT event_id FROM webhook_events ORDER BY id", params![], first)).await;
    assert_eq!(after, before.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), "the same webhook-ids across the crash");
    for (event_id, _) in &before {
        let received: Vec<_> = receiver.deliveries().into_iter().filter(|d| &d.header("webhook-id") == event_id).collect();
        assert!(received.len() >= 2, "refused before the crash, delivered after: {}", received.len());
        assert!(received.iter().all(|d| d.body == received[0].body), "the same body before and after the crash");
    }

    // The on-call view of the same events, from the command line.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_epay-proxy"))
            .args(args)
            .env("DATABASE_URL", &database)
            .env("LISTEN", format!("127.0.0.1:{port}"))
            .env("PUBLIC_URL", &base)
            .output()
            .expect("run epay-proxy")
    };
    let listed = cli(&["webhooks", "list", "10"]);
    assert!(listed.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&listed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|event| event["status"] == "delivered" && event["attempts"].as_array().unwrap().len() >= 2));
    assert!(cli(&["webhooks", "resend", &before[0].0]).status.success());
    let event_id = before[0].0.clone();
    let queued: String =
        database::read(&database, move |db| db.query_one("SELECT status FROM webhook_events WHERE event_id = ?", params![event_id], first))
            .await;
    assert_eq!(queued, "pending", "queued for the next running proxy");
    assert!(!cli(&["webhooks", "resend", "msg_nope"]).status.success());
    let secret = cli(&["webhooks", "secret"]);
    assert!(String::from_utf8_lossy(&secret.stdout).trim().starts_with("whsec_"));
}

/// One slow delivery holds up only its own event: with the receiver holding one request open
/// (until the proxy's timeout), an event made after it is delivered at once, while the first
/// has not even recorded its attempt yet (issue 20, item 5).
#[tokio::test]
async fn a_stuck_delivery_does_not_hold_up_the_next_event() {
    let receiver = Receiver::start(&[200]).await;
    let app = TestApp::spawn_with(&[
        ("WEBHOOK_URL", &receiver.url()),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_FIRST_RETRY_MS", "5"),
        ("WEBHOOK_TIMEOUT_SECS", "4"),
    ])
    .await;
    receiver.hang_next(Duration::from_secs(30));
    let stuck = app.paid_merchant_order("1500", "stuck-1", OrderState::Paid).await;
    eventually("the stuck delivery reaches the receiver", || async { receiver.deliveries().len() == 1 }).await;
    let started = std::time::Instant::now();
    let next = app.paid_merchant_order("1600", "stuck-2", OrderState::Paid).await;
    eventually("the next event is delivered", || async {
        event_rows(&app, &next).await.iter().any(|(kind, status, _)| kind == "order.paid" && status == "delivered")
    })
    .await;
    let waited = started.elapsed();
    let first = event_rows(&app, &stuck).await;
    assert_eq!(first, [("order.paid".to_owned(), "pending".to_owned(), 0)], "the stuck one is still in flight");
    assert!(waited < Duration::from_secs(4), "delivered before the stuck request timed out: {waited:?}");
}

/// An event's `data` is the order as it stood when the event was made, with the order's
/// version and the event's own creation time, however late it is first sent; a refund's event
/// names the refund (issue 20, items 4 and 6). Here the only delivery slot is held by another
/// order's event while the order is paid and then refunded: both its events go out after the
/// refund.
#[tokio::test]
async fn an_event_carries_the_order_as_it_stood_with_its_version_and_a_refund_names_its_operation() {
    let receiver = Receiver::start(&[200]).await;
    let app = TestApp::spawn_with(&[
        ("WEBHOOK_URL", &receiver.url()),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_FIRST_RETRY_MS", "5"),
        ("WEBHOOK_CONCURRENCY", "1"),
        ("WEBHOOK_TIMEOUT_SECS", "3"),
    ])
    .await;
    receiver.hang_next(Duration::from_secs(30));
    app.paid_merchant_order("1000", "hold-the-slot", OrderState::Paid).await;
    eventually("the slot is taken", || async { receiver.deliveries().len() == 1 }).await;
    let invoice_id = app.paid_merchant_order("1500", "late-events", OrderState::Paid).await;
    let (status, refund) = app.operation(&invoice_id, "refunds", serde_json::json!({"amount": "1500"}), "refund-key-1").await;
    assert_eq!(status, 201, "{refund}");
    eventually("both events delivered", || async {
        receiver.deliveries().iter().filter(|d| d.json()["data"]["invoiceId"] == invoice_id.as_str()).count() == 2
    })
    .await;
    let events: Vec<Value> =
        receiver.deliveries().iter().map(|d| d.json()).filter(|e| e["data"]["invoiceId"] == invoice_id.as_str()).collect();
    let paid = events.iter().find(|e| e["type"] == "order.paid").unwrap();
    let refunded = events.iter().find(|e| e["type"] == "refund.succeeded").unwrap();
    assert_eq!((paid["data"]["status"].as_str(), paid["data"]["refundedAmount"].as_str()), (Some("paid"), Some("0")), "{paid:#}");
    assert_eq!(refunded["data"]["status"], "refunded", "{refunded:#}");
    let (v1, v2) = (paid["data"]["version"].as_i64().unwrap(), refunded["data"]["version"].as_i64().unwrap());
    assert!(v1 < v2, "versions grow: {v1} then {v2}");
    assert_eq!(paid["data"]["eventCreatedAt"], paid["timestamp"]);
    assert!(paid["data"]["operations"].as_array().is_none_or(|ops| ops.is_empty()), "no refund yet when it was paid: {paid:#}");
    let operation = &refunded["data"]["operation"];
    assert_eq!(
        (operation["kind"].as_str(), operation["amount"].as_str(), operation["idempotencyKey"].as_str(), operation["status"].as_str()),
        (Some("refund"), Some("1500"), Some("refund-key-1"), Some("succeeded")),
        "{refunded:#}"
    );
}

/// A graceful stop hands back the deliveries in flight: the event is due at once, not when its
/// lease (four timeouts) ends, so a restarted instance (or another one) sends it right away.
/// On SQLite a restart resumes every claim anyway; on PostgreSQL, before the hand-back, the
/// event waited for the lease.
#[tokio::test]
async fn a_stop_hands_back_the_deliveries_in_flight() {
    let receiver = Receiver::start(&[200]).await;
    let app = TestApp::spawn_with(&[
        ("WEBHOOK_URL", &receiver.url()),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_FIRST_RETRY_MS", "5"),
        ("WEBHOOK_TIMEOUT_SECS", "10"),
    ])
    .await;
    receiver.hang_next(Duration::from_secs(60));
    let invoice_id = app.paid_merchant_order("1500", "handed-back", OrderState::Paid).await;
    eventually("the delivery is in flight", || async { receiver.deliveries().len() == 1 }).await;
    let app = app.restart().await;
    let restarted = std::time::Instant::now();
    eventually("delivered after the restart", || async {
        event_rows(&app, &invoice_id).await.first().is_some_and(|(_, status, _)| status == "delivered")
    })
    .await;
    assert!(restarted.elapsed() < Duration::from_secs(10), "not after the 40 s lease: {:?}", restarted.elapsed());
    assert_eq!(receiver.of_type("order.paid").len(), 2, "the cut-short attempt and the one that delivered");
}

/// A receiver that answers 200 and then a body without end: the proxy keeps its first 1 KiB and
/// reads no further (before, it read until the attempt timed out, and held every byte until
/// then: four receivers answering 50 MiB took the proxy from 27 MiB to 600 MiB).
#[tokio::test]
async fn a_receivers_reply_is_read_at_most_one_kib() {
    use axum::body::Body;
    let endless = axum::Router::new().route(
        "/",
        axum::routing::post(|| async {
            let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            axum::response::Response::new(Body::from_stream(stream))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, endless).await });
    let app = TestApp::spawn_with(&[("WEBHOOK_URL", &url), ("WEBHOOK_SECRET", SECRET), ("WEBHOOK_TIMEOUT_SECS", "10")]).await;
    let started = std::time::Instant::now();
    let invoice_id = app.paid_merchant_order("1500", "wh-endless", OrderState::Paid).await;
    eventually("delivered", || async { event_rows(&app, &invoice_id).await.first().is_some_and(|(_, status, _)| status == "delivered") })
        .await;
    assert!(started.elapsed() < Duration::from_secs(8), "not read until the timeout: {:?}", started.elapsed());
    let kept: String = app.value("SELECT response FROM webhook_attempts").await;
    assert_eq!(kept.len(), 1024, "the first 1 KiB, kept");
}
