//! Phase 7 of the benchmark: checkouts and postLinks per second, with p50/p99, on SQLite (one
//! proxy), on PostgreSQL with one proxy, and on PostgreSQL with two proxies sharing the
//! database, in one run. Every setup talks to the same kind of ePay: the sandbox of a proxy
//! process of its own (`SANDBOX_PROXIES`), so the three differ in their store only.
//!
//! PostgreSQL is the server `EPAY_BENCH_POSTGRES` names (an admin URL; `scripts/bench` starts
//! a throwaway cluster); without it only SQLite is measured.
//!
//! With `EPAY_BENCH_INSTANCE_CPU` (a share of one core, `scripts/bench --instance-cpu 0.4`),
//! PostgreSQL with one and with two instances is measured again, each instance held to that
//! share of a core (a cgroup of its own; root, cgroup v1 or v2): instances on machines of their
//! own, whose CPU is then what limits each, beside a database that has the rest. On one small
//! machine the instances otherwise share its cores with the database and the client, and a
//! second one can only take CPU from the first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{Figures, Proxy, free_port, load, load_at_most, pending_orders, silently_paid_orders, spawn_proxy, success};

/// Orders paid at ePay beforehand, for the postLinks of each setup (the phase ends early
/// when they run out).
const POSTLINK_ORDERS: u64 = 15_000;

struct Setup {
    name: String,
    database: String,
    instances: usize,
    /// Each instance held to this share of a core.
    cpu_share: Option<f64>,
}

pub async fn compare(http: &reqwest::Client, webhook_url: &str, seconds: Duration, concurrency: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut setups = vec![Setup {
        name: "SQLite, 1 instance".into(),
        database: format!("sqlite:{}", dir.path().join("stores.sqlite3").display()),
        instances: 1,
        cpu_share: None,
    }];
    match std::env::var("EPAY_BENCH_POSTGRES").ok().filter(|url| !url.is_empty()) {
        Some(server) => {
            let postgres = |name: &str, database: String, instances: usize, cpu_share: Option<f64>| Setup {
                name: name.to_owned(),
                database,
                instances,
                cpu_share,
            };
            setups.push(postgres("PostgreSQL, 1 instance", fresh_database(&server, "bench_one").await, 1, None));
            setups.push(postgres("PostgreSQL, 2 instances", fresh_database(&server, "bench_two").await, 2, None));
            if let Some(share) = std::env::var("EPAY_BENCH_INSTANCE_CPU").ok().and_then(|share| share.parse::<f64>().ok()) {
                let one = format!("PostgreSQL, 1 instance held to {share} core");
                setups.push(postgres(&one, fresh_database(&server, "bench_one_held").await, 1, Some(share)));
                let two = format!("PostgreSQL, 2 instances held to {share} core each");
                setups.push(postgres(&two, fresh_database(&server, "bench_two_held").await, 2, Some(share)));
            }
        }
        None => println!("\n(PostgreSQL not measured: EPAY_BENCH_POSTGRES is not set; scripts/bench sets it)"),
    }
    let mut results = Vec::new();
    for setup in &setups {
        results.push((setup.name.as_str(), measure(http, webhook_url, setup, seconds, concurrency).await));
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
    // Two instances beside one, alike otherwise.
    for pair in results[1..].chunks(2) {
        if let [(one, (one_checkouts, one_postlinks)), (two, (two_checkouts, two_postlinks))] = pair {
            println!(
                "{two} ÷ {one}: checkouts {:.2}×, postLinks {:.2}×",
                two_checkouts.per_second() / one_checkouts.per_second(),
                two_postlinks.per_second() / one_postlinks.per_second()
            );
        }
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
async fn fresh_database(server: &str, name: &str) -> String {
    let (admin, name) = (server.to_owned(), name.to_owned());
    let created = name.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to EPAY_BENCH_POSTGRES");
        // Two statements: a multi-statement string would be one transaction, which neither allows.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop a database");
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a database");
    })
    .await
    .expect("admin thread");
    let (base, _) = server.rsplit_once('/').expect("EPAY_BENCH_POSTGRES ends with a database name");
    format!("{base}/{created}")
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
    let held: Vec<CpuShare> = match setup.cpu_share {
        Some(share) => instances.iter().enumerate().map(|(n, proxy)| CpuShare::hold(proxy.child.id(), n + 1, share)).collect(),
        None => Vec::new(),
    };
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
    drop(held);
    drop(epay);
    (checkouts, postlinks)
}

/// A process held to a share of one core: a cgroup of its own (v2, or v1's `cpu` controller),
/// removed again once the process has ended.
struct CpuShare {
    group: std::path::PathBuf,
}

impl CpuShare {
    fn hold(pid: u32, n: usize, share: f64) -> CpuShare {
        const PERIOD_US: u64 = 100_000;
        let quota = (share * PERIOD_US as f64) as u64;
        let (group, limit) = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            (std::path::PathBuf::from(format!("/sys/fs/cgroup/epay-bench-{n}")), vec![("cpu.max", format!("{quota} {PERIOD_US}"))])
        } else {
            let group = std::path::PathBuf::from(format!("/sys/fs/cgroup/cpu/epay-bench-{n}"));
            (group, vec![("cpu.cfs_period_us", PERIOD_US.to_string()), ("cpu.cfs_quota_us", quota.to_string())])
        };
        let held = || -> std::io::Result<()> {
            std::fs::create_dir_all(&group)?;
            for (file, value) in &limit {
                std::fs::write(group.join(file), value)?;
            }
            std::fs::write(group.join("cgroup.procs"), pid.to_string())
        };
        if let Err(err) = held() {
            panic!("cannot hold instance {n} to {share} core in {} (root and a cgroup cpu controller are needed): {err}", group.display());
        }
        CpuShare { group }
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.group);
    }
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
