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
