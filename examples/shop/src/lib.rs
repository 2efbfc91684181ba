//! The demo shop: a merchant backend as small as it can be while doing it right. It keeps its
//! own orders (SQLite), fixes the price on its server by creating the ePay order through the
//! proxy's merchant API when the buyer presses "Buy", renders its order page with the widget
//! (`data-order`, `data-order-key`), and marks its own order paid only when the proxy says so:
//! by a signed webhook (`POST /webhooks`, verified with the `standardwebhooks` crate, applied in
//! one transaction with its webhook-id and only when its `data.version` is newer than what the
//! shop holds), or by asking (`GET /api/merchant/orders/{invoiceId}`) when a page is shown. A
//! paid order can be refunded, all or part, by the staff after confirming; the shop's backend
//! refunds it through the merchant API. "Buy" is limited per client address; Buy and the
//! staff's sign-in carry a form token, every staff form the session's CSRF token (`guard.rs`,
//! `staff.rs`).
//!
//! Configuration: `SHOP_LISTEN` (127.0.0.1:8090), `SHOP_PUBLIC_URL`, `PROXY_URL`
//! (http://127.0.0.1:8080), `MERCHANT_API_KEY`, `WEBHOOK_SECRET` (the proxy's),
//! `SHOP_DATABASE_URL` (sqlite:shop.sqlite3), `SHOP_BUY_RATE_PER_MINUTE` (10),
//! `SHOP_TRUSTED_PROXY_HOPS` (0: the peer is the client; behind one reverse proxy, 1),
//! `SHOP_STAFF_USERS` (`name:argon2-hash;…`; `epay-demo-shop hash-password` reads a password on
//! its standard input and prints its hash).
//!
//! Customers reach their order by an unguessable link (`/orders/{token}`); money actions are
//! the staff's (`/staff`, a sign-in from `SHOP_STAFF_USERS`, see `staff.rs`).
//!
//! One product is a subscription (`subscription.rs`): its first month is an order like the
//! others, which offers to save the card (`allowSaveCard`); once it is paid with the card saved,
//! the shop subscribes the customer for the following months with that card.

mod guard;
mod staff;
mod subscription;

pub use staff::hash_password;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use epay_api_types::{Amount, AmountError, MerchantOrder, MerchantOrderRequest, MerchantStatus};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

struct Product {
    id: &'static str,
    name: &'static str,
    price: &'static str,
    /// Billed every month after the first (a subscription), or sold once.
    monthly: bool,
}

const PRODUCTS: [Product; 3] = [
    Product { id: "alatau", name: "Чайный набор «Алатау»", price: "1500", monthly: false },
    Product { id: "kokpar", name: "Пиала ручной работы", price: "4200.50", monthly: false },
    Product { id: "chai-month", name: "Подписка «Чай месяца»", price: "4990", monthly: true },
];

pub struct Shop {
    pub db: SqlitePool,
    http: reqwest::Client,
    proxy: String,
    public_url: String,
    merchant_key: String,
    webhooks: Option<standardwebhooks::Webhook>,
    buy_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Staff names and their password hashes.
    staff: Vec<(String, String)>,
    /// Failed staff sign-ins per (name, address).
    sign_ins: guard::Throttle,
    /// Reverse proxies in front of the shop whose `X-Forwarded-For` it believes.
    trusted_proxy_hops: u32,
    /// Staff sign-in attempts per client address per minute, whatever the names.
    sign_in_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// One argon2 check at a time: a flood of sign-ins queues here, not in memory.
    password_checks: tokio::sync::Semaphore,
}

impl Shop {
    /// Cookies are `Secure` unless the shop runs on plain http (development).
    fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(sqlx::FromRow)]
struct ShopOrder {
    product: String,
    invoice_id: String,
    order_key: String,
    paid: bool,
    proxy_status: String,
}

/// Where the shop listens and what it talks to (the binary reads them from the environment).
pub struct Settings {
    pub listen: String,
    /// Orders one client (address) may create per minute (`SHOP_BUY_RATE_PER_MINUTE`): each is
    /// an ePay invoice holding a suffix until it expires.
    pub buy_rate_per_minute: u32,
    pub public_url: String,
    pub proxy: String,
    pub merchant_key: String,
    pub webhook_secret: Option<String>,
    /// `SHOP_STAFF_USERS`: `name:argon2-hash` entries separated by `;`.
    pub staff_users: String,
    /// `SHOP_TRUSTED_PROXY_HOPS`: reverse proxies in front of the shop (0: none).
    pub trusted_proxy_hops: u32,
    pub database: SqliteConnectOptions,
}

