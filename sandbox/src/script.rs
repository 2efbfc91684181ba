//! The sandbox's static files: payment-api.js (with lz-string inlined), the short-form
//! result script and the payment page's stylesheet.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;

const PAYMENT_API: &str = include_str!("../assets/payment-api.js");
const LZ_STRING: &str = include_str!("../assets/lz-string-1.5.0.min.js");
const RESULT: &str = include_str!("../assets/result.js");
const STYLESHEET: &str = include_str!("../assets/payform.css");
/// What payment-api.js puts in the `<style>` element it adds for the overlay.
const OVERLAY_CSS: &str = include_str!("../assets/overlay.css");

/// The CSP source that allows the overlay's `<style>` element on a storefront page, and
/// nothing else inline: `sha256-` and the base64 of its digest.
pub fn overlay_style_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(OVERLAY_CSS.as_bytes())))
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

pub async fn payment_api() -> impl IntoResponse {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        let css = serde_json::to_string(OVERLAY_CSS).expect("a string serialises");
        PAYMENT_API.replace("/*__LZSTRING__*/", LZ_STRING).replace("/*__OVERLAY_CSS__*/\"\"", &css)
    });
    ([(header::CONTENT_TYPE, JAVASCRIPT), (header::CACHE_CONTROL, "no-cache")], script.as_str())
}

pub async fn result() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, JAVASCRIPT)], RESULT)
}

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET)
}
