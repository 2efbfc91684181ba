//! Invoice ids stay unique, in full and in their last six digits, under 1,000 concurrent
//! checkouts; concurrent requests with one Idempotency-Key make one invoice.

use std::collections::HashSet;
use std::sync::Arc;

use crate::helpers::TestApp;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_checkouts_get_distinct_invoice_ids() {
    // Client, proxy and sandbox share this process: ~4 descriptors per checkout in flight.
    let _ = rlimit::increase_nofile_limit(16_384);
    let app = Arc::new(TestApp::spawn_with(&[("EPAY_TIMEOUT_SECS", "60")]).await);
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.checkout(&json!({"amount": format!("{}", 100 + i)}), None).await })
        })
        .collect();
    let mut invoices = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        invoices.push(body["invoiceId"].as_str().unwrap().to_owned());
    }
    let distinct: HashSet<&str> = invoices.iter().map(String::as_str).collect();
    let suffixes: HashSet<&str> = invoices.iter().map(|id| &id[id.len() - 6..]).collect();
    assert_eq!(distinct.len(), 1000);
    assert_eq!(suffixes.len(), 1000, "last six digits repeat among payable orders");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending'").await, 1000);
    assert_eq!(app.count("SELECT COUNT(DISTINCT invoice_suffix) FROM orders").await, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_idempotency_key_make_one_invoice() {
    let app = Arc::new(TestApp::spawn().await);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.checkout(&json!({"amount": "1500"}), Some("double-click")).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "every request got the same checkout");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
}