/// Opens (and creates) the shop's database.
pub async fn open(settings: Settings) -> Arc<Shop> {
    let db = SqlitePool::connect_with(settings.database.create_if_missing(true)).await.expect("the shop's database");
    sqlx::query("CREATE TABLE IF NOT EXISTS shop_webhooks (webhook_id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at INTEGER NOT NULL)")
        .execute(&db)
        .await
        .expect("the shop's webhook table");
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS shop_orders (id INTEGER PRIMARY KEY, product TEXT NOT NULL, invoice_id TEXT NOT NULL DEFAULT '',
            order_key TEXT NOT NULL DEFAULT '', paid INTEGER NOT NULL DEFAULT 0, proxy_status TEXT NOT NULL DEFAULT 'new',
            number TEXT NOT NULL, epay_version INTEGER NOT NULL DEFAULT -1, public_token TEXT)",
    )
    .execute(&db)
    .await
    .expect("the shop's table");
    // A database of an older demo: the version of the proxy's order it last applied.
    let _ = sqlx::query("ALTER TABLE shop_orders ADD COLUMN epay_version INTEGER NOT NULL DEFAULT -1").execute(&db).await;
    // The customer's link to an order: unguessable (the order ids are sequential).
    let _ = sqlx::query("ALTER TABLE shop_orders ADD COLUMN public_token TEXT").execute(&db).await;
    // What the staff table shows: the amount, when the proxy said paid, what was refunded.
    for column in ["amount TEXT NOT NULL DEFAULT ''", "paid_at INTEGER", "refunded TEXT NOT NULL DEFAULT '0'"] {
        let _ = sqlx::query(&format!("ALTER TABLE shop_orders ADD COLUMN {column}")).execute(&db).await;
    }
    for statement in [
        "CREATE UNIQUE INDEX IF NOT EXISTS shop_orders_public_token ON shop_orders (public_token)",
        "CREATE TABLE IF NOT EXISTS shop_sessions (id_digest TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL,
            expires_at INTEGER NOT NULL)",
        // A refund a staff member was asked to confirm: used once, within 10 minutes.
        "CREATE TABLE IF NOT EXISTS shop_refund_confirmations (key TEXT PRIMARY KEY, order_id INTEGER NOT NULL,
            amount TEXT NOT NULL, user_name TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)",
    ] {
        sqlx::query(statement).execute(&db).await.expect("the shop's tables");
    }
    let staff = staff::parse_users(&settings.staff_users);
    if staff.is_empty() {
        tracing::warn!("SHOP_STAFF_USERS names nobody: no one can sign in to refund (epay-demo-shop hash-password makes a hash)");
    }
    Arc::new(Shop {
        db,
        http: reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("http client"),
        proxy: settings.proxy.trim_end_matches('/').to_owned(),
        public_url: settings.public_url.trim_end_matches('/').to_owned(),
        merchant_key: settings.merchant_key,
        webhooks: settings.webhook_secret.map(|secret| standardwebhooks::Webhook::new(&secret).expect("WEBHOOK_SECRET")),
        staff,
        sign_ins: guard::Throttle::new(),
        trusted_proxy_hops: settings.trusted_proxy_hops,
        sign_in_limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(std::num::NonZeroU32::new(10).expect("not zero"))),
        password_checks: tokio::sync::Semaphore::new(1),
        buy_limiter: governor::RateLimiter::keyed(
            governor::Quota::per_minute(std::num::NonZeroU32::new(settings.buy_rate_per_minute.max(1)).expect("not zero"))
                .allow_burst(std::num::NonZeroU32::new(settings.buy_rate_per_minute.clamp(1, 5)).expect("not zero")),
        ),
    })
}

