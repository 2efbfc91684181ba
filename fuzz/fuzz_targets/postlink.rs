//! Any bytes as a postLink body: parsed, checked against an order matching the seed's
//! sample (in each of its states), and run through the transition rules. Nothing may panic,
//! and no evaluation may break the safety properties (`postlink::invariants`): a postLink
//! moves an order only with its secret_hash, never pays it, and paid stays paid.
#![no_main]

use epay_api_types::Amount;
use epay_proxy::postlink::{Endpoint, Notification, evaluate, invariants};
use epay_proxy::store::orders::{NewOrder, OrderRow, OrderState};
use libfuzzer_sys::fuzz_target;

fn order(status: OrderState) -> OrderRow {
    let new = NewOrder {
        order_key: epay_proxy::secrets::SecretText::new("key".into()),
        secret_hash: epay_proxy::secrets::SecretText::new("JDKCNDDGGDTPSKJD".into()),
        idempotency_key: None,
        request_fingerprint: String::new(),
        amount: Amount::from_minor(10_000),
        currency: "KZT".into(),
        terminal: "67e34d63-102f-4bd1-898e-370781d0074d".into(),
        method: epay_api_types::PaymentMethod::P2p,
        description: String::new(),
        account_id: String::new(),
        email: String::new(),
        phone: String::new(),
        language: epay_api_types::Language::Ru,
        card_save: false,
        merchant: None,
    };
    // The seed sample's invoice and transaction, so duplicates and conflicts are reachable.
    let row = OrderRow::created(1, "191111111".into(), &new, 0);
    OrderRow { status, transaction_id: Some("1d1a11f1-1111-111c-1113b-e8340ce51111".into()), ..row }
}

fuzz_target!(|data: &[u8]| {
    let Ok(notification) = Notification::parse(data) else { return };
    let _ = (notification.is_success(), notification.amount());
    for status in OrderState::ALL {
        let order = order(status);
        for endpoint in [Endpoint::Postlink, Endpoint::FailurePostlink] {
            let evaluation = evaluate(Some(&order), endpoint, &notification, 1_000_000);
            if let Some(broken) = invariants::violation(Some(&order), &notification, &evaluation) {
                panic!("{broken}: {status:?} {evaluation:?}");
            }
        }
    }
    let evaluation = evaluate(None, Endpoint::Postlink, &notification, 1_000_000);
    assert_eq!(invariants::violation(None, &notification, &evaluation), None);
});
