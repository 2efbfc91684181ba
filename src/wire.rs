//! Reads the proxy's JSON (already parsed by the browser) into the shared API types.
//!
//! Why not serde-wasm-bindgen here: its derived deserializers cost 18 kB of the widget's
//! brotli budget (measured), mostly serde's error machinery. These readers use the
//! same types and wire names; `tests/web.rs` serialises every type with serde and reads it
//! back through here, so a renamed field cannot drift unnoticed. The one request body,
//! `checkout_body`, is written the same way (serde-wasm-bindgen's serializer and its string
//! cache cost about 1 kB brotli, measured); a browser test compares it with serde's.

use epay_api_types::{CheckoutRequest, CheckoutResponse, ErrorCode, OrderStatus, OrderView, PaymentMethod, WidgetConfig};
use wasm_bindgen::JsValue;

use crate::dom;

/// A body that is not what the proxy sends (a field missing or of another type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable;

/// ePay's token object, kept as the JS object the proxy sent: it goes to halyk as `auth`.
#[derive(Clone)]
pub struct Auth(pub JsValue);

pub type Checkout = CheckoutResponse<Auth>;

/// The JSON of `request`, with serde's wire names and without its absent fields.
pub fn checkout_body(request: &CheckoutRequest) -> String {
    let object: JsValue = js_sys::Object::new().into();
    let text = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            dom::set(&object, name, &JsValue::from_str(value));
        }
    };
    text("amount", Some(&request.amount));
    text("currency", request.currency.as_deref());
    text("description", request.description.as_deref());
    text("accountId", request.account_id.as_deref());
    text("email", request.email.as_deref());
    text("phone", request.phone.as_deref());
    text("language", request.language.map(|l| l.tag()));
    if let Some(card_save) = request.card_save {
        dom::set(&object, "cardSave", &JsValue::from_bool(card_save));
    }
    text("method", request.method.map(|m| m.js_name()));
    dom::json_stringify(&object)
}

fn text(object: &JsValue, name: &str) -> Option<String> {
    dom::get(object, name).as_string()
}

fn required(object: &JsValue, name: &str) -> Result<String, Unreadable> {
    text(object, name).ok_or(Unreadable)
}

pub fn checkout(object: &JsValue) -> Result<Checkout, Unreadable> {
    let auth = dom::get(object, "auth");
    if !auth.is_object() {
        return Err(Unreadable);
    }
    let field = |name| text(object, name).unwrap_or_default();
    Ok(CheckoutResponse {
        invoice_id: required(object, "invoiceId")?,
        order_key: required(object, "orderKey")?,
        amount: required(object, "amount")?,
        currency: required(object, "currency")?,
        terminal: required(object, "terminal")?,
        description: field("description"),
        language: field("language"),
        account_id: field("accountId"),
        email: field("email"),
        phone: field("phone"),
        card_save: dom::get(object, "cardSave").is_truthy(),
        method: PaymentMethod::from_name(&field("method")).unwrap_or_default(),
        back_link: required(object, "backLink")?,
        failure_back_link: required(object, "failureBackLink")?,
        post_link: required(object, "postLink")?,
        failure_post_link: required(object, "failurePostLink")?,
        script_url: required(object, "scriptUrl")?,
        payform_origin: required(object, "payformOrigin")?,
        auth: Auth(auth),
    })
}

pub fn order_view(object: &JsValue) -> Result<OrderView, Unreadable> {
    Ok(OrderView {
        status: OrderStatus::from_wire(&required(object, "status")?).ok_or(Unreadable)?,
        amount: required(object, "amount")?,
        currency: required(object, "currency")?,
        card_mask: text(object, "cardMask"),
        failure_reason: text(object, "failureReason"),
        failure_code: dom::get(object, "failureCode").as_f64().map(|code| code as i64),
        method: text(object, "method").and_then(|name| PaymentMethod::from_name(&name)),
        description: text(object, "description"),
        payable: dom::get(object, "payable").is_truthy(),
        allow_save_card: dom::get(object, "allowSaveCard").is_truthy(),
        receipt_url: text(object, "receiptUrl"),
        receipt_due: dom::get(object, "receiptDue").is_truthy(),
    })
}

pub fn widget_config(object: &JsValue) -> Result<WidgetConfig, Unreadable> {
    Ok(WidgetConfig {
        script_url: required(object, "scriptUrl")?,
        payform_origin: required(object, "payformOrigin")?,
        currency: required(object, "currency")?,
        min_amount: required(object, "minAmount")?,
        max_amount: required(object, "maxAmount")?,
        sandbox: dom::get(object, "sandbox").is_truthy(),
    })
}

/// The `error` code of an `ApiError` body.
pub fn error_code(object: &JsValue) -> ErrorCode {
    text(object, "error").map_or(ErrorCode::Unknown, |code| ErrorCode::from_wire(&code))
}
