//! The token proxy's HTTP API, from the browser: the browser's own `fetch` and JSON parser,
//! bodies written and answers read by `wire.rs`. (gloo-net's fetch wrapper cost 2,245 bytes
//! brotli of the budget, measured, for these three calls.)

use epay_api_types::{CheckoutRequest, ErrorCode, IDEMPOTENCY_KEY_HEADER, ORDER_KEY_HEADER, OrderView, WidgetConfig};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::dom;
use crate::wire::{self, Checkout};

pub use crate::logic::failure::Failure;

/// The proxy's widget settings: the answer to the request widget.js already started for
/// this element (`pending`, a fetch's promise), or a request of its own when there is none.
pub async fn widget_config(proxy: &str, pending: JsValue) -> Result<WidgetConfig, Failure> {
    let sent = match pending.dyn_into::<js_sys::Promise>() {
        Ok(promise) => Ok(promise),
        Err(_) => send(proxy, "/api/widget-config", &[], None),
    };
    read(receive(sent?).await?, wire::widget_config)
}

/// A request whose `fetch` has been called: the checkout is on the wire before the widget
/// re-renders for it (the click's hand-over time, scripts/perf-browser).
pub type Sent = Result<js_sys::Promise, Failure>;

/// Sends the payer's checkout now; `checkout_answer` reads it.
pub fn checkout(proxy: &str, request: &CheckoutRequest, idempotency_key: &str) -> Sent {
    let headers = [("content-type", "application/json"), (IDEMPOTENCY_KEY_HEADER, idempotency_key)];
    send(proxy, "/api/checkout", &headers, Some(wire::checkout_body(request)))
}

/// Sends the start (or resumption) of paying a merchant order, for its own terms, now; with
/// the payer's consent to save the card when given.
pub fn order_checkout(proxy: &str, invoice_id: &str, key: &str, save_card: bool) -> Sent {
    let path = order_path(invoice_id) + "/checkout";
    let body = if save_card { "{\"saveCard\":true}" } else { "" };
    send(proxy, &path, &[(ORDER_KEY_HEADER, key)], Some(String::from(body)))
}

/// The token of a checkout `sent` by `checkout` or `order_checkout`.
pub async fn checkout_answer(sent: Sent) -> Result<Checkout, Failure> {
    read(receive(sent?).await?, wire::checkout)
}

fn order_path(invoice_id: &str) -> String {
    String::from("/api/orders/") + &String::from(js_sys::encode_uri_component(invoice_id))
}

pub async fn order(proxy: &str, invoice_id: &str, key: &str) -> Result<OrderView, Failure> {
    read(fetch(proxy, &order_path(invoice_id), &[(ORDER_KEY_HEADER, key)], None).await?, wire::order_view)
}

/// `GET` (no body) or `POST` (`body`) to `proxy` + `path`; the parsed body of a 2xx answer,
/// or the failure an answer means.
async fn fetch(proxy: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Result<JsValue, Failure> {
    receive(send(proxy, path, headers, body)?).await
}

/// Calls the browser's `fetch` (the request leaves before this returns).
fn send(proxy: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Sent {
    let init = RequestInit::new();
    let sent = Headers::new().map_err(|_| Failure::Network)?;
    for (name, value) in headers {
        sent.set(name, value).map_err(|_| Failure::Network)?;
    }
    init.set_headers(&sent);
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
    }
    Ok(dom::window().fetch_with_str_and_init(&(String::from(proxy) + path), &init))
}

/// The parsed body of a 2xx answer to `promise`, or the failure an answer means.
async fn receive(promise: js_sys::Promise) -> Result<JsValue, Failure> {
    let response: Response = JsFuture::from(promise).await.map_err(|_| Failure::Network)?.unchecked_into();
    let status = response.status();
    // The browser's JSON parser: no JSON library in the wasm.
    let json = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    match json {
        Some(json) if (200..300).contains(&status) => Ok(json),
        None if (200..300).contains(&status) => Err(Failure::Malformed),
        json => Err(Failure::Refused { status, code: json.as_ref().map_or(ErrorCode::Unknown, wire::error_code) }),
    }
}

fn read<T>(json: JsValue, reader: fn(&JsValue) -> Result<T, wire::Unreadable>) -> Result<T, Failure> {
    reader(&json).map_err(|_| Failure::Malformed)
}
