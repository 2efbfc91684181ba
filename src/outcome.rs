//! The outcome of an order, on the page ePay sends the payer back to (or after the overlay
//! closes). It asks the proxy, never the URL: "paid" appears only when the proxy says so.
//! While the order is pending it asks again with growing pauses, then says what happens next.

use epay_api_types::{Amount, Language, OrderStatus, PaymentMethod};
use crate::api::{self, Failure};
use crate::i18n::{self, Texts};
use crate::{dom, format};

#[derive(Clone, PartialEq)]
pub enum Outcome {
    Checking,
    Waiting,
    StillWaiting,
    /// `method`: the order's own, so the words fit it whatever page shows the outcome.
    Paid { amount: String, card: Option<String>, method: PaymentMethod },
    Failed { reason: String, method: PaymentMethod },
    Expired,
    NotFound,
}

/// Pauses between questions, in units of the base interval (1 s by default): about two
/// minutes in all, enough for a late postLink and the proxy's confirmation.
const BACKOFF: [i32; 10] = [0, 1, 2, 3, 5, 8, 13, 20, 30, 30];

/// Asks until the order is final or the pauses run out, telling `show` each answer.
/// `method` is the page's, for a proxy that does not say the order's.
pub async fn follow(proxy: &str, order: &(String, String), language: Language, method: PaymentMethod, base_ms: i32, show: impl Fn(Outcome)) {
    let texts = i18n::texts(language);
    let (invoice_id, key) = order;
    for pause in BACKOFF {
        dom::sleep(pause * base_ms).await;
        match ask(proxy, invoice_id, key, texts, language, method).await {
            Some(done) => return show(done),
            None => show(Outcome::Waiting),
        }
    }
    show(Outcome::StillWaiting);
}

/// `Some` when the answer is final, `None` to ask again later.
async fn ask(proxy: &str, invoice_id: &str, key: &str, texts: &'static Texts, language: Language, method: PaymentMethod) -> Option<Outcome> {
    let view = match api::order(proxy, invoice_id, key).await {
        Ok(view) => view,
        Err(Failure::Refused { status: 404, .. }) => return Some(Outcome::NotFound),
        Err(_) => return None,
    };
    let amount = Amount::parse(&view.amount).map_or(view.amount.clone(), |a| format::money(a, &view.currency, language));
    let method = view.method.unwrap_or(method);
    match view.status {
        OrderStatus::Paid => Some(Outcome::Paid { amount, card: view.card_mask, method }),
        OrderStatus::Failed => {
            Some(Outcome::Failed { reason: i18n::decline_reason(texts, view.failure_code, view.failure_reason.as_deref()), method })
        }
        OrderStatus::Expired => Some(Outcome::Expired),
        OrderStatus::Pending => None,
    }
}

impl Outcome {
    /// A stable name, for styling (`[data-outcome=paid]`) and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Checking => "checking",
            Outcome::Waiting => "waiting",
            Outcome::StillWaiting => "still-waiting",
            Outcome::Paid { .. } => "paid",
            Outcome::Failed { .. } => "failed",
            Outcome::Expired => "expired",
            Outcome::NotFound => "not-found",
        }
    }

    pub fn message(&self, texts: &Texts) -> String {
        match self {
            Outcome::Checking => String::from(texts.checking),
            Outcome::Waiting => String::from(texts.waiting),
            Outcome::StillWaiting => String::from(texts.waiting_long),
            Outcome::Paid { amount, method, .. } => String::from(texts.wording(*method).done) + ": " + amount,
            Outcome::Failed { reason, method } => String::from(texts.wording(*method).not_done) + ". " + reason,
            Outcome::Expired => String::from(texts.expired),
            Outcome::NotFound => String::from(texts.not_found),
        }
    }

    pub fn card(&self, texts: &Texts) -> String {
        match self {
            Outcome::Paid { card: Some(card), .. } => String::from(texts.card) + " " + card,
            _ => String::new(),
        }
    }

    pub fn can_pay_again(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::Expired)
    }
}
