//! The shop as a merchant would copy it: its webhook handler (an event that fails is not marked
//! seen, so the proxy's retry applies it; an event older than what the shop holds changes
//! nothing: issue 20, item 2), its limit on orders per client (item 3), and its forms and
//! staff sign-in as safe as the proxy's console (issue 29, item 6).

use std::sync::Arc;

use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const INVOICE: &str = "100000000001";

struct Running {
    shop: Arc<epay_demo_shop::Shop>,
    url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("shop.sqlite3").display()).parse().unwrap();
    let settings = epay_demo_shop::Settings {
        listen: "127.0.0.1:0".into(),
        public_url: "http://127.0.0.1".into(),
        proxy: "http://127.0.0.1:9".into(),
        merchant_key: "unused-in-these-tests-0123456789".into(),
        webhook_secret: Some(SECRET.into()),
        staff_users: format!("anna:{}", staff_hash()),
        trusted_proxy_hops: 1,
        buy_rate_per_minute: 3,
        database,
    };
    let shop = epay_demo_shop::open(settings).await;
    sqlx::query(
        "INSERT INTO shop_orders (product, invoice_id, order_key, number, public_token, paid, proxy_status, amount, refunded, paid_at)
         VALUES ('alatau', ?, 'k', 'K-1', 'the-customers-own-link', 1, 'paid', '1500', '500', 1764756000)",
    )
    .bind(INVOICE)
    .execute(&shop.db)
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    let app = epay_demo_shop::router(shop.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(axum::serve(listener, app).into_future());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Running { shop, url, http, _dir: dir }
}

/// The staff password's hash, made once (argon2 takes a moment in a debug build).
fn staff_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| epay_demo_shop::hash_password("correct horse"))
}

/// The order as the proxy's event shows it.
fn order(status: &str, version: i64) -> Value {
    json!({
        "invoiceId": INVOICE, "orderKey": "k", "source": "merchant", "status": status, "state": status, "version": version,
        "amount": "1500", "currency": "KZT", "description": "Чайный набор", "method": "pay", "accountId": "", "email": "",
        "phone": "", "language": "ru", "cardSave": false, "createdAt": "2026-12-03T10:00:00Z", "refundedAmount": "0",
    })
}

impl Running {
    fn base(&self) -> String {
        self.url.replace("/webhooks", "")
    }

