//! Sign-in under attack (issue 29): failures slow down only the address they come from, so no
//! stranger can keep an operator out; concurrent guesses are counted one by one; operators
//! sign in with a second factor; the console can live on an address of its own.

use std::net::IpAddr;

use crate::helpers::TestApp;
use crate::helpers::console::{PASSWORD, Person, console_with, hash};
use reqwest::Method;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// A client whose connections come from `address` (any of 127.0.0.0/8 on loopback).
fn from(address: &str) -> reqwest::Client {
    let ip: IpAddr = address.parse().unwrap();
    reqwest::Client::builder().local_address(ip).build().unwrap()
}

async fn attempt(app: &TestApp, client: &reqwest::Client, body: Value) -> (u16, Value, Option<String>, Option<u64>) {
    let response = client.post(app.url("/api/admin/session")).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (status, response.json().await.unwrap_or(Value::Null), cookie, retry)
}

async fn attempts_recorded(app: &TestApp, name: &str, client: &str) -> i64 {
    let (name, client) = (name.to_owned(), client.to_owned());
    app.state
        .store
        .read(move |db| {
            db.query_optional(
                "SELECT failures FROM admin_sign_in_attempts WHERE user_name = ? AND client = ?",
                epay_proxy::params![name, client],
                |row| row.get::<i64>(0),
            )
        })
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_stranger_failing_with_an_operators_name_never_keeps_the_operator_out() {
    let app = console_with(&[("ADMIN_SIGN_IN_FREE_FAILURES", "3")]).await;
    let (stranger, operator) = (from("127.0.0.2"), from("127.0.0.3"));
    // The attack of the issue: wrong passwords for a known name, then the right one.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(attempt(&app, &stranger, json!({"user": "aigerim", "password": "guess"})).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
    let (status, body, _, retry) = attempt(&app, &stranger, json!({"user": "aigerim", "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "the failing address waits, right password or not");
    let retry = retry.expect("Retry-After");
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(body["message"].as_str().unwrap().contains("from this address"), "{body}");

    // The operator, from anywhere else, gets straight in, and again after the stranger goes on.
    let (status, session, cookie, _) = attempt(&app, &operator, json!({"user": "aigerim", "password": PASSWORD})).await;
    assert_eq!((status, session["user"].as_str()), (200, Some("aigerim")), "{session}");
    assert!(cookie.is_some());
    for _ in 0..3 {
        attempt(&app, &stranger, json!({"user": "aigerim", "password": "guess"})).await;
    }
    assert_eq!(attempt(&app, &operator, json!({"user": "aigerim", "password": PASSWORD})).await.0, 200);
    assert_eq!(attempts_recorded(&app, "aigerim", "127.0.0.3").await, 0, "a sign-in forgets its address's failures");
    assert_eq!(attempts_recorded(&app, "aigerim", "127.0.0.2").await, 10, "the stranger's attempts, each counted");

    // A person who mistyped three times waits two seconds, then gets in from there too.
    let typist = from("127.0.0.7");
    for _ in 0..3 {
        assert_eq!(attempt(&app, &typist, json!({"user": "dana", "password": "typo"})).await.0, 401);
    }
    let (status, _, _, retry) = attempt(&app, &typist, json!({"user": "dana", "password": PASSWORD})).await;
    // 2 s after the third failure (1 if a second ticked over since).
    let retry = retry.expect("Retry-After");
    assert!(status == 429 && (1..=2).contains(&retry), "{status} {retry}");
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    assert_eq!(attempt(&app, &typist, json!({"user": "dana", "password": PASSWORD})).await.0, 200, "after the wait");

    // Maintenance forgets records idle for the window: made-up names do not pile up.
    for name in ["made-up-1", "made-up-2"] {
        attempt(&app, &from("127.0.0.4"), json!({"user": name, "password": "x"})).await;
    }
    let later = epay_proxy::store::now() + 3 * 3600;
    let pruned = app.state.store.write(move |tx| epay_proxy::store::admin::prune_attempts(tx, later - 3600, later)).await.unwrap();
    assert!(pruned >= 2, "{pruned}");
    assert_eq!(attempts_recorded(&app, "made-up-1", "127.0.0.4").await, 0);
}

#[tokio::test]
async fn fifty_concurrent_wrong_guesses_are_counted_as_fifty_and_only_the_free_ones_are_checked() {
    let app = console_with(&[("ADMIN_SIGN_IN_FREE_FAILURES", "3"), ("ADMIN_SIGN_IN_RATE_PER_MINUTE", "1000")]).await;
    let client = from("127.0.0.5");
    let guesses = (0..50).map(|n| {
        let (app, client) = (&app, client.clone());
        async move { attempt(app, &client, json!({"user": "aigerim", "password": format!("guess {n}")})).await.0 }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let waited = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!((checked, waited), (3, 47), "{statuses:?}");
    assert_eq!(attempts_recorded(&app, "aigerim", "127.0.0.5").await, 50);
}

/// What an authenticator app computes (RFC 6238 defaults, as the QR code's link says).
fn totp(secret: &str) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
}

fn code_at(secret: &str, offset_secs: i64) -> String {
    totp(secret).generate((epay_proxy::store::now() + offset_secs) as u64).to_string()
}

#[tokio::test]
async fn an_operator_enrols_a_second_factor_and_then_signs_in_with_a_code_once() {
    let app = console_with(&[("ADMIN_REQUIRE_2FA", "true"), ("ADMIN_SIGN_IN_FREE_FAILURES", "10")]).await;
    let client = from("127.0.0.6");
    // Password only: a session that may enrol and nothing else.
    let (status, session, cookie, _) = attempt(&app, &client, json!({"user": "aigerim", "password": PASSWORD})).await;
    assert_eq!((status, session["mustEnrol"].as_bool(), session["secondFactor"].as_bool()), (200, Some(true), Some(false)), "{session}");
    let me =
        Person { cookie: cookie.unwrap().split(';').next().unwrap().to_owned(), csrf: session["csrfToken"].as_str().unwrap().to_owned() };
    let (status, body) = me.get(&app, "/api/admin/summary").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let refund = me.post(&app, "/api/admin/orders/000000000001/refunds", json!({"amount": "1"}), "k1").await;
    assert_eq!(refund.0, 403);
    // A viewer is not asked to enrol.
    let (status, viewer, _, _) = attempt(&app, &client, json!({"user": "dana", "password": PASSWORD})).await;
    assert_eq!((status, viewer["mustEnrol"].as_bool()), (200, Some(false)));

    let enrolment = me.post(&app, "/api/admin/second-factor", json!({}), "e1").await.1;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauthLink"].as_str().unwrap().starts_with("otpauth://totp/"), "{enrolment}");
    assert!(enrolment["qrCode"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));
    let (status, body) = me.post(&app, "/api/admin/second-factor/confirm", json!({"code": "000000"}), "c0").await;
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_field")), "a wrong first code: {body}");
    let first = code_at(&secret, 0);
    let (status, codes) = me.post(&app, "/api/admin/second-factor/confirm", json!({"code": first}), "c1").await;
    assert_eq!(status, 200, "{codes}");
    let recovery: Vec<String> = codes["recoveryCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(me.get(&app, "/api/admin/summary").await.0, 200, "the enrolled session is let in");
    let (status, again) = me.post(&app, "/api/admin/second-factor", json!({}), "e2").await;
    assert_eq!((status, again["error"].as_str()), (409, Some("operation_not_allowed")), "no silent replacement: {again}");

    // From now on a code is asked for, a wrong one refused, and a code works once.
    let sign_in = |code: Option<String>| {
        let client = client.clone();
        let app = &app;
        async move {
            let mut body = json!({"user": "aigerim", "password": PASSWORD});
            if let Some(code) = code {
                body["code"] = json!(code);
            }
            attempt(app, &client, body).await
        }
    };
    let (status, body, cookie, _) = sign_in(None).await;
    assert_eq!((status, body["error"].as_str(), cookie), (401, Some("second_factor_required"), None), "{body}");
    assert_eq!(sign_in(Some("123456".into())).await.0, 401, "a wrong code");
    let (status, body, _, _) = sign_in(Some(first)).await;
    assert_eq!(status, 401, "the code that confirmed the enrolment is used: {body}");
    let next = code_at(&secret, 30);
    let (status, session, _, _) = sign_in(Some(next.clone())).await;
    assert_eq!((status, session["secondFactor"].as_bool(), session["mustEnrol"].as_bool()), (200, Some(true), Some(false)), "{session}");
    assert_eq!(sign_in(Some(next)).await.0, 401, "replayed");
    // A recovery code works once, typed loosely.
    let loose = recovery[0].to_uppercase().replace('-', " ");
    assert_eq!(sign_in(Some(loose.clone())).await.0, 200);
    assert_eq!(sign_in(Some(loose)).await.0, 401, "used");
    assert!(!app.logs().contains(&secret) && !app.logs().contains(&recovery[1]), "no secret or recovery code in the log");

    // A lost phone: the CLI's reset removes the factor and ends the sessions.
    let had = app.state.store.write(|tx| epay_proxy::store::admin::reset_second_factor(tx, "aigerim")).await.unwrap();
    assert!(had);
    assert_eq!(me.get(&app, "/api/admin/session").await.0, 401);
    let (status, session, _, _) = sign_in(None).await;
    assert_eq!((status, session["mustEnrol"].as_bool()), (200, Some(true)), "enrols again");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn with_admin_listen_the_console_has_its_own_origin_and_the_public_one_has_no_console() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let app = console_with(&[("ADMIN_LISTEN", &listen), ("TRUST_FORWARDED_FOR", "true"), ("TRUSTED_PROXY_HOPS", "1")]).await;
    let dist = app.state.config.server.widget_dir.clone();
    std::fs::create_dir_all(dist.join("admin")).unwrap();
    std::fs::write(dist.join("admin/index.html"), "<!doctype html><title>console</title>").unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>shop</title><script src=payment-api.js></script>").unwrap();
    let console = format!("http://{listen}");

    // The public address has no console, however the path is spelt.
    for path in ["/api/admin/session", "/admin/", "/admin/index.html", "//admin/index.html", "/%61dmin/index.html"] {
        assert_eq!(app.http.get(app.url(path)).send().await.unwrap().status(), 404, "{path}");
    }
    let public = app.http.post(app.url("/api/admin/session")).json(&json!({"user": "aigerim", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(public.status(), 404);

    // The console's address has the console and nothing of the storefront.
    let page = app.http.get(format!("{console}/admin/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("console"));
    assert_eq!(app.http.get(format!("{console}/index.html")).send().await.unwrap().status(), 404);
    assert_eq!(app.http.get(format!("{console}/api/checkout")).send().await.unwrap().status(), 404);
    let response =
        app.http.post(format!("{console}/api/admin/session")).json(&json!({"user": "aigerim", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = response.json::<Value>().await.unwrap()["csrfToken"].as_str().unwrap().to_owned();
    let change = |origin: &str| {
        app.http
            .request(Method::POST, format!("{console}/api/admin/events/msg_x/resend"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("origin", origin)
    };
    assert_eq!(change(&app.base).send().await.unwrap().status(), 403, "the storefront's origin is not the console's");
    let let_in = change(&console).send().await.unwrap();
    assert_eq!(let_in.status(), 404);
    let body: Value = let_in.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("msg_x"), "let in from the console's origin, to find no such event: {body}");

    // A client reaching the console's address directly cannot name its own address through
    // X-Forwarded-For (trusted on the public address here, not on this one).
    for spoofed in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] {
        let form = json!({"user": "dana", "password": "guess"});
        app.http.post(format!("{console}/api/admin/session")).header("x-forwarded-for", spoofed).json(&form).send().await.unwrap();
    }
    assert_eq!(attempts_recorded(&app, "dana", "127.0.0.1").await, 4, "counted under the peer");
    assert_eq!(attempts_recorded(&app, "dana", "198.51.100.1").await, 0);
}

#[tokio::test]
async fn the_session_cookie_is_a_secure_host_cookie_wherever_the_console_is_not_plain_http_loopback() {
    let app = console_with(&[("ADMIN_URL", "https://console.shop.example")]).await;
    let (status, session, cookie, _) = attempt(&app, &app.http, json!({"user": "aigerim", "password": PASSWORD})).await;
    assert_eq!(status, 200, "{session}");
    let cookie = cookie.unwrap();
    assert!(cookie.starts_with("__Host-epay_admin=") && cookie.contains("; Secure") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let me = Person { cookie: format!("__Host-epay_admin={value}"), csrf: session["csrfToken"].as_str().unwrap().to_owned() };
    assert_eq!(me.get(&app, "/api/admin/session").await.0, 200);
    // The same value under the plain name (planted by a sibling subdomain, say) is not read.
    let planted = Person { cookie: format!("epay_admin={value}"), csrf: me.csrf.clone() };
    assert_eq!(planted.get(&app, "/api/admin/session").await.0, 401);
    let _ = hash();
}

/// `ADMIN_REQUIRE_2FA` applies to what a person is now, not what they were at sign-in: a viewer
/// made an operator by a deploy must enrol before anything else, in the session they have.
#[tokio::test]
async fn a_viewer_made_an_operator_must_enrol_in_the_session_they_already_have() {
    let app = console_with(&[("ADMIN_REQUIRE_2FA", "true")]).await;
    let (status, session, cookie, _) = attempt(&app, &app.http, json!({"user": "dana", "password": PASSWORD})).await;
    assert_eq!((status, session["mustEnrol"].as_bool()), (200, Some(false)), "a viewer: {session}");
    let dana =
        Person { cookie: cookie.unwrap().split(';').next().unwrap().to_owned(), csrf: session["csrfToken"].as_str().unwrap().to_owned() };
    assert_eq!(dana.get(&app, "/api/admin/summary").await.0, 200);
    let users = format!("aigerim:operator:{h};dana:operator:{h}", h = hash());
    let app = app.restart_with(&[("ADMIN_USERS", &users)]).await;
    let (status, session) = dana.get(&app, "/api/admin/session").await;
    assert_eq!((status, session["role"].as_str(), session["mustEnrol"].as_bool()), (200, Some("operator"), Some(true)), "{session}");
    assert_eq!(dana.get(&app, "/api/admin/summary").await.0, 403, "enrol first");
    assert_eq!(dana.post(&app, "/api/admin/second-factor", json!({}), "e").await.0, 200, "enrolling is open to her");
}

/// The code step of an enrolled operator is not a failure of theirs: while strangers use up
/// the budget of attempts from failing addresses, the operator still signs in (password, then
/// code), and their own address holds no failure after.
#[tokio::test]
async fn an_operator_with_a_second_factor_signs_in_while_strangers_use_up_the_retry_budget() {
    let app = console_with(&[("ADMIN_SIGN_IN_RETRIES_PER_MINUTE", "3"), ("ADMIN_SIGN_IN_RATE_PER_MINUTE", "1000")]).await;
    let operator = from("127.0.0.8");
    let (_, session, cookie, _) = attempt(&app, &operator, json!({"user": "aigerim", "password": PASSWORD})).await;
    let me =
        Person { cookie: cookie.unwrap().split(';').next().unwrap().to_owned(), csrf: session["csrfToken"].as_str().unwrap().to_owned() };
    let secret = me.post(&app, "/api/admin/second-factor", json!({}), "e").await.1["secret"].as_str().unwrap().to_owned();
    let first = code_at(&secret, 0);
    assert_eq!(me.post(&app, "/api/admin/second-factor/confirm", json!({"code": first}), "c").await.0, 200);

    let stranger = from("127.0.0.9");
    let mut budget_spent = false;
    for n in 0..12 {
        let (status, body, _, _) = attempt(&app, &stranger, json!({"user": format!("nobody-{}", n % 2), "password": "x"})).await;
        budget_spent |= status == 429 && body["message"].as_str().unwrap_or("").contains("many sign-ins are failing");
    }
    assert!(budget_spent, "the strangers used up the budget of failing addresses");
    let (status, body, _, _) = attempt(&app, &operator, json!({"user": "aigerim", "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("second_factor_required")), "{body}");
    assert_eq!(attempts_recorded(&app, "aigerim", "127.0.0.8").await, 0, "the right password asking for the code is no failure");
    let (status, body, _, _) =
        attempt(&app, &operator, json!({"user": "aigerim", "password": PASSWORD, "code": code_at(&secret, 30)})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attempts_recorded(&app, "aigerim", "127.0.0.8").await, 0);
}
