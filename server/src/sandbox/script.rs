//! The sandbox's static files: payment-api.js (with lz-string inlined), the short-form
//! result script and the payment page's stylesheet.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;

const PAYMENT_API: &str = include_str!("../../sandbox-assets/payment-api.js");
const LZ_STRING: &str = include_str!("../../sandbox-assets/lz-string-1.5.0.min.js");
const RESULT: &str = include_str!("../../sandbox-assets/result.js");
const STYLESHEET: &str = include_str!("../../sandbox-assets/payform.css");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

pub async fn payment_api() -> impl IntoResponse {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    let script = SCRIPT.get_or_init(|| PAYMENT_API.replace("/*__LZSTRING__*/", LZ_STRING));
    ([(header::CONTENT_TYPE, JAVASCRIPT), (header::CACHE_CONTROL, "no-cache")], script.as_str())
}

pub async fn result() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, JAVASCRIPT)], RESULT)
}

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET)
}