    /// The catalogue's form token and the cookie that carries it (as a visitor's browser has them).
    async fn form_token(&self, path: &str) -> (String, String) {
        let page = self.http.get(format!("{}{path}", self.base())).send().await.unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let html = page.text().await.unwrap();
        let token = html.split("name=\"form_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        (token, cookie)
    }

    /// Sends one signed event; returns the shop's answer.
    async fn send(&self, webhook_id: &str, event_type: &str, data: Value) -> u16 {
        let body = json!({"type": event_type, "timestamp": "2026-12-03T10:00:00Z", "data": data}).to_string();
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let signature = standardwebhooks::Webhook::new(SECRET).unwrap().sign(webhook_id, timestamp, body.as_bytes()).unwrap();
        let response = self
            .http
            .post(&self.url)
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    async fn held(&self) -> (String, i64, bool) {
        sqlx::query_as("SELECT proxy_status, epay_version, paid FROM shop_orders WHERE invoice_id = ?")
            .bind(INVOICE)
            .fetch_one(&self.shop.db)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_late_order_paid_never_turns_a_refunded_order_back() {
    let shop = start().await;
    sqlx::query("UPDATE shop_orders SET paid = 0, proxy_status = 'new'").execute(&shop.shop.db).await.unwrap();
    assert_eq!(shop.send("msg_refunded", "refund.succeeded", order("refunded", 7)).await, 204);
    assert_eq!(shop.held().await, ("refunded".to_owned(), 7, true));
    // order.paid was made before the refund but arrives after it.
    assert_eq!(shop.send("msg_paid", "order.paid", order("paid", 5)).await, 204);
    assert_eq!(shop.held().await, ("refunded".to_owned(), 7, true), "an older event changes nothing");
}

#[tokio::test]
async fn an_event_that_fails_is_applied_when_the_proxy_sends_it_again() {
    let shop = start().await;
    sqlx::query("UPDATE shop_orders SET paid = 0, proxy_status = 'new'").execute(&shop.shop.db).await.unwrap();
    // The shop's database refuses the change (here: its table is gone for a moment).
    sqlx::query("ALTER TABLE shop_orders RENAME TO shop_orders_away").execute(&shop.shop.db).await.unwrap();
    assert_eq!(shop.send("msg_paid", "order.paid", order("paid", 5)).await, 500);
    sqlx::query("ALTER TABLE shop_orders_away RENAME TO shop_orders").execute(&shop.shop.db).await.unwrap();
    // The proxy retries with the same webhook-id: applied now, not swallowed as a duplicate.
    assert_eq!(shop.send("msg_paid", "order.paid", order("paid", 5)).await, 204);
    assert_eq!(shop.held().await, ("paid".to_owned(), 5, true));
    // And once: the same event again changes nothing.
    assert_eq!(shop.send("msg_paid", "order.paid", order("paid", 5)).await, 204);
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shop_webhooks").fetch_one(&shop.shop.db).await.unwrap();
    assert_eq!(seen, 1);
}

/// A subscription's events carry the subscription, not an order: the shop applies them once
/// and answers 2xx (a 400 would make the proxy send them for three days).
#[tokio::test]
async fn a_subscriptions_events_keep_the_shops_record_of_it() {
    let shop = start().await;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS shop_subscriptions (order_id INTEGER PRIMARY KEY, subscription_id TEXT NOT NULL,
            status TEXT NOT NULL, status_reason TEXT, next_charge_at TEXT)",
    )
    .execute(&shop.shop.db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO shop_subscriptions (order_id, subscription_id, status) VALUES (1, 'sub_1', 'active')")
        .execute(&shop.shop.db)
        .await
        .unwrap();
    let data = json!({"id": "sub_1", "status": "past_due", "statusReason": "insufficient_funds", "nextChargeAt": "2027-01-09T10:00:00Z"});
    assert_eq!(shop.send("msg_sub_1", "subscription.past_due", data.clone()).await, 204);
    let held: (String, Option<String>) =
        sqlx::query_as("SELECT status, status_reason FROM shop_subscriptions").fetch_one(&shop.shop.db).await.unwrap();
    assert_eq!(held, ("past_due".to_owned(), Some("insufficient_funds".to_owned())));
    // Once: the same event again changes nothing, and is still answered 2xx.
    sqlx::query("UPDATE shop_subscriptions SET status = 'active'").execute(&shop.shop.db).await.unwrap();
    assert_eq!(shop.send("msg_sub_1", "subscription.past_due", data).await, 204);
    let status: String = sqlx::query_scalar("SELECT status FROM shop_subscriptions").fetch_one(&shop.shop.db).await.unwrap();
    assert_eq!(status, "active");
}

/// Every "Buy" is an ePay invoice: one client gets a few (here 3 at once), then 429 with
/// Retry-After, before the shop stores anything or calls the proxy (issue 20, item 3).
#[tokio::test]
async fn one_client_cannot_create_orders_without_limit() {
    let shop = start().await;
    let buy = shop.url.replace("/webhooks", "/buy");
    let (token, cookie) = shop.form_token("/").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let form = [("product", "alatau"), ("form_token", token.as_str())];
        let response = shop.http.post(&buy).header("cookie", &cookie).form(&form).send().await.unwrap();
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "60");
        }
        statuses.push(response.status().as_u16());
    }
    // The proxy is not running here: the admitted ones fail after the shop stored its order.
    assert_eq!(statuses, [502, 502, 502, 429, 429, 429]);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shop_orders WHERE number <> 'K-1'").fetch_one(&shop.shop.db).await.unwrap();
    assert_eq!(stored, 3, "refused ones stored nothing");

    // Behind the shop's reverse proxy (one trusted hop) customers are told apart by the address
    // it saw, not lumped into the proxy's one bucket, and what a client writes itself is ignored.
    let behind = |client: &'static str| {
        let form = [("product", "alatau"), ("form_token", token.as_str())];
        shop.http.post(&buy).header("cookie", &cookie).header("x-forwarded-for", client).form(&form).send()
    };
    assert_eq!(behind("6.6.6.6, 203.0.113.7").await.unwrap().status(), 502, "a new customer is not the one above");
    assert_eq!(behind("7.7.7.7, 203.0.113.8").await.unwrap().status(), 502, "nor is another");

