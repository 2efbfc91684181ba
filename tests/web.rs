//! The widget in headless Chromium (wasm-bindgen-test). The proxy is played by a fake
//! `window.fetch` that records every request and answers per route; ePay's script by a fake
//! `halyk` that records every call. The whole flow against the real proxy and the real
//! sandbox script is covered by the end-to-end tests (e2e/).
#![cfg(target_arch = "wasm32")]

use epay_api_types::{Amount, CheckoutRequest, CheckoutResponse, ErrorCode, Language, OrderStatus, OrderView, PaymentMethod, WidgetConfig};
use epay_widget::{dom, loader, wire};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function install_fake_fetch() {
  window.__requests = [];
  window.__routes = {};
  window.fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    // Recorded at the call, before any await: a test sees a request the moment it leaves.
    const recorded = { method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers), body: null };
    window.__requests.push(recorded);
    if (request.method === "POST") recorded.body = await request.text();
    const queue = window.__routes[request.method + " " + url.pathname];
    if (!queue) return new Response('{"error":"not_found","message":"no such route"}', { status: 404, headers: { "content-type": "application/json" } });
    const answer = queue.length > 1 ? queue.shift() : queue[0];
    if (answer === "network") throw new TypeError("Failed to fetch");
    if (answer.delay) await new Promise((done) => setTimeout(done, answer.delay));
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "content-type": "application/json" } });
  };
}
// Answers for a route, used in order; the last one repeats.
export function route(key, answers) { window.__routes[key] = answers; }
export function requests() { return window.__requests; }
export function install_fake_halyk() {
  window.__halykCalls = [];
  const record = (method) => (object, callback) => { window.__halykCalls.push({ method, object }); window.__halykCallback = callback; };
  window.halyk = { p2p: record("p2p"), pay: record("pay"), oct: record("oct"), aft: record("aft"), showPaymentWidget: record("showPaymentWidget") };
}
export function remove_halyk() { delete window.halyk; }
export function halyk_calls() { return window.__halykCalls; }
export function call_widget_callback() { window.__halykCallback({ success: true }); }
export function script_url(source) { return URL.createObjectURL(new Blob([source], { type: "text/javascript" })); }
export function dead_url() { const url = URL.createObjectURL(new Blob(["x"])); URL.revokeObjectURL(url); return url; }
export function count_scripts(src) { return [...document.querySelectorAll("script")].filter((s) => s.src === src).length; }
export function stuck_script(src) { const s = document.createElement("script"); s.type = "text/plain"; s.src = src; document.head.append(s); }
export function post_message(data, origin) { window.dispatchEvent(new MessageEvent("message", { data, origin })); }
export function listen_messages() { window.__seen = []; window.addEventListener("message", (e) => window.__seen.push(e.data)); }
export function seen_messages() { return window.__seen; }
export function type_of(value) { return typeof value; }
// Every epay:* event that bubbles up to the document: its name and detail.
export function listen_widget_events() {
  window.__events = [];
  if (window.__listening) return;
  window.__listening = true;
  for (const name of ["ready", "redirect", "paid", "failed", "pending", "error"]) {
    document.addEventListener("epay:" + name, (e) => window.__events.push({ name: e.type, detail: e.detail, host: e.target }));
  }
}
export function widget_events() { return window.__events; }
"#)]
extern "C" {
    fn install_fake_fetch();
    fn route(key: &str, answers: JsValue);
    fn requests() -> js_sys::Array;
    fn install_fake_halyk();
    fn remove_halyk();
    fn halyk_calls() -> js_sys::Array;
    fn call_widget_callback();
    fn script_url(source: &str) -> String;
    fn dead_url() -> String;
    fn count_scripts(src: &str) -> u32;
    fn stuck_script(src: &str);
    fn post_message(data: &str, origin: &str);
    fn listen_messages();
    fn seen_messages() -> js_sys::Array;
    fn type_of(value: &JsValue) -> String;
    fn listen_widget_events();
    fn widget_events() -> js_sys::Array;
}

const PAYFORM_ORIGIN: &str = "https://test-epay.homebank.kz";

/// An answer for `route`.
fn answer(status: u16, body: serde_json_like::Value) -> JsValue {
    let object = js_sys::Object::new();
    dom::set(&object, "status", &JsValue::from(status));
    dom::set(&object, "body", &body.0);
    object.into()
}

/// `answer`, given after `delay_ms`.
fn answer_after(delay_ms: u32, status: u16, body: serde_json_like::Value) -> JsValue {
    let delayed = answer(status, body);
    dom::set(&delayed, "delay", &JsValue::from(delay_ms));
    delayed
}

fn answers(list: Vec<JsValue>) -> JsValue {
    list.into_iter().collect::<js_sys::Array>().into()
}

/// Builds JS values from Rust literals through serde-wasm-bindgen.
mod serde_json_like {
    pub struct Value(pub wasm_bindgen::JsValue);
    pub fn of<T: serde::Serialize>(value: &T) -> Value {
        Value(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap())
    }
}
use serde_json_like::of;

fn config(sandbox: bool) -> WidgetConfig {
    WidgetConfig {
        script_url: "https://test-epay.homebank.kz/payform/payment-api.js".into(),
        payform_origin: PAYFORM_ORIGIN.into(),
        currency: "KZT".into(),
        min_amount: "100".into(),
        max_amount: "500000".into(),
        sandbox,
    }
}

#[derive(Serialize)]
struct Auth {
    access_token: &'static str,
    expires_in: u32,
    refresh_token: &'static str,
    scope: &'static str,
    token_type: &'static str,
}

fn checkout_response(method: PaymentMethod) -> CheckoutResponse<Auth> {
    CheckoutResponse {
        invoice_id: "123456789012".into(),
        order_key: "K3y".into(),
        amount: "1500.50".into(),
        currency: "KZT".into(),
        terminal: "40a348cb-68a3-45d5-9002-a4836d79c3b5".into(),
        description: "Order 42".into(),
        language: "KZ".into(),
        account_id: "user-7".into(),
        email: "payer@example.kz".into(),
        phone: "77011234567".into(),
        card_save: true,
        method,
        back_link: "https://shop.kz/?order=123456789012&lang=kk#key=K3y".into(),
        failure_back_link: "https://shop.kz/?order=123456789012&lang=kk#key=K3y".into(),
        post_link: "https://pay.shop.kz/api/epay/postlink".into(),
        failure_post_link: "https://pay.shop.kz/api/epay/failure-postlink".into(),
        script_url: config(false).script_url,
        payform_origin: PAYFORM_ORIGIN.into(),
        auth: Auth { access_token: "DCEB8O_ZM5U7SO_T_U5EJQ", expires_in: 7200, refresh_token: "", scope: "transfer", token_type: "Bearer" },
    }
}

