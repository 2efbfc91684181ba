//! Several proxies on one PostgreSQL database: what one acknowledged, all of them keep; a job
//! is claimed by one instance and taken over when its instance dies; a lease has one holder.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use epay_proxy::params;
use epay_proxy::store::leases;
use serde_json::{Value, json};

use crate::helpers::database::{self, TestDatabase, pair};
use crate::helpers::receiver::{Receiver, SECRET};
use crate::helpers::{APPROVED_CARD, MERCHANT_KEY, TestApp, pay_on_payform, process};

/// On either store: a lease is one instance's until it ends or is given up by running out;
/// its holder renews it, nobody else takes it early.
#[tokio::test]
async fn a_lease_has_one_holder_until_it_ends() {
    let app = TestApp::spawn().await;
    let take = |holder: &'static str, now_ms: i64, until_ms: i64| {
        let store = app.state.store.clone();
        async move { store.write(move |tx| leases::take(tx, "test-job", holder, now_ms, until_ms)).await.unwrap() }
    };
    assert!(take("a", 1_000, 2_000).await, "a free lease is taken");
    assert!(!take("b", 1_500, 2_500).await, "held by a until 2,000");
    assert!(take("a", 1_900, 3_000).await, "its holder renews it");
    assert!(!take("b", 2_999, 4_000).await, "renewed until 3,000");
    assert!(take("b", 3_000, 4_000).await, "ended: b takes it");
    assert!(!take("a", 3_500, 5_000).await, "a lost it");
    let holder: String = app.read(|db| db.query_one("SELECT holder FROM leases WHERE name = 'test-job'", params![], database::first)).await;
    assert_eq!(holder, "b");
}

const CLIENTS: usize = 12;

/// What the load's clients were told, and by whom.
#[derive(Default)]
struct Acknowledged {
    /// Merchant orders answered 201: Idempotency-Key → invoice id.
    orders: HashMap<String, String>,
    /// The same key (a merchant order's, a payer checkout's) sent to two instances at once:
    /// the two invoice ids they answered.
    same_key_twice: Vec<(String, String)>,
    /// Order checkouts answered 200: invoice id → the token's access_token.
    order_checkouts: HashMap<String, String>,
    /// Payer checkouts answered 200: invoice id → order key.
    payer_checkouts: HashMap<String, String>,
    /// Invoices ePay took a payment for (the payment page redirected the payer back).
    paid_at_epay: Vec<String>,
    /// Acknowledgements per instance.
    per_instance: [usize; 3],
}

pub(crate) struct Instance {
    pub(crate) base: String,
    vars: Vec<(&'static str, String)>,
    log: std::path::PathBuf,
    child: std::process::Child,
}

impl Instance {
    fn start(n: usize, address: &str, database_url: &str, epay: &str, webhooks: &str, dir: &std::path::Path, extra: &Extra) -> Instance {
        let base = format!("http://{address}");
        let mut vars = vec![
            ("LISTEN", address.to_owned()),
            ("PUBLIC_URL", base.clone()),
            ("DATABASE_URL", database_url.to_owned()),
            // One ePay for all (a sandbox proxy of its own), as in production.
            ("EPAY_OAUTH_URL", format!("{epay}/sandbox/oauth2/token")),
            ("EPAY_API_URL", format!("{epay}/sandbox/api")),
            // Short timeouts make short leases: a dead instance's jobs are taken over in 8 s.
            ("EPAY_TIMEOUT_SECS", "2".to_owned()),
            ("WEBHOOK_TIMEOUT_SECS", "1".to_owned()),
            ("RECONCILE_AFTER_SECS", "3".to_owned()),
            ("MERCHANT_API_KEY", MERCHANT_KEY.to_owned()),
            ("WEBHOOK_URL", webhooks.to_owned()),
            ("WEBHOOK_SECRET", SECRET.to_owned()),
            ("WEBHOOK_FIRST_RETRY_MS", "200".to_owned()),
        ];
        vars.extend(extra(epay));
        let log = dir.join(format!("instance-{n}.log"));
        let child = process::start(&vars, &log);
        Instance { base, vars, log, child }
    }

    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }

