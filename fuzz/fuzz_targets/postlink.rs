//! Any bytes as a postLink body: parsed, checked against an order matching the seed's
//! sample (in each of its states), and run through the transition rules. Nothing may panic.
#![no_main]

use epay_proxy::postlink::{Endpoint, Notification, evaluate};
use epay_proxy::store::orders::{OrderRow, OrderState};
use libfuzzer_sys::fuzz_target;

const STATES: [OrderState; 8] = [
    OrderState::Created,
    OrderState::Pending,
    OrderState::StartFailed,
    OrderState::Confirming,
    OrderState::Paid,
    OrderState::Failed,
    OrderState::Review,
    OrderState::Expired,
];

fn order(status: OrderState) -> OrderRow {
    OrderRow {
        id: 1,
        invoice_id: "191111111".into(),
        order_key: "key".into(),
        secret_hash: "JDKCNDDGGDTPSKJD".into(),
        idempotency_key: None,
        request_fingerprint: None,
        amount_minor: 10_000,
        currency: "KZT".into(),
        terminal: "67e34d63-102f-4bd1-898e-370781d0074d".into(),
        method: "p2p".into(),
        description: String::new(),
        account_id: String::new(),
        email: String::new(),
        phone: String::new(),
        language: "ru".into(),
        card_save: false,
        status,
        token_response: Some("{}".into()),
        token_expires_at: Some(0),
        start_error: None,
        transaction_id: Some("1d1a11f1-1111-111c-1113b-e8340ce51111".into()),
        card_mask: None,
        approval_code: None,
        reference: None,
        failure_reason: None,
        failure_code: None,
        review_reason: None,
        created_at: 0,
        updated_at: 0,
        next_check_ms: None,
        check_attempts: 0,
        last_check: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(notification) = Notification::parse(data) else { return };
    let _ = (notification.is_success(), notification.amount());
    for status in STATES {
        let order = order(status);
        for endpoint in [Endpoint::Postlink, Endpoint::FailurePostlink] {
            let _ = evaluate(Some(&order), endpoint, &notification);
        }
    }
    let _ = evaluate(None, Endpoint::Postlink, &notification);
});