/// Mounts a widget on a fresh element with these `data-*` attributes.
fn mount(attributes: &[(&str, &str)]) -> HtmlElement {
    let host: HtmlElement = dom::document().create_element("div").unwrap().unchecked_into();
    host.set_attribute("data-epay-checkout", "").unwrap();
    host.set_attribute("data-proxy", "https://pay.shop.kz").unwrap();
    for (name, value) in attributes {
        host.set_attribute(name, value).unwrap();
    }
    dom::document().body().unwrap().append_child(&host).unwrap();
    epay_widget::mount(host.clone());
    host
}

fn find(host: &HtmlElement, selector: &str) -> HtmlElement {
    host.query_selector(selector).unwrap().unwrap_or_else(|| panic!("no {selector}")).unchecked_into()
}

fn text(host: &HtmlElement, selector: &str) -> String {
    find(host, selector).text_content().unwrap_or_default()
}

fn hidden(host: &HtmlElement, selector: &str) -> bool {
    find(host, selector).has_attribute("hidden")
}

fn type_into(host: &HtmlElement, selector: &str, value: &str) {
    let input: HtmlInputElement = find(host, selector).unchecked_into();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

/// Waits until `condition` holds (up to 3 s), failing with `what`.
async fn until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..300 {
        if condition() {
            return;
        }
        dom::sleep(10).await;
    }
    panic!("timed out waiting for: {what}");
}

fn get(object: &JsValue, name: &str) -> JsValue {
    dom::get(object, name)
}

fn string(object: &JsValue, name: &str) -> String {
    get(object, name).as_string().unwrap_or_else(|| panic!("{name} is not a string"))
}

/// An order of 1 500 ₸ the proxy says is paid, without a card or a method.
fn paid_view() -> OrderView {
    OrderView {
        status: OrderStatus::Paid,
        amount: "1500".into(),
        currency: "KZT".into(),
        card_mask: None,
        failure_reason: None,
        failure_code: None,
        method: None,
        description: None,
        payable: false,
        allow_save_card: false,
        receipt_url: None,
        receipt_due: false,
    }
}

/// Fresh fakes for a test: fetch with the config route, and halyk.
fn setup(sandbox: bool) {
    install_fake_fetch();
    install_fake_halyk();
    route("GET /api/widget-config", answers(vec![answer(200, of(&config(sandbox)))]));
}

#[wasm_bindgen_test]
async fn mounts_with_a_preset_amount_in_russian_by_default() {
    setup(true);
    let host = mount(&[("data-amount", "1500"), ("data-description", "Order 42")]);
    until("config loaded", || !hidden(&host, ".epay-sandbox")).await;
    assert_eq!(text(&host, ".epay-total strong"), "1\u{a0}500\u{a0}₸");
    // p2p, the default method, is a card-to-card transfer: the words say so.
    assert_eq!(text(&host, ".epay-pay").split_whitespace().next(), Some("Перевести"));
    assert_eq!(text(&host, ".epay-total span"), "К переводу");
    assert!(hidden(&host, ".epay-amount") && hidden(&host, ".epay-comment"), "preset amount and description hide the inputs");
    assert!(!hidden(&host, ".epay-checkout") && hidden(&host, ".epay-outcome"));
    assert_eq!(text(&host, ".epay-sandbox"), "Тестовый режим: деньги не списываются");
    assert_eq!(find(&host, ".epay").get_attribute("lang").as_deref(), Some("ru"));
    assert_eq!(host.get_attribute("data-epay-checkout").as_deref(), Some("mounted"));
    // Mounting the same element again does nothing.
    epay_widget::mount(host.clone());
    assert_eq!(host.query_selector_all(".epay").unwrap().length(), 1);
}

#[wasm_bindgen_test]
async fn validates_the_amount_as_the_payer_types() {
    setup(false);
    let host = mount(&[]);
    until("config loaded", || requests().length() > 0).await;
    dom::sleep(20).await;
    assert!(!hidden(&host, ".epay-amount") && !hidden(&host, ".epay-comment"));
    let input = format!("#{}", find(&host, ".epay-amount input").id());
    let error = || text(&host, ".epay-amount .epay-error");
    let invalid = || find(&host, &input).get_attribute("aria-invalid").unwrap_or_default();
    assert_eq!(error(), "", "nothing is shown before the payer types");

    for (typed, message) in [
        ("abc", "Введите сумму цифрами, например 1500 или 1500,50"),
        ("10.555", "Не больше двух знаков после запятой"),
        ("-5", "Сумма должна быть больше нуля"),
        ("", "Введите сумму"),
        ("50", "Минимальная сумма — 100\u{a0}₸"),
        ("600000", "Максимальная сумма — 500\u{a0}000\u{a0}₸"),
    ] {
        type_into(&host, &input, typed);
        until(&format!("message for {typed:?}"), || error() == message).await;
        assert_eq!(invalid(), "true");
    }
    type_into(&host, &input, "1 500,50");
    until("no message", || error().is_empty()).await;
    assert_eq!(invalid(), "false");
    // The error is tied to the input.
    let described = find(&host, &input).get_attribute("aria-describedby").unwrap();
    assert_eq!(find(&host, ".epay-amount .epay-error").id(), described);

    // Pay with an invalid amount sends nothing.
    type_into(&host, &input, "abc");
    let before = requests().length();
    find(&host, ".epay-pay").click();
    dom::sleep(30).await;
    assert_eq!(requests().length(), before);
}

