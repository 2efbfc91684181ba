//! Test harness: the real proxy on a loopback port with its own SQLite file, and helpers that
//! act like the browser and like ePay.

pub mod capture;
pub mod console;
pub mod database;
pub mod mock_epay;
mod payment_page;
pub mod process;
pub mod receiver;

pub use payment_page::{encode_params, pay_on_payform, payment_object};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use epay_proxy::AppState;
use epay_proxy::config::Config;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    env: HashMap<String, String>,
    pub base: String,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    /// The store this proxy runs on (SQLite in the test's directory, or a PostgreSQL database
    /// of its own: `database`).
    pub database: Arc<database::TestDatabase>,
    /// Every response this proxy served (see `capture` and `Drop`).
    pub responses: capture::Responses,
    /// Where this proxy's log lines start in the binary's shared log capture.
    log_start: usize,
    dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// A sandbox-mode proxy (the default environment) on a free port.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// A proxy configured by `vars` on top of the test defaults (LISTEN, PUBLIC_URL and
    /// DATABASE_URL point at this test's port and file).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database = Arc::new(database::TestDatabase::new(dir.path()));
        TestApp::spawn_in(dir, database, vars).await
    }

    /// Stops this proxy and starts a new one on the same database, as a restart would.
    pub async fn restart(self) -> TestApp {
        self.restart_with(&[]).await
    }

    /// A restart with some settings changed (a new deploy's configuration).
    pub async fn restart_with(mut self, changes: &[(&str, &str)]) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for (name, value) in changes {
            self.env.insert(name.to_string(), value.to_string());
        }
        let vars: Vec<(String, String)> =
            self.env.iter().filter(|(k, _)| !matches!(k.as_str(), "LISTEN" | "PUBLIC_URL")).map(|(k, v)| (k.clone(), v.clone())).collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let dir = self.dir.take().expect("a running app has its directory");
        TestApp::spawn_in(dir, self.database.clone(), &vars).await
    }

    /// A second proxy on this one's database whose ePay is this one's sandbox (as instances
    /// of one deployment share their database and their ePay), configured by `vars`.
    pub async fn second_instance(&self, vars: &[(&str, &str)]) -> TestApp {
        let (oauth, api) = (self.url("/sandbox/oauth2/token"), self.url("/sandbox/api"));
        let mut all = vec![("EPAY_OAUTH_URL", oauth.as_str()), ("EPAY_API_URL", api.as_str())];
        all.extend_from_slice(vars);
        TestApp::spawn_in(tempfile::tempdir().unwrap(), self.database.clone(), &all).await
    }

    async fn spawn_in(dir: tempfile::TempDir, database: Arc<database::TestDatabase>, vars: &[(&str, &str)]) -> TestApp {
        capture::capture_logs();
        let log_start = capture::logs_len();
        let listener = epay_proxy::serving::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let mut env: HashMap<String, String> = HashMap::from([
            ("LISTEN".into(), addr.to_string()),
            ("PUBLIC_URL".into(), base.clone()),
            ("DATABASE_URL".into(), database.url.clone()),
            ("WIDGET_DIR".into(), dir.path().join("dist").display().to_string()),
            ("EPAY_TIMEOUT_SECS".into(), "2".into()),
            // Tests send many checkouts and forged postLinks from one address; tests/limits.rs
            // tests the limits.
            ("CHECKOUT_RATE_PER_MINUTE".into(), "0".into()),
            ("REJECTED_POSTLINK_RATE_PER_MINUTE".into(), "1000000".into()),
            ("EPAY_TOKEN_RATE_PER_MINUTE".into(), "0".into()),
            // Most tests pay payer-chosen amounts; tests/merchant.rs turns this off.
            ("CHECKOUT_OPEN_AMOUNTS".into(), "true".into()),
            ("MERCHANT_API_KEY".into(), MERCHANT_KEY.into()),
        ]);
        for (name, value) in vars {
            // A restart keeps the first run's settings but gets a new port.
            if matches!(*name, "LISTEN" | "PUBLIC_URL") {
                continue;
            }
            env.insert(name.to_string(), value.to_string());
        }
        let config = Config::from_lookup(|name| env.get(name).cloned()).expect("test configuration");
        let state = AppState::new(config).await.expect("state");
        let (stop, stopped) = oneshot::channel::<()>();
        let responses = capture::Responses::default();
        let router = epay_proxy::app(state.clone()).layer(axum::middleware::from_fn_with_state(responses.clone(), capture::record));
        tokio::spawn(epay_proxy::serve_router(listener, state.clone(), router, async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
        TestApp { addr, env, base, state, http, database, responses, log_start, dir: Some(dir), stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every log line since this proxy started (and whatever other tests logged meanwhile).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&capture::logs_since(self.log_start)).into_owned()
    }

    /// A merchant API request with the test key.
    pub fn merchant(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(MERCHANT_KEY)
    }

    /// POST /api/merchant/orders with the test key and `idempotency_key`.
    pub async fn create_order(&self, body: &Value, idempotency_key: &str) -> (u16, Value) {
        let response = self
            .merchant(reqwest::Method::POST, "/api/merchant/orders")
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A merchant order that must be created: `amount` for `reference`.
    pub async fn merchant_order(&self, amount: &str, reference: &str) -> Value {
        let body = json!({"amount": amount, "description": format!("Order {reference}"), "reference": reference});
        let (status, order) = self.create_order(&body, &format!("create-{reference}")).await;
        assert_eq!(status, 201, "{order} {}", self.logs().lines().filter(|l| l.contains("ERROR")).take(8).collect::<Vec<_>>().join("\n"));
        order
    }

    /// A merchant order of `amount` paid with the approved card on the sandbox, once the proxy
    /// has it in `state` (paid, or authorized on a two-stage terminal). Its invoice id.
    pub async fn paid_merchant_order(&self, amount: &str, reference: &str, state: epay_proxy::store::orders::OrderState) -> String {
        let order = self.merchant_order(amount, reference).await;
        let (invoice_id, key) = (order["invoiceId"].as_str().unwrap().to_owned(), order["orderKey"].as_str().unwrap());
        let (status, checkout) = self.order_checkout(&invoice_id, key).await;
        assert_eq!(status, 200, "{checkout}");
        self.pay(&checkout, APPROVED_CARD).await;
        self.wait_for_state(&invoice_id, state).await;
        invoice_id
    }

    /// POST /api/merchant/orders/{invoiceId}/{operation} with an Idempotency-Key, and `body`
    /// as JSON (none for `Value::Null`).
    pub async fn operation(&self, invoice_id: &str, operation: &str, body: Value, key: &str) -> (u16, Value) {
        let mut request =
            self.merchant(reqwest::Method::POST, &format!("/api/merchant/orders/{invoice_id}/{operation}")).header("Idempotency-Key", key);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST /api/orders/{invoiceId}/checkout, as the widget sends it.
    pub async fn order_checkout(&self, invoice_id: &str, key: &str) -> (u16, Value) {
        let response =
            self.http.post(self.url(&format!("/api/orders/{invoice_id}/checkout"))).header("X-Order-Key", key).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST /api/checkout with a JSON body and an optional Idempotency-Key.
    pub async fn checkout(&self, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut request = self.http.post(self.url("/api/checkout")).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A checkout that must succeed.
    pub async fn checkout_ok(&self, amount: &str) -> Value {
        let (status, body) = self.checkout(&json!({"amount": amount, "description": "Test order"}), None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn order_status(&self, invoice_id: &str, key: &str) -> (u16, Value) {
        let response = self.http.get(self.url(&format!("/api/orders/{invoice_id}"))).header("X-Order-Key", key).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let response =
            self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_owned()).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn sandbox_control(&self, control: Value) {
        let response = self.http.post(self.url("/sandbox/control")).json(&control).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Every charge, cancel and refund the sandbox performed, in order (`GET /sandbox/operations`).
    pub async fn sandbox_operations(&self) -> Vec<Value> {
        self.http.get(self.url("/sandbox/operations")).send().await.unwrap().json().await.unwrap()
    }

    /// What the sandbox refunded on `invoice_id`, in minor units.
    pub async fn refunded_by_epay(&self, invoice_id: &str) -> u64 {
        let performed = self.sandbox_operations().await;
        performed
            .iter()
            .filter(|op| op["invoiceId"] == invoice_id && op["kind"] == "refund")
            .map(|op| op["amountMinor"].as_u64().unwrap())
            .sum()
    }

    /// The order's row as the store holds it.
    pub async fn stored_order(&self, invoice_id: &str) -> epay_proxy::store::orders::OrderRow {
        let invoice_id = invoice_id.to_owned();
        self.read(move |db| epay_proxy::store::orders::find_by_invoice(db, &invoice_id)).await.expect("order stored")
    }

    /// Runs `read` on one of the proxy's own read connections.
    pub async fn read<T, F>(&self, read: F) -> T
    where
        T: Send + 'static,
        F: Fn(&mut epay_proxy::store::Conn) -> Result<T, epay_proxy::store::StoreError> + Send + 'static,
    {
        self.state.store.read(read).await.expect("read the store")
    }

    /// Column 0 of every row `sql` selects.
    pub async fn column<T: epay_proxy::store::db::Column + Send + 'static>(&self, sql: &'static str) -> Vec<T> {
        self.read(move |db| db.query_all(sql, epay_proxy::params![], database::first)).await
    }

    /// Column 0 of the row `sql` selects.
    pub async fn value<T: epay_proxy::store::db::Column + Send + 'static>(&self, sql: &'static str) -> T {
        self.read(move |db| db.query_one(sql, epay_proxy::params![], database::first)).await
    }

    /// Columns 0 and 1 of every row `sql` selects.
    pub async fn pairs<A, B>(&self, sql: &'static str) -> Vec<(A, B)>
    where
        A: epay_proxy::store::db::Column + Send + 'static,
        B: epay_proxy::store::db::Column + Send + 'static,
    {
        self.read(move |db| db.query_all(sql, epay_proxy::params![], database::pair)).await
    }

    /// The types of an order's webhook events, oldest first.
    pub async fn event_types(&self, invoice_id: &str) -> Vec<String> {
        let invoice_id = invoice_id.to_owned();
        self.read(move |db| {
            db.query_all(
                "SELECT e.type FROM webhook_events e JOIN orders o ON o.id = e.order_id WHERE o.invoice_id = ? ORDER BY e.id",
                epay_proxy::params![invoice_id],
                database::first,
            )
        })
        .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.value(sql).await
    }

    /// Plays the payer: opens the sandbox payment page the way payment-api.js would send the
    /// browser there, and pays with `card`. Returns the redirect target.
    pub async fn pay(&self, checkout: &Value, card: &str) -> String {
        let response = pay_on_payform(&self.http, &self.base, checkout, card).await.unwrap();
        assert!(response.status().is_redirection(), "pay answered {}", response.status());
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// The payment page URL payment-api.js builds for `checkout` with the method `flag`.
    pub fn payform_url(&self, checkout: &Value, flag: &str) -> String {
        let object = payment_object(checkout);
        let compressed = lz_str::compress_to_encoded_uri_component(&encode_params(&object));
        format!("{}?params={compressed}{flag}", self.url("/sandbox/payform/"))
    }

    /// Sends `request` straight through the router (no socket), as axum's testing example does.
    pub async fn oneshot(&self, request: axum::http::Request<axum::body::Body>) -> (u16, Value) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let router =
            epay_proxy::app(self.state.clone()).layer(axum::middleware::from_fn_with_state(self.responses.clone(), capture::record));
        let response = router.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

impl Drop for TestApp {
    /// Every test that ran a proxy proves, at its end, that neither the client_secret nor any
    /// secret_hash of its orders appears in any response it served or any log line so far.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let url = self.database.url.clone();
        // Drop cannot await: read the hashes on a thread of their own (the driver blocks).
        let hashes: Vec<String> = std::thread::spawn(move || {
            let Ok(mut db) = epay_proxy::store::Conn::open_read_only(&url) else { return Vec::new() };
            db.query_all("SELECT secret_hash FROM orders", epay_proxy::params![], database::first).unwrap_or_default()
        })
        .join()
        .unwrap();
        let secret = secrecy::ExposeSecret::expose_secret(&self.state.config.epay.client_secret).to_owned();
        let merchant_keys = self.state.config.merchant.api_keys.iter().map(|key| secrecy::ExposeSecret::expose_secret(key).to_owned());
        let webhook_secret = self.state.config.webhooks.secret.iter().map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned());
        let metrics_token = self.state.config.metrics.token.iter().map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned());
        let secrets: Vec<String> =
            std::iter::once(secret).chain(merchant_keys).chain(webhook_secret).chain(metrics_token).chain(hashes).collect();
        let responses = self.responses.lock().unwrap().clone();
        if let Some(found) = capture::leaked(&responses, &secrets) {
            panic!("a response leaked a secret ({}…)", found.chars().take(4).collect::<String>());
        }
        if let Some(found) = capture::leaked(&capture::logs_since(self.log_start), &secrets) {
            panic!("a log line leaked a secret ({}…)", found.chars().take(4).collect::<String>());
        }
    }
}

/// Waits until `check` holds, for up to ten seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The merchant API key of every test proxy.
pub const MERCHANT_KEY: &str = "test-merchant-key-0123456789abcdef0123456789";

/// Sends a request and reads its answer as JSON; a transport error, or an answer that is not
/// the JSON asked for, fails the test there.
pub trait JsonAnswer {
    fn json_answer<T: serde::de::DeserializeOwned>(self) -> impl Future<Output = T>;
}

impl JsonAnswer for reqwest::RequestBuilder {
    async fn json_answer<T: serde::de::DeserializeOwned>(self) -> T {
        self.send().await.unwrap().json().await.unwrap()
    }
}

pub const APPROVED_CARD: &str = "4111 1111 1111 1111";

/// A merchant order made at the proxy `base` with `body` under `idempotency_key`, started there
/// and paid with an approved card on the payment page of the sandbox at `sandbox`: its invoice
/// id. For tests that run proxies as processes (a `TestApp` has `paid_merchant_order`).
pub async fn paid_merchant_order_at(http: &reqwest::Client, base: &str, sandbox: &str, body: &Value, idempotency_key: &str) -> String {
    let order: Value = http
        .post(format!("{base}/api/merchant/orders"))
        .bearer_auth(MERCHANT_KEY)
        .header("Idempotency-Key", idempotency_key)
        .json(body)
        .json_answer()
        .await;
    let invoice = order["invoiceId"].as_str().unwrap().to_owned();
    let checkout: Value = http
        .post(format!("{base}/api/orders/{invoice}/checkout"))
        .header("X-Order-Key", order["orderKey"].as_str().unwrap())
        .json_answer()
        .await;
    let paid = pay_on_payform(http, sandbox, &checkout, APPROVED_CARD).await.unwrap();
    assert!(paid.status().is_redirection(), "the payment page did not take the payment: {}", paid.status());
    invoice
}
/// A transfer's receiving card (any 16 digits that pass the Luhn check).
pub const DECLINED_CARD: &str = "4000 0000 0000 9995";
pub const SILENT_CARD: &str = "5555 5555 5555 4444";

/// The seed's success sample, addressed to `order` (its own transaction id when it has one).
pub fn success_for(order: &epay_proxy::store::orders::OrderRow) -> Value {
    json!({
        "accountId": "sad12eqsda", "amount": order.amount_minor as f64 / 100.0, "approvalCode": "157911",
        "cardId": "11f1111b-f151-6f11-e161-1111010a2111", "cardMask": "440043...2222", "cardType": "VISA", "code": "ok",
        "currency": "KZT", "dateTime": "2024-07-29T10:50:56.765674319+05:00", "description": "Arman Alimguzhinov",
        "email": "", "id": order.transaction_id.clone().unwrap_or_else(|| "1d1a11f1-1111-111c-1113b-e8340ce51111".into()),
        "invoiceId": order.invoice_id,
        "ip": "213.148.6.204", "ipCity": "", "ipCountry": "", "ipDistrict": "", "ipLatitude": 0, "ipLongitude": 0,
        "ipRegion": "", "issuer": "JSC KASPI BANK", "language": "RUS", "name": "STANDARD CARDHOLDER", "phone": "",
        "reason": "success", "reasonCode": 0, "reference": "411111111117", "secure": "no", "secureDetails": "F",
        "terminal": order.terminal, "secret_hash": order.secret_hash.expose(),
    })
}

/// The seed's failure sample, addressed to `order`.
pub fn failure_for(order: &epay_proxy::store::orders::OrderRow) -> Value {
    json!({
        "id": "ffffffff-0000-000f-f000-00f0000f000f", "dateTime": "2020-01-01T00:00:00.00000+06:00",
        "invoiceId": order.invoice_id, "amount": order.amount_minor / 100, "currency": "KZT", "terminal": order.terminal,
        "accountId": "1", "description": "Оплата в интернет магазине", "language": "RU", "cardMask": "4444...4444",
        "cardType": "", "issuer": "Halyk bank", "reference": "", "secure": "no", "secureDetails": "F",
        "tokenRecipient": "", "code": "error", "reason": "Недостаточно средств", "reasonCode": 484,
        "name": "CARD HOLDER", "email": "ch@example.kz", "phone": "77777777777", "ip": "5.188.155.135",
        "ipCountry": "Kazakhstan", "ipCity": "Almaty", "ipRegion": "", "ipDistrict": "", "ipLongitude": 76.9293,
        "ipLatitude": 43.2638, "secret_hash": order.secret_hash.expose(),
    })
}

/// A status API answer for `order`: `code` and `status_name`, the order's own fields.
pub fn status_answer(order: &epay_proxy::store::orders::OrderRow, code: &str, status_name: &str) -> Value {
    json!({
        "resultCode": code, "resultMessage": "test",
        "transaction": {
            "id": "7c7f3b9e-0000-4000-8000-000000000001", "invoiceID": order.invoice_id,
            "amount": order.amount_minor as f64 / 100.0, "currency": order.currency, "terminal": order.terminal,
            "statusName": status_name, "cardMask": "440043...2222", "approvalCode": "157911", "reference": "411111111117",
            "reason": "", "reasonCode": "0",
        }
    })
}

impl TestApp {
    /// A checkout with its token: the order as stored, `pending`.
    pub async fn pending_order(&self, amount: &str) -> epay_proxy::store::orders::OrderRow {
        let checkout = self.checkout_ok(amount).await;
        self.stored_order(checkout["invoiceId"].as_str().unwrap()).await
    }

    /// A checkout the sandbox really paid: the order ends `paid` through postLink and status API.
    pub async fn paid_order(&self, amount: &str) -> epay_proxy::store::orders::OrderRow {
        let checkout = self.checkout_ok(amount).await;
        let invoice_id = checkout["invoiceId"].as_str().unwrap().to_owned();
        self.pay(&checkout, APPROVED_CARD).await;
        self.wait_for_state(&invoice_id, epay_proxy::store::orders::OrderState::Paid).await
    }

    /// Waits until the stored order is in `state` (up to 15 s: the confirmation worker's
    /// pauses are real seconds), and returns it.
    pub async fn wait_for_state(
        &self,
        invoice_id: &str,
        state: epay_proxy::store::orders::OrderState,
    ) -> epay_proxy::store::orders::OrderRow {
        for _ in 0..750 {
            let order = self.stored_order(invoice_id).await;
            if order.status == state {
                return order;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let order = self.stored_order(invoice_id).await;
        panic!("order {invoice_id} stayed {:?} (last status answer: {:?}), expected {state:?}", order.status, order.last_check);
    }
}
