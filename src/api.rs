//! The token proxy's HTTP API, from the browser: gloo-net on fetch, JSON through the
//! browser's own parser, requests serialised by serde-wasm-bindgen.

use epay_api_types::{CheckoutRequest, ErrorCode, IDEMPOTENCY_KEY_HEADER, ORDER_KEY_HEADER, OrderView, WidgetConfig};
use gloo_net::http::{Request, RequestBuilder};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::dom;
use crate::wire::{self, Checkout};

/// Why a call failed, as the payer needs to know it.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// No answer at all (offline, DNS, CORS, proxy down).
    Network,
    /// The proxy answered with an error.
    Refused { status: u16, code: ErrorCode },
    /// Something answered 2xx with a body that is not the proxy's (a misrouted URL).
    Malformed,
}

pub async fn widget_config(proxy: &str) -> Result<WidgetConfig, Failure> {
    read(send(Request::get(&url(proxy, "/api/widget-config"))).await?, wire::widget_config)
}

pub async fn checkout(proxy: &str, request: &CheckoutRequest, idempotency_key: &str) -> Result<Checkout, Failure> {
    let body = serde_wasm_bindgen::to_value(request).map_err(|_| Failure::Malformed)?;
    let request = Request::post(&url(proxy, "/api/checkout"))
        .header("content-type", "application/json")
        .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
        .body(dom::json_stringify(&body))
        .map_err(|_| Failure::Network)?;
    let response = request.send().await.map_err(|_| Failure::Network)?;
    read(answer(response).await?, wire::checkout)
}

pub async fn order(proxy: &str, invoice_id: &str, key: &str) -> Result<OrderView, Failure> {
    let path = String::from("/api/orders/") + &String::from(js_sys::encode_uri_component(invoice_id));
    read(send(Request::get(&url(proxy, &path)).header(ORDER_KEY_HEADER, key)).await?, wire::order_view)
}

fn url(proxy: &str, path: &str) -> String {
    String::from(proxy) + path
}

async fn send(request: RequestBuilder) -> Result<JsValue, Failure> {
    answer(request.send().await.map_err(|_| Failure::Network)?).await
}

/// The parsed body of a 2xx answer, or the failure an error answer means.
async fn answer(response: gloo_net::http::Response) -> Result<JsValue, Failure> {
    let status = response.status();
    // The browser's JSON parser: no JSON library in the wasm.
    let json = match web_sys::Response::from(response).json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    match json {
        Some(json) if (200..300).contains(&status) => Ok(json),
        None if (200..300).contains(&status) => Err(Failure::Malformed),
        json => Err(Failure::Refused { status, code: json.as_ref().map_or(ErrorCode::Unknown, wire::error_code) }),
    }
}

fn read<T>(json: JsValue, reader: fn(&JsValue) -> Result<T, ()>) -> Result<T, Failure> {
    reader(&json).map_err(|_| Failure::Malformed)
}
