//! What an order's outcome says to the payer. Only what the proxy answered decides it, never
//! the URL; the words follow the order's own method.

use epay_api_types::{Amount, OrderStatus, OrderView, PaymentMethod};

use crate::i18n::{self, Texts};

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Checking,
    Waiting,
    StillWaiting,
    Paid {
        amount: String,
        card: Option<String>,
        method: PaymentMethod,
        /// The fiscal receipt's page, once issued.
        receipt: Option<String>,
    },
    Failed {
        reason: String,
        method: PaymentMethod,
    },
    Expired,
    NotFound,
    /// The proxy did not answer at all, several times in a row (no network, or a page of an
    /// origin it does not allow: the browser refuses its answers).
    Unreachable,
}

/// The outcome the proxy's `view` shows, or `None` while the order is pending. `method` is
/// the page's, for a proxy that does not say the order's; `money` formats the amount.
pub fn from_view(view: OrderView, texts: &'static Texts, method: PaymentMethod, money: impl Fn(Amount, &str) -> String) -> Option<Outcome> {
    let amount = Amount::parse(&view.amount).map_or(view.amount.clone(), |a| money(a, &view.currency));
    let method = view.method.unwrap_or(method);
    match view.status {
        OrderStatus::Paid => Some(Outcome::Paid { amount, card: view.card_mask, method, receipt: view.receipt_url }),
        OrderStatus::Failed => {
            Some(Outcome::Failed { reason: i18n::decline_reason(texts, view.failure_code, view.failure_reason.as_deref()), method })
        }
        OrderStatus::Expired => Some(Outcome::Expired),
        OrderStatus::Open | OrderStatus::Pending => None,
    }
}

/// What a pending order shows after `unanswered` questions in a row reached nothing, while
/// asking goes on or once it `stopped`: three such say the service is out of reach.
pub fn waiting(unanswered: u32, stopped: bool) -> Outcome {
    match (unanswered >= 3, stopped) {
        (true, _) => Outcome::Unreachable,
        (false, false) => Outcome::Waiting,
        (false, true) => Outcome::StillWaiting,
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
            Outcome::Unreachable => "unreachable",
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
            Outcome::Unreachable => String::from(texts.network),
        }
    }

    pub fn card(&self, texts: &Texts) -> String {
        match self {
            Outcome::Paid { card: Some(card), .. } => String::from(texts.card) + " " + card,
            _ => String::new(),
        }
    }

    /// The fiscal receipt's page, if the outcome has one.
    pub fn receipt(&self) -> Option<String> {
        match self {
            Outcome::Paid { receipt, .. } => receipt.clone(),
            _ => None,
        }
    }

    pub fn can_pay_again(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use epay_api_types::Language;

    fn view(status: OrderStatus, method: Option<PaymentMethod>) -> OrderView {
        OrderView {
            status,
            amount: "1500".into(),
            currency: "KZT".into(),
            card_mask: Some("440043...2222".into()),
            failure_reason: Some("Недостаточно средств".into()),
            failure_code: Some(484),
            method,
            description: None,
            payable: false,
            allow_save_card: false,
            receipt_url: None,
            receipt_due: false,
        }
    }

    fn money(amount: Amount, currency: &str) -> String {
        format!("{amount} {currency}")
    }

    #[test]
    fn the_words_follow_the_orders_own_method() {
        let ru = i18n::texts(Language::Ru);
        let paid = from_view(view(OrderStatus::Paid, Some(PaymentMethod::Pay)), ru, PaymentMethod::P2p, money).unwrap();
        assert_eq!(paid.message(ru), "Оплата прошла: 1500 KZT");
        assert_eq!(paid.card(ru), "Карта 440043...2222");
        let transfer = from_view(view(OrderStatus::Paid, None), ru, PaymentMethod::P2p, money).unwrap();
        assert_eq!(transfer.message(ru), "Перевод выполнен: 1500 KZT", "the page's method when the proxy says none");
        let en = i18n::texts(Language::En);
        let failed = from_view(view(OrderStatus::Failed, Some(PaymentMethod::Widget)), en, PaymentMethod::P2p, money).unwrap();
        assert_eq!(failed.message(en), "Payment failed. Insufficient funds on the card.");
        assert!(failed.can_pay_again() && failed.card(en).is_empty());
    }

    #[test]
    fn pending_is_not_an_outcome_and_expired_offers_a_new_payment() {
        let en = i18n::texts(Language::En);
        assert_eq!(from_view(view(OrderStatus::Pending, None), en, PaymentMethod::P2p, money), None);
        let expired = from_view(view(OrderStatus::Expired, None), en, PaymentMethod::P2p, money).unwrap();
        assert_eq!((expired.name(), expired.can_pay_again()), ("expired", true));
        assert_eq!(Outcome::StillWaiting.name(), "still-waiting");
        assert_eq!(
            (waiting(2, false), waiting(3, false), waiting(0, true), waiting(5, true)),
            (Outcome::Waiting, Outcome::Unreachable, Outcome::StillWaiting, Outcome::Unreachable)
        );
        assert_eq!(Outcome::Unreachable.message(i18n::texts(Language::Ru)), i18n::texts(Language::Ru).network);
        assert!(!Outcome::Waiting.can_pay_again());
    }
}
