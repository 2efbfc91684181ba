//! Phase 7 of the benchmark: checkouts and postLinks per second, with p50/p99, on SQLite (one
//! proxy), on PostgreSQL with one proxy, and on PostgreSQL with two proxies sharing the
//! database, in one run. Every setup talks to the same kind of ePay: the sandbox of a proxy
//! process of its own (`SANDBOX_PROXIES`), so the three differ in their store only.
//!
//! PostgreSQL is the server `EPAY_BENCH_POSTGRES` names (an admin URL; `scripts/bench` starts
//! a throwaway cluster); without it only SQLite is measured.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{Figures, Proxy, free_port, load, load_at_most, pending_orders, silently_paid_orders, spawn_proxy, success};

/// Orders paid at ePay beforehand, for the postLinks of each setup (the phase ends early
/// when they run out).
const POSTLINK_ORDERS: u64 = 15_000;

struct Setup {
    name: &'static str,
    database: String,
    instances: usize,
}

pub async fn compare(http: &reqwest::Client, webhook_url: &str, seconds: Duration, concurrency: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut setups = vec![Setup {
        name: "SQLite, 1 instance",
        database: format!("sqlite:{}", dir.path().join("stores.sqlite3").display()),
        instances: 1,
    }];
    match std::env::var("EPAY_BENCH_POSTGRES").ok().filter(|url| !url.is_empty()) {
        Some(server) => {
            setups.push(Setup { name: "PostgreSQL, 1 instance", database: fresh_database(&server, "bench_one").await, instances: 1 });
            setups.push(Setup { name: "PostgreSQL, 2 instances", database: fresh_database(&server, "bench_two").await, instances: 2 });
        }
        None => println!("\n(PostgreSQL not measured: EPAY_BENCH_POSTGRES is not set; scripts/bench sets it)"),
    }
    let mut results = Vec::new();
    for setup in &setups {
        results.push((setup.name, measure(http, webhook_url, setup, seconds, concurrency).await));
    }
    println!("\nstores side by side ({concurrency} clients spread over the instances; ePay: a sandbox process of its own)");
    for (name, (checkouts, postlinks)) in &results {
        checkouts.print(&format!("checkouts, {name}"));
        postlinks.print(&format!("postLinks, {name}"));
    }
    let [sqlite, rest @ ..] = &results[..] else { return };
    for (name, (checkouts, postlinks)) in rest {
        println!(
            "{name} ÷ SQLite: checkouts {:.2}, postLinks {:.2}",
            checkouts.per_second() / sqlite.1.0.per_second(),
            postlinks.per_second() / sqlite.1.1.per_second()
        );
    }
    // For scripts/bench's summary of the five figures.
    if let Ok(path) = std::env::var("EPAY_BENCH_SUMMARY") {
        let rates: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(name, (checkouts, postlinks))| {
                ((*name).to_owned(), json!({"checkouts": checkouts.per_second(), "postlinks": postlinks.per_second()}))
            })
            .collect();
        std::fs::write(&path, serde_json::Value::Object(rates).to_string()).expect("write the bench summary");
    }
}

/// A new, empty database `name` on `server` (dropped first if a run left it); its URL.
async fn fresh_database(server: &str, name: &'static str) -> String {
    let admin = server.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to EPAY_BENCH_POSTGRES");
        // Two statements: a multi-statement string would be one transaction, which neither allows.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop a database");
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a database");
    })
    .await
    .expect("admin thread");
    let (base, _) = server.rsplit_once('/').expect("EPAY_BENCH_POSTGRES ends with a database name");
    format!("{base}/{name}")
}

/// One setup: its ePay, its instances, then checkouts and postLinks spread over them.
async fn measure(http: &reqwest::Client, webhook_url: &str, setup: &Setup, seconds: Duration, concurrency: usize) -> (Figures, Figures) {
    let addresses: Vec<String> = (1..=setup.instances).map(|n| format!("127.0.0.{n}:{}", free_port(&format!("127.0.0.{n}")))).collect();
    let epay_address = format!("127.0.0.9:{}", free_port("127.0.0.9"));
    let epay_dir = tempfile::tempdir().expect("temp dir");
    let proxies = addresses.iter().map(|a| format!("http://{a}")).collect::<Vec<_>>();
    let epay = spawn_proxy(
        &epay_address,
        &format!("sqlite:{}", epay_dir.path().join("epay.sqlite3").display()),
        "http://127.0.0.1:9/unused",
        &[("SANDBOX_PROXIES", proxies.join(","))],
    );
    let epay_base = epay.base.clone();
    let instances: Vec<Proxy> = addresses
        .iter()
        .map(|address| {
            spawn_proxy(
                address,
                &setup.database,
                webhook_url,
                &[("EPAY_OAUTH_URL", format!("{epay_base}/sandbox/oauth2/token")), ("EPAY_API_URL", format!("{epay_base}/sandbox/api"))],
            )
        })
        .collect();
    for proxy in std::iter::once(&epay).chain(&instances) {
        healthy(http, &proxy.base).await;
    }
    let bases = Arc::new(proxies);

    let checkout = |bases: Arc<Vec<String>>| {
        let client = http.clone();
        move |n: u64| {
            let base = &bases[n as usize % bases.len()];
            client
                .post(format!("{base}/api/checkout"))
                .json(&json!({"amount": (100 + n % 100_000).to_string(), "description": "bench"}))
                .send()
        }
    };
    load(concurrency, Duration::from_secs(1), checkout(bases.clone())).await;
    let checkouts = load(concurrency, seconds, checkout(bases.clone())).await;

    let prepared = silently_paid_orders(http, &bases, &epay_base, POSTLINK_ORDERS, concurrency).await;
    let orders: Vec<_> = pending_orders(&setup.database).await.into_iter().filter(|order| prepared.contains(&order.invoice_id)).collect();
    let orders = Arc::new(orders);
    let client = http.clone();
    let count = orders.len() as u64;
    let postlinks = load_at_most(concurrency, seconds, count, move |n| {
        let base = &bases[n as usize % bases.len()];
        client.post(format!("{base}/api/epay/postlink")).json(&success(&orders[n as usize], n)).send()
    })
    .await;
    drop(instances);
    drop(epay);
    (checkouts, postlinks)
}

pub(super) async fn healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not come up");
}
