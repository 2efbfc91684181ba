//! Sign-in as a lever on the whole proxy (issue 29): payer checkouts from 4 clients, alone and
//! while 200 clients, each from an address of its own (127.0.1.x), try one wrong console
//! password a second, for the operator's name and then each time for a new made-up name (no
//! per-name count can stop those: every one is a password check); the proxy's resident memory
//! (VmHWM, its peak) after each; and the operator signing in from an address of their own in
//! the middle of each flood. With
//! `EPAY_PROXY_BIN_BEFORE` (another build of the proxy) the same runs against it too, in the
//! same run, for a before/after.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Figures, Proxy, free_port, load, spawn_binary};

const FLOODERS: u8 = 200;
const CHECKOUT_CLIENTS: usize = 4;
const PASSWORD: &str = "the operator's own password";

fn memory_peak_mib(proxy: &Proxy) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", proxy.child.id())).unwrap_or_default();
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

async fn checkouts(base: &str, seconds: Duration) -> Figures {
    let client = reqwest::Client::new();
    let url = format!("{base}/api/checkout");
    load(CHECKOUT_CLIENTS, seconds, move |n| client.post(&url).json(&json!({"amount": (100 + n % 100_000).to_string()})).send()).await
}

/// What the flood's sign-ins were answered, by status.
#[derive(Default)]
struct Answers {
    refused: AtomicU64,
    waited: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

/// Whose name the flood types: the operator's, or a new one every time.
#[derive(Clone, Copy)]
enum Names {
    Operators,
    MadeUp,
}

fn flood(base: &str, names: Names, stop: Arc<AtomicBool>, answers: Arc<Answers>) -> Vec<tokio::task::JoinHandle<()>> {
    (1..=FLOODERS)
        .map(|n| {
            let (stop, answers) = (stop.clone(), answers.clone());
            let address = std::net::IpAddr::from([127, 0, 1, n]);
            let client = reqwest::Client::builder().local_address(address).timeout(Duration::from_secs(30)).build().unwrap();
            let url = format!("{base}/api/admin/session");
            tokio::spawn(async move {
                let mut tries = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    tries += 1;
                    let user = match names {
                        Names::Operators => "aigerim".to_owned(),
                        Names::MadeUp => format!("made-up-{n}-{tries}"),
                    };
                    let sent = client.post(&url).json(&json!({"user": user, "password": format!("guess {n}")})).send().await;
                    let counter = match sent.map(|r| r.status().as_u16()) {
                        Ok(401) => &answers.refused,
                        Ok(429) => &answers.waited,
                        Ok(503) => &answers.busy,
                        _ => &answers.other,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_secs(1).saturating_sub(started.elapsed())).await;
                }
            })
        })
        .collect()
}

async fn healthy(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not start");
}

async fn measure(binary: &str, label: &str, webhook_url: &str, seconds: Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let database = format!("sqlite:{}", dir.path().join("flood.sqlite3").display());
    let hash = epay_proxy::admin::auth::hash_password(PASSWORD);
    let users = format!("aigerim:operator:{hash}");
    let proxy = spawn_binary(binary, &address, &database, webhook_url, &[("ADMIN_USERS", users)]);
    healthy(&proxy.base).await;
    checkouts(&proxy.base, Duration::from_secs(1)).await;

    let quiet = checkouts(&proxy.base, seconds).await;
    let quiet_memory = memory_peak_mib(&proxy);
    println!("\n{label}");
    quiet.print("checkouts, no sign-ins");
    println!("  peak memory {quiet_memory:.0} MiB");
    for (names, what) in [(Names::Operators, "the operator's name"), (Names::MadeUp, "a new made-up name each time")] {
        let (stop, answers) = (Arc::new(AtomicBool::new(false)), Arc::new(Answers::default()));
        let flooders = flood(&proxy.base, names, stop.clone(), answers.clone());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let flooded = checkouts(&proxy.base, seconds).await;
        // The operator, from an address of their own, in the middle of the flood.
        let operator = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 2, 1])).build().unwrap();
        let started = Instant::now();
        let signed_in =
            operator.post(format!("{}/api/admin/session", proxy.base)).json(&json!({"user": "aigerim", "password": PASSWORD})).send().await;
        let operator_took = started.elapsed();
        let operator_status = signed_in.map_or(0, |r| r.status().as_u16());
        stop.store(true, Ordering::Relaxed);
        for flooder in flooders {
            let _ = flooder.await;
        }
        flooded.print(&format!("checkouts, flood with {what}"));
        let ratio = flooded.percentile(0.5).as_secs_f64() / quiet.percentile(0.5).as_secs_f64().max(1e-9);
        println!(
            "  checkout p50 {ratio:.1}× the quiet one; peak memory so far {:.0} MiB; the flood's sign-ins: {} × 401 (checked), {} × 429 (waiting), {} × 503 (busy), {} other; the operator from their own address: {} in {:.0} ms",
            memory_peak_mib(&proxy),
            answers.refused.load(Ordering::Relaxed),
            answers.waited.load(Ordering::Relaxed),
            answers.busy.load(Ordering::Relaxed),
            answers.other.load(Ordering::Relaxed),
            operator_status,
            operator_took.as_secs_f64() * 1000.0
        );
    }
}

pub async fn compare(webhook_url: &str, seconds: Duration) {
    println!(
        "sign-in flood: {CHECKOUT_CLIENTS} checkout clients, {} s per phase, {} cores, client and server on one machine",
        seconds.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Ok(before) = std::env::var("EPAY_PROXY_BIN_BEFORE") {
        measure(&before, &format!("before: {before}"), webhook_url, seconds).await;
    }
    let now = std::env::var("EPAY_PROXY_BIN").unwrap_or_else(|_| "target/release/epay-proxy".to_owned());
    measure(&now, &format!("this build: {now}"), webhook_url, seconds).await;
}