pub fn router(shop: Arc<Shop>) -> Router {
    Router::new()
        .route("/", get(catalogue))
        .route("/buy", post(buy))
        .route("/orders/{token}", get(order_page))
        .route("/orders/{token}/status", get(order_status))
        .route("/staff", get(staff::orders))
        .route("/staff/login", get(staff::login_page).post(staff::login))
        .route("/staff/logout", post(staff::logout))
        .route("/staff/orders/{id}/refund", post(staff::refund))
        .route("/staff/orders/{id}/refund/confirm", post(staff::refund_confirmed))
        .route("/webhooks", post(webhook))
        .route("/shop.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], include_str!("../static/shop.js")) }))
        .route("/shop.css", get(|| async { ([(header::CONTENT_TYPE, "text/css")], include_str!("../static/shop.css")) }))
        .with_state(shop)
}

fn page(shop: &Shop, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Kóktem Tea</title><link rel=\"stylesheet\" href=\"/shop.css\"></head>\
         <body><header><a href=\"/\">Kóktem Tea</a></header><main>{body}</main></body></html>"
    );
    let mut response = Html(html).into_response();
    // The widget, its WebAssembly and ePay's script come from the proxy (the sandbox serves
    // ePay's script there too); nothing inline.
    let proxy = &shop.proxy;
    let csp = format!(
        "default-src 'self'; script-src 'self' {proxy} 'wasm-unsafe-eval'; connect-src 'self' {proxy}; style-src 'self' {proxy}; \
         img-src 'self' data:; frame-src {proxy}; form-action 'self'"
    );
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("a header value"));
    response
}

async fn catalogue(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> Response {
    let (token, set_cookie) = guard::form_token(&headers, shop.secure());
    let items: String = PRODUCTS
        .iter()
        .map(|p| {
            let (per, act) = if p.monthly { (" в месяц", "Подписаться") } else { ("", "Купить") };
            format!(
                "<section class=\"product\"><h2>{}</h2><p class=\"price\">{} ₸{per}</p>\
                 <form method=\"post\" action=\"/buy\"><input type=\"hidden\" name=\"product\" value=\"{}\">\
                 <input type=\"hidden\" name=\"form_token\" value=\"{token}\">\
                 <button type=\"submit\" data-buy=\"{}\">{act}</button></form></section>",
                p.name, p.price, p.id, p.id
            )
        })
        .collect();
    let mut response = page(&shop, "Каталог", &items);
    if let Some(set_cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, set_cookie);
    }
    response
}

#[derive(serde::Deserialize)]
struct Buy {
    product: String,
    #[serde(default)]
    form_token: String,
}

/// "Buy": the shop stores its order, then creates the ePay order with the price from its own
/// catalogue (the browser only said which product). Only from the shop's own page (its form
/// token), and limited per client address: every order is an ePay invoice (behind reverse
/// proxies, `SHOP_TRUSTED_PROXY_HOPS` keys it by the address they saw).
async fn buy(
    State(shop): State<Arc<Shop>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(buy): Form<Buy>,
) -> Result<Redirect, Response> {
    if !guard::form_token_matches(&headers, &buy.form_token, shop.secure()) {
        let body = "Страница устарела или форма отправлена не с сайта магазина: обновите каталог и нажмите «Купить» ещё раз.";
        return Err((StatusCode::FORBIDDEN, body).into_response());
    }
    let client = guard::client(&headers, peer, shop.trusted_proxy_hops);
    if shop.buy_limiter.check_key(&client).is_err() {
        tracing::warn!(%client, "too many orders from one client");
        let body = "Слишком много заказов подряд: попробуйте через минуту.";
        return Err((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")], body).into_response());
    }
    create_order(&shop, &buy).await.map_err(IntoResponse::into_response)
}

async fn create_order(shop: &Shop, buy: &Buy) -> Result<Redirect, (StatusCode, String)> {
    let product = PRODUCTS.iter().find(|p| p.id == buy.product).ok_or((StatusCode::NOT_FOUND, "no such product".to_owned()))?;
    // The shop's order number: unique for good (it is the reference and the Idempotency-Key at
    // the proxy, which outlives this demo's database), stored so a retry reuses it.
    let (id, number, token): (i64, String, String) = sqlx::query_as(
        "INSERT INTO shop_orders (product, number, public_token) VALUES (?, 'K-' || upper(hex(randomblob(6))), lower(hex(randomblob(16))))
         RETURNING id, number, public_token",
    )
    .bind(product.id)
    .fetch_one(&shop.db)
    .await
    .map_err(internal)?;
    let request = MerchantOrderRequest {
        amount: product.price.to_owned(),
        currency: None,
        description: product.name.to_owned(),
        reference: number.clone(),
        method: Some(epay_api_types::PaymentMethod::Pay),
        // A subscription's first month offers to save the card, for the customer it makes.
        account_id: product.monthly.then(|| subscription::customer_of(&number)),
        email: None,
        phone: None,
        language: None,
        card_save: None,
        allow_save_card: product.monthly.then_some(true),
        saved_card: None,
        metadata: serde_json::value::to_raw_value(&serde_json::json!({"product": product.id})).ok(),
        payable_for_secs: Some(3600),
        expires_in_secs: None,
        return_url: Some(format!("{}/orders/{token}", shop.public_url)),
        // What the fiscal receipt lists, when the proxy issues receipts: the product, once, at
        // the proxy's VAT rate.
        items: Some(vec![epay_api_types::ReceiptItem {
            name: product.name.to_owned(),
            quantity: None,
            price: product.price.to_owned(),
            vat: None,
            unit_code: None,
            section: None,
        }]),
    };
    // The shop's own order number makes the Idempotency-Key: a retry of this call cannot make two.
    let response = shop
        .http
        .post(format!("{}/api/merchant/orders", shop.proxy))
        .bearer_auth(&shop.merchant_key)
        .header("Idempotency-Key", format!("create-{number}"))
        .json(&request)
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        tracing::error!(%status, %body, "the proxy refused the order");
        return Err((StatusCode::BAD_GATEWAY, format!("the payment service refused the order: {body}")));
    }
    let order: MerchantOrder = response.json().await.map_err(internal)?;
    sqlx::query("UPDATE shop_orders SET invoice_id = ?, order_key = ?, proxy_status = ?, amount = ? WHERE id = ?")
        .bind(&order.invoice_id)
        .bind(&order.order_key)
        .bind(order.status.as_str())
        .bind(&order.amount)
        .bind(id)
        .execute(&shop.db)
        .await
        .map_err(internal)?;
    tracing::info!(id, invoice_id = %order.invoice_id, "order created");
    Ok(Redirect::to(&format!("/orders/{token}")))
}

/// The shop's order behind a customer's link.
async fn by_token(shop: &Shop, token: &str) -> Result<i64, (StatusCode, String)> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM shop_orders WHERE public_token = ?")
        .bind(token)
        .fetch_optional(&shop.db)
        .await
        .map_err(internal)?;
    id.ok_or((StatusCode::NOT_FOUND, "no such order".to_owned()))
}

