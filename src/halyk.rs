//! Calling ePay's `halyk.<method>(paymentObject)`.
//!
//! The bindings use `catch`: a missing `halyk` global or method comes back as an `Err` that
//! the widget shows, never a panic. For `showPaymentWidget` the widget also covers the real
//! script's weaknesses (docs/epay-contract.md §2): it always passes a callback, and a guard
//! `message` listener, registered first and in the capture phase, stops every message that
//! is not valid JSON from the exact payment-page origin before the script's own listener
//! (prefix-matched, throwing on bad JSON, never removed) can see it.

use std::cell::RefCell;

use epay_api_types::PaymentMethod;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use crate::wire::Checkout;
use crate::{dom, format};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = halyk, js_name = p2p)]
    fn p2p(payment: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = halyk, js_name = pay)]
    fn pay(payment: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = halyk, js_name = oct)]
    fn oct(payment: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = halyk, js_name = aft)]
    fn aft(payment: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = halyk, js_name = showPaymentWidget)]
    fn show_payment_widget(payment: &JsValue, callback: &JsValue) -> Result<(), JsValue>;
}

/// The payment object of the seed: every field, `cardSave` a real Boolean, `amount` a
/// number and `auth` the whole token object.
pub fn payment_object(checkout: &Checkout) -> JsValue {
    let object: JsValue = js_sys::Object::new().into();
    let text = |name: &str, value: &str| dom::set(&object, name, &JsValue::from_str(value));
    text("invoiceId", &checkout.invoice_id);
    text("backLink", &checkout.back_link);
    text("failureBackLink", &checkout.failure_back_link);
    text("postLink", &checkout.post_link);
    text("failurePostLink", &checkout.failure_post_link);
    text("language", &checkout.language);
    text("description", &checkout.description);
    text("accountId", &checkout.account_id);
    text("terminal", &checkout.terminal);
    text("currency", &checkout.currency);
    text("phone", &checkout.phone);
    text("email", &checkout.email);
    let amount = epay_api_types::Amount::parse(&checkout.amount).map(format::number).unwrap_or(JsValue::UNDEFINED);
    dom::set(&object, "amount", &amount);
    dom::set(&object, "cardSave", &JsValue::from_bool(checkout.card_save));
    dom::set(&object, "auth", &checkout.auth.0);
    object
}

/// Sends the payer to ePay. `on_overlay_closed` runs (at most once) when the overlay of
/// `showPaymentWidget` reports back; it proves nothing, it only asks for the real outcome.
pub fn start(method: PaymentMethod, checkout: &Checkout, on_overlay_closed: impl FnOnce() + 'static) -> Result<(), JsValue> {
    let payment = payment_object(checkout);
    match method {
        PaymentMethod::P2p => p2p(&payment),
        PaymentMethod::Pay => pay(&payment),
        PaymentMethod::Oct => oct(&payment),
        PaymentMethod::Aft => aft(&payment),
        PaymentMethod::Widget => {
            guard_messages(&checkout.payform_origin);
            let callback = Closure::once_into_js(move |_result: JsValue| on_overlay_closed());
            show_payment_widget(&payment, &callback)
        }
    }
}

thread_local! {
    /// Origins already guarded on this page.
    static GUARDED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Installs, once per page and origin, a capture-phase `message` listener on window that
/// stops messages the payment script must not see. It stays for the page's life: the
/// script's own listener is never removed, so it needs the filter for as long as it lives.
fn guard_messages(payform_origin: &str) {
    if GUARDED.with_borrow(|g| g.iter().any(|o| o == payform_origin)) {
        return;
    }
    GUARDED.with_borrow_mut(|g| g.push(payform_origin.to_owned()));
    let origin = payform_origin.to_owned();
    let guard = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let trusted = event.origin() == origin
            && event.data().as_string().is_some_and(|text| js_sys::JSON::parse(&text).is_ok_and(|v| v.is_object()));
        if !trusted {
            event.stop_immediate_propagation();
        }
    });
    let options = web_sys::AddEventListenerOptions::new();
    options.set_capture(true);
    let _ =
        dom::window().add_event_listener_with_callback_and_add_event_listener_options("message", guard.as_ref().unchecked_ref(), &options);
    guard.forget();
}