#[wasm_bindgen_test]
async fn pays_with_exactly_the_payment_object_of_the_seed() {
    setup(false);
    route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::P2p)))]));
    let host = mount(&[
        ("data-amount", "1500.50"),
        ("data-description", "Order 42"),
        ("data-lang", "kk"),
        ("data-account-id", "user-7"),
        ("data-email", "payer@example.kz"),
        ("data-phone", "+7 701 123 45 67"),
        ("data-card-save", "true"),
    ]);
    // The page offers to save the card; the payer agrees.
    assert!(!hidden(&host, ".epay-save"), "the consent is shown");
    find(&host, ".epay-save input").click();
    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;

    let call = halyk_calls().get(0);
    assert_eq!(string(&call, "method"), "p2p");
    let object = get(&call, "object");
    let expected = checkout_response(PaymentMethod::P2p);
    for (field, value) in [
        ("invoiceId", &expected.invoice_id),
        ("backLink", &expected.back_link),
        ("failureBackLink", &expected.failure_back_link),
        ("postLink", &expected.post_link),
        ("failurePostLink", &expected.failure_post_link),
        ("language", &expected.language),
        ("description", &expected.description),
        ("accountId", &expected.account_id),
        ("terminal", &expected.terminal),
        ("currency", &expected.currency),
        ("phone", &expected.phone),
        ("email", &expected.email),
    ] {
        assert_eq!(&string(&object, field), value, "{field}");
    }
    assert_eq!(get(&object, "amount").as_f64(), Some(1500.5));
    assert_eq!(type_of(&get(&object, "amount")), "number");
    assert_eq!(get(&object, "cardSave"), JsValue::TRUE);
    assert_eq!(type_of(&get(&object, "cardSave")), "boolean");
    let auth = get(&object, "auth");
    assert_eq!(type_of(&auth), "object");
    assert_eq!(string(&auth, "access_token"), "DCEB8O_ZM5U7SO_T_U5EJQ");
    assert_eq!(get(&auth, "expires_in").as_f64(), Some(7200.0));
    assert_eq!(string(&auth, "token_type"), "Bearer");
    assert_eq!(js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>()).length(), 15, "exactly the seed's fields");

    // What went to the proxy: the amount as exact text, the widget's language and options.
    let request = requests().iter().find(|r| string(r, "path") == "/api/checkout").unwrap();
    let body = js_sys::JSON::parse(&string(&request, "body")).unwrap();
    assert_eq!(string(&body, "amount"), "1500.50");
    assert_eq!(string(&body, "language"), "kk");
    assert_eq!(string(&body, "method"), "p2p");
    assert_eq!(string(&body, "phone"), "+7 701 123 45 67");
    assert_eq!(get(&body, "cardSave"), JsValue::TRUE);
    let key = string(&get(&request, "headers"), "idempotency-key");
    assert_eq!(key.len(), 32);
    assert_eq!(find(&host, ".epay-pay").get_attribute("aria-busy").as_deref(), Some("true"));
    assert_eq!(text(&host, ".epay-status"), "Төлем беті ашылуда…");
}

#[wasm_bindgen_test]
async fn the_method_option_picks_the_halyk_function() {
    for (name, method) in [("aft", PaymentMethod::Aft), ("oct", PaymentMethod::Oct), ("pay", PaymentMethod::Pay)] {
        setup(false);
        route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(method)))]));
        let host = mount(&[("data-amount", "100"), ("data-method", name)]);
        find(&host, ".epay-pay").click();
        until("halyk called", || halyk_calls().length() == 1).await;
        assert_eq!(string(&halyk_calls().get(0), "method"), name);
        let request = requests().iter().find(|r| string(r, "path") == "/api/checkout").unwrap();
        assert_eq!(string(&js_sys::JSON::parse(&string(&request, "body")).unwrap(), "method"), name);
    }
}

#[wasm_bindgen_test]
async fn a_double_click_sends_one_request_and_a_retry_reuses_the_key() {
    setup(false);
    route(
        "POST /api/checkout",
        answers(vec![answer(502, of(&serde_json_map("upstream_error"))), answer(200, of(&checkout_response(PaymentMethod::P2p)))]),
    );
    let host = mount(&[("data-amount", "100")]);
    let pay = find(&host, ".epay-pay");
    pay.click();
    pay.click();
    until("problem shown", || !hidden(&host, ".epay-problem")).await;
    let checkouts = || requests().iter().filter(|r| string(r, "path") == "/api/checkout").collect::<Vec<_>>();
    assert_eq!(checkouts().len(), 1, "the second click did nothing while busy");
    find(&host, ".epay-retry").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    let keys: Vec<String> = checkouts().iter().map(|r| string(&get(r, "headers"), "idempotency-key")).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "Retry reuses the attempt's Idempotency-Key");
}

#[wasm_bindgen_test]
async fn the_request_leaves_at_the_click_and_the_busy_state_shows_while_it_is_out() {
    setup(false);
    route("POST /api/checkout", answers(vec![answer_after(600, 200, of(&checkout_response(PaymentMethod::P2p)))]));
    let host = mount(&[("data-amount", "100")]);
    let pay = find(&host, ".epay-pay");
    pay.click();
    let checkouts = || requests().iter().filter(|r| string(r, "path") == "/api/checkout").count();
    assert_eq!(checkouts(), 1, "the checkout left within the click, before any re-render");
    assert!(!pay.has_attribute("disabled"), "an answer within 100 ms goes straight to the hand-over");
    until("the busy state shown while the answer is out", || {
        pay.has_attribute("disabled") && pay.get_attribute("aria-busy").as_deref() == Some("true")
    })
    .await;
    assert_eq!(halyk_calls().length(), 0);
    pay.click();
    until("halyk called", || halyk_calls().length() == 1).await;
    assert_eq!(checkouts(), 1);
}

#[wasm_bindgen_test]
async fn a_form_submit_pays_too_and_only_once() {
    setup(false);
    route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::P2p)))]));
    let host = mount(&[("data-amount", "100")]);
    let form = find(&host, "form");
    let request_submit: js_sys::Function = get(&form, "requestSubmit").unchecked_into();
    request_submit.call0(&form).unwrap();
    request_submit.call0(&form).unwrap();
    until("halyk called", || halyk_calls().length() == 1).await;
    assert_eq!(requests().iter().filter(|r| string(r, "path") == "/api/checkout").count(), 1);
}

#[wasm_bindgen_test]
async fn the_settings_widget_js_fetched_are_used_without_a_second_request() {
    setup(true);
    let host: HtmlElement = dom::document().create_element("div").unwrap().unchecked_into();
    host.set_attribute("data-proxy", "https://pay.shop.kz").unwrap();
    host.set_attribute("data-amount", "100").unwrap();
    // What widget.js does: the settings' fetch is under way before the wasm mounts.
    dom::set(&host, "epayConfig", &dom::window().fetch_with_str("https://pay.shop.kz/api/widget-config"));
    dom::document().body().unwrap().append_child(&host).unwrap();
    epay_widget::mount(host.clone());
    until("the sandbox notice from the settings", || !hidden(&host, ".epay-sandbox")).await;
    assert_eq!(requests().iter().filter(|r| string(r, "path") == "/api/widget-config").count(), 1);
}

