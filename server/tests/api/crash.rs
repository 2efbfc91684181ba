//! Crash safety: the real proxy binary is killed with SIGKILL in the middle of concurrent
//! checkouts and postLinks, and restarted on the same database, several rounds. Whatever
//! the proxy acknowledged (a 200) must still be there; no order may be half-written; no
//! invoice id may be handed out twice.

use std::collections::HashMap;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use epay_proxy::params;
use serde_json::{Value, json};

use crate::helpers::database::{self, TestDatabase, first};
use crate::helpers::process;

const ROUNDS: usize = 10;
const CLIENTS: usize = 24;

#[derive(Clone, Default)]
struct Acknowledged {
    /// invoiceId → order key, for every checkout answered 200.
    checkouts: HashMap<String, String>,
    /// (invoiceId, transaction id) of every postLink answered 200 "accepted".
    postlinks: Vec<(String, String)>,
}

fn start(database: &str, port: u16, log: &std::path::Path) -> Child {
    let vars = [
        ("LISTEN", format!("127.0.0.1:{port}")),
        ("PUBLIC_URL", format!("http://127.0.0.1:{port}")),
        ("DATABASE_URL", database.to_owned()),
        ("RUST_LOG", "info,epay_proxy=trace".to_owned()),
    ];
    process::start(&vars, log)
}

