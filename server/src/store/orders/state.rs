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
