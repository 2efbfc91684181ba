//! The token proxy's HTTP API, from the browser: the browser's own `fetch` and JSON parser,
//! requests serialised by serde-wasm-bindgen. (gloo-net's fetch wrapper cost 2,245 bytes
//! brotli of the 45 kB budget, measured, for these three calls.)

use epay_api_types::{CheckoutRequest, ErrorCode, IDEMPOTENCY_KEY_HEADER, ORDER_KEY_HEADER, OrderView, WidgetConfig};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::dom;
use crate::wire::{self, Checkout};

pub use crate::logic::failure::Failure;

pub async fn widget_config(proxy: &str) -> Result<WidgetConfig, Failure> {
    read(fetch(proxy, "/api/widget-config", &[], None).await?, wire::widget_config)
}

pub async fn checkout(proxy: &str, request: &CheckoutRequest, idempotency_key: &str) -> Result<Checkout, Failure> {
    let body = serde_wasm_bindgen::to_value(request).map_err(|_| Failure::Malformed)?;
    let headers = [("content-type", "application/json"), (IDEMPOTENCY_KEY_HEADER, idempotency_key)];
    read(fetch(proxy, "/api/checkout", &headers, Some(dom::json_stringify(&body))).await?, wire::checkout)
}

/// Starts (or resumes) paying a merchant order: its token, for its own terms.
pub async fn order_checkout(proxy: &str, invoice_id: &str, key: &str) -> Result<Checkout, Failure> {
    let path = order_path(invoice_id) + "/checkout";
    read(fetch(proxy, &path, &[(ORDER_KEY_HEADER, key)], Some(String::new())).await?, wire::checkout)
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
    let url = String::from(proxy) + path;
    let promise = dom::window().fetch_with_str_and_init(&url, &init);
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