fn serde_json_map(code: &str) -> std::collections::BTreeMap<&'static str, String> {
    std::collections::BTreeMap::from([("error", code.to_owned()), ("message", "English detail for developers".to_owned())])
}

#[wasm_bindgen_test]
async fn proxy_errors_are_shown_in_the_payers_language_with_retry() {
    for (answer_for, lang, expected) in [
        (answer(422, of(&serde_json_map("amount_too_small"))), "ru", "Платёж не создан. Проверьте данные и повторите."),
        (
            answer(502, of(&serde_json_map("upstream_error"))),
            "en",
            "The payment service is temporarily unavailable. Try again in a minute.",
        ),
        (answer(504, of(&serde_json_map("upstream_timeout"))), "kk", "Төлем қызметі уақытша қолжетімсіз. Бір минуттан кейін қайталаңыз."),
        (
            answer(409, of(&serde_json_map("checkout_in_progress"))),
            "en",
            "The payment is already being created. Wait a moment and try again.",
        ),
        (answer(429, of(&serde_json_map("rate_limited"))), "ru", "Слишком много попыток. Подождите минуту."),
        (JsValue::from_str("network"), "en", "Cannot reach the payment service. Check your connection and try again."),
    ] {
        setup(false);
        route("POST /api/checkout", answers(vec![answer_for]));
        let host = mount(&[("data-amount", "100"), ("data-lang", lang)]);
        find(&host, ".epay-pay").click();
        until("problem shown", || !hidden(&host, ".epay-problem")).await;
        assert_eq!(text(&host, ".epay-problem p"), expected);
        assert_eq!(find(&host, ".epay-problem").get_attribute("role").as_deref(), Some("alert"));
        assert!(find(&host, ".epay-pay").get_attribute("disabled").is_none(), "the button is usable again");
        assert_eq!(halyk_calls().length(), 0);
    }
}

#[wasm_bindgen_test]
async fn a_missing_halyk_is_a_shown_error_not_a_panic() {
    setup(false);
    remove_halyk();
    let mut response = checkout_response(PaymentMethod::P2p);
    response.script_url = script_url("window.notHalyk = 1;");
    route("POST /api/checkout", answers(vec![answer(200, of(&response))]));
    let host = mount(&[("data-amount", "100"), ("data-lang", "en")]);
    find(&host, ".epay-pay").click();
    until("problem shown", || !hidden(&host, ".epay-problem")).await;
    assert_eq!(text(&host, ".epay-problem p"), "The payment page could not be loaded. Try again.");

    // A halyk without the method is refused the same way, through the binding's `catch`.
    setup(false);
    let halyk = js_sys::Object::new();
    dom::set(&dom::window(), "halyk", &halyk);
    route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::P2p)))]));
    let host = mount(&[("data-amount", "100"), ("data-lang", "en")]);
    find(&host, ".epay-pay").click();
    until("problem shown", || !hidden(&host, ".epay-problem")).await;
    assert_eq!(text(&host, ".epay-problem p"), "The payment page could not be loaded. Try again.");
}

#[wasm_bindgen_test]
async fn the_script_is_injected_once_for_two_widgets() {
    setup(false);
    remove_halyk();
    let url = script_url("window.halyk = { p2p: function () {} };");
    let mut with_script = config(false);
    with_script.script_url = url.clone();
    route("GET /api/widget-config", answers(vec![answer(200, of(&with_script))]));
    mount(&[("data-amount", "100")]);
    mount(&[("data-amount", "200")]);
    until("script loaded", || dom::get(&dom::window(), "halyk").is_object()).await;
    assert_eq!(count_scripts(&url), 1);
    assert_eq!(loader::load(&url, 1000).await, Ok(()));
    assert_eq!(count_scripts(&url), 1);
}

#[wasm_bindgen_test]
async fn the_loader_times_out_reports_a_missing_global_and_retries() {
    remove_halyk();
    // A tag that never loads (not JavaScript): the loader reuses it and times out.
    let url = script_url("window.halyk = { p2p: function () {} };");
    stuck_script(&url);
    assert_eq!(loader::load(&url, 100).await, Err(loader::LoadError::Timeout));
    assert_eq!(count_scripts(&url), 0, "the failed attempt's tag is removed");
    // The failure is forgotten: a retry injects a fresh tag and succeeds.
    assert_eq!(loader::load(&url, 3000).await, Ok(()));
    assert_eq!(count_scripts(&url), 1);

    remove_halyk();
    let no_global = script_url("window.somethingElse = true;");
    assert_eq!(loader::load(&no_global, 3000).await, Err(loader::LoadError::NoGlobal));
    assert_eq!(loader::load(&dead_url(), 3000).await, Err(loader::LoadError::Failed));
}

#[wasm_bindgen_test]
async fn the_outcome_view_shows_paid_only_when_the_proxy_says_so() {
    install_fake_fetch();
    let paid = OrderView {
        status: OrderStatus::Paid,
        amount: "1500".into(),
        currency: "KZT".into(),
        card_mask: Some("440043...2222".into()),
        failure_reason: None,
        failure_code: None,
        method: None,
        description: None,
        payable: false,
        allow_save_card: false,
        receipt_url: None,
        receipt_due: false,
    };
    let pending = OrderView { status: OrderStatus::Pending, card_mask: None, ..paid.clone() };
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&pending)), answer(200, of(&pending)), answer(200, of(&paid))]));
    let host = mount(&[
        ("data-order", "123456789012"),
        ("data-order-key", "K3y"),
        ("data-poll-ms", "5"),
        ("data-lang", "en"),
        ("data-method", "pay"),
    ]);
    until("outcome panel shown", || hidden(&host, ".epay-checkout") && !hidden(&host, ".epay-outcome")).await;
    until("waiting shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("waiting")).await;
    assert_eq!(text(&host, ".epay-message"), "Waiting for the bank's confirmation…");
    until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert_eq!(text(&host, ".epay-message"), "Payment successful: ₸1,500");
    assert_eq!(text(&host, ".epay-card"), "Card 440043...2222");
    assert!(!hidden(&host, ".epay-card"));
    let asked: Vec<JsValue> = requests().iter().filter(|r| string(r, "path").starts_with("/api/orders/")).collect();
    assert_eq!(asked.len(), 3);
    assert!(asked.iter().all(|r| string(&get(r, "headers"), "x-order-key") == "K3y"));
    assert_eq!(find(&host, ".epay-message").get_attribute("aria-live").as_deref(), Some("polite"));
    assert!(hidden(&host, ".epay-receipt"), "no receipt owed, no link");
}

