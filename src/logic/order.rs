//! A merchant order on the page (`data-order`): pay it, or follow its outcome.

use epay_api_types::OrderStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStart {
    /// Show the order's amount and description and the pay button.
    Pay,
    /// Show what became of it (asking again while it is pending).
    Follow,
}

/// `payable` is the proxy's word; `returning` says the payer just came back from ePay for
/// this order (the back link's `?order=`): then its outcome comes first, even though a
/// pending order could still be paid (a second tab, or the payer who left ePay's page).
pub fn start(status: OrderStatus, payable: bool, returning: bool) -> OrderStart {
    match (status, payable) {
        (OrderStatus::Open, true) => OrderStart::Pay,
        (_, true) if !returning => OrderStart::Pay,
        _ => OrderStart::Follow,
    }
}

/// The name of the host-page event for an order's status (`epay:paid`...).
pub fn event_for(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "epay:paid",
        OrderStatus::Failed | OrderStatus::Expired => "epay:failed",
        OrderStatus::Open | OrderStatus::Pending => "epay:pending",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_paid_while_it_may_be_and_followed_once_the_payer_is_back() {
        assert_eq!(start(OrderStatus::Open, true, false), OrderStart::Pay);
        assert_eq!(start(OrderStatus::Open, true, true), OrderStart::Pay, "never handed to ePay: nothing to follow");
        assert_eq!(start(OrderStatus::Pending, true, false), OrderStart::Pay, "a second tab resumes the same order");
        assert_eq!(start(OrderStatus::Pending, true, true), OrderStart::Follow, "back from ePay: the outcome first");
        for status in [OrderStatus::Paid, OrderStatus::Failed, OrderStatus::Expired, OrderStatus::Pending] {
            assert_eq!(start(status, false, false), OrderStart::Follow, "{status:?}");
        }
        assert_eq!(event_for(OrderStatus::Expired), "epay:failed");
    }
}
