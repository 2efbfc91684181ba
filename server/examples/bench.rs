//! Load figures for the proxy (run through `scripts/bench`, not a test).
//!
//! Starts the release proxy as its own process in sandbox mode (own port, own SQLite file),
//! then measures, in one run so the machine's noise hits every phase alike:
//!   1. the sandbox token endpoint alone (the baseline: what ePay costs on loopback),
//!   2. checkouts through the proxy (validation, order stored with fsync, token from the
//!      sandbox, order updated), and their ratio to 1,
//!   3. postLink notifications, closed loop, one per order (parse, checks, durable record,
//!      order update; then the status API's confirmation by the proxy's worker),
//!   4. the same offered at a fixed 1,000/s, open loop, latency from each one's scheduled
//!      send time (queueing shows),
//!   5. merchant orders paid on the sandbox page and their `order.paid` webhooks (to a
//!      receiver in this process): deliveries per second, state change to delivery,
//!   6. refunds through the merchant API (stored, the sandbox's refund, the status API,
//!      `refund.succeeded` delivered), then `/metrics` as scraped from that proxy,
//!   7. checkouts and `GET /api/widget-config` with metrics recorded and without, in
//!      alternating rounds (`bench/metrics_cost.rs`),
//!   8. checkouts and postLinks on SQLite, PostgreSQL with one instance and PostgreSQL with
//!      two (`bench/stores.rs`).
//!
//!   9. checkouts while 200 addresses each try a wrong console password every second, beside
//!      the same checkouts without them, and the proxy's memory (`bench/sign_in_flood.rs`).
//!
//!   bench [--seconds N] [--concurrency N] [--stores (phase 8 only)] [--metrics-cost (phase 7 only)]
//!         [--sign-in-flood (phase 9 only; EPAY_PROXY_BIN_BEFORE=another build to compare)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use epay_proxy::params;
use serde_json::{Value, json};

// The payment object and payment-api.js's encodeParams, as the integration tests send them.
#[path = "../tests/api/helpers/payment_page.rs"]
mod payment_page;
// Metrics recorded beside none.
#[path = "bench/metrics_cost.rs"]
mod metrics_cost;
// SQLite beside PostgreSQL with one and two instances.
#[path = "bench/stores.rs"]
mod stores;
// Checkouts with and without a flood of wrong console passwords.
#[path = "bench/sign_in_flood.rs"]
mod sign_in_flood;

struct Figures {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default()
    }

    fn print(&self, what: &str) {
        println!(
            "{what:<40} {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.requests,
            self.errors
        );
    }
}

/// Runs `make_request` from `concurrency` tasks for `duration`; a request is an error when
/// it fails or answers something other than 2xx (redirects are followed).
async fn load<F, Fut>(concurrency: usize, duration: Duration, make_request: F) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>> + Send,
{
    load_at_most(concurrency, duration, u64::MAX, make_request).await
}