/// The customer's page of their order (reached by its unguessable link): what they pay, the
/// widget, what became of it. No money actions: those are the staff's.
async fn order_page(State(shop): State<Arc<Shop>>, Path(token): Path<String>) -> Result<Response, (StatusCode, String)> {
    let id = by_token(&shop, &token).await?;
    let order = refresh(&shop, id).await?;
    let product = PRODUCTS.iter().find(|p| p.id == order.product).expect("a known product");
    let proxy = &shop.proxy;
    let body = format!(
        // The widget's WebAssembly starts downloading with the page (the proxy's README, "Embedding").
        "<link rel=\"preload\" href=\"{proxy}/widget.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin>\
         <section class=\"order\"><h1>Заказ №{id}</h1><p>{}: <span class=\"price\">{} ₸</span></p>\
         <p>Статус: <span data-shop-status data-paid=\"{}\">{}</span></p>\
         {}<div data-epay-checkout data-order=\"{}\" data-order-key=\"{}\" data-method=\"pay\"></div></section>\
         <script type=\"module\" src=\"{}/widget.js\"></script><script src=\"/shop.js\" defer></script>",
        product.name,
        product.price,
        order.paid,
        label(&order),
        subscription::note(&shop, id, product.monthly).await?,
        order.invoice_id,
        order.order_key,
        shop.proxy,
    );
    Ok(page(&shop, &format!("Заказ №{id}"), &body))
}

async fn order_status(State(shop): State<Arc<Shop>>, Path(token): Path<String>) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let id = by_token(&shop, &token).await?;
    let order = refresh(&shop, id).await?;
    Ok(Json(serde_json::json!({"paid": order.paid, "label": label(&order), "status": order.proxy_status})))
}

fn label(order: &ShopOrder) -> &'static str {
    match (order.paid, order.proxy_status.as_str()) {
        (true, "refunded") => "Деньги возвращены",
        (true, _) => "Оплачен",
        (false, "failed") => "Оплата не прошла",
        (false, "expired") => "Время оплаты истекло",
        _ => "Ожидает оплаты",
    }
}

