//! Which operation an order allows, for how much. Pure: `store::operations::begin` asks this
//! on the writer, with what refunds already hold, and stores the operation only if it passes.

use epay_api_types::Amount;

use crate::epay::OperationKind;
use crate::store::orders::{OrderRow, OrderState};

/// ePay's smallest refund, in minor units: "The minimum refund amount is 10 tenge" (ePay's
/// refund page, docs/epay-contract.md "Operations"), for every refund, the last one too.
pub const MIN_REFUND_MINOR: i64 = 1_000;

/// Why an operation is refused, with what is possible instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The order's state does not allow it (409).
    NotAllowed(String),
    /// The amount does not fit (422).
    Amount(String),
}

/// What the order `order` (in its state) allows.
pub fn possible(order: &OrderRow, held_refunds: i64) -> String {
    match order.status {
        OrderState::Authorized => format!("it is authorized (held, not charged): capture up to {} or cancel it", order.amount()),
        OrderState::Paid => {
            let left = order.captured_minor.unwrap_or(order.amount_minor) - held_refunds;
            if left > 0 {
                format!("it is paid: refund up to {}", Amount::from_minor(left as u64))
            } else {
                "it is paid and its refunds take the whole amount: nothing more is possible".to_owned()
            }
        }
        OrderState::Refunded => "it is fully refunded: nothing more is possible".to_owned(),
        OrderState::Cancelled => "it was cancelled: nothing more is possible".to_owned(),
        state => format!("it is {}: it holds no payment to capture, cancel or refund", state.as_str()),
    }
}

/// The amount (minor units) the operation `kind` on `order` moves, or why it is refused.
/// `held_refunds`: what refunds done or in flight already take; `busy`: a capture or cancel is
/// in flight.
pub fn check(
    order: &OrderRow,
    kind: OperationKind,
    amount_minor: Option<i64>,
    held_refunds: i64,
    busy: bool,
) -> Result<Option<i64>, Refusal> {
    let not_allowed =
        |what: &str| Refusal::NotAllowed(format!("cannot {what} order {}: {}", order.invoice_id, possible(order, held_refunds)));
    if busy {
        return Err(Refusal::NotAllowed(format!(
            "order {}: another operation on it is in progress; retry when it has finished",
            order.invoice_id
        )));
    }
    if amount_minor.is_some_and(|a| a <= 0) {
        return Err(Refusal::Amount("amount must be greater than zero".to_owned()));
    }
    match kind {
        OperationKind::Capture if order.status == OrderState::Authorized => {
            let amount = amount_minor.unwrap_or(order.amount_minor);
            if amount > order.amount_minor {
                return Err(Refusal::Amount(format!("cannot capture {}: {} was authorized", money(amount), order.amount())));
            }
            Ok(Some(amount))
        }
        OperationKind::Cancel if order.status == OrderState::Authorized => {
            if amount_minor.is_some() {
                return Err(Refusal::Amount("a cancel releases the whole hold: send no amount".to_owned()));
            }
            Ok(None)
        }
        OperationKind::Refund if order.status == OrderState::Paid => {
            let captured = order.captured_minor.unwrap_or(order.amount_minor);
            let left = captured - held_refunds;
            let amount = amount_minor.unwrap_or(left);
            if left <= 0 || amount > left {
                return Err(Refusal::Amount(format!(
                    "cannot refund {}: {} was charged and refunds already take {}; at most {} is left",
                    money(amount),
                    money(captured),
                    money(held_refunds),
                    money(left.max(0))
                )));
            }
            if amount < MIN_REFUND_MINOR {
                return Err(Refusal::Amount(format!(
                    "a refund must be at least {} (ePay's minimum, the last one too); {} is left",
                    money(MIN_REFUND_MINOR),
                    money(left)
                )));
            }
            Ok(Some(amount))
        }
        OperationKind::Capture => Err(not_allowed("capture")),
        OperationKind::Cancel => Err(not_allowed("cancel")),
        OperationKind::Refund => Err(not_allowed("refund")),
    }
}

/// An amount in minor units, never below zero, for messages.
pub(super) fn money(minor: i64) -> Amount {
    Amount::from_minor(minor.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;
    use OperationKind::{Cancel, Capture, Refund};

    fn order(status: OrderState, captured: Option<i64>) -> OrderRow {
        let new = NewOrder::example(150_000, epay_api_types::PaymentMethod::Pay);
        OrderRow { status, captured_minor: captured, ..OrderRow::created(1, "123456789012".into(), &new, 0) }
    }

    #[test]
    fn each_state_allows_only_its_operations_and_says_what_is_possible() {
        let authorized = order(OrderState::Authorized, None);
        let paid = order(OrderState::Paid, Some(150_000));
        assert_eq!(check(&authorized, Capture, None, 0, false), Ok(Some(150_000)));
        assert_eq!(check(&authorized, Capture, Some(100_000), 0, false), Ok(Some(100_000)), "a partial capture");
        assert_eq!(check(&authorized, Cancel, None, 0, false), Ok(None));
        let Err(Refusal::NotAllowed(why)) = check(&authorized, Refund, None, 0, false) else { panic!() };
        assert!(why.contains("capture up to 1500") && why.contains("cancel"), "{why}");
        let Err(Refusal::NotAllowed(why)) = check(&paid, Capture, None, 0, false) else { panic!() };
        assert!(why.contains("refund up to 1500"), "{why}");
        assert!(matches!(check(&paid, Cancel, None, 0, false), Err(Refusal::NotAllowed(_))));
        // Every other state, `review` included (a refund a person decides on is checked as the
        // paid order they found: `store::operations::begin`).
        for &state in OrderState::ALL.iter().filter(|s| !matches!(s, OrderState::Authorized | OrderState::Paid)) {
            for kind in [Capture, Cancel, Refund] {
                assert!(
                    matches!(check(&order(state, Some(150_000)), kind, None, 0, false), Err(Refusal::NotAllowed(_))),
                    "{state:?} {kind:?}"
                );
            }
        }
        assert!(matches!(check(&authorized, Capture, None, 0, true), Err(Refusal::NotAllowed(_))), "one at a time");
    }

    #[test]
    fn refunds_never_exceed_the_charge_and_partial_ones_respect_the_minimum() {
        let paid = order(OrderState::Paid, Some(150_000));
        assert_eq!(check(&paid, Refund, None, 0, false), Ok(Some(150_000)), "the whole charge by default");
        assert_eq!(check(&paid, Refund, None, 100_000, false), Ok(Some(50_000)), "what is left");
        assert_eq!(check(&paid, Refund, Some(50_000), 100_000, false), Ok(Some(50_000)));
        assert!(matches!(check(&paid, Refund, Some(50_001), 100_000, false), Err(Refusal::Amount(_))));
        let Err(Refusal::Amount(why)) = check(&paid, Refund, Some(999), 0, false) else { panic!() };
        assert!(why.contains("at least 10"), "{why}");
        assert!(matches!(check(&paid, Refund, Some(500), 149_500, false), Err(Refusal::Amount(_))), "the last refund too is at least 10");
        assert_eq!(check(&paid, Refund, None, 149_000, false), Ok(Some(1_000)));
        assert!(matches!(check(&paid, Refund, None, 150_000, false), Err(Refusal::Amount(_))), "nothing left");
        let captured_less = order(OrderState::Paid, Some(100_000));
        assert!(matches!(check(&captured_less, Refund, Some(120_000), 0, false), Err(Refusal::Amount(_))), "only what was captured");
    }
}
