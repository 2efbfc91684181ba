//! The checkout flow: validate, ask the proxy for a checkout, make sure payment-api.js is
//! there, hand the payer to ePay.

use epay_api_types::{Amount, AmountError, CheckoutRequest, ErrorCode, Language, PaymentMethod};

use crate::api::{self, Failure};
use crate::i18n::Texts;
use crate::options::Options;
use crate::{format, halyk, loader};

/// Where the checkout form is.
#[derive(Clone, Copy, PartialEq)]
pub enum Stage {
    Ready,
    /// Waiting for the proxy.
    Creating,
    /// Handed to ePay: the page is navigating away (or the overlay is open).
    Leaving,
    /// Something failed; the text says what, and Retry is offered.
    Problem(&'static str),
    /// Showing an order's outcome instead of the form.
    Outcome,
}

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

pub fn problem_text(texts: &'static Texts, failure: &Failure) -> &'static str {
    match failure {
        Failure::Network => texts.network,
        Failure::Malformed => texts.unavailable,
        Failure::Refused { code: ErrorCode::CheckoutInProgress, .. } => texts.in_progress,
        Failure::Refused { code: ErrorCode::CheckoutFinished, .. } => texts.finished,
        Failure::Refused { code: ErrorCode::RateLimited, .. } => texts.rate_limited,
        Failure::Refused { status, .. } if *status >= 500 => texts.unavailable,
        Failure::Refused { .. } => texts.refused,
    }
}

/// Validates a typed amount, against the proxy's limits once they are known.
pub fn amount_problem(
    texts: &'static Texts,
    typed: &str,
    limits: Option<(String, String, String)>,
    language: Language,
) -> Result<Amount, String> {
    let amount = Amount::parse_typed(typed).map_err(|err| {
        String::from(match err {
            AmountError::Empty => texts.amount_empty,
            AmountError::NotANumber | AmountError::TooLarge => texts.amount_not_a_number,
            AmountError::TooManyDecimals => texts.amount_decimals,
            AmountError::NotPositive => texts.amount_not_positive,
        })
    })?;
    if let Some((min, max, currency)) = limits {
        let (min, max) = (Amount::parse(&min).unwrap_or(amount), Amount::parse(&max).unwrap_or(amount));
        if amount < min {
            return Err(String::from(texts.amount_min) + &format::money(min, &currency, language));
        }
        if amount > max {
            return Err(String::from(texts.amount_max) + &format::money(max, &currency, language));
        }
    }
    Ok(amount)
}