#[wasm_bindgen_test]
async fn a_paid_order_shows_its_fiscal_receipt_once_issued_and_asks_until_then() {
    install_fake_fetch();
    let due = OrderView { receipt_due: true, ..paid_view() };
    let issued = OrderView { receipt_url: Some("https://ofd.example.kz/consumer?i=100000001".into()), ..paid_view() };
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&due)), answer(200, of(&due)), answer(200, of(&issued))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "5"), ("data-lang", "ru")]);
    until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert!(hidden(&host, ".epay-receipt"), "no link while the receipt is due");
    until("receipt link shown", || !hidden(&host, ".epay-receipt")).await;
    let link = find(&host, ".epay-receipt");
    assert_eq!(link.get_attribute("href").as_deref(), Some("https://ofd.example.kz/consumer?i=100000001"));
    assert_eq!(link.get_attribute("rel").as_deref(), Some("noopener"));
    assert_eq!(text(&host, ".epay-receipt"), "Чек");
    assert_eq!(find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref(), Some("paid"), "still paid");
    let asked = requests().iter().filter(|r| string(r, "path").starts_with("/api/orders/")).count();
    assert_eq!(asked, 3, "asking stops once the receipt is there");
}

#[wasm_bindgen_test]
async fn the_outcome_view_translates_known_decline_codes() {
    for (code, reason, lang, expected) in [
        (484, "Недостаточно средств", "en", "Payment failed. Insufficient funds on the card."),
        (476, "Повторите позже", "kk", "Төлем өтпеді. Банк кейінірек қайталауды сұрайды."),
        (-498, "описание ошибки", "ru", "Оплата не прошла. описание ошибки"),
    ] {
        install_fake_fetch();
        let failed = OrderView {
            status: OrderStatus::Failed,
            amount: "1500".into(),
            currency: "KZT".into(),
            card_mask: None,
            failure_reason: Some(reason.into()),
            failure_code: Some(code),
            method: None,
            description: None,
            payable: false,
            allow_save_card: false,
            receipt_url: None,
            receipt_due: false,
        };
        route("GET /api/orders/123456789012", answers(vec![answer(200, of(&failed))]));
        let host = mount(&[
            ("data-order", "123456789012"),
            ("data-order-key", "K3y"),
            ("data-poll-ms", "5"),
            ("data-lang", lang),
            ("data-method", "pay"),
        ]);
        until("failure shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("failed")).await;
        assert_eq!(text(&host, ".epay-message"), expected);
        assert!(!hidden(&host, ".epay-again"), "the payer can start again");
        assert!(hidden(&host, ".epay-card"));
    }
}

#[wasm_bindgen_test]
async fn the_outcome_view_stops_asking_and_says_what_happens_next() {
    install_fake_fetch();
    let pending = OrderView {
        status: OrderStatus::Pending,
        amount: "1500".into(),
        currency: "KZT".into(),
        card_mask: None,
        failure_reason: None,
        failure_code: None,
        method: None,
        description: None,
        payable: false,
        allow_save_card: false,
        receipt_url: None,
        receipt_due: false,
    };
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&pending))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "1"), ("data-lang", "en")]);
    until("gave up", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("still-waiting")).await;
    let asked = requests().iter().filter(|r| string(r, "path").starts_with("/api/orders/")).count();
    assert_eq!(asked, 10, "asked ten times with growing pauses");
    assert!(text(&host, ".epay-message").starts_with("No confirmation yet."));
    assert!(!hidden(&host, ".epay-check-again"));
    find(&host, ".epay-check-again").click();
    until("asked again", || requests().length() > 10).await;

    // A proxy that never answers (no network, or a page of an origin it does not allow: the
    // browser refuses every answer): out of reach, said so, not a bank that is slow.
    install_fake_fetch();
    route("GET /api/orders/123456789012", answers(vec![JsValue::from_str("network")]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "1"), ("data-lang", "ru")]);
    until("out of reach", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("unreachable")).await;
    assert!(text(&host, ".epay-message").starts_with("Нет связи с платёжным сервисом"), "{}", text(&host, ".epay-message"));
    // The answers come back: the outcome is the proxy's again.
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&pending))]));
    until("heard again", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() != Some("unreachable")).await;

    // An unknown order or a wrong key.
    install_fake_fetch();
    let host = mount(&[("data-order", "999"), ("data-order-key", "nope"), ("data-poll-ms", "1"), ("data-lang", "en")]);
    until("not found", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("not-found")).await;
    assert_eq!(text(&host, ".epay-message"), "Order not found. Check the link.");
}

#[wasm_bindgen_test]
async fn every_language_is_complete() {
    for (lang, pay, sandbox) in [
        ("ru", "Оплатить", "Тестовый режим: деньги не списываются"),
        ("kk", "Төлеу", "Тест режимі: ақша шешілмейді"),
        ("en", "Pay", "Test mode: no money is charged"),
    ] {
        setup(true);
        let host = mount(&[("data-amount", "2500"), ("data-lang", lang), ("data-method", "pay")]);
        until("config loaded", || !hidden(&host, ".epay-sandbox")).await;
        assert_eq!(text(&host, ".epay-pay").split_whitespace().next(), Some(pay));
        assert_eq!(text(&host, ".epay-sandbox"), sandbox);
        assert_eq!(find(&host, ".epay").get_attribute("lang").as_deref(), Some(lang));
        let labels = host.query_selector_all("label, .epay-note, .epay-retry, .epay-again, .epay-check-again").unwrap();
        for i in 0..labels.length() {
            assert!(!labels.item(i).unwrap().text_content().unwrap().trim().is_empty(), "{lang}: empty text");
        }
    }
    // The amount is formatted by Intl for each language.
    assert_eq!(epay_widget::format::money(Amount::from_minor(250_050), "KZT", Language::En), "₸2,500.50");
    assert_eq!(epay_widget::format::money(Amount::from_minor(250_000), "KZT", Language::Kk), "2\u{a0}500\u{a0}₸");
}

