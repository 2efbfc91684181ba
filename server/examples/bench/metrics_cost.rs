//! What recording metrics costs: the same checkouts against two proxies started alike, one
//! with `/metrics` (METRICS_TOKEN: every request counted and timed, every ePay call and write
//! batch too) and one without (nothing recorded), in alternating rounds so that the machine's
//! noise falls on both; and the cheapest route, `GET /api/widget-config`, where the per-request
//! cost would show most.

use std::time::Duration;

use serde_json::json;

use super::{Figures, Proxy, free_port, load, spawn_proxy};

const ROUNDS: usize = 2;

fn proxy(dir: &tempfile::TempDir, name: &str, webhook_url: &str, metered: bool) -> Proxy {
    let address = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let database = format!("sqlite:{}", dir.path().join(format!("{name}.sqlite3")).display());
    // An empty METRICS_TOKEN is no token: that proxy records nothing.
    let token = if metered { super::METRICS_TOKEN.to_owned() } else { String::new() };
    spawn_proxy(&address, &database, webhook_url, &[("METRICS_TOKEN", token)])
}

async fn round(http: &reqwest::Client, base: &str, seconds: Duration, concurrency: usize, route: &str) -> Figures {
    let client = http.clone();
    let url = format!("{base}{route}");
    if route == "/api/checkout" {
        load(concurrency, seconds, move |n| client.post(&url).json(&json!({"amount": (100 + n % 100_000).to_string()})).send()).await
    } else {
        load(concurrency, seconds, move |_| client.get(&url).send()).await
    }
}

fn merged(mut figures: Vec<Figures>) -> Figures {
    let mut all = figures.remove(0);
    for more in figures {
        all.requests += more.requests;
        all.errors += more.errors;
        all.elapsed += more.elapsed;
        all.latencies.extend(more.latencies);
    }
    all
}

pub async fn compare(http: &reqwest::Client, webhook_url: &str, seconds: Duration, concurrency: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (without, with) = (proxy(&dir, "plain", webhook_url, false), proxy(&dir, "metered", webhook_url, true));
    for proxy in [&without, &with] {
        super::stores::healthy(http, &proxy.base).await;
        round(http, &proxy.base, Duration::from_secs(1), concurrency, "/api/checkout").await;
    }
    println!("\nmetrics on and off, side by side ({ROUNDS} alternating rounds of {} s each; two proxies started alike)", seconds.as_secs());
    for route in ["/api/checkout", "/api/widget-config"] {
        let (mut off, mut on) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            off.push(round(http, &without.base, seconds, concurrency, route).await);
            on.push(round(http, &with.base, seconds, concurrency, route).await);
        }
        let (off, on) = (merged(off), merged(on));
        off.print(&format!("{route}, no metrics"));
        on.print(&format!("{route}, metrics recorded"));
        println!("  throughput with metrics / without: {:.3}", on.per_second() / off.per_second());
    }
}
