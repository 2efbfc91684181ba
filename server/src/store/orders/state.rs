//! Where an order is in its life (stored as text), and what the payer may know of it.

use epay_api_types::OrderStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// A merchant order stored through the merchant API; nobody has started paying it yet.
    Open,
    /// Stored, token not yet obtained.
    Created,
    /// Token issued; waiting for the payer and ePay.
    Pending,
    /// The token request failed; a retry with the same Idempotency-Key starts it again.
    StartFailed,
    /// A valid success postLink arrived; waiting for the status API to confirm it.
    Confirming,
    /// Paid: confirmed. Final.
    Paid,
    /// Declined by ePay. A later confirmed success still wins.
    Failed,
    /// Something did not add up; a human must look. Never becomes paid by itself.
    Review,
    /// The payment window closed without a payment.
    Expired,
    /// Two-stage terminals: ePay holds the money (AUTH, confirmed); a capture charges it, a
    /// cancel releases it.
    Authorized,
    /// The hold was released (cancel of an AUTH). Final.
    Cancelled,
    /// Refunds returned everything that was charged. Final.
    Refunded,
}

impl OrderState {
    /// Every state, for tests and tools that go through them all.
    pub const ALL: [OrderState; 12] = [
        OrderState::Open,
        OrderState::Created,
        OrderState::Pending,
        OrderState::StartFailed,
        OrderState::Confirming,
        OrderState::Paid,
        OrderState::Failed,
        OrderState::Review,
        OrderState::Expired,
        OrderState::Authorized,
        OrderState::Cancelled,
        OrderState::Refunded,
    ];

    pub fn public(self) -> OrderStatus {
        match self {
            OrderState::Open => OrderStatus::Open,
            OrderState::Created | OrderState::Pending | OrderState::Confirming | OrderState::Review => OrderStatus::Pending,
            // The payer's payment went through whatever the merchant did with it since.
            OrderState::Paid | OrderState::Authorized | OrderState::Refunded => OrderStatus::Paid,
            OrderState::Failed | OrderState::StartFailed | OrderState::Cancelled => OrderStatus::Failed,
            OrderState::Expired => OrderStatus::Expired,
        }
    }

    /// What the merchant API calls it: the payer's statuses, and the merchant's own for the
    /// money after the payment (`authorized`, `refunded`, `cancelled`).
    pub fn merchant_status(self) -> &'static str {
        match self {
            OrderState::Authorized => "authorized",
            OrderState::Refunded => "refunded",
            OrderState::Cancelled => "cancelled",
            OrderState::Paid => "paid",
            other => other.public().as_str(),
        }
    }

    /// The stored name (`start_failed`, ...), for people reading `orders show`.
    pub fn name(self) -> &'static str {
        match self {
            OrderState::Open => "open",
            OrderState::Created => "created",
            OrderState::Pending => "pending",
            OrderState::StartFailed => "start_failed",
            OrderState::Confirming => "confirming",
            OrderState::Paid => "paid",
            OrderState::Failed => "failed",
            OrderState::Review => "review",
            OrderState::Expired => "expired",
            OrderState::Authorized => "authorized",
            OrderState::Cancelled => "cancelled",
            OrderState::Refunded => "refunded",
        }
    }
}

impl OrderState {
    /// The machine: whether an order in this state may move to `to` (staying put is no move).
    /// Pure; `change::change` asks it before every move. ARCHITECTURE.md draws it.
    pub fn may_become(self, to: OrderState) -> bool {
        use OrderState::*;
        // What ePay's answers (a postLink, the status API) may make of an order not paid yet.
        let answered = matches!(to, Confirming | Paid | Authorized | Failed | Expired | Review);
        match self {
            Open => matches!(to, Created | Expired),
            // A postLink may come before the token is recorded.
            Created => matches!(to, Pending | StartFailed) || answered,
            // A checkout with the same key (or the order's page) asks for a new token.
            Pending | StartFailed => to == Created || answered,
            // The status API has not confirmed it yet: waiting again.
            Confirming => to == Pending || answered,
            // A later confirmed success still wins; a person looks at what does not add up.
            Failed | Expired => answered,
            // A person decides, or the operation it waited for settles.
            Review => matches!(to, Paid | Failed | Authorized | Cancelled | Refunded),
            // Only the merchant's operations and people move money that ePay confirmed.
            Paid => matches!(to, Refunded | Review),
            Authorized => matches!(to, Paid | Cancelled | Review),
            Cancelled | Refunded => false,
        }
    }

    /// The webhook event that announces an order entering this state, if the shop hears of it.
    pub fn announced_as(self) -> Option<&'static str> {
        match self {
            OrderState::Paid => Some("order.paid"),
            OrderState::Failed => Some("order.failed"),
            OrderState::Expired => Some("order.expired"),
            OrderState::Review => Some("order.review"),
            OrderState::Authorized => Some("order.authorized"),
            OrderState::Cancelled => Some("order.cancelled"),
            OrderState::Open
            | OrderState::Created
            | OrderState::Pending
            | OrderState::StartFailed
            | OrderState::Confirming
            | OrderState::Refunded => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderState::{self, *};

    /// Money that ePay confirmed is never un-confirmed by an answer: a paid or authorized order
    /// moves only by an operation or a person, and nothing leaves cancelled or refunded.
    #[test]
    fn confirmed_money_moves_only_forward() {
        for to in OrderState::ALL {
            assert!(!Cancelled.may_become(to) && !Refunded.may_become(to), "{to:?}");
            assert!(!to.may_become(Open), "nothing goes back to open: {to:?}");
        }
        let paid_may = OrderState::ALL.into_iter().filter(|to| Paid.may_become(*to)).collect::<Vec<_>>();
        assert_eq!(paid_may, [Review, Refunded]);
        let authorized_may = OrderState::ALL.into_iter().filter(|to| Authorized.may_become(*to)).collect::<Vec<_>>();
        assert_eq!(authorized_may, [Paid, Review, Cancelled]);
        for from in [Paid, Authorized, Review] {
            for to in [Created, Pending, StartFailed, Confirming, Expired] {
                assert!(!from.may_become(to), "{from:?} -> {to:?}");
            }
        }
    }

    /// Every move the flows make (the API suite logged them all) is one the machine allows.
    #[test]
    fn the_flows_moves_are_allowed() {
        let moves = [
            (Open, Created),
            (Open, Expired),
            (Created, Pending),
            (Created, StartFailed),
            (StartFailed, Created),
            (StartFailed, Expired),
            (Pending, Confirming),
            (Pending, Paid),
            (Pending, Failed),
            (Pending, Expired),
            (Confirming, Paid),
            (Confirming, Authorized),
            (Confirming, Review),
            (Failed, Confirming),
            (Failed, Review),
            (Expired, Confirming),
            (Review, Paid),
            (Review, Failed),
            (Review, Authorized),
            (Review, Refunded),
            (Paid, Review),
            (Paid, Refunded),
            (Authorized, Paid),
            (Authorized, Cancelled),
            (Authorized, Review),
        ];
        for (from, to) in moves {
            assert!(from.may_become(to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn the_shop_hears_of_the_states_it_acts_on() {
        let announced = OrderState::ALL.into_iter().filter_map(OrderState::announced_as).collect::<Vec<_>>();
        assert_eq!(announced, ["order.paid", "order.failed", "order.review", "order.expired", "order.authorized", "order.cancelled"]);
    }
}