#[wasm_bindgen_test]
async fn the_overlay_only_triggers_an_outcome_check_and_bad_messages_are_stopped() {
    setup(false);
    let paid = OrderView {
        status: OrderStatus::Paid,
        amount: "1500.50".into(),
        currency: "KZT".into(),
        card_mask: Some("400000...0002".into()),
        failure_reason: None,
        failure_code: None,
        method: None,
        description: None,
        payable: false,
        allow_save_card: false,
        receipt_url: None,
        receipt_due: false,
    };
    route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::Widget)))]));
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&paid))]));
    let host = mount(&[("data-amount", "1500.50"), ("data-method", "showPaymentWidget"), ("data-poll-ms", "5"), ("data-lang", "en")]);
    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    assert_eq!(string(&halyk_calls().get(0), "method"), "showPaymentWidget");

    // The script's own listener (registered after the widget's guard) must only ever see
    // JSON from the exact payment-page origin.
    listen_messages();
    post_message("{\"success\":true}", "https://test-epay.homebank.kz.evil.example");
    post_message("not json", PAYFORM_ORIGIN);
    post_message("{\"success\":true}", PAYFORM_ORIGIN);
    let seen: Vec<String> = seen_messages().iter().map(|m| m.as_string().unwrap()).collect();
    assert_eq!(seen, ["{\"success\":true}"]);

    // The callback's {success} proves nothing: the widget asks the proxy.
    assert_eq!(requests().iter().filter(|r| string(r, "path") == "/api/orders/123456789012").count(), 0);
    call_widget_callback();
    until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert!(hidden(&host, ".epay-checkout"));
    let order_request = requests().iter().find(|r| string(r, "path") == "/api/orders/123456789012").unwrap();
    assert_eq!(string(&get(&order_request, "headers"), "x-order-key"), "K3y");
}

#[wasm_bindgen_test]
fn the_checkout_body_is_what_serde_writes() {
    let full = CheckoutRequest {
        amount: "1500.50".into(),
        currency: Some("KZT".into()),
        description: Some("Чай «Алатау»".into()),
        account_id: Some("a-1".into()),
        email: Some("payer@example.kz".into()),
        phone: Some("+77001234567".into()),
        language: Some(Language::Kk),
        card_save: Some(false),
        method: Some(PaymentMethod::Widget),
    };
    let bare = CheckoutRequest { amount: "1".into(), ..CheckoutRequest::default() };
    for method in [PaymentMethod::P2p, PaymentMethod::Pay, PaymentMethod::Oct, PaymentMethod::Aft, PaymentMethod::Widget] {
        for language in [Language::Ru, Language::Kk, Language::En] {
            let request = CheckoutRequest { method: Some(method), language: Some(language), ..full.clone() };
            assert_eq!(wire::checkout_body(&request), dom::json_stringify(&of(&request).0));
        }
    }
    assert_eq!(wire::checkout_body(&bare), dom::json_stringify(&of(&bare).0));
    assert_eq!(wire::checkout_body(&bare), r#"{"amount":"1"}"#);
}

#[wasm_bindgen_test]
fn the_wire_readers_read_what_serde_writes() {
    let response = checkout_response(PaymentMethod::Aft);
    let read = wire::checkout(&of(&response).0).unwrap();
    assert_eq!(
        (read.invoice_id, read.order_key, read.amount, read.currency, read.terminal, read.description, read.language),
        (
            response.invoice_id,
            response.order_key,
            response.amount,
            response.currency,
            response.terminal,
            response.description,
            response.language
        )
    );
    assert_eq!(
        (read.account_id, read.email, read.phone, read.card_save, read.method),
        (response.account_id, response.email, response.phone, true, PaymentMethod::Aft)
    );
    assert_eq!((read.back_link, read.failure_back_link), (response.back_link, response.failure_back_link));
    assert_eq!((read.post_link, read.failure_post_link), (response.post_link, response.failure_post_link));
    assert_eq!((read.script_url, read.payform_origin), (response.script_url, response.payform_origin));
    assert_eq!(string(&read.auth.0, "access_token"), "DCEB8O_ZM5U7SO_T_U5EJQ");

    for view in [
        OrderView {
            status: OrderStatus::Paid,
            amount: "1500".into(),
            currency: "KZT".into(),
            card_mask: Some("440043...2222".into()),
            failure_reason: None,
            failure_code: None,
            method: Some(PaymentMethod::Widget),
            description: None,
            payable: false,
            allow_save_card: false,
            receipt_url: None,
            receipt_due: false,
        },
        OrderView {
            status: OrderStatus::Failed,
            amount: "1".into(),
            currency: "KZT".into(),
            card_mask: None,
            failure_reason: Some("x".into()),
            failure_code: Some(-498),
            method: Some(PaymentMethod::P2p),
            description: None,
            payable: false,
            allow_save_card: false,
            receipt_url: None,
            receipt_due: false,
        },
        OrderView {
            status: OrderStatus::Expired,
            amount: "1".into(),
            currency: "KZT".into(),
            card_mask: None,
            failure_reason: None,
            failure_code: None,
            method: None,
            description: None,
            payable: false,
            allow_save_card: false,
            receipt_url: None,
            receipt_due: false,
        },
    ] {
        assert_eq!(wire::order_view(&of(&view).0).unwrap(), view);
    }
    assert_eq!(wire::widget_config(&of(&config(true)).0).unwrap(), config(true));
    let error = epay_api_types::ApiError { error: ErrorCode::CheckoutInProgress, message: "m".into() };
    assert_eq!(wire::error_code(&of(&error).0), ErrorCode::CheckoutInProgress);
    assert!(wire::checkout(&of(&config(true)).0).is_err(), "a config is not a checkout");
}

#[wasm_bindgen_test]
async fn the_words_fit_the_method_a_transfer_or_a_payment() {
    for (method, lang, act, total) in [
        ("p2p", "ru", "Перевести", "К переводу"),
        ("oct", "kk", "Аудару", "Аударуға"),
        ("aft", "en", "Transfer", "To transfer"),
        ("pay", "ru", "Оплатить", "К оплате"),
        ("showPaymentWidget", "en", "Pay", "To pay"),
    ] {
        setup(false);
        let host = mount(&[("data-amount", "100"), ("data-lang", lang), ("data-method", method)]);
        assert_eq!(text(&host, ".epay-pay").split_whitespace().next(), Some(act), "{method}");
        assert_eq!(text(&host, ".epay-total span"), total, "{method}");
    }
    install_fake_fetch();
    let paid = paid_view();
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&paid))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "1"), ("data-lang", "ru")]);
    until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert_eq!(text(&host, ".epay-message"), "Перевод выполнен: 1\u{a0}500\u{a0}₸");
    // The order's own method wins over the page's: a card payment shown on a transfer page.
    install_fake_fetch();
    let card = OrderView { method: Some(PaymentMethod::Pay), ..paid };
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&card))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "1"), ("data-lang", "ru")]);
    until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert_eq!(text(&host, ".epay-message"), "Оплата прошла: 1\u{a0}500\u{a0}₸");
}