    // A Buy form from another site (no token of the shop's) stores nothing.
    let forged = shop.http.post(&buy).header("x-forwarded-for", "203.0.113.9").form(&[("product", "alatau")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let without_cookie = [("product", "alatau"), ("form_token", token.as_str())];
    let replayed = shop.http.post(&buy).header("x-forwarded-for", "203.0.113.9").form(&without_cookie).send().await.unwrap();
    assert_eq!(replayed.status(), 403, "the token alone, without the visitor's cookie");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shop_orders WHERE number <> 'K-1'").fetch_one(&shop.shop.db).await.unwrap();
    assert_eq!(stored, 5);
}

/// Customers reach their own order by its unguessable link, never another's by counting, and
/// have no money actions; refunds are the staff's, behind a sign-in (argon2), a session cookie
/// (HttpOnly, SameSite=Strict) and a CSRF token on every form (issue 20, item 1).
#[tokio::test]
async fn only_signed_in_staff_refund_and_customers_see_only_their_own_order() {
    let shop = start().await;
    let base = shop.url.replace("/webhooks", "");
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = shop.http.get(format!("{base}{path}"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let post = |path: &str, form: Vec<(&'static str, String)>, cookie: Option<String>| {
        let mut request = shop.http.post(format!("{base}{path}")).form(&form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    // A customer: by number, nothing; by their link, their order and no refund button.
    assert_eq!(get("/orders/1", None).await.unwrap().status(), 404);
    // (The proxy is not running here: the page, which asks it, says so.)
    assert_eq!(get("/orders/the-customers-own-link/status", None).await.unwrap().status(), 502);
    assert_eq!(post("/orders/1/refund", vec![], None).await.unwrap().status(), 404, "the old open refund route is gone");

    // A stranger's refund goes to the sign-in, and nothing is asked of the proxy.
    let anonymous = post("/staff/orders/1/refund", vec![("csrf", "x".into())], None).await.unwrap();
    assert_eq!((anonymous.status().as_u16(), anonymous.headers()["location"].to_str().unwrap()), (303, "/staff/login"));
    assert_eq!(get("/staff", None).await.unwrap().status(), 303);
    let (token, form_cookie) = shop.form_token("/staff/login").await;
    let login = |password: &str| vec![("user", "anna".into()), ("password", password.to_owned()), ("form_token", token.clone())];
    let without_token = post("/staff/login", vec![("user", "anna".into()), ("password", "correct horse".into())], None).await.unwrap();
    assert_eq!(without_token.status(), 403, "a sign-in form from elsewhere");
    let wrong = post("/staff/login", login("wrong"), Some(form_cookie.clone())).await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    // Staff sign in: a session cookie the page's scripts cannot read and other sites cannot send.
    let signed_in = post("/staff/login", login("correct horse"), Some(form_cookie.clone())).await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let set_cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http in development: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let list = get("/staff", Some(&cookie)).await.unwrap().text().await.unwrap();
    let csrf = list.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(list.contains("data-refund=\"1\""), "{list}");
    // A table staff can work with: number, product by name, amount, status in Russian, paid
    // at (Almaty time), refunded so far, and the refund form prefilled with what is left.
    for shown in
        ["№1", "K-1", "Чайный набор «Алатау»", "1\u{a0}500 ₸", "Оплачен, возвращён частично", "03.12.2025 15:00", "500 ₸", "value=\"1000\""]
    {
        assert!(list.contains(shown), "{shown} in {list}");
    }

    // A form without the session's token (a forged one) changes nothing.
    let forged =
        post("/staff/orders/1/refund", vec![("csrf", "forged".into()), ("amount", "100".into())], Some(cookie.clone())).await.unwrap();
    assert_eq!(forged.status(), 403);
    // With it, the shop asks the proxy what the order stands at first (not running here: 502).
    let refund =
        post("/staff/orders/1/refund", vec![("csrf", csrf.clone()), ("amount", "100".into())], Some(cookie.clone())).await.unwrap();
    assert_eq!(refund.status(), 502);

    // Signing out ends the session.
    assert_eq!(post("/staff/logout", vec![("csrf", csrf)], Some(cookie.clone())).await.unwrap().status(), 303);
    assert_eq!(get("/staff", Some(&cookie)).await.unwrap().status(), 303);
}

/// The staff sign-in under attack (issue 29, item 6): a stranger failing with a colleague's name
/// makes only their own address wait; guesses sent together are counted one by one; an
/// unknown name is checked as long as a known one.
#[tokio::test]
async fn a_stranger_cannot_keep_staff_out_and_guesses_sent_together_are_counted() {
    let shop = start().await;
    let base = shop.base();
    let (token, cookie) = shop.form_token("/staff/login").await;
    let attempt = |client: &'static str, user: &'static str, password: &'static str| {
        let form = [("user", user), ("password", password), ("form_token", token.as_str())];
        shop.http.post(format!("{base}/staff/login")).header("cookie", &cookie).header("x-forwarded-for", client).form(&form).send()
    };
    let guesses = (0..20).map(|_| attempt("203.0.113.66", "anna", "guess"));
    let statuses: Vec<u16> = futures::future::join_all(guesses).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!((checked, statuses.iter().filter(|s| **s == 429).count()), (5, 15), "{statuses:?}");
    let waiting = attempt("203.0.113.66", "anna", "correct horse").await.unwrap();
    assert_eq!(waiting.status(), 429, "the failing address waits, right password or not");
    assert!(waiting.headers().contains_key("retry-after"));
    let colleague = attempt("198.51.100.5", "anna", "correct horse").await.unwrap();
    assert_eq!(colleague.status(), 303, "anna, from her own address, gets straight in");

    // An unknown name takes as long as a known one (the decoy hash), within a wide margin.
    let time = |user: &'static str, client: &'static str| {
        let attempt = attempt(client, user, "wrong");
        async move {
            let started = std::time::Instant::now();
            assert_eq!(attempt.await.unwrap().status(), 401);
            started.elapsed()
        }
    };
    // The decoy hash is made on first use: made before measuring.
    time("warm-up", "192.0.2.3").await;
    let known = time("anna", "192.0.2.1").await;
    let unknown = time("nobody", "192.0.2.2").await;
    assert!(unknown * 4 > known, "unknown {unknown:?} vs known {known:?}: argon2 ran for the unknown name too");
}
