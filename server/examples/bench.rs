//! Load figures for the proxy (run through `scripts/bench`, not a test).
//!
//! Starts the release proxy as its own process in sandbox mode (own port, own SQLite file),
//! then measures, in one run so the machine's noise hits all three alike:
//!   1. the sandbox token endpoint alone (the baseline: what ePay costs on loopback),
//!   2. checkouts through the proxy (validation, order stored with fsync, token from the
//!      sandbox, order updated), and their ratio to 1,
//!   3. postLink notifications (parse, checks, durable record, order update),
//!   4. the webhooks those payments make (`order.paid`, to a receiver in this process):
//!      deliveries per second and the time from the state change to the delivery,
//!   5. refunds through the merchant API (stored, the sandbox's refund, the status API,
//!      `refund.succeeded` delivered).
//!
//!   bench [--seconds N] [--concurrency N]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

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
            "{what:<34} {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
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
    tokio::time::sleep(duration).await;
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
    database: String,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MERCHANT_KEY: &str = "bench-merchant-key-0123456789abcdef0123";
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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let database = dir.path().join("bench.sqlite3").display().to_string();
    let binary = std::env::var("EPAY_PROXY_BIN").unwrap_or_else(|_| "target/release/epay-proxy".to_owned());
    let child = Command::new(&binary)
        .env("EPAY_ENV", "sandbox")
        .env("LISTEN", format!("127.0.0.1:{port}"))
        .env("PUBLIC_URL", &base)
        .env("DATABASE_URL", format!("sqlite:{database}"))
        .env("RUST_LOG", "warn")
        .env("CHECKOUT_MAX_AMOUNT", "100000000")
        // One load generator is one client: the per-client checkout limit would measure itself;
        // the global caps likewise.
        .env("CHECKOUT_RATE_PER_MINUTE", if limited { "60" } else { "0" })
        .env("CHECKOUT_OPEN_AMOUNTS", "true")
        .env("EPAY_TOKEN_RATE_PER_MINUTE", "0")
        .env("MAX_OPEN_ORDERS", "900000")
        .env("MERCHANT_API_KEY", MERCHANT_KEY)
        .env("WEBHOOK_URL", webhook_url)
        .env("WEBHOOK_SECRET", WEBHOOK_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e} (build it with cargo build --release -p epay-proxy)"));
    Proxy { child, base, database, _dir: dir }
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
    let proxy = start_proxy(false, &webhook_url);
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    for _ in 0..100 {
        if http.get(format!("{}/healthz", proxy.base)).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

    // 3. postLinks: one valid success notification per pending order.
    let orders = pending_orders(&proxy.database).await;
    let orders = Arc::new(orders);
    let postlink_url = format!("{}/api/epay/postlink", proxy.base);
    let client = http.clone();
    let count = orders.len() as u64;
    let notifications = load(concurrency, seconds, move |n| {
        let (invoice_id, secret_hash, amount) = &orders[(n % count) as usize];
        // The first notification of an order is accepted, later ones are duplicates: both are
        // recorded durably before the answer.
        let body = json!({
            "id": format!("00000000-0000-4000-8000-{:012}", n % count), "invoiceId": invoice_id,
            "amount": amount, "currency": "KZT", "terminal": epay_proxy::config::TEST_P2P_TERMINAL_ID,
            "code": "ok", "reason": "success", "reasonCode": 0, "cardMask": "440043...2222",
            "approvalCode": "157911", "reference": "411111111117", "secret_hash": secret_hash,
        });
        client.post(postlink_url.clone()).json(&body).send()
    })
    .await;

    println!("{:<34} {:>12}   {:>14}   {:>14}", "", "throughput", "latency", "");
    tokens.print("sandbox token endpoint alone");
    checkouts.print("checkout through the proxy");
    notifications.print("postLink notifications");
    println!("\nratio checkout / token endpoint: {:.2}   (goal >= 0.5)", checkouts.per_second() / tokens.per_second());
    let accepted = verdicts(&proxy.database).await;
    println!("postLinks recorded: {accepted:?}");

    // 4. Merchant orders paid on the sandbox's page; their order.paid webhooks.
    let payments = load(concurrency, seconds, {
        let (client, base) = (http.clone(), proxy.base.clone());
        move |n| pay_merchant_order(client.clone(), base.clone(), n)
    })
    .await;
    let paid = wait_for_webhooks(&proxy.database, &receiver, "order.paid", payments.requests as usize).await;
    println!();
    payments.print("merchant orders paid (4 requests)");
    paid.print("webhooks order.paid");

    // 5. Refunds of paid orders through the merchant API, and their webhooks.
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
    drop(proxy);
    rate_limit(&http).await;
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
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{database}?mode=ro")).await.expect("open bench database");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let events: Vec<(String, i64)> = sqlx::query_as("SELECT event_id, created_ms FROM webhook_events WHERE type = ?")
            .bind(event_type)
            .fetch_all(&pool)
            .await
            .expect("read events");
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
    let object = json!({
        "invoiceId": c["invoiceId"], "backLink": c["backLink"], "failureBackLink": c["failureBackLink"],
        "postLink": c["postLink"], "failurePostLink": c["failurePostLink"], "language": c["language"],
        "description": c["description"], "accountId": c["accountId"], "terminal": c["terminal"],
        "amount": 1500, "currency": c["currency"], "phone": c["phone"], "email": c["email"],
        "cardSave": c["cardSave"], "auth": c["auth"],
    });
    let params = lz_str::compress_to_encoded_uri_component(&encode_params(&object));
    let page = http.get(format!("{base}/sandbox/payform/?params={params}")).send().await?.text().await?;
    let session = page.split("name=\"session\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    let paid = http
        .post(format!("{base}/sandbox/payform/pay"))
        .form(&[("session", session.as_str()), ("card", "4111 1111 1111 1111"), ("expiry", "12/30"), ("cvc", "123"), ("holder", "Bench")])
        .send()
        .await?;
    // The page redirects to the back link: that is its success.
    Ok(paid)
}

/// payment-api.js's encodeParams: `name=encodeURIComponent(value)`, objects encoded first.
fn encode_params(object: &Value) -> String {
    const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    object
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| {
                    let text = match value {
                        Value::Object(_) => encode_params(value),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{name}={}", percent_encoding::utf8_percent_encode(&text, URI_COMPONENT))
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default()
}

async fn paid_invoices(database: &str) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{database}?mode=ro")).await.expect("open bench database");
    sqlx::query_scalar("SELECT invoice_id FROM orders WHERE status = 'paid' LIMIT 20000").fetch_all(&pool).await.expect("read orders")
}

/// (invoice id, secret_hash, amount) of pending orders, read from the proxy's database.
async fn pending_orders(database: &str) -> Vec<(String, String, Value)> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{database}?mode=ro")).await.expect("open bench database");
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT invoice_id, secret_hash, amount_minor FROM orders WHERE status = 'pending' LIMIT 20000")
            .fetch_all(&pool)
            .await
            .expect("read orders");
    rows.into_iter().map(|(invoice, secret, minor)| (invoice, secret, json!(minor / 100))).collect()
}

async fn verdicts(database: &str) -> HashMap<String, i64> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{database}?mode=ro")).await.expect("open bench database");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT verdict, COUNT(*) FROM notifications GROUP BY verdict").fetch_all(&pool).await.expect("count");
    rows.into_iter().collect()
}
