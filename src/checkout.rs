//! The checkout flow: ask the proxy for a checkout (a payer's amount, or a merchant's order),
//! make sure payment-api.js is there, hand the payer to ePay.

use epay_api_types::{Amount, CheckoutRequest, OrderStatus};

use crate::api;
use crate::events::{self, Detail};
use crate::logic::failure::problem_text;
use crate::logic::stage::Stage;
use crate::options::Options;
use crate::widget::Widget;
use crate::{halyk, loader};

/// `save_card`: the payer's answer to the consent the widget shows when `data-card-save` offers it.
pub fn request(options: &Options, amount: Amount, comment: &str, save_card: bool) -> CheckoutRequest {
    let non_empty = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    CheckoutRequest {
        amount: amount.text(),
        currency: None,
        description: options.description.as_deref().map_or_else(|| non_empty(comment), non_empty),
        account_id: non_empty(&options.account_id),
        email: non_empty(&options.email),
        phone: non_empty(&options.phone),
        language: Some(options.language),
        card_save: Some(options.card_save && save_card),
        method: Some(options.method),
    }
}

/// What the payer starts paying.
pub enum Start {
    /// An amount the payer chose, under this attempt's Idempotency-Key.
    Open(CheckoutRequest, String),
    /// The merchant's order (invoice id and key): its own terms, and whether the payer agreed
    /// to save the card.
    Order(String, String, bool),
}

/// Sends the checkout `start` names (a retry is safe either way) at once, before the widget
/// re-renders for it; `pay` takes it from there.
pub fn send(proxy: &str, start: &Start) -> api::Sent {
    match start {
        Start::Open(request, key) => api::checkout(proxy, request, key),
        Start::Order(invoice_id, key, save_card) => api::order_checkout(proxy, invoice_id, key, *save_card),
    }
}

/// Reads the checkout `sent`, waits for payment-api.js, tells the host page
/// (`epay:redirect`), and calls halyk. The overlay's close shows the outcome.
pub async fn pay(widget: &Widget, start: Start, sent: api::Sent) -> Stage {
    let texts = widget.texts;
    let checkout = match api::checkout_answer(sent).await {
        Ok(checkout) => checkout,
        Err(failure) => {
            let invoice_id = match &start {
                Start::Order(invoice_id, ..) => Some(invoice_id.as_str()),
                Start::Open(..) => None,
            };
            widget.emit_failure(invoice_id, &failure);
            return Stage::Problem(problem_text(texts, &failure));
        }
    };
    if loader::load(&checkout.script_url, loader::DEFAULT_TIMEOUT_MS).await.is_err() {
        return Stage::Problem(texts.script_failed);
    }
    let detail = Detail {
        invoice_id: Some(&checkout.invoice_id),
        status: Some(OrderStatus::Pending.as_str()),
        amount: Some(&checkout.amount),
        currency: Some(&checkout.currency),
        reason: None,
    };
    events::emit(&widget.host, "epay:redirect", detail);
    let order = (checkout.invoice_id.clone(), checkout.order_key.clone());
    let overlay_widget = widget.clone();
    match halyk::start(checkout.method, &checkout, move || overlay_widget.check_outcome(order, false)) {
        Ok(()) => Stage::Leaving,
        Err(_) => Stage::Problem(texts.script_failed),
    }
}
