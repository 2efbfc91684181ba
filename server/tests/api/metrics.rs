//! `/metrics` (issue 21, item 6): Prometheus text behind METRICS_TOKEN or on METRICS_LISTEN,
//! with what the proxy did (requests, ePay calls, store writes) and what waits in its store.
//! One test scrapes: the store gauges are process-wide, and tests run side by side.

use crate::helpers::receiver::{Receiver, SECRET};
use crate::helpers::{APPROVED_CARD, TestApp, eventually};
use epay_proxy::store::orders::OrderState;

const TOKEN: &str = "metrics-token-0123456789abcdef0123456789";

/// The value of the series `name{labels}` (labels as rendered, in order), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Every `epay_proxy_…` series name in `doc`, as its family (without `_bucket`, `_sum`, `_count`).
fn metric_names(doc: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for (start, _) in doc.match_indices("epay_proxy_") {
        let name: String = doc[start..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|suffix| name.strip_suffix(suffix)).unwrap_or(&name);
        names.insert(family.to_owned());
    }
    assert!(!names.is_empty(), "no metric named");
    names
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_show_requests_epay_calls_and_what_waits_in_the_store() {
    let private = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    // A shop whose endpoint is down: the paid order's event waits.
    let receiver = Receiver::start(&[503]).await;
    let app = TestApp::spawn_with(&[
        ("METRICS_TOKEN", TOKEN),
        ("METRICS_LISTEN", &private),
        ("WEBHOOK_URL", &receiver.url()),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_FIRST_RETRY_MS", "60000"),
    ])
    .await;

    for token in [None, Some("wrong-token-0123456789abcdef0123456789")] {
        let (status, body) = scrape(&app, token).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("\"unauthorized\"") && !body.contains("epay_proxy_"), "{body}");
    }

    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap().to_owned();
    app.pay(&checkout, APPROVED_CARD).await;
    app.wait_for_state(&invoice_id, OrderState::Paid).await;
    let _waiting = app.checkout_ok("700").await;
    eventually("a delivery was tried", || async { !receiver.deliveries().is_empty() }).await;

    app.http.get(app.url("/no-such-file-42")).send().await.unwrap();
    let (status, text) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#"epay_proxy_http_requests_total{route="unmatched",method="GET""#) && !text.contains("no-such-file"), "{text}");
    let checkouts = r#"epay_proxy_http_requests_total{route="/api/checkout",method="POST",status="200"}"#;
    assert!(value(&text, checkouts).is_some_and(|n| n >= 2.0), "{text}");
    assert!(!text.contains(&invoice_id), "no series per order");
    let tokens = r#"epay_proxy_epay_requests_total{endpoint="token",outcome="ok"}"#;
    assert!(value(&text, tokens).is_some_and(|n| n >= 2.0), "{text}");
    let status_calls = r#"epay_proxy_epay_request_duration_seconds_count{endpoint="status_p2p"}"#;
    assert!(value(&text, status_calls).is_some_and(|n| n >= 1.0), "the payment was confirmed through the status API: {text}");
    let store = match app.state.store.dialect() {
        epay_proxy::store::Dialect::Sqlite => "sqlite",
        epay_proxy::store::Dialect::Postgres => "postgres",
    };
    assert!(text.contains(&format!("epay_proxy_store_write_seconds_bucket{{store=\"{store}\",le=\"0.001\"}}")), "{text}");
    // Both stores commit writes in batches.
    assert!(text.contains(&format!("epay_proxy_store_write_batch_jobs_count{{store=\"{store}\"}}")), "{text}");
    assert_eq!(value(&text, r#"epay_proxy_orders{state="paid"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, r#"epay_proxy_orders{state="pending"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, "epay_proxy_reviews_open"), Some(0.0));
    assert!(value(&text, "epay_proxy_webhook_backlog").is_some_and(|n| n >= 1.0), "the shop answered 503: {text}");
    assert!(value(&text, "epay_proxy_oldest_undelivered_webhook_age_seconds").is_some(), "{text}");
    assert!(text.contains("# HELP epay_proxy_reviews_open"), "described: {text}");

    // The dashboard and the alert rules in docs/ name only series the proxy exports.
    for file in ["grafana/epay-proxy.json", "prometheus/alerts.yml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(file);
        let doc = std::fs::read_to_string(&path).unwrap();
        for name in metric_names(&doc) {
            assert!(text.contains(&format!("# TYPE {name} ")), "{file} uses {name}, which /metrics does not export");
        }
    }

    // METRICS_LISTEN: the same text, no token asked.
    let response = reqwest::get(format!("http://{private}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("epay_proxy_orders{state=\"paid\"} 1"));
}

#[tokio::test]
async fn without_a_token_or_an_address_there_are_no_metrics() {
    let app = TestApp::spawn().await;
    let (status, body) = scrape(&app, None).await;
    assert_ne!(status, 200);
    assert!(!body.contains("epay_proxy_"), "{body}");
}
