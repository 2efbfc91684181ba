//! The console in headless Chromium (wasm-bindgen-test): the app mounted on the test page,
//! the proxy played by a fake `window.fetch` that records every request and answers per route.
//! The console against the real proxy is covered end to end (e2e/console.test.mjs).
#![cfg(target_arch = "wasm32")]

use epay_console::format::{local_time, money};
use epay_console::i18n::Lang;
use epay_console::route::{OrderFilter, Route};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function install_fake_fetch(routes) {
  window.__requests = [];
  window.fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const recorded = { method: request.method, path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: null };
    window.__requests.push(recorded);
    if (request.method !== "GET") recorded.body = await request.text();
    const key = request.method + " " + url.pathname;
    const answer = routes[key] ?? { status: 404, body: { error: "not_found", message: "no such route" } };
    const next = Array.isArray(answer) ? (answer.length > 1 ? answer.shift() : answer[0]) : answer;
    return new Response(JSON.stringify(next.body), { status: next.status, headers: { "content-type": "application/json" } });
  };
}
export function requests() { return JSON.stringify(window.__requests); }
export function text_of(selector) { const e = document.querySelector(selector); return e ? e.textContent : null; }
export function count(selector) { return document.querySelectorAll(selector).length; }
export function set_input(selector, value) {
  const e = document.querySelector(selector);
  e.value = value;
  e.dispatchEvent(new Event("input", { bubbles: true }));
}
export function submit(selector) { document.querySelector(selector).requestSubmit(); }
export async function sleep(ms) { await new Promise((r) => setTimeout(r, ms)); }
export function clear_page() { document.querySelectorAll(".console").forEach((e) => e.remove()); }
export function click(selector) { document.querySelector(selector).click(); }
export function attribute(selector, name) { const e = document.querySelector(selector); return e ? e.getAttribute(name) : null; }
"#)]
extern "C" {
    fn install_fake_fetch(routes: JsValue);
    fn requests() -> String;
    fn text_of(selector: &str) -> Option<String>;
    fn count(selector: &str) -> u32;
    fn set_input(selector: &str, value: &str);
    fn submit(selector: &str);
    async fn sleep(ms: u32);
    fn clear_page();
    fn click(selector: &str);
    fn attribute(selector: &str, name: &str) -> Option<String>;
}

async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        sleep(20).await;
    }
    panic!("{what} did not happen");
}

fn routes(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
async fn signs_in_sends_the_csrf_token_and_lists_orders() {
    let _ = web_sys::window().unwrap().local_storage().unwrap().unwrap().set_item("epay-console-lang", "en");
    let order = r#"{"invoiceId":"000000123456","orderKey":"k","source":"merchant","status":"paid","state":"paid","version":3,"amount":"1500","currency":"KZT","description":"Tea","reference":"r-1","method":"pay","accountId":"","email":"","phone":"","language":"ru","cardSave":false,"createdAt":"2026-12-04T04:15:09Z","refundedAmount":"0","payment":{"cardMask":"411111...1111"}}"#;
    install_fake_fetch(routes(&format!(
        r#"{{
        "GET /api/admin/session": [{{"status": 401, "body": {{"error": "unauthorized", "message": "sign in"}}}}],
        "POST /api/admin/session": [
            {{"status": 401, "body": {{"error": "unauthorized", "message": "wrong name or password"}}}},
            {{"status": 200, "body": {{"user": "aigerim", "role": "viewer", "csrfToken": "CSRF-1", "expiresAt": "2026-12-04T12:00:00Z"}}}}
        ],
        "GET /api/admin/summary": {{"status": 200, "body": {{"today": {{"from": "x", "paid": {{"count": 2, "amount": "3000"}}, "failed": {{"count": 0, "amount": "0"}}, "refunded": {{"count": 0, "amount": "0"}}, "waiting": {{"count": 0, "amount": "0"}}, "review": {{"count": 1, "amount": "700"}}, "expired": {{"count": 0, "amount": "0"}}}}, "week": {{"from": "x", "paid": {{"count": 2, "amount": "3000"}}, "failed": {{"count": 0, "amount": "0"}}, "refunded": {{"count": 0, "amount": "0"}}, "waiting": {{"count": 0, "amount": "0"}}, "review": {{"count": 1, "amount": "700"}}, "expired": {{"count": 0, "amount": "0"}}}}, "reviewsOpen": 1, "webhookBacklog": 0, "oldestUndeliveredSecs": 0}}}},
        "GET /api/admin/orders": {{"status": 200, "body": {{"orders": [{order}]}}}},
        "DELETE /api/admin/session": {{"status": 204, "body": null}}
    }}"#
    )));
    let _ = web_sys::window().unwrap().location().set_hash("#/");
    clear_page();
    epay_console::mount();
    until("the sign-in form", || count("input[name=user]") == 1).await;

    set_input("input[name=user]", "aigerim");
    set_input("input[name=password]", "nope");
    submit(".sign-in form");
    until("the refusal", || text_of(".problem").is_some_and(|t| t.contains("Wrong name or password"))).await;
    set_input("input[name=password]", "right");
    submit(".sign-in form");
    until("the header", || text_of("[data-who]").is_some_and(|t| t == "aigerim · viewer")).await;
    until("the figures", || text_of("[data-figure=paid] strong").as_deref() == Some("2")).await;
    assert_eq!(text_of("[data-reviews] strong").as_deref(), Some("1"));

    let _ = web_sys::window().unwrap().location().set_hash("#/orders?status=paid&q=4111");
    until("the order row", || count("tr[data-invoice='000000123456']") == 1).await;
    let sent: serde_json::Value = serde_json::from_str(&requests()).unwrap();
    let sent = sent.as_array().unwrap();
    let list = sent.iter().find(|r| r["path"].as_str().unwrap().starts_with("/api/admin/orders")).unwrap();
    assert_eq!(list["path"], "/api/admin/orders?limit=50&status=paid&q=4111");
    let sign_in = sent.iter().rfind(|r| r["method"] == "POST").unwrap();
    assert_eq!(sign_in["body"], r#"{"password":"right","user":"aigerim"}"#);

    // Sign-out sends the CSRF token the sign-in gave.
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .query_selector("[data-sign-out]")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    until("the sign-in again", || count("input[name=user]") == 1).await;
    let sent: serde_json::Value = serde_json::from_str(&requests()).unwrap();
    let out = sent.as_array().unwrap().iter().find(|r| r["method"] == "DELETE").unwrap();
    assert_eq!(out["headers"]["x-csrf-token"], "CSRF-1");
}