#[wasm_bindgen(inline_js = r#"
export function set_location(search_and_hash) { history.replaceState(null, "", location.pathname + search_and_hash); }
// Window attributes are own properties of the global: keep the real one to put it back.
export function hide_crypto() {
  window.__crypto = Object.getOwnPropertyDescriptor(window, "crypto") ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(window), "crypto");
  Object.defineProperty(window, "crypto", { value: undefined, configurable: true });
}
export function restore_crypto() { Object.defineProperty(window, "crypto", window.__crypto); }
"#)]
extern "C" {
    fn set_location(search_and_hash: &str);
    fn hide_crypto();
    fn restore_crypto();
}

#[wasm_bindgen_test]
async fn the_return_page_reads_the_order_key_from_the_fragment_and_old_query_links() {
    let paid = paid_view();
    for (url, key) in
        [("?order=123456789012&lang=en#key=FragmentK3y", "FragmentK3y"), ("?order=123456789012&key=QueryK3y&lang=en", "QueryK3y")]
    {
        install_fake_fetch();
        route("GET /api/orders/123456789012", answers(vec![answer(200, of(&paid))]));
        set_location(url);
        let host = mount(&[("data-poll-ms", "1")]);
        until("paid shown", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
        assert_eq!(string(&get(&requests().get(0), "headers"), "x-order-key"), key, "{url}");
    }
    set_location("");
}

#[wasm_bindgen_test]
async fn without_a_secure_random_source_the_payer_is_told_and_nothing_is_sent() {
    setup(false);
    route("POST /api/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::P2p)))]));
    let host = mount(&[("data-amount", "1500"), ("data-lang", "en")]);
    until("config loaded", || requests().length() > 0).await;
    hide_crypto();
    find(&host, ".epay-pay").click();
    dom::sleep(30).await;
    restore_crypto();
    assert!(!hidden(&host, ".epay-problem"));
    assert_eq!(text(&host, ".epay-problem p"), "This browser cannot create secure keys. Update it to pay.");
    assert!(requests().iter().all(|r| string(&r, "path") != "/api/checkout"), "no checkout with a guessable key");
    // With the CSPRNG back, Retry pays.
    find(&host, ".epay-retry").click();
    until("halyk called", || halyk_calls().length() == 1).await;
}

#[wasm_bindgen(inline_js = r#"
// Counts the listeners added and removed on every EventTarget from now on.
export function count_listeners() {
  if (window.__listeners) return;
  window.__listeners = { added: 0, removed: 0 };
  const add = EventTarget.prototype.addEventListener, remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (...args) { window.__listeners.added++; return add.apply(this, args); };
  EventTarget.prototype.removeEventListener = function (...args) { window.__listeners.removed++; return remove.apply(this, args); };
}
export function listeners_added() { return window.__listeners.added; }
export function listeners_removed() { return window.__listeners.removed; }
"#)]
extern "C" {
    fn count_listeners();
    fn listeners_added() -> u32;
    fn listeners_removed() -> u32;
}

#[wasm_bindgen_test]
async fn unmount_releases_every_listener_and_effect_and_the_element_can_mount_again() {
    setup(false);
    count_listeners();
    let (added, removed) = (listeners_added(), listeners_removed());
    let host = mount(&[("data-lang", "en")]);
    until("config loaded", || requests().length() > 0).await;
    let widget_listeners = listeners_added() - added;
    assert!(widget_listeners >= 4, "form, fields, retry, check again, pageshow: {widget_listeners}");

    epay_widget::unmount(host.clone());
    assert_eq!(listeners_removed() - removed, widget_listeners, "every listener the widget added is removed");
    assert!(host.query_selector(".epay").unwrap().is_none(), "its DOM is gone");
    assert_eq!(host.get_attribute("data-epay-checkout").as_deref(), Some(""));
    // Nothing of it reacts any more: a pageshow or a late answer touches nothing.
    web_sys::window().unwrap().dispatch_event(&web_sys::Event::new("pageshow").unwrap()).unwrap();
    // A second unmount does nothing; the same element mounts again, whole.
    epay_widget::unmount(host.clone());
    epay_widget::mount(host.clone());
    assert_eq!(host.query_selector_all(".epay").unwrap().length(), 1);
    assert_eq!(text(&host, ".epay-pay").split_whitespace().next(), Some("Transfer"));
    epay_widget::unmount(host);
}

#[wasm_bindgen_test]
fn a_skeleton_without_a_node_fails_in_one_place_naming_it() {
    let root = web_sys::window().unwrap().document().unwrap().create_element("div").unwrap();
    root.set_inner_html(r#"<form class="epay-checkout"></form>"#);
    let missing = epay_widget::nodes::Nodes::find(&root).err().expect("an incomplete skeleton is refused");
    assert_eq!(missing, epay_widget::nodes::MissingNode("epay-total"));
}

/// The proxy's view of the merchant order 123456789012: 2 500 ₸ for "Order 42".
fn merchant_view(status: OrderStatus, payable: bool) -> OrderView {
    OrderView {
        status,
        amount: "2500".into(),
        currency: "KZT".into(),
        card_mask: None,
        failure_reason: None,
        failure_code: None,
        method: Some(PaymentMethod::Pay),
        description: Some("Order 42".into()),
        payable,
        allow_save_card: false,
        receipt_url: None,
        receipt_due: false,
    }
}

fn events_named(name: &str) -> Vec<JsValue> {
    widget_events().iter().filter(|e| string(e, "name") == name).map(|e| get(&e, "detail")).collect()
}

#[wasm_bindgen_test]
async fn a_merchant_order_shows_the_proxys_amount_and_pays_that_order() {
    setup(false);
    listen_widget_events();
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&merchant_view(OrderStatus::Open, true)))]));
    let mut checkout = checkout_response(PaymentMethod::Pay);
    checkout.amount = "2500".into();
    route("POST /api/orders/123456789012/checkout", answers(vec![answer(200, of(&checkout))]));
    // The page's data-amount is ignored: the proxy says what the order costs.
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-amount", "1"), ("data-method", "pay")]);
    until("the order's amount", || text(&host, ".epay-total strong").contains("2")).await;
    assert!(
        text(&host, ".epay-total strong").starts_with("2 500") || text(&host, ".epay-total strong").starts_with("2\u{a0}500"),
        "{}",
        text(&host, ".epay-total strong")
    );
    assert_eq!(text(&host, ".epay-what"), "Order 42");
    assert!(hidden(&host, ".epay-amount") && hidden(&host, ".epay-comment"), "nothing to type");
    let ready = events_named("epay:ready");
    assert_eq!(ready.len(), 1);
    assert_eq!(
        (string(&ready[0], "invoiceId"), string(&ready[0], "status"), string(&ready[0], "amount")),
        ("123456789012".into(), "open".into(), "2500".into())
    );

    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    assert_eq!(string(&halyk_calls().get(0), "method"), "pay");
    let request = requests().iter().find(|r| string(r, "path") == "/api/orders/123456789012/checkout").expect("the order's checkout");
    assert_eq!(string(&get(&request, "headers"), "x-order-key"), "K3y");
    assert!(requests().iter().all(|r| string(&r, "path") != "/api/checkout"), "never an open-amount checkout");
    let redirect = events_named("epay:redirect");
    assert_eq!(redirect.len(), 1);
    assert_eq!((string(&redirect[0], "invoiceId"), string(&redirect[0], "amount")), ("123456789012".into(), "2500".into()));
    let event = widget_events().get(0);
    assert_eq!(get(&event, "host"), JsValue::from(host.clone()), "dispatched on the host element");
    epay_widget::unmount(host);
}

