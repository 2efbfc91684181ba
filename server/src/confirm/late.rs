//! A payment that arrives after its merchant order's payable window (`payableUntil`): the
//! shop may have given the goods to someone else (a ticket held for 15 minutes). A hold
//! (`AUTH`) is cancelled, moving no money; a charge is kept (`LATE_PAYMENTS=keep`, the shop
//! decides, told by `order.paid_late`) or refunded (`LATE_PAYMENTS=refund`), both through the
//! operations path. Pure.
//!
//! "Arrives" is when the payer paid at ePay: the transaction's `createdDate`, so a payment made
//! in time is never late because its notification was. Without one, only the proxy's clock
//! says it came late (a slow notification looks the same): announced, never undone by itself;
//! a person looks (the order is flagged for review, its state kept).

use crate::config::LatePayments;
use crate::epay::OperationKind;
use crate::store::orders::{OrderRow, OrderState};
use epay_api_types::OrderSource;

/// What to do with a payment that came late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Late {
    /// When it arrived and when the window ended (unix seconds).
    pub paid_at: i64,
    pub payable_until: i64,
    /// The operation that undoes it, if any.
    pub undo: Option<OperationKind>,
    /// Late by ePay's own transaction time (else by when the proxy confirmed it).
    pub by_epays_clock: bool,
}

impl Late {
    /// What the order's timeline and the shop are told.
    pub fn note(&self) -> String {
        let then = match self.undo {
            Some(OperationKind::Cancel) => "the hold is cancelled",
            Some(_) => "the charge is refunded (LATE_PAYMENTS=refund)",
            None if !self.by_epays_clock => "ePay gave no transaction time, so it may have been paid in time: kept, a person checks",
            None => "the charge is kept (LATE_PAYMENTS=keep): ship the order if you still can, or refund it",
        };
        let clock = if self.by_epays_clock { "paid" } else { "confirmed" };
        format!("{clock} {} s after the payable window ended: {then}", self.paid_at - self.payable_until)
    }
}

/// Whether `order`, now `state` (paid or authorized), was paid at `paid_at` (or, unknown, at
/// `now`) after its payable window, and what follows.
pub fn late_payment(order: &OrderRow, state: OrderState, paid_at: Option<i64>, now: i64, policy: LatePayments) -> Option<Late> {
    if order.source != OrderSource::Merchant {
        return None;
    }
    let payable_until = order.payable_until()?;
    let by_epays_clock = paid_at.is_some();
    let paid_at = paid_at.unwrap_or(now);
    if paid_at < payable_until {
        return None;
    }
    let undo = match (state, policy) {
        _ if !by_epays_clock => None,
        (OrderState::Authorized, _) => Some(OperationKind::Cancel),
        (_, LatePayments::Refund) => Some(OperationKind::Refund),
        (_, LatePayments::Keep) => None,
    };
    Some(Late { paid_at, payable_until, undo, by_epays_clock })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;

    fn merchant_order(payable_until: i64) -> OrderRow {
        let new = NewOrder::example(300_000, epay_api_types::PaymentMethod::Pay);
        let order = OrderRow::created(1, "1".into(), &new, 0);
        OrderRow {
            source: OrderSource::Merchant,
            expires_at: Some(payable_until + crate::store::orders::DOCUMENTED_LIFETIME_SECS),
            ..order
        }
    }

    #[test]
    fn only_a_payment_made_after_the_window_is_late_and_a_hold_is_always_cancelled() {
        let order = merchant_order(900);
        assert_eq!(late_payment(&order, OrderState::Paid, Some(899), 5_000, LatePayments::Refund), None, "paid in time, heard late");
        let late = late_payment(&order, OrderState::Paid, Some(960), 5_000, LatePayments::Keep).unwrap();
        assert_eq!((late.paid_at, late.undo), (960, None));
        assert!(late.note().contains("60 s after") && late.note().contains("kept"), "{}", late.note());
        assert_eq!(late_payment(&order, OrderState::Paid, Some(960), 0, LatePayments::Refund).unwrap().undo, Some(OperationKind::Refund));
        assert_eq!(
            late_payment(&order, OrderState::Authorized, Some(960), 0, LatePayments::Keep).unwrap().undo,
            Some(OperationKind::Cancel)
        );
        let unknown = late_payment(&order, OrderState::Authorized, None, 900, LatePayments::Refund).unwrap();
        assert_eq!((unknown.paid_at, unknown.undo), (900, None), "no date: when confirmed, never undone by itself");
        assert!(unknown.note().contains("a person checks"), "{}", unknown.note());
        let payer_order = OrderRow { source: OrderSource::Payer, ..order };
        assert_eq!(late_payment(&payer_order, OrderState::Paid, Some(960), 0, LatePayments::Keep), None);
    }
}