/// An operator who must enrol (`ADMIN_REQUIRE_2FA`) sees the enrolment whatever the route:
/// the QR code, the code sent with the CSRF token, the recovery codes, then the console.
#[wasm_bindgen_test]
async fn an_operator_who_must_enrol_sees_only_the_enrolment_until_done() {
    let _ = web_sys::window().unwrap().local_storage().unwrap().unwrap().set_item("epay-console-lang", "en");
    install_fake_fetch(routes(
        r#"{
        "GET /api/admin/session": [
            {"status": 200, "body": {"user": "berik", "role": "operator", "csrfToken": "CSRF-2", "expiresAt": "2026-12-04T12:00:00Z", "secondFactor": false, "mustEnrol": true}},
            {"status": 200, "body": {"user": "berik", "role": "operator", "csrfToken": "CSRF-2", "expiresAt": "2026-12-04T12:00:00Z", "secondFactor": true, "mustEnrol": false}}
        ],
        "POST /api/admin/second-factor": {"status": 200, "body": {"otpauthLink": "otpauth://totp/x", "qrCode": "data:image/svg+xml;base64,PHN2Zy8+", "secret": "JBSWY3DPEHPK3PXP"}},
        "POST /api/admin/second-factor/confirm": [
            {"status": 422, "body": {"error": "invalid_field", "message": "that is not the app's current code"}},
            {"status": 200, "body": {"recoveryCodes": ["abcde-fghjk", "mnpqr-stuvw"]}}
        ],
        "GET /api/admin/summary": {"status": 403, "body": {"error": "forbidden", "message": "enrol first"}}
    }"#,
    ));
    let _ = web_sys::window().unwrap().location().set_hash("#/orders");
    clear_page();
    epay_console::mount();
    until("the enrolment", || count("[data-enrol]") == 1).await;
    assert_eq!(count("[data-second-factor-link]"), 0);
    assert!(text_of(".second-factor .notice").is_some_and(|t| t.contains("Operators sign in with a second factor")));
    click("[data-enrol]");
    until("the QR code", || count("img.qr") == 1).await;
    assert_eq!(attribute("img.qr", "src").as_deref(), Some("data:image/svg+xml;base64,PHN2Zy8+"));
    assert_eq!(text_of("[data-secret]").as_deref(), Some("JBSWY3DPEHPK3PXP"));
    set_input(".second-factor input[name=code]", "000000");
    submit(".second-factor form");
    until("the refusal", || text_of(".second-factor .problem").is_some_and(|t| t.contains("current code"))).await;
    set_input(".second-factor input[name=code]", "123456");
    submit(".second-factor form");
    until("the recovery codes", || count("[data-recovery-codes] li") == 2).await;
    let sent: serde_json::Value = serde_json::from_str(&requests()).unwrap();
    let confirms: Vec<&serde_json::Value> =
        sent.as_array().unwrap().iter().filter(|r| r["path"] == "/api/admin/second-factor/confirm").collect();
    assert_eq!(confirms.last().unwrap()["body"], r#"{"code":"123456"}"#);
    assert_eq!(confirms.last().unwrap()["headers"]["x-csrf-token"], "CSRF-2");
    click("[data-codes-saved]");
    until("the console", || count("[data-enrol]") == 0 && count(".second-factor") == 0).await;
}

#[wasm_bindgen_test]
fn the_pure_parts_behave_alike_in_the_browser() {
    let filter = OrderFilter { status: "review".into(), q: "Айгерим".into(), ..OrderFilter::default() };
    assert_eq!(Route::parse(&Route::Orders(filter.clone()).hash()), Route::Orders(filter));
    assert_eq!(money("4200.5", "KZT", Lang::Ru), "4\u{a0}200,50\u{a0}₸");
    assert_eq!(local_time("2026-12-04T19:30:00Z"), "05.12.2026 00:30");
}