/// The shop's order, after asking the proxy what became of its ePay order (unless already paid).
async fn refresh(shop: &Shop, id: i64) -> Result<ShopOrder, (StatusCode, String)> {
    let order: ShopOrder = sqlx::query_as("SELECT product, invoice_id, order_key, paid, proxy_status FROM shop_orders WHERE id = ?")
        .bind(id)
        .fetch_optional(&shop.db)
        .await
        .map_err(internal)?
        .ok_or((StatusCode::NOT_FOUND, "no such order".to_owned()))?;
    if order.proxy_status == "refunded" || order.invoice_id.is_empty() {
        return Ok(order);
    }
    let response = shop
        .http
        .get(format!("{}/api/merchant/orders/{}", shop.proxy, order.invoice_id))
        .bearer_auth(&shop.merchant_key)
        .send()
        .await
        .map_err(unreachable)?;
    let Ok(seen) = response.error_for_status().map_err(internal)?.json::<MerchantOrder>().await else { return Ok(order) };
    let mut db = shop.db.acquire().await.map_err(internal)?;
    record(&mut db, &seen).await.map_err(internal)?;
    drop(db);
    // A paid first month of a subscription: subscribe the customer (once; again until it works).
    if PRODUCTS.iter().any(|p| p.id == order.product && p.monthly) && seen.status == MerchantStatus::Paid {
        subscription::ensure(shop, id).await?;
    }
    let mut db = shop.db.acquire().await.map_err(internal)?;
    // What the shop holds now: the newer of what it had and what it was just told.
    let order: ShopOrder = sqlx::query_as("SELECT product, invoice_id, order_key, paid, proxy_status FROM shop_orders WHERE id = ?")
        .bind(id)
        .fetch_one(&mut *db)
        .await
        .map_err(internal)?;
    Ok(order)
}

/// What the proxy says of an order, into the shop's own records, if it is newer than what the
/// shop holds (`version`: events can arrive out of order, and a poll can cross an event): an
/// older view changes nothing, so a late `order.paid` never turns a refunded order back. Paid
/// stays paid.
async fn record(db: &mut sqlx::SqliteConnection, seen: &MerchantOrder) -> Result<bool, sqlx::Error> {
    let paid = matches!(seen.status, MerchantStatus::Paid | MerchantStatus::Refunded);
    let done = sqlx::query(
        "UPDATE shop_orders SET paid = MAX(paid, ?1), proxy_status = ?2, epay_version = ?3, amount = ?5, refunded = ?6,
                paid_at = COALESCE(paid_at, CASE WHEN ?1 THEN unixepoch() END)
         WHERE invoice_id = ?4 AND epay_version < ?3",
    )
    .bind(paid)
    .bind(seen.status.as_str())
    .bind(seen.version)
    .bind(&seen.invoice_id)
    .bind(&seen.amount)
    .bind(&seen.refunded_amount)
    .execute(db)
    .await?;
    if done.rows_affected() > 0 && seen.status == MerchantStatus::Paid {
        tracing::info!(invoice_id = %seen.invoice_id, "order paid: ship it");
    }
    Ok(done.rows_affected() > 0)
}

/// One event, once: its webhook-id is recorded in the same transaction as what it changes, so
/// an event that fails is not marked seen (the proxy sends it again, and it is applied then),
/// and one that was applied is never applied twice. Returns whether it was new.
pub async fn apply_event(db: &SqlitePool, webhook_id: &str, event_type: &str, order: &MerchantOrder) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let first = sqlx::query("INSERT OR IGNORE INTO shop_webhooks (webhook_id, type, received_at) VALUES (?, ?, unixepoch())")
        .bind(webhook_id)
        .bind(event_type)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if first {
        tracing::info!(%event_type, invoice_id = %order.invoice_id, version = order.version, "webhook");
        record(&mut tx, order).await?;
    }
    tx.commit().await?;
    Ok(first)
}

