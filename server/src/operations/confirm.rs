//! What ePay's status API shows about an operation: done, certainly not done, or nobody can
//! tell. Pure. Nothing is taken on hope (docs/epay-contract.md, "Operations"):
//!
//! - a capture is done at CHARGE and not done while the transaction is still AUTH;
//! - a cancel is done at CANCEL (or CANCEL_OLD) and not done while it is still AUTH;
//! - a refund is done when the charge shrank by exactly it: the original amount (`orgAmount`,
//!   or what the proxy recorded as captured) less the `amount` ePay now reports equals what
//!   refunds returned before plus this one; a refund of everything that was left is done at
//!   REFUND too. It is not done when the charge is still CHARGE and reduced only by the
//!   earlier refunds. A bare CHARGE proves nothing else.
//!
//! Anything else (another status, amounts that fit neither) cannot tell.

use super::rules::money;
use crate::epay::{OperationKind, ResultCode, StatusAnswer, TransactionStatus};
use crate::store::operations::OperationRow;
use crate::store::orders::OrderRow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Done,
    /// The transaction is as it was before the operation: it did not happen (yet).
    NotDone,
    /// ePay's answer fits neither; the text says what it showed.
    CannotTell(String),
    /// The status API gave no answer about the transaction (not found, in progress, an error):
    /// ask again later.
    NoAnswer(String),
}

/// What `answer` shows about `op` on `order` (as it stood before `op`: `refunded_minor` is
/// what earlier refunds returned).
pub fn seen(op: &OperationRow, order: &OrderRow, answer: &StatusAnswer) -> Seen {
    let said = answer.said();
    let (ResultCode::Found, Some(t)) = (&answer.result, &answer.transaction) else {
        return Seen::NoAnswer(said);
    };
    let Some(status) = &t.status else { return Seen::CannotTell(format!("{said} without a statusName")) };
    match op.kind {
        OperationKind::Capture => match status {
            TransactionStatus::Charge => Seen::Done,
            TransactionStatus::Auth => Seen::NotDone,
            _ => Seen::CannotTell(said),
        },
        OperationKind::Cancel => match status {
            TransactionStatus::Cancel | TransactionStatus::CancelOld => Seen::Done,
            TransactionStatus::Auth => Seen::NotDone,
            _ => Seen::CannotTell(said),
        },
        OperationKind::Refund => {
            let captured = order.captured_minor.unwrap_or(order.amount_minor);
            let before = order.refunded_minor;
            let after = before + op.amount_minor.unwrap_or(captured - before);
            let original = t.org_amount.map_or(captured, |a| a.minor() as i64);
            // What the charge shrank by, as ePay reports it.
            let returned = t.amount.map(|a| original - a.minor() as i64);
            match (status, returned) {
                (TransactionStatus::Charge | TransactionStatus::Refund, Some(returned)) if returned == after => Seen::Done,
                (TransactionStatus::Refund, _) if after >= captured => Seen::Done,
                (TransactionStatus::Charge, Some(returned)) if returned == before => Seen::NotDone,
                _ => Seen::CannotTell(format!(
                    "{said}, amount {:?} of {}: expected {} returned before this refund and {} after it",
                    t.amount_text,
                    money(original),
                    money(before),
                    money(after)
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epay::TransactionInfo;
    use crate::store::operations::OperationStatus;
    use crate::store::orders::{NewOrder, OrderState};
    use epay_api_types::Amount;

    fn answer(code: &str, status: &str, amount: i64, org: Option<i64>) -> StatusAnswer {
        StatusAnswer {
            result: ResultCode::parse(code),
            result_message: String::new(),
            transaction: Some(TransactionInfo {
                status: Some(TransactionStatus::parse(status)),
                amount: Some(Amount::from_minor(amount as u64)),
                amount_text: Some(amount.to_string()),
                org_amount: org.map(|o| Amount::from_minor(o as u64)),
                ..Default::default()
            }),
        }
    }

    fn paid(refunded: i64) -> OrderRow {
        let new = NewOrder::example(150_000, epay_api_types::PaymentMethod::Pay);
        OrderRow {
            status: OrderState::Paid,
            captured_minor: Some(150_000),
            refunded_minor: refunded,
            ..OrderRow::created(1, "1".into(), &new, 0)
        }
    }

    fn op(kind: OperationKind, amount: Option<i64>) -> OperationRow {
        OperationRow {
            id: 1,
            order_id: 1,
            kind,
            amount_minor: amount,
            reason: None,
            external_id: "e".into(),
            idempotency_key: "k".into(),
            fingerprint: "f".into(),
            status: OperationStatus::Pending,
            epay_answer: None,
            attempts: 0,
            next_check_ms: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_capture_or_cancel_is_shown_by_its_status_and_not_done_while_auth() {
        let held = OrderRow { status: OrderState::Authorized, ..paid(0) };
        let capture = op(OperationKind::Capture, Some(150_000));
        assert_eq!(seen(&capture, &held, &answer("100", "CHARGE", 150_000, None)), Seen::Done);
        assert_eq!(seen(&capture, &held, &answer("100", "AUTH", 150_000, None)), Seen::NotDone);
        assert!(matches!(seen(&capture, &held, &answer("100", "REJECT", 150_000, None)), Seen::CannotTell(_)));
        assert!(matches!(seen(&capture, &held, &answer("107", "CHARGE", 150_000, None)), Seen::NoAnswer(_)));
        let cancel = op(OperationKind::Cancel, None);
        assert_eq!(seen(&cancel, &held, &answer("100", "CANCEL", 150_000, None)), Seen::Done);
        assert_eq!(seen(&cancel, &held, &answer("100", "AUTH", 150_000, None)), Seen::NotDone);
    }

    #[test]
    fn a_partial_refund_is_done_only_when_the_charge_shrank_by_exactly_it() {
        let second = op(OperationKind::Refund, Some(30_000));
        let order = paid(50_000);
        // 1500 charged, 500 returned before; after this 300: 800 returned, 700 left.
        assert_eq!(seen(&second, &order, &answer("100", "CHARGE", 70_000, Some(150_000))), Seen::Done);
        assert_eq!(
            seen(&second, &order, &answer("100", "REFUND", 70_000, Some(150_000))),
            Seen::Done,
            "whatever ePay names a partly refunded charge"
        );
        assert_eq!(seen(&second, &order, &answer("100", "CHARGE", 100_000, Some(150_000))), Seen::NotDone);
        assert_eq!(
            seen(&second, &order, &answer("100", "CHARGE", 70_000, None)),
            Seen::Done,
            "no orgAmount: what the proxy recorded as captured"
        );
        assert!(
            matches!(seen(&second, &order, &answer("100", "CHARGE", 90_000, Some(150_000))), Seen::CannotTell(_)),
            "reduced by something else"
        );
    }

    #[test]
    fn a_full_refund_is_done_at_refund_and_a_bare_charge_proves_nothing() {
        let rest = op(OperationKind::Refund, Some(100_000));
        let order = paid(50_000);
        assert_eq!(seen(&rest, &order, &answer("100", "REFUND", 0, Some(150_000))), Seen::Done);
        assert_eq!(seen(&rest, &order, &answer("100", "REFUND", 150_000, None)), Seen::Done, "REFUND with the amount unchanged");
        assert_eq!(seen(&rest, &order, &answer("100", "CHARGE", 100_000, Some(150_000))), Seen::NotDone);
        assert!(matches!(seen(&rest, &order, &answer("100", "CANCEL", 0, None)), Seen::CannotTell(_)));
    }
}