    pub(crate) fn restart(&mut self) {
        self.child = process::start(&self.vars, &self.log);
    }
}

/// An instance outlives no test, whether it ended well, failed or left it running (a restarted
/// one ran on for ever after the test that restarted it).
impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `count` proxies on 127.0.0.1, .2, … sharing the database `database_url`, and their ePay:
/// the sandbox of a proxy of its own on 127.0.0.4, which sends postLinks to them. Returns
/// ePay's process and base URL, and the instances, all healthy.
pub(crate) async fn start_cluster(
    count: usize,
    http: &reqwest::Client,
    database_url: &str,
    webhooks: &str,
    dir: &std::path::Path,
) -> (std::process::Child, String, Vec<Instance>) {
    start_cluster_with(count, http, database_url, webhooks, dir, &|_| Vec::new()).await
}

/// Settings of the instances beyond the cluster's own, given ePay's base URL.
pub(crate) type Extra = dyn Fn(&str) -> Vec<(&'static str, String)>;

/// `start_cluster`, the instances also configured by `extra`.
pub(crate) async fn start_cluster_with(
    count: usize,
    http: &reqwest::Client,
    database_url: &str,
    webhooks: &str,
    dir: &std::path::Path,
    extra: &Extra,
) -> (std::process::Child, String, Vec<Instance>) {
    let addresses: Vec<String> = (1..=count).map(|n| format!("127.0.0.{n}:{}", process::free_port(&format!("127.0.0.{n}")))).collect();
    let epay_base = format!("http://127.0.0.4:{}", process::free_port("127.0.0.4"));
    let epay_vars = [
        ("LISTEN", epay_base.trim_start_matches("http://").to_owned()),
        ("PUBLIC_URL", epay_base.clone()),
        ("DATABASE_URL", format!("sqlite:{}", dir.join("epay.sqlite3").display())),
        ("SANDBOX_PROXIES", addresses.iter().map(|a| format!("http://{a}")).collect::<Vec<_>>().join(",")),
    ];
    let epay = process::start(&epay_vars, &dir.join("epay.log"));
    process::wait_healthy(http, &epay_base).await;
    let instances: Vec<Instance> = addresses
        .iter()
        .enumerate()
        .map(|(i, address)| Instance::start(i + 1, address, database_url, &epay_base, webhooks, dir, extra))
        .collect();
    for instance in &instances {
        process::wait_healthy(http, &instance.base).await;
    }
    (epay, epay_base, instances)
}

/// Three proxies on 127.0.0.1-3 share one PostgreSQL database and one ePay; clients spread
/// merchant orders, checkouts, payments and the same Idempotency-Key at two instances over all
/// three; one instance is killed with SIGKILL mid-load and restarted. Nothing acknowledged is
/// lost, no invoice id is handed out twice, every event is delivered and marked delivered
/// once, every background job runs once (or, cut by the kill, is taken over once).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_share_the_work_and_survive_one_killed_mid_load() {
    if database::postgres_server().is_none() {
        eprintln!("needs PostgreSQL (EPAY_TEST_POSTGRES): scripts/test runs it there");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let receiver = Receiver::start(&[200]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().unwrap();

    let (mut epay, epay_base, mut instances) = start_cluster(3, &http, &test_database.url, &receiver.url(), dir.path()).await;
    let bases: Arc<Vec<String>> = Arc::new(instances.iter().map(|i| i.base.clone()).collect());

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, bases, epay, acknowledged, stop) =
                (http.clone(), bases.clone(), epay_base.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let _ = one_round(&http, &bases, &epay, client, n, &acknowledged).await;
                }
            })
        })
        .collect();

    // Mid-load, instance 2 dies without a chance to finish anything, and comes back.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    instances[1].kill();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    instances[1].restart();
    process::wait_healthy(&http, &instances[1].base).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    println!(
        "acknowledged: {} merchant orders, {} order checkouts, {} payer checkouts, {} payments at ePay, {} same-key pairs; per instance {:?}",
        acknowledged.orders.len(),
        acknowledged.order_checkouts.len(),
        acknowledged.payer_checkouts.len(),
        acknowledged.paid_at_epay.len(),
        acknowledged.same_key_twice.len(),
        acknowledged.per_instance,
    );
    assert!(acknowledged.paid_at_epay.len() >= 30, "too little load to prove anything");
    assert!(acknowledged.per_instance.iter().all(|&n| n >= 10), "the load reached every instance: {:?}", acknowledged.per_instance);

    // Every payment ePay took is paid, and every event it made delivered (the killed
    // instance's claims are taken over when their leases end).
    let url = test_database.url.clone();
    let paid: HashSet<String> = acknowledged.paid_at_epay.iter().cloned().collect();
    let unsettled = async || -> (usize, i64) {
        let statuses: Vec<(String, String)> =
            database::read(&url, |db| db.query_all("SELECT invoice_id, status FROM orders", params![], pair)).await;
        let unpaid = statuses.iter().filter(|(invoice, status)| paid.contains(invoice) && status != "paid").count();
        let undelivered: i64 = database::read(&url, |db| {
            db.query_one("SELECT COUNT(*) FROM webhook_events WHERE status <> 'delivered'", params![], database::first)
        })
        .await;
        (unpaid, undelivered)
    };
    for _ in 0..240 {
        if unsettled().await == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(unsettled().await, (0, 0), "(orders paid at ePay not paid, events not delivered) after 60 s");

    // Nothing acknowledged is lost; no invoice id went out twice.
    let orders: HashMap<String, (String, Option<String>, Option<String>)> = database::read(&url, |db| {
        db.query_all("SELECT invoice_id, order_key, token_response, merchant_idempotency_key FROM orders", params![], |row| {
            Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
        })
    })
    .await
    .into_iter()
    .collect();
    for (key, invoice) in &acknowledged.orders {
        let (_, _, stored_key) = orders.get(invoice).unwrap_or_else(|| panic!("acknowledged merchant order {invoice} lost"));
        assert_eq!(stored_key.as_deref(), Some(key.as_str()));
    }
    for (invoice, access_token) in &acknowledged.order_checkouts {
        let token = orders[invoice].1.as_deref().unwrap_or_else(|| panic!("acknowledged checkout {invoice} has no token"));
        assert!(token.contains(access_token.as_str()), "{invoice}: the token stored is the one answered");
    }
    for (invoice, key) in &acknowledged.payer_checkouts {
        let (stored_key, token, _) = orders.get(invoice).unwrap_or_else(|| panic!("acknowledged checkout {invoice} lost"));
        assert_eq!(stored_key, key, "{invoice} now belongs to another order");
        assert!(token.is_some(), "acknowledged checkout {invoice} has no token");
    }
    let handed_out = acknowledged.orders.len() + acknowledged.payer_checkouts.len();
    let distinct: HashSet<&String> = acknowledged.orders.values().chain(acknowledged.payer_checkouts.keys()).collect();
    assert_eq!(distinct.len(), handed_out, "an invoice id was handed out twice");
    // The same Idempotency-Key at two instances at once made one order.
    for (a, b) in &acknowledged.same_key_twice {
        assert_eq!(a, b, "one key, two orders");
    }
    let keys: Vec<&String> = orders.values().filter_map(|(_, _, key)| key.as_ref()).collect();
    assert_eq!(keys.len(), keys.iter().collect::<HashSet<_>>().len());

    // One order.paid per paid order; each event delivered, and marked delivered once.
    let events: Vec<(String, String, i64)> = database::read(&url, |db| {
        db.query_all(
            "SELECT e.event_id, o.invoice_id,
                    (SELECT COUNT(*) FROM webhook_attempts a WHERE a.event_id = e.id AND a.status_code BETWEEN 200 AND 299)
             FROM webhook_events e JOIN orders o ON o.id = e.order_id WHERE e.type = 'order.paid'",
            params![],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    })
    .await;
    let mut per_order: HashMap<&str, usize> = HashMap::new();
    for (_, invoice, _) in &events {
        *per_order.entry(invoice.as_str()).or_default() += 1;
    }
    assert!(paid.iter().all(|invoice| per_order.get(invoice.as_str()) == Some(&1)), "one order.paid per paid order");
    assert!(events.iter().all(|(_, _, delivered)| *delivered == 1), "each event marked delivered exactly once");
    let received: HashMap<String, usize> = receiver.deliveries().iter().fold(HashMap::new(), |mut counts, d| {
        *counts.entry(d.header("webhook-id")).or_default() += 1;
        counts
    });
    assert!(events.iter().all(|(id, _, _)| received.contains_key(id)), "every event reached the receiver");
    // A delivery cut by the kill (sent, never recorded) goes out again after its lease, with
    // the same webhook-id: at most as many as were in flight.
    let again = received.values().filter(|&&n| n > 1).count();
    println!("{} order.paid events, {again} received twice (in flight when instance 2 died)", events.len());
    assert!(again <= 16, "{again} events delivered twice");

    // The status API was asked once per question: an order is claimed by one instance.
    let questions: HashMap<String, u32> =
        http.get(format!("{epay_base}/sandbox/status-questions")).send().await.unwrap().json().await.unwrap();
    let asked: Vec<u32> = paid.iter().map(|invoice| questions.get(invoice).copied().unwrap_or_default()).collect();
    let twice = asked.iter().filter(|&&n| n > 1).count();
    println!("status API: {} paid orders asked about, {twice} more than once", asked.len());
    assert!(asked.iter().all(|&n| n >= 1), "only the status API makes an order paid");
    assert!(twice <= 16, "{twice} orders asked about more than once");

    // The background work was shared: every instance confirmed payments and delivered events.
    // The maintenance round ran on one instance only (the lease), restarts included.
    let logs: Vec<String> = instances.iter().map(|i| std::fs::read_to_string(&i.log).unwrap_or_default()).collect();
    let count = |what: &str| logs.iter().map(|log| log.matches(what).count()).collect::<Vec<_>>();
    let (confirmed, delivered) = (count("payment confirmed by the status API"), count("webhook delivered"));
    println!("confirmations per instance {confirmed:?}, deliveries per instance {delivered:?}");
    assert!(confirmed.iter().chain(&delivered).all(|&n| n > 0), "every instance took a share of the jobs");
    assert_eq!(count("maintenance round ran here").iter().sum::<usize>(), 1, "maintenance rounds across the instances");

    for instance in &mut instances {
        instance.kill();
    }
    epay.kill().unwrap();
    epay.wait().unwrap();
}

/// One client round, at the instances `client` and `n` pick: a merchant order (every fourth
/// time, its Idempotency-Key at two instances at once), its checkout at another instance, its
/// payment at ePay, and a payer's checkout at the third. A request to the dead instance fails
/// and is simply not acknowledged.
async fn one_round(
    http: &reqwest::Client,
    bases: &[String],
    epay: &str,
    client: usize,
    n: usize,
    acknowledged: &Mutex<Acknowledged>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let at = |k: usize| (client + n + k) % 3;
    let key = format!("mi-{client}-{n}");
    let body = json!({"amount": "1500", "description": "three instances", "reference": format!("ref-{client}-{n}")});
    let create = |base: &str| {
        http.post(format!("{base}/api/merchant/orders")).bearer_auth(MERCHANT_KEY).header("Idempotency-Key", &key).json(&body).send()
    };
    let order: Value = if n.is_multiple_of(4) {
        let (a, b) = tokio::join!(create(&bases[at(0)]), create(&bases[at(1)]));
        let (a, b): (Value, Value) = (a?.json().await?, b?.json().await?);
        // Each answer's invoice id, or the whole answer when it has none.
        let id = |answer: &Value| answer["invoiceId"].as_str().map_or_else(|| answer.to_string(), str::to_owned);
        acknowledged.lock().unwrap().same_key_twice.push((id(&a), id(&b)));
        a
    } else {
        let answer = create(&bases[at(0)]).await?;
        if answer.status() != 201 {
            return Ok(());
        }
        answer.json().await?
    };
    let (Some(invoice), Some(order_key)) = (order["invoiceId"].as_str(), order["orderKey"].as_str()) else { return Ok(()) };
    {
        let mut ack = acknowledged.lock().unwrap();
        ack.orders.insert(key.clone(), invoice.to_owned());
        ack.per_instance[at(0)] += 1;
    }

    let answer = http.post(format!("{}/api/orders/{invoice}/checkout", bases[at(1)])).header("X-Order-Key", order_key).send().await?;
    if answer.status() != 200 {
        return Ok(());
    }
    let checkout: Value = answer.json().await?;
    let access_token = checkout["auth"]["access_token"].as_str().unwrap_or_default().to_owned();
    {
        let mut ack = acknowledged.lock().unwrap();
        ack.order_checkouts.insert(invoice.to_owned(), access_token);
        ack.per_instance[at(1)] += 1;
    }

    let paid = pay_on_payform(http, epay, &checkout, APPROVED_CARD).await?;
    if paid.status().is_redirection() {
        acknowledged.lock().unwrap().paid_at_epay.push(invoice.to_owned());
    }

    let amount = format!("{}", 100 + (client * 1000 + n) % 5000);
    let checkout = |base: &str| {
        let request = http.post(format!("{base}/api/checkout")).json(&json!({"amount": amount}));
        // Every fourth time with an Idempotency-Key, sent to two instances at once.
        if n % 4 == 2 { request.header("Idempotency-Key", format!("pk-{client}-{n}")) } else { request }.send()
    };
    let answer = if n % 4 == 2 {
        let (a, b) = tokio::join!(checkout(&bases[at(2)]), checkout(&bases[at(0)]));
        let (a, b) = (a?, b?);
        if a.status() != 200 || b.status() != 200 {
            return Ok(());
        }
        let (a, b): (Value, Value) = (a.json().await?, b.json().await?);
        let id = |answer: &Value| answer["invoiceId"].as_str().map_or_else(|| answer.to_string(), str::to_owned);
        acknowledged.lock().unwrap().same_key_twice.push((id(&a), id(&b)));
        let mut ack = acknowledged.lock().unwrap();
        ack.payer_checkouts.insert(id(&a), a["orderKey"].as_str().unwrap_or_default().to_owned());
        ack.per_instance[at(2)] += 1;
        return Ok(());
    } else {
        checkout(&bases[at(2)]).await?
    };
    if answer.status() == 200 {
        let body: Value = answer.json().await?;
        let (invoice, key) = (body["invoiceId"].as_str().unwrap_or_default(), body["orderKey"].as_str().unwrap_or_default());
        let mut ack = acknowledged.lock().unwrap();
        let previous = ack.payer_checkouts.insert(invoice.to_owned(), key.to_owned());
        assert!(previous.is_none(), "invoice {invoice} was handed out twice");
        ack.per_instance[at(2)] += 1;
    }
    Ok(())
}

/// Stores `count` webhook events due now for one order (no WEBHOOK_URL: no worker takes them).
async fn due_events(app: &TestApp, count: usize) {
    let checkout = app.checkout_ok("1500").await;
    let invoice_id = checkout["invoiceId"].as_str().unwrap().to_owned();
    app.state
        .store
        .write(move |tx| {
            for n in 0..count {
                tx.execute(
                    "INSERT INTO webhook_events (event_id, type, order_id, created_ms, next_attempt_ms)
                     SELECT ?, 'order.paid', id, 0, 0 FROM orders WHERE invoice_id = ?",
                    params![format!("msg_claims_{n}"), invoice_id],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// On either store: an event claimed by an instance that then died is nobody's until the
/// lease ends, then it is taken over; the first claim's late answer no longer moves it.
#[tokio::test]
async fn a_claim_is_taken_over_when_its_lease_ends_and_the_late_answer_is_ignored() {
    use epay_proxy::store::webhooks::{self, Attempt};
    let app = TestApp::spawn().await;
    due_events(&app, 1).await;
    let claim = |now_ms: i64, until_ms: i64| {
        let store = app.state.store.clone();
        async move { store.write(move |tx| webhooks::claim_due(tx, now_ms, until_ms, 10)).await.unwrap() }
    };
    let now = epay_proxy::store::now_ms();
    let first = claim(now, now + 5_000).await;
    assert_eq!(first.len(), 1);
    assert!(claim(now + 4_999, now + 9_999).await.is_empty(), "claimed until its lease ends");
    let second = claim(now + 5_000, now + 10_000).await;
    assert_eq!(second.iter().map(|e| &e.event_id).collect::<Vec<_>>(), [&first[0].event_id], "taken over");

    let attempt = Attempt { at_ms: now, status_code: Some(200), error: None, response: None, duration_ms: 1 };
    let record = |claimed_until: i64| {
        let (store, attempt, id) = (app.state.store.clone(), attempt.clone(), first[0].id);
        async move { store.write(move |tx| webhooks::record_attempt(tx, id, claimed_until, &attempt, true, None)).await.unwrap() }
    };
    assert!(!record(now + 5_000).await, "the first claim's answer came too late");
    assert!(record(now + 10_000).await, "the claim that holds it records it");
    let (status, attempts): (String, i64) =
        app.read(|db| db.query_one("SELECT status, attempts FROM webhook_events WHERE event_id = 'msg_claims_0'", params![], pair)).await;
    assert_eq!((status.as_str(), attempts), ("delivered", 1));
}

/// On either store (on PostgreSQL, `FOR UPDATE SKIP LOCKED` under real concurrency): claimers
/// running at once split the due events between them; none is claimed twice.
#[tokio::test]
async fn concurrent_claims_split_the_due_events() {
    let app = TestApp::spawn().await;
    due_events(&app, 200).await;
    let now = epay_proxy::store::now_ms();
    let claims = (0..8).map(|_| {
        let store = app.state.store.clone();
        async move { store.write(move |tx| epay_proxy::store::webhooks::claim_due(tx, now, now + 60_000, 40)).await.unwrap() }
    });
    let claimed: Vec<String> = futures::future::join_all(claims).await.into_iter().flatten().map(|e| e.event_id).collect();
    let distinct: HashSet<&String> = claimed.iter().collect();
    assert_eq!((claimed.len(), distinct.len()), (200, 200), "every event claimed once");
}

/// PostgreSQL ends every connection (a restart, a failover) again and again while requests are
/// in flight: each request that meets a lost connection runs again from the start of its
/// transaction (or its read) on a new one, and none is answered 500. (A loss at the COMMIT
/// itself, looked up by the transaction's id, is too rare to provoke here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_the_server_dropped_are_replaced_without_a_failed_request() {
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        return; // SQLite's connections are files: nothing to drop.
    }
    let database = app.database.clone();
    let dropping = Arc::new(AtomicBool::new(true));
    // Stops the dropper however the test ends (a failed assertion too).
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Relaxed);
        }
    }
    let _stop = Stop(dropping.clone());
    let dropper = {
        let dropping = dropping.clone();
        tokio::task::spawn_blocking(move || {
            let mut drops = 0;
            while dropping.load(Ordering::Relaxed) {
                database.drop_connections();
                drops += 1;
                std::thread::sleep(Duration::from_millis(40));
            }
            drops
        })
    };
    let mut served = 0;
    for round in 0..25 {
        let requests = (0..12).map(|n| {
            let app = &app;
            async move {
                match n % 3 {
                    0 => {
                        let checkout = app.checkout_ok("1500").await;
                        let (status, body) =
                            app.order_status(checkout["invoiceId"].as_str().unwrap(), checkout["orderKey"].as_str().unwrap()).await;
                        assert_eq!(status, 200, "{body}");
                    }
                    1 => {
                        app.merchant_order("2500", &format!("drop-{round}-{n}")).await;
                    }
                    _ => {
                        let response = app.merchant(reqwest::Method::GET, "/api/merchant/orders?limit=5").send().await.unwrap();
                        assert_eq!(response.status(), 200);
                    }
                }
            }
        });
        served += futures::future::join_all(requests).await.len();
    }
    dropping.store(false, Ordering::Relaxed);
    let drops = dropper.await.unwrap();
    assert!(drops >= 20, "connections dropped {drops} times");
    assert!(app.logs().contains("a store connection was lost"), "requests met lost connections and ran again ({served} served)");
}

/// Refunds across two instances with a slow ePay: it performs each refund at once but answers
/// after the proxies' timeout, and the instance that sent the first one is killed while it
/// waits. The other instance takes the operation over when its claim ends, finds it done in
/// the status API and sends nothing again; the second refund, cut short by the timeout, is
/// found the same way. ePay is asked to refund exactly twice, and the order holds both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_are_performed_once_across_instances_with_a_slow_epay_and_a_killed_instance() {
    if database::postgres_server().is_none() {
        eprintln!("needs PostgreSQL (EPAY_TEST_POSTGRES): scripts/test runs it there");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let receiver = Receiver::start(&[200]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let (mut epay, epay_base, mut instances) = start_cluster(2, &http, &test_database.url, &receiver.url(), dir.path()).await;
    let (first, second) = (instances[0].base.clone(), instances[1].base.clone());

    // A merchant order, paid through the sandbox.
    let body = json!({"amount": "1500", "description": "slow ePay", "reference": "slow-epay"});
    let invoice = crate::helpers::paid_merchant_order_at(&http, &first, &epay_base, &body, "slow-1").await;
    let view = |base: String| {
        let (http, invoice) = (http.clone(), invoice.clone());
        async move {
            let response = http.get(format!("{base}/api/merchant/orders/{invoice}")).bearer_auth(MERCHANT_KEY).send().await.unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let until = |what: &'static str, base: String, done: fn(&Value) -> bool| {
        let view = &view;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(40);
            loop {
                let order = view(base.clone()).await;
                if done(&order) {
                    return order;
                }
                assert!(std::time::Instant::now() < deadline, "{what}: {order:#}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    until("paid", second.clone(), |o| o["status"] == "paid").await;

    // ePay performs each refund at once and answers after 5 s; the proxies give up after 2 s.
    let control = json!({"slowOperations": 2, "slowOperationMs": 5000});
    assert!(http.post(format!("{epay_base}/sandbox/control")).json(&control).send().await.unwrap().status().is_success());
    let refund = |base: String, key: &'static str, amount: &'static str| {
        let http = http.clone();
        let url = format!("{base}/api/merchant/orders/{invoice}/refunds");
        tokio::spawn(async move {
            http.post(url).bearer_auth(MERCHANT_KEY).header("Idempotency-Key", key).json(&json!({"amount": amount})).send().await
        })
    };
    // The first instance sends the refund and dies while ePay has not answered.
    let cut = refund(first.clone(), "slow-r1", "300");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    instances[0].kill();
    assert!(cut.await.unwrap().is_err(), "the merchant saw the connection drop");
    // The second takes it over when its claim ends, and finds it done.
    let order = until("the first refund taken over", second.clone(), |o| o["refundedAmount"] == "300").await;
    assert!(order["operations"][0]["message"].as_str().unwrap().contains("the status API shows it"), "{order:#}");

    // The second refund times out on the second instance, and is found the same way.
    instances[0].restart();
    process::wait_healthy(&http, &first).await;
    let answer: Value = refund(second.clone(), "slow-r2", "500").await.unwrap().unwrap().json().await.unwrap();
    assert_eq!(answer["operation"]["status"], "unknown", "{answer:#}");
    let order = until("the second refund found", first.clone(), |o| o["refundedAmount"] == "800").await;
    assert!(order["operations"].as_array().unwrap().iter().all(|op| op["status"] == "succeeded"), "{order:#}");

    let performed: u32 = http.get(format!("{epay_base}/sandbox/operations-performed")).send().await.unwrap().json().await.unwrap();
    assert_eq!(performed, 2, "ePay was asked to refund once per refund");
    for instance in &mut instances {
        instance.kill();
    }
    epay.kill().unwrap();
    epay.wait().unwrap();
}