/// `POST /webhooks`: an event of the proxy, verified (Standard Webhooks) and handled once per
/// webhook-id. 2xx tells the proxy it arrived; anything else makes it send again later.
async fn webhook(State(shop): State<Arc<Shop>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let Some(verifier) = &shop.webhooks else { return StatusCode::NOT_FOUND };
    if verifier.verify(&body, &headers).is_err() {
        tracing::warn!("a webhook with a bad signature was refused");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else { return StatusCode::BAD_REQUEST };
    let webhook_id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let event_type = event["type"].as_str().unwrap_or_default().to_owned();
    // A subscription's events carry the subscription, not an order.
    if event_type.starts_with("subscription.") {
        return match subscription::apply_event(&shop.db, &webhook_id, &event_type, &event["data"]).await {
            Ok(_) => StatusCode::NO_CONTENT,
            Err(err) => {
                tracing::error!(error = %err, %webhook_id, "a subscription's webhook could not be applied; the proxy will send it again");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
    }
    let Ok(order) = serde_json::from_value::<MerchantOrder>(event["data"].clone()) else { return StatusCode::BAD_REQUEST };
    match apply_event(&shop.db, &webhook_id, &event_type, &order).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(err) => {
            tracing::error!(error = %err, %webhook_id, "a webhook could not be applied; the proxy will send it again");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Refunds `amount` of order `id` through the merchant API. `key` was made when the staff
/// member was asked to confirm: it makes the Idempotency-Key, so a double click on "Yes"
/// refunds once, and the proxy refuses more than was paid. Staff only (`staff.rs`).
async fn refund_order(shop: &Shop, id: i64, amount: &str, key: &str) -> Result<(), (StatusCode, String)> {
    let amount =
        tiyn(amount).filter(|tiyn| *tiyn > 0).ok_or((StatusCode::UNPROCESSABLE_ENTITY, "the amount is not a sum of money".to_owned()))?;
    let order = refresh(shop, id).await?;
    let response = shop
        .http
        .post(format!("{}/api/merchant/orders/{}/refunds", shop.proxy, order.invoice_id))
        .bearer_auth(&shop.merchant_key)
        .header("Idempotency-Key", format!("shop-refund-{id}-{key}"))
        .json(&serde_json::json!({"amount": tenge(amount), "reason": "the buyer asked"}))
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err((StatusCode::BAD_GATEWAY, format!("the payment service refused the refund: {body}")));
    }
    refresh(shop, id).await?;
    Ok(())
}

/// The amount asked for order `id`, in tiyn, when it is a sum of money and no more than what
/// is left to refund; otherwise the answer that says why.
async fn refundable(shop: &Shop, id: i64, asked: &str) -> Result<i64, (StatusCode, String)> {
    let order = refresh(shop, id).await?;
    let (amount, refunded): (String, String) =
        sqlx::query_as("SELECT amount, refunded FROM shop_orders WHERE id = ?").bind(id).fetch_one(&shop.db).await.map_err(internal)?;
    let left = tiyn(&amount).zip(tiyn(&refunded)).map_or(0, |(amount, refunded)| amount - refunded);
    if order.proxy_status != "paid" || left <= 0 {
        return Err((StatusCode::CONFLICT, "nothing is left to refund on this order".to_owned()));
    }
    match tiyn(asked) {
        Some(asked) if asked > 0 && asked <= left => Ok(asked),
        _ => Err((StatusCode::UNPROCESSABLE_ENTITY, format!("give an amount above 0 and at most {} ₸", tenge_ru(left)))),
    }
}

/// `1500`, `4200.5`, `4 200,50` (as a person types it, `Amount::parse_typed`) as tiyn;
/// zero or less as 0; `None` for anything that is not a sum of money.
fn tiyn(text: &str) -> Option<i64> {
    match Amount::parse_typed(text.trim()) {
        Ok(amount) => i64::try_from(amount.minor()).ok(),
        Err(AmountError::NotPositive) => Some(0),
        Err(_) => None,
    }
}

/// Tiyn as the merchant API writes amounts: `1500`, `4200.50`.
fn tenge(tiyn: i64) -> String {
    Amount::from_minor(tiyn.max(0) as u64).to_string()
}

/// Tiyn as a Russian page writes them: `4 200,50`.
fn tenge_ru(tiyn: i64) -> String {
    let whole = (tiyn / 100).to_string();
    let mut grouped = String::new();
    for (n, digit) in whole.chars().enumerate() {
        if n > 0 && (whole.len() - n).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    if tiyn % 100 == 0 { grouped } else { format!("{grouped},{:02}", tiyn % 100) }
}

fn product_name(id: &str) -> &str {
    PRODUCTS.iter().find(|p| p.id == id).map_or(id, |p| p.name)
}

async fn product_of(shop: &Shop, id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT product FROM shop_orders WHERE id = ?").bind(id).fetch_optional(&shop.db).await.ok().flatten()
}

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The payment service (the proxy) did not answer.
fn unreachable(err: reqwest::Error) -> (StatusCode, String) {
    tracing::error!(error = %err.without_url(), "the payment service did not answer");
    (StatusCode::BAD_GATEWAY, "the payment service did not answer; try again in a moment".to_owned())
}

fn internal(err: impl std::fmt::Display) -> (StatusCode, String) {
    tracing::error!(error = %err, "shop error");
    (StatusCode::INTERNAL_SERVER_ERROR, "the shop hit an error; it has been logged".to_owned())
}