/// Pending orders and what a valid success postLink for each needs.
async fn pending_orders(database: &str) -> Vec<(String, String, i64, String)> {
    database::read(database, |db| {
        db.query_all(
            "SELECT invoice_id, secret_hash, amount_minor, terminal FROM orders WHERE status = 'pending' LIMIT 200",
            params![],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let database = test_database.url.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let log = dir.path().join("proxy.log");
    let acknowledged = Arc::new(Mutex::new(Acknowledged { checkouts: HashMap::new(), postlinks: Vec::new() }));

    for round in 0..ROUNDS {
        // Orders left pending by earlier rounds get their success postLink during this one.
        let to_notify = Arc::new(Mutex::new(if round > 0 { pending_orders(&database).await } else { Vec::new() }));
        let mut proxy = start(&database, port, &log);
        process::wait_healthy(&http, &base).await;
        // The previous process was killed: a restart leaves no order half-started. (On
        // PostgreSQL other instances may be asking for tokens: orders interrupted there are
        // taken by age, see tests/api/instances.rs.)
        if round > 0 && !test_database.is_postgres() {
            let created: i64 =
                database::read(&database, |db| db.query_one("SELECT COUNT(*) FROM orders WHERE status = 'created'", params![], first))
                    .await;
            assert_eq!(created, 0, "round {round}: orders still 'created' after the restart");
        }

        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (http, base, acknowledged, to_notify) = (http.clone(), base.clone(), acknowledged.clone(), to_notify.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let next = if client % 3 == 0 { to_notify.lock().unwrap().pop() } else { None };
                        if let Some((invoice, secret, minor, terminal)) = next {
                            let transaction = format!("00000000-0000-4000-8000-{round:04}{n:08}");
                            let body = json!({
                                "invoiceId": invoice, "id": transaction, "code": "ok", "amount": minor / 100,
                                "currency": "KZT", "terminal": terminal, "secret_hash": secret,
                                "cardMask": "440043...2222", "reasonCode": 0,
                            });
                            let answer = http.post(format!("{base}/api/epay/postlink")).json(&body).send().await;
                            let Ok(answer) = answer else { return };
                            if answer.status() == 200 && answer.json::<Value>().await.is_ok_and(|v| v["result"] == "accepted") {
                                acknowledged.lock().unwrap().postlinks.push((invoice, transaction));
                            }
                            continue;
                        }
                        let amount = format!("{}", 100 + (client * 1000 + n) % 5000);
                        let answer = http.post(format!("{base}/api/checkout")).json(&json!({"amount": amount})).send().await;
                        let Ok(answer) = answer else { return }; // the proxy is gone
                        if answer.status() == 200 {
                            let Ok(body) = answer.json::<Value>().await else { return };
                            let (invoice, key) = (body["invoiceId"].as_str().unwrap(), body["orderKey"].as_str().unwrap());
                            let previous = acknowledged.lock().unwrap().checkouts.insert(invoice.to_owned(), key.to_owned());
                            assert!(previous.is_none(), "invoice {invoice} was handed out twice");
                        }
                    }
                })
            })
            .collect();

        // Let the load build up, then kill -9 at a moment nobody chose.
        tokio::time::sleep(Duration::from_millis(400 + (round as u64 * 173) % 700)).await;
        proxy.kill().expect("SIGKILL");
        proxy.wait().unwrap();
        for client in clients {
            client.await.unwrap();
        }

        // With the process dead, everything it acknowledged must be on disk.
        if !test_database.is_postgres() {
            let integrity: String = database::read(&database, |db| db.query_one("PRAGMA integrity_check", params![], first)).await;
            assert_eq!(integrity, "ok");
        }
        // Every client has finished: a copy of what they recorded so far (no lock held across
        // an await; the record keeps growing over the rounds).
        let acknowledged = acknowledged.lock().unwrap().clone();
        let stored: HashMap<String, (String, String, Option<String>)> = database::read(&database, |db| {
            db.query_all("SELECT invoice_id, order_key, status, token_response FROM orders", params![], |row| {
                Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
            })
        })
        .await
        .into_iter()
        .collect();
        let mut accepted: HashMap<(String, String), usize> = HashMap::new();
        let rows: Vec<(String, String)> = database::read(&database, |db| {
            db.query_all("SELECT invoice_id, transaction_id FROM notifications WHERE verdict = 'accepted'", params![], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
        })
        .await;
        for row in rows {
            *accepted.entry(row).or_default() += 1;
        }
        for (invoice, key) in &acknowledged.checkouts {
            let (stored_key, status, token) =
                stored.get(invoice).unwrap_or_else(|| panic!("round {round}: acknowledged checkout {invoice} lost"));
            assert_eq!(stored_key, key, "invoice {invoice} now belongs to another order");
            assert!(token.is_some(), "acknowledged checkout {invoice} has no token ({status})");
        }
        // Not half-written: a pending order has its token, every order a valid state.
        for (invoice, (_, status, token)) in &stored {
            assert!(["created", "pending", "start_failed", "confirming", "paid", "failed", "review", "expired"].contains(&status.as_str()));
            assert!(status != "pending" || token.is_some(), "pending order {invoice} without its token");
        }
        for (invoice, transaction) in &acknowledged.postlinks {
            let recorded = accepted.get(&(invoice.clone(), transaction.clone())).copied().unwrap_or_default();
            assert_eq!(recorded, 1, "round {round}: acknowledged postLink for {invoice} lost");
            assert!(matches!(stored[invoice].1.as_str(), "confirming" | "paid"), "{invoice} is {}", stored[invoice].1);
        }
        println!(
            "round {round}: killed with {} checkouts and {} postLinks acknowledged so far, {} orders stored",
            acknowledged.checkouts.len(),
            acknowledged.postlinks.len(),
            stored.len()
        );
    }
    // Nothing secret in ten runs' worth of the real binary's logs.
    let hashes: Vec<String> = database::read(&database, |db| db.query_all("SELECT secret_hash FROM orders", params![], first)).await;
    let logs = std::fs::read(&log).unwrap();
    assert!(String::from_utf8_lossy(&logs).contains("payment token issued"), "the proxy's logs were not captured");
    let secrets: Vec<&str> = hashes.iter().map(String::as_str).chain([epay_proxy::config::TEST_CLIENT_SECRET]).collect();
    let finder = aho_corasick::AhoCorasick::new(&secrets).unwrap();
    assert!(finder.find(&logs).is_none(), "a secret is in the proxy's log");
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.checkouts.len() > 100, "too little load to prove anything: {}", acknowledged.checkouts.len());
    assert!(acknowledged.postlinks.len() > 20, "too few postLinks to prove anything: {}", acknowledged.postlinks.len());
}
