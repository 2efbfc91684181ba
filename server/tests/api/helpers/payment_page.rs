//! What a payer's browser sends to the sandbox's payment page: the payment object the widget
//! builds from a checkout answer, and payment-api.js's `encodeParams`. Shared by the
//! integration tests and `examples/bench.rs` (which includes this file by its path).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// The payment object the widget passes to halyk.p2p for this checkout response.
pub fn payment_object(c: &Value) -> Value {
    json!({
        "invoiceId": c["invoiceId"], "backLink": c["backLink"], "failureBackLink": c["failureBackLink"],
        "postLink": c["postLink"], "failurePostLink": c["failurePostLink"], "language": c["language"],
        "description": c["description"], "accountId": c["accountId"], "terminal": c["terminal"],
        "amount": js_number(c["amount"].as_str().unwrap()), "currency": c["currency"],
        "phone": c["phone"], "email": c["email"], "cardSave": c["cardSave"], "auth": c["auth"],
    })
}

/// What `Number("1500.50")` gives in JS: 1500.5 (and 1500 prints as "1500", not "1500.0").
fn js_number(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(whole) => json!(whole),
        Err(_) => json!(text.parse::<f64>().unwrap()),
    }
}

/// encodeURIComponent's unreserved set: A-Z a-z 0-9 - _ . ! ~ * ' ( )
const URI_COMPONENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'!').remove(b'~').remove(b'*').remove(b'\'').remove(b'(').remove(b')');

/// payment-api.js's encodeParams: `name=encodeURIComponent(value)` joined by `&`, objects
/// encoded the same way first.
pub fn encode_params(object: &Value) -> String {
    object
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::Object(_) => encode_params(value),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{name}={}", utf8_percent_encode(&text, URI_COMPONENT))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The card a transfer is sent to on the sandbox's page (its transfer form asks for one).
pub const RECEIVER_CARD: &str = "4400 4300 0000 0007";

/// The flag payment-api.js adds to the page's URL for the checkout's method (`halyk.p2p` sends
/// the browser to `...&isTransfer=true`, `halyk.pay` adds none).
fn method_flag(checkout: &Value) -> &'static str {
    match checkout["method"].as_str() {
        Some("p2p") => "&isTransfer=true",
        Some("oct") => "&isOCT=true",
        Some("aft") => "&isAFT=true",
        _ => "",
    }
}

/// Plays the payer on the payment page of the sandbox at `sandbox` (a proxy's base URL): opens
/// it the way payment-api.js sends the browser there for `checkout` (the proxy's answer), and
/// pays with `card`. The page answers a payment with a redirect to the back link.
pub async fn pay_on_payform(
    http: &reqwest::Client,
    sandbox: &str,
    checkout: &Value,
    card: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    let params = lz_str::compress_to_encoded_uri_component(&encode_params(&payment_object(checkout)));
    let page = http.get(format!("{sandbox}/sandbox/payform/?params={params}{}", method_flag(checkout))).send().await?.text().await?;
    let session = page.split("name=\"session\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    http.post(format!("{sandbox}/sandbox/payform/pay"))
        .form(&[
            ("session", session.as_str()),
            ("card", card),
            ("expiry", "12/30"),
            ("cvc", "123"),
            ("holder", "Test Payer"),
            ("receiver", RECEIVER_CARD),
        ])
        .send()
        .await
}