/// The consent to save the card: shown only when the shop offers it, unticked, and sent with
/// the start only when the payer ticks it; ePay's `cardSave` follows the proxy's answer.
#[wasm_bindgen_test]
async fn the_consent_to_save_the_card_is_asked_only_when_offered_and_sent_only_when_ticked() {
    setup(false);
    let mut offering = merchant_view(OrderStatus::Open, true);
    offering.allow_save_card = true;
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&offering))]));
    let mut checkout = checkout_response(PaymentMethod::Pay);
    checkout.card_save = true;
    route("POST /api/orders/123456789012/checkout", answers(vec![answer(200, of(&checkout))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-lang", "ru")]);
    until("the consent is offered", || !hidden(&host, ".epay-save")).await;
    assert!(text(&host, ".epay-save").contains("Сохранить карту"), "{}", text(&host, ".epay-save"));
    let checkbox: HtmlInputElement = find(&host, ".epay-save input").unchecked_into();
    assert!(!checkbox.checked(), "unticked until the payer ticks it");
    checkbox.click();
    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    let request = requests().iter().find(|r| string(r, "path") == "/api/orders/123456789012/checkout").expect("the start");
    assert_eq!(string(&request, "body"), r#"{"saveCard":true}"#);
    assert!(get(&get(&halyk_calls().get(0), "object"), "cardSave").is_truthy(), "ePay is asked to save it");
    epay_widget::unmount(host);

    // Offered but left unticked: the start says nothing, and ePay is not asked to save it.
    setup(false);
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&offering))]));
    route("POST /api/orders/123456789012/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::Pay)))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y")]);
    until("the consent is offered", || !hidden(&host, ".epay-save")).await;
    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    let request = requests().iter().find(|r| string(r, "path") == "/api/orders/123456789012/checkout").expect("the start");
    assert_eq!(string(&request, "body"), "", "the proxy is told nothing: it answers cardSave false");
    epay_widget::unmount(host);

    // Not offered: no consent on the page, and the start says nothing of it.
    setup(false);
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&merchant_view(OrderStatus::Open, true)))]));
    route("POST /api/orders/123456789012/checkout", answers(vec![answer(200, of(&checkout_response(PaymentMethod::Pay)))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y")]);
    until("ready", || text(&host, ".epay-what") == "Order 42").await;
    assert!(hidden(&host, ".epay-save"));
    find(&host, ".epay-pay").click();
    until("halyk called", || halyk_calls().length() == 1).await;
    let request = requests().iter().find(|r| string(r, "path") == "/api/orders/123456789012/checkout").expect("the start");
    assert_eq!(string(&request, "body"), "");
    epay_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn a_finished_merchant_order_shows_its_outcome_and_tells_the_page_once() {
    setup(false);
    listen_widget_events();
    let pending = merchant_view(OrderStatus::Pending, false);
    let mut paid = merchant_view(OrderStatus::Paid, false);
    paid.card_mask = Some("440043...2222".into());
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&pending)), answer(200, of(&pending)), answer(200, of(&paid))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y"), ("data-poll-ms", "10")]);
    until("paid", || find(&host, ".epay-outcome").get_attribute("data-outcome").as_deref() == Some("paid")).await;
    assert_eq!(events_named("epay:pending").len(), 1, "pending is announced once, however often it is asked");
    let paid_events = events_named("epay:paid");
    assert_eq!(paid_events.len(), 1);
    assert_eq!((string(&paid_events[0], "status"), string(&paid_events[0], "currency")), ("paid".into(), "KZT".into()));
    assert!(hidden(&host, ".epay-checkout"), "no pay button for a finished order");
    epay_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn a_refused_order_checkout_is_shown_and_reported_as_epay_error() {
    setup(false);
    listen_widget_events();
    route("GET /api/orders/123456789012", answers(vec![answer(200, of(&merchant_view(OrderStatus::Open, true)))]));
    let expired = serde_json_map("order_expired");
    route("POST /api/orders/123456789012/checkout", answers(vec![answer(410, of(&expired))]));
    let host = mount(&[("data-order", "123456789012"), ("data-order-key", "K3y")]);
    until("the pay button", || !hidden(&host, ".epay-checkout") && text(&host, ".epay-what") == "Order 42").await;
    find(&host, ".epay-pay").click();
    until("the problem", || !hidden(&host, ".epay-problem")).await;
    let errors = events_named("epay:error");
    assert_eq!(errors.len(), 1);
    assert_eq!((string(&errors[0], "invoiceId"), string(&errors[0], "reason")), ("123456789012".into(), "order_expired".into()));
    assert_eq!(halyk_calls().length(), 0);
    epay_widget::unmount(host);
}
