//! The sandbox as a library, served on a loopback port of its own, as any test that needs an
//! ePay can use it: its token endpoint is as strict as ePay's, its status API wants a service
//! token, its pages carry their own Content-Security-Policy.

use std::sync::Arc;

use epay_sandbox::{Merchant, Sandbox, Settings};
use serde_json::Value;

const SECRET: &str = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG";
const P2P_TERMINAL: &str = "40a348cb-68a3-45d5-9002-a4836d79c3b5";
const CARD_TERMINAL: &str = "67e34d63-102f-4bd1-898e-370781d0074d";
const SHOP: &str = "http://127.0.0.1:1";

struct Served {
    base: String,
    http: reqwest::Client,
}

async fn serve() -> Served {
    let settings = Settings {
        merchant: Merchant {
            client_id: "test".into(),
            client_secret: SECRET.to_owned().into(),
            terminals: vec![CARD_TERMINAL.into(), P2P_TERMINAL.into()],
        },
        notify_origins: vec![SHOP.into()],
        return_origins: vec![SHOP.into()],
    };
    let router = axum::Router::new().nest("/sandbox", epay_sandbox::router(Arc::new(Sandbox::new(settings))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Served { base, http: reqwest::Client::new() }
}

impl Served {
    async fn token(&self, fields: &[(&str, &str)]) -> (u16, Value) {
        let response = self.http.post(format!("{}/sandbox/oauth2/token", self.base)).form(fields).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

#[tokio::test]
async fn the_token_endpoint_is_as_strict_as_epay() {
    let sandbox = serve().await;
    let post_link = format!("{SHOP}/api/epay/postlink");
    let base = [
        ("grant_type", "client_credentials"),
        ("scope", "transfer"),
        ("client_id", "test"),
        ("client_secret", SECRET),
        ("terminal", P2P_TERMINAL),
        ("invoiceID", "000000001"),
        ("amount", "100"),
        ("currency", "KZT"),
        ("postLink", post_link.as_str()),
        ("secret_hash", "JDKCNDDGGDTPSKJD"),
    ];
    let (status, body) = sandbox.token(&base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["scope"], "transfer");

    let with = |name: &'static str, value: &'static str| {
        let mut fields = base.to_vec();
        fields.retain(|(n, _)| *n != name);
        fields.push((name, value));
        fields
    };
    for (fields, status) in [
        (with("invoiceID", "INV-0001"), 400),
        (with("invoiceID", "12345"), 400),
        (with("amount", "0"), 400),
        (with("currency", "RUB"), 400),
        (with("client_secret", "wrong"), 401),
        (with("client_id", "other"), 401),
        (with("terminal", "00000000-0000-0000-0000-000000000000"), 400),
        (with("grant_type", "password"), 400),
        (with("scope", "everything"), 400),
        (with("postLink", "not a url"), 400),
        // The sandbox notifies nobody but the shop it serves.
        (with("postLink", "https://example.kz/"), 400),
        (with("failurePostLink", "http://10.0.0.1/hook"), 400),
    ] {
        let (got, body) = sandbox.token(&fields).await;
        assert_eq!(got, status, "{fields:?}: {body}");
        assert!(body["error"].is_string());
    }
    // The card terminal belongs to the merchant too.
    assert_eq!(sandbox.token(&with("terminal", CARD_TERMINAL)).await.0, 200);
    // The merchant document's transfer token names no invoice, amount, currency or postLink
    // (the payment object does); a card payment's token must name them.
    let seed = [
        ("grant_type", "client_credentials"),
        ("scope", "transfer"),
        ("client_id", "test"),
        ("client_secret", SECRET),
        ("terminal", P2P_TERMINAL),
        ("secret_hash", "JDKCNDDGGDTPSKJD"),
    ];
    let (status, body) = sandbox.token(&seed).await;
    assert_eq!(status, 200, "{body}");
    let mut card = seed.to_vec();
    card[1] = ("scope", "payment");
    assert_eq!(sandbox.token(&card).await.0, 400);
    // Multipart works too, and a service token needs no invoice.
    let form = reqwest::multipart::Form::new()
        .text("grant_type", "client_credentials")
        .text("scope", "webapi usermanagement email_send verification statement statistics payment")
        .text("client_id", "test")
        .text("client_secret", SECRET)
        .text("terminal", P2P_TERMINAL);
    let response = sandbox.http.post(format!("{}/sandbox/oauth2/token", sandbox.base)).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_status_api_wants_a_service_token_and_pages_carry_their_own_policy() {
    let sandbox = serve().await;
    let status = sandbox.http.get(format!("{}/sandbox/api/check-status/p2p/transaction/000000001", sandbox.base)).send().await.unwrap();
    assert_eq!(status.status(), 401);
    assert_eq!(status.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");

    let page = sandbox.http.get(format!("{}/sandbox/payform/?params=nonsense", sandbox.base)).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors *") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(page.headers().get("x-frame-options").is_none(), "the overlay frames the payment page");
}
