//! Events to the host page: bubbling `CustomEvent`s on the widget's host element
//! (`epay:ready`, `epay:redirect`, `epay:paid`, `epay:failed`, `epay:pending`, `epay:error`).
//! Their `detail` is built only from the proxy's answers, never from the page's URL:
//! `{ invoiceId, status, amount, currency, reason? }`.

use epay_api_types::OrderView;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, HtmlElement};

use crate::dom;

/// An event's detail; absent fields are left out.
#[derive(Default)]
pub struct Detail<'a> {
    pub invoice_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub amount: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl<'a> Detail<'a> {
    /// What the proxy said of order `invoice_id`.
    pub fn of_view(invoice_id: &'a str, view: &'a OrderView) -> Detail<'a> {
        Detail {
            invoice_id: Some(invoice_id),
            status: Some(view.status.as_str()),
            amount: Some(&view.amount),
            currency: Some(&view.currency),
            reason: view.failure_reason.as_deref(),
        }
    }
}


pub fn emit(host: &HtmlElement, name: &str, detail: Detail) {
    let object = js_sys::Object::new();
    let fields = [
        ("invoiceId", detail.invoice_id),
        ("status", detail.status),
        ("amount", detail.amount),
        ("currency", detail.currency),
        ("reason", detail.reason),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            dom::set(&object, field, &JsValue::from_str(value));
        }
    }
    // `{ bubbles: true, detail }`, built like the detail (fewer imports in the JS glue).
    let init = js_sys::Object::new();
    dom::set(&init, "bubbles", &JsValue::TRUE);
    dom::set(&init, "detail", &object);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, init.unchecked_ref::<CustomEventInit>()) {
        let _ = host.dispatch_event(&event);
    }
}
