//! The checkout flow: validate, ask the proxy for a checkout, make sure payment-api.js is
//! there, hand the payer to ePay.

use epay_api_types::{Amount, CheckoutRequest, PaymentMethod};

use crate::api;
use crate::i18n::Texts;
use crate::logic::failure::problem_text;
use crate::logic::stage::Stage;
use crate::options::Options;
use crate::{halyk, loader};

pub fn request(options: &Options, amount: Amount, comment: &str) -> CheckoutRequest {
    let non_empty = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    CheckoutRequest {
        amount: amount.to_string(),
        currency: None,
        description: options.description.as_deref().map_or_else(|| non_empty(comment), non_empty),
        account_id: non_empty(&options.account_id),
        email: non_empty(&options.email),
        phone: non_empty(&options.phone),
        language: Some(options.language),
        card_save: Some(options.card_save),
        method: Some(options.method),
    }
}

/// Creates the checkout (the Idempotency-Key makes a retry safe), waits for payment-api.js,
/// and calls halyk. `on_overlay_closed` gets the order when `showPaymentWidget`'s overlay
/// reports back.
pub async fn pay(
    proxy: &str,
    method: PaymentMethod,
    request: &CheckoutRequest,
    idempotency_key: &str,
    texts: &'static Texts,
    on_overlay_closed: impl FnOnce((String, String)) + 'static,
) -> Stage {
    let checkout = match api::checkout(proxy, request, idempotency_key).await {
        Ok(checkout) => checkout,
        Err(failure) => return Stage::Problem(problem_text(texts, &failure)),
    };
    if loader::load(&checkout.script_url, loader::DEFAULT_TIMEOUT_MS).await.is_err() {
        return Stage::Problem(texts.script_failed);
    }
    let order = (checkout.invoice_id.clone(), checkout.order_key.clone());
    match halyk::start(method, &checkout, move || on_overlay_closed(order)) {
        Ok(()) => Stage::Leaving,
        Err(_) => Stage::Problem(texts.script_failed),
    }
}