/// `load`, ending early once `max_requests` were sent (each postLink needs an order of its own).
async fn load_at_most<F, Fut>(concurrency: usize, duration: Duration, max_requests: u64, make_request: F) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>> + Send,
{
    let make_request = Arc::new(make_request);
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (make_request, stop, counter) = (make_request.clone(), stop.clone(), counter.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    if n >= max_requests {
                        break;
                    }
                    let sent = Instant::now();
                    match make_request(n).await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    // Until the time is up, or every task ran out of requests.
    let all_done = futures::future::join_all(tasks.iter().map(|t| async {
        while !t.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await
        }
    }));
    let _ = tokio::time::timeout(duration, all_done).await;
    stop.store(true, Ordering::Relaxed);
    let mut figures = Figures { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for task in tasks {
        let (latencies, errors) = task.await.expect("load task");
        figures.requests += latencies.len() as u64;
        figures.errors += errors;
        figures.latencies.extend(latencies);
    }
    figures.elapsed = started.elapsed();
    figures
}

struct Proxy {
    child: Child,
    base: String,
    /// Its DATABASE_URL.
    database: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MERCHANT_KEY: &str = "bench-merchant-key-0123456789abcdef0123";
/// `/metrics` of the benchmark's proxies (printed after the merchant phases).
const METRICS_TOKEN: &str = "bench-metrics-token-0123456789abcdef0123";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A webhook receiver in this process: when each webhook-id first arrived (unix ms).
#[derive(Clone, Default)]
struct Receiver {
    arrivals: Arc<std::sync::Mutex<HashMap<String, i64>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let arrivals = self.arrivals.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let arrivals = arrivals.clone();
                async move {
                    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    arrivals.lock().unwrap().entry(id).or_insert_with(now_ms);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn arrivals(&self) -> HashMap<String, i64> {
        self.arrivals.lock().unwrap().clone()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The proxy with the default per-client checkout limit, or with none (`limited = false`).
fn start_proxy(limited: bool, webhook_url: &str) -> Proxy {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let database = format!("sqlite:{}", dir.path().join("bench.sqlite3").display());
    let mut proxy =
        spawn_proxy(&address, &database, webhook_url, &[("CHECKOUT_RATE_PER_MINUTE", if limited { "60" } else { "0" }.to_owned())]);
    proxy._dir = Some(dir);
    proxy
}

fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}

/// The release proxy on `address` with the store at `database`, sending webhooks to
/// `webhook_url`, with `vars` on top of the benchmark's settings (no limits but `vars`').
fn spawn_proxy(address: &str, database: &str, webhook_url: &str, vars: &[(&str, String)]) -> Proxy {
    let binary = std::env::var("EPAY_PROXY_BIN").unwrap_or_else(|_| "target/release/epay-proxy".to_owned());
    spawn_binary(&binary, address, database, webhook_url, vars)
}

/// `spawn_proxy` with the proxy binary at `binary` (another build, to compare with).
fn spawn_binary(binary: &str, address: &str, database: &str, webhook_url: &str, vars: &[(&str, String)]) -> Proxy {
    let base = format!("http://{address}");
    let mut command = Command::new(binary);
    command
        .env("EPAY_ENV", "sandbox")
        .env("LISTEN", address)
        .env("PUBLIC_URL", &base)
        .env("DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .env("CHECKOUT_MAX_AMOUNT", "100000000")
        // One load generator is one client: the per-client checkout limit would measure itself;
        // the global caps likewise.
        .env("CHECKOUT_RATE_PER_MINUTE", "0")
        .env("CHECKOUT_OPEN_AMOUNTS", "true")
        .env("EPAY_TOKEN_RATE_PER_MINUTE", "0")
        .env("MAX_OPEN_ORDERS", "900000")
        .env("MERCHANT_API_KEY", MERCHANT_KEY)
        .env("WEBHOOK_URL", webhook_url)
        .env("WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("METRICS_TOKEN", METRICS_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (name, value) in vars {
        command.env(name, value);
    }
    let child =
        command.spawn().unwrap_or_else(|e| panic!("cannot start {binary}: {e} (build it with cargo build --release -p epay-proxy)"));
    Proxy { child, base, database: database.to_owned(), _dir: None }
}

/// Reads from the store behind `database` (either kind) on a read-only connection of its own.
async fn read<T: Send + 'static>(
    database: &str,
    read: impl FnOnce(&mut epay_proxy::store::Conn) -> Result<T, epay_proxy::store::StoreError> + Send + 'static,
) -> T {
    let url = database.to_owned();
    tokio::task::spawn_blocking(move || read(&mut epay_proxy::store::Conn::open_read_only(&url)?))
        .await
        .expect("read thread")
        .expect("read the bench database")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let seconds = Duration::from_secs(arg("--seconds", 10));
    let concurrency = arg("--concurrency", 64) as usize;

    let receiver = Receiver::default();
    let webhook_url = receiver.start().await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    if args.iter().any(|a| a == "--stores") {
        stores::compare(&http, &webhook_url, seconds, concurrency).await;
        return;
    }
    if args.iter().any(|a| a == "--sign-in-flood") {
        sign_in_flood::compare(&webhook_url, seconds).await;
        return;
    }
    if args.iter().any(|a| a == "--metrics-cost") {
        metrics_cost::compare(&http, &webhook_url, seconds, concurrency).await;
        return;
    }
    let proxy = started_proxy(&http, &webhook_url).await;
    println!(
        "epay-proxy load, {} concurrent clients, {} s per phase, {} cores, client and server on one machine\n",
        concurrency,
        seconds.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Warm up connection pools and the database.
    let base = proxy.base.clone();
    let warm = http.clone();
    load(concurrency, Duration::from_secs(1), move |n| {
        warm.post(format!("{base}/api/checkout")).json(&json!({"amount": (100 + n % 1000).to_string()})).send()
    })
    .await;

    // 1. The sandbox token endpoint alone.
    let token_url = format!("{}/sandbox/oauth2/token", proxy.base);
    let post_link = format!("{}/api/epay/postlink", proxy.base);
    let client = http.clone();
    let tokens = load(concurrency, seconds, move |n| {
        let form = reqwest::multipart::Form::new()
            .text("grant_type", "client_credentials")
            .text("scope", "transfer")
            .text("client_id", epay_proxy::config::TEST_CLIENT_ID)
            .text("client_secret", epay_proxy::config::TEST_CLIENT_SECRET)
            .text("terminal", epay_proxy::config::TEST_P2P_TERMINAL_ID)
            .text("invoiceID", format!("9{:011}", n))
            .text("amount", "1500")
            .text("currency", "KZT")
            .text("postLink", post_link.clone())
            .text("failurePostLink", post_link.clone())
            .text("secret_hash", "BENCHMARKSECRETHASHBENCHMARK");
        client.post(token_url.clone()).multipart(form).send()
    })
    .await;

    // 2. Checkouts through the proxy (each asks the sandbox for a token).
    let checkout_url = format!("{}/api/checkout", proxy.base);
    let client = http.clone();
    let checkouts = load(concurrency, seconds, move |n| {
        client.post(checkout_url.clone()).json(&json!({"amount": (100 + n % 100_000).to_string(), "description": "bench"})).send()
    })
    .await;

    // 3. postLinks: one valid success notification per order, each for an order of its own
    // (accepted, recorded durably before the answer, then confirmed through the status API by
    // the proxy's worker while the load goes on). The last OPEN_LOOP_RATE x seconds orders
    // are kept for the open-loop phase.
    let open_loop_count = (OPEN_LOOP_RATE * seconds.as_secs()) as usize;
    let prepared =
        silently_paid_orders(&http, std::slice::from_ref(&proxy.base), &proxy.base, POSTLINK_ORDERS + open_loop_count as u64, concurrency)
            .await;
    let orders: Vec<_> = pending_orders(&proxy.database).await.into_iter().filter(|order| prepared.contains(&order.invoice_id)).collect();
    let open_loop_count = open_loop_count.min(orders.len() / 2);
    let (closed_loop_orders, open_loop_orders) = orders.split_at(orders.len() - open_loop_count);
    let (closed_loop_orders, open_loop_orders) = (Arc::new(closed_loop_orders.to_vec()), open_loop_orders.to_vec());
    let postlink_url = format!("{}/api/epay/postlink", proxy.base);
    let client = http.clone();
    let count = closed_loop_orders.len() as u64;
    let notifications = load_at_most(concurrency, seconds, count, {
        let postlink_url = postlink_url.clone();
        move |n| client.post(postlink_url.clone()).json(&success(&closed_loop_orders[n as usize], n)).send()
    })
    .await;

    // Every accepted postLink is confirmed through the status API by the proxy's worker, and
    // its order.paid delivered: wait for both, so that the open-loop phase starts on a quiet
    // proxy (and has its own confirmations and webhooks to do as it goes).
    let confirmed_after = wait_until_quiet(&proxy.database).await;

    // 4. The same at a fixed rate, open loop: each notification leaves at its scheduled time
    // whether or not earlier ones were answered, and its latency counts from that time, so a
    // queue in the proxy shows in the figures instead of slowing the client down.
    // Beside it, the floor of this measurement: the same rate of `GET /healthz` (one read).
    let health_url = format!("{}/healthz", proxy.base);
    let open_loop_floor = open_loop(open_loop_orders.len(), OPEN_LOOP_RATE, |_| http.get(&health_url)).await;
    let open_loop = open_loop(open_loop_orders.len(), OPEN_LOOP_RATE, |i| {
        http.post(&postlink_url).json(&success(&open_loop_orders[i], 1_000_000 + i as u64))
    })
    .await;

    println!("{:<40} {:>12}   {:>14}   {:>14}", "", "throughput", "latency", "");
    tokens.print("sandbox token endpoint alone");
    checkouts.print("checkout through the proxy");
    notifications.print("postLinks, closed loop");
    open_loop_floor.print(&format!("GET /healthz, {OPEN_LOOP_RATE}/s open loop (floor)"));
    open_loop.print(&format!("postLinks, {OPEN_LOOP_RATE}/s offered open loop"));
    println!(
        "  open loop: p90 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        open_loop.percentile(0.90).as_secs_f64() * 1000.0,
        open_loop.percentile(0.999).as_secs_f64() * 1000.0,
        open_loop.percentile(1.0).as_secs_f64() * 1000.0
    );
    println!(
        "  (an order of its own for each: {count} closed loop, {} open loop; the closed loop's were all paid through the status API, and their order.paid delivered, {:.1} s after its end)",
        open_loop_orders.len(),
        confirmed_after.as_secs_f64()
    );
    println!("\nratio checkout / token endpoint: {:.2}   (goal >= 0.5)", checkouts.per_second() / tokens.per_second());
    let accepted = verdicts(&proxy.database).await;
    println!("postLinks recorded: {accepted:?}");

    // A fresh proxy for the merchant side: nothing left over from the phases above.
    drop(proxy);
    let proxy = started_proxy(&http, &webhook_url).await;

    // 5. Merchant orders paid on the sandbox's page; their order.paid webhooks.
    let payments = load(concurrency, seconds, {
        let (client, base) = (http.clone(), proxy.base.clone());
        move |n| pay_merchant_order(client.clone(), base.clone(), n)
    })
    .await;
    let paid = wait_for_webhooks(&proxy.database, &receiver, "order.paid", payments.requests as usize).await;
    println!();
    payments.print("merchant orders paid (4 requests)");
    paid.print("webhooks order.paid");

    // 6. Refunds of paid orders through the merchant API, and their webhooks.
    let paid_orders = Arc::new(paid_invoices(&proxy.database).await);
    let refund_base = proxy.base.clone();
    let client = http.clone();
    let refund_count = paid_orders.len() as u64;
    if paid_orders.is_empty() {
        println!("no paid orders to refund");
        return;
    }
    let refunds = load(concurrency, seconds, move |n| {
        // Each order once: later requests replay (the same Idempotency-Key), as a retry would.
        let invoice_id = &paid_orders[(n % refund_count.max(1)) as usize];
        client
            .post(format!("{refund_base}/api/merchant/orders/{invoice_id}/refunds"))
            .bearer_auth(MERCHANT_KEY)
            .header("Idempotency-Key", format!("bench-refund-{invoice_id}"))
            .json(&json!({}))
            .send()
    })
    .await;
    let refunded = wait_for_webhooks(&proxy.database, &receiver, "refund.succeeded", refund_count as usize).await;
    println!();
    refunds.print("refunds (merchant API; replays)");
    refunded.print("webhooks refund.succeeded");
    print_metrics(&http, &proxy.base).await;
    drop(proxy);
    rate_limit(&http).await;

    // 7. What recording metrics costs.
    metrics_cost::compare(&http, &webhook_url, seconds, concurrency).await;

    // 8. The stores side by side.
    stores::compare(&http, &webhook_url, seconds, concurrency).await;
}

/// `/metrics` as Prometheus would scrape it from the proxy under this load, without the
/// histogram buckets (their counts and sums stay), and each route's mean latency.
async fn print_metrics(http: &reqwest::Client, base: &str) {
    let Ok(response) = http.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await else { return };
    let text = response.text().await.unwrap_or_default();
    println!("\n/metrics scraped from the proxy of phases 5 and 6 ({} lines; buckets left out):", text.lines().count());
    for line in text.lines().filter(|l| l.starts_with("epay_proxy_") && !l.contains("_bucket{")) {
        println!("  {line}");
    }
}

/// One client against the default limit (60 per minute, burst 20): how many checkouts pass.
async fn rate_limit(http: &reqwest::Client) {
    let proxy = start_proxy(true, "http://127.0.0.1:9/unused");
    for _ in 0..100 {
        if http.get(format!("{}/healthz", proxy.base)).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fire = |n: usize| {
        let requests =
            (0..n).map(|i| http.post(format!("{}/api/checkout", proxy.base)).json(&json!({"amount": (100 + i).to_string()})).send());
        futures::future::join_all(requests)
    };
    let count = |answers: Vec<Result<reqwest::Response, reqwest::Error>>| {
        let mut by_status: std::collections::BTreeMap<u16, usize> = Default::default();
        for answer in answers.into_iter().flatten() {
            *by_status.entry(answer.status().as_u16()).or_default() += 1;
        }
        by_status
    };
    let burst = count(fire(200).await);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_pause = count(fire(20).await);
    println!("\nrate limit, default 60/min burst 20, one client: 200 at once -> {burst:?}; 20 more after 5 s -> {after_pause:?}");
}

/// Waits (up to two minutes) until `expected` events of `event_type` exist (the orders are
/// confirmed) and every one reached the receiver, then the
/// figures: deliveries per second (first change to last arrival) and, as latency, the time
/// from each state change (the event's row, written in the change's transaction) to its
/// arrival.
async fn wait_for_webhooks(database: &str, receiver: &Receiver, event_type: &str, expected: usize) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let event_type = event_type.to_owned();
        let events: Vec<(String, i64)> = read(database, move |db| {
            db.query_all("SELECT event_id, created_ms FROM webhook_events WHERE type = ?", params![event_type], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
        })
        .await;
        let arrivals = receiver.arrivals();
        let arrived: Vec<(i64, i64)> = events.iter().filter_map(|(id, created)| arrivals.get(id).map(|at| (*created, *at))).collect();
        if (events.len() >= expected && arrived.len() == events.len()) || Instant::now() > deadline {
            let first = arrived.iter().map(|(created, _)| *created).min().unwrap_or(0);
            let last = arrived.iter().map(|(_, at)| *at).max().unwrap_or(0);
            return Figures {
                requests: arrived.len() as u64,
                errors: (events.len() - arrived.len()) as u64,
                elapsed: Duration::from_millis((last - first).max(1) as u64),
                latencies: arrived.iter().map(|(created, at)| Duration::from_millis((at - created).max(0) as u64)).collect(),
            };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One merchant order, created, started and paid on the sandbox's payment page with the
/// approved card (the page answers with its redirect).
async fn pay_merchant_order(http: reqwest::Client, base: String, n: u64) -> Result<reqwest::Response, reqwest::Error> {
    let order: Value = http
        .post(format!("{base}/api/merchant/orders"))
        .bearer_auth(MERCHANT_KEY)
        .header("Idempotency-Key", format!("bench-{n}-{}", now_ms()))
        .json(&json!({"amount": "1500", "description": "bench", "reference": format!("bench-{n}-{}", now_ms()), "method": "pay"}))
        .send()
        .await?
        .json()
        .await?;
    let invoice_id = order["invoiceId"].as_str().unwrap_or_default();
    let c: Value = http
        .post(format!("{base}/api/orders/{invoice_id}/checkout"))
        .header("X-Order-Key", order["orderKey"].as_str().unwrap_or_default())
        .send()
        .await?
        .json()
        .await?;
    // The page redirects to the back link: that is its success.
    payment_page::pay_on_payform(&http, &base, &c, APPROVED_CARD).await
}

/// The sandbox's test card that pays (postLink sent), and the one that pays without a postLink.
const APPROVED_CARD: &str = "4111 1111 1111 1111";
const SILENT_CARD: &str = "5555 5555 5555 4444";

/// Orders for the postLink phases (set up, not measured): `count` card payments, each
/// checked out and paid on the sandbox's page with the card that sends no postLink. The
/// status API knows each payment, so the postLinks the benchmark sends for them are
/// confirmed at the first question, as real ones are. Returns their invoice ids.
/// The checkouts go to `proxies` in turn; `epay` is where their sandbox is.
async fn silently_paid_orders(
    http: &reqwest::Client,
    proxies: &[String],
    epay: &str,
    count: u64,
    concurrency: usize,
) -> std::collections::HashSet<String> {
    let paid = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let (client, proxies, epay, record) = (http.clone(), Arc::new(proxies.to_vec()), epay.to_owned(), paid.clone());
    load_at_most(concurrency, Duration::from_secs(600), count, move |n| {
        let (client, base, epay, record) = (client.clone(), proxies[n as usize % proxies.len()].clone(), epay.clone(), record.clone());
        async move {
            let c: Value = client
                .post(format!("{base}/api/checkout"))
                .json(&json!({"amount": (100 + n % 100_000).to_string(), "description": "bench", "method": "pay"}))
                .send()
                .await?
                .json()
                .await?;
            let answer = payment_page::pay_on_payform(&client, &epay, &c, SILENT_CARD).await?;
            if let Some(invoice_id) = c["invoiceId"].as_str() {
                record.lock().expect("the set").insert(invoice_id.to_owned());
            }
            Ok(answer)
        }
    })
    .await;
    std::mem::take(&mut *paid.lock().expect("the set"))
}

async fn paid_invoices(database: &str) -> Vec<String> {
    read(database, |db| db.query_all("SELECT invoice_id FROM orders WHERE status = 'paid' LIMIT 20000", params![], |row| row.get(0))).await
}

/// (invoice id, secret_hash, amount) of pending orders, read from the proxy's database.
/// The notifications offered per second in the open-loop phase.
const OPEN_LOOP_RATE: u64 = 1_000;
/// Orders for the closed-loop postLink phase (it ends early when they run out).
const POSTLINK_ORDERS: u64 = 40_000;

/// A valid success postLink for `order`.
fn success(order: &PendingOrder, n: u64) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-{n:012}"), "invoiceId": order.invoice_id,
        "amount": order.amount, "currency": "KZT", "terminal": order.terminal,
        "code": "ok", "reason": "success", "reasonCode": 0, "cardMask": "555555...4444",
        "approvalCode": "157911", "reference": "411111111117", "secret_hash": order.secret_hash,
    })
}

/// Sends `count` requests at `rate` per second, each at its scheduled time whatever became of
/// the ones before, and times each from that time to its answer.
async fn open_loop(count: usize, rate: u64, request: impl Fn(usize) -> reqwest::RequestBuilder) -> Figures {
    let started = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(count);
    for i in 0..count {
        let scheduled = started + Duration::from_micros(i as u64 * 1_000_000 / rate);
        tokio::time::sleep_until(scheduled).await;
        let request = request(i).send();
        sent.push(tokio::spawn(async move {
            let answered = match request.await {
                Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
                _ => false,
            };
            (answered, scheduled.elapsed())
        }));
    }
    let mut figures = Figures { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for task in sent {
        match task.await.expect("open-loop request") {
            (true, latency) => {
                figures.requests += 1;
                figures.latencies.push(latency);
            }
            (false, _) => figures.errors += 1,
        }
    }
    figures.elapsed = started.elapsed();
    figures
}

/// Waits until no order is `confirming` (the proxy asked the status API about each) and no
/// webhook is waiting to be sent; returns how long that took.
async fn wait_until_quiet(database: &str) -> Duration {
    let started = Instant::now();
    loop {
        let busy: i64 = read(database, |db| {
            db.query_one(
                "SELECT (SELECT COUNT(*) FROM orders WHERE status = 'confirming') + (SELECT COUNT(*) FROM webhook_events WHERE status = 'pending')",
                params![],
                |row| row.get(0),
            )
        })
        .await;
        if busy == 0 || started.elapsed() > Duration::from_secs(300) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The release proxy in its own process, answering.
async fn started_proxy(http: &reqwest::Client, webhook_url: &str) -> Proxy {
    let proxy = start_proxy(false, webhook_url);
    for _ in 0..100 {
        if http.get(format!("{}/healthz", proxy.base)).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proxy
}

/// An order the benchmark sends postLinks for.
#[derive(Clone)]
struct PendingOrder {
    invoice_id: String,
    secret_hash: String,
    amount: Value,
    terminal: String,
}

async fn pending_orders(database: &str) -> Vec<PendingOrder> {
    let rows: Vec<(String, String, i64, String)> = read(database, |db| {
        db.query_all(
            "SELECT invoice_id, secret_hash, amount_minor, terminal FROM orders WHERE status = 'pending' ORDER BY id",
            params![],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
    })
    .await;
    rows.into_iter()
        .map(|(invoice_id, secret_hash, minor, terminal)| PendingOrder { invoice_id, secret_hash, amount: json!(minor / 100), terminal })
        .collect()
}

async fn verdicts(database: &str) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = read(database, |db| {
        db.query_all("SELECT verdict, COUNT(*) FROM notifications GROUP BY verdict", params![], |row| Ok((row.get(0)?, row.get(1)?)))
    })
    .await;
    rows.into_iter().collect()
}
