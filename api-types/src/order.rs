use serde::{Deserialize, Serialize};

use crate::PaymentMethod;

/// Header carrying the per-order key for `GET /api/orders/{invoiceId}`.
pub const ORDER_KEY_HEADER: &str = "x-order-key";

/// What the payer may know about an order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// A merchant order nobody has started paying yet.
    Open,
    /// No confirmed outcome yet: not paid, or paid but not yet confirmed.
    Pending,
    /// ePay notified success and the proxy confirmed it.
    Paid,
    /// ePay declined the payment (or it never started).
    Failed,
    /// The payment window closed without a payment.
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] =
        [OrderStatus::Open, OrderStatus::Pending, OrderStatus::Paid, OrderStatus::Failed, OrderStatus::Expired];

    /// The wire name (what serde writes), for readers and writers that do without serde.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
            OrderStatus::Expired => "expired",
        }
    }

    /// The status for a wire name.
    pub fn from_wire(name: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for status in OrderStatus::ALL {
            let name = serde_json::to_string(&status).unwrap();
            assert_eq!(OrderStatus::from_wire(name.trim_matches('"')), Some(status));
        }
    }
}

/// `GET /api/orders/{invoiceId}`: status, amount, currency, masked card, failure reason and
/// code. Nothing more.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub status: OrderStatus,
    pub amount: String,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<i64>,
    /// How the order is paid: a transfer or a card payment (the outcome's words follow it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PaymentMethod>,
    /// A merchant order's description (what the payer is paying for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A merchant order the payer may (still) pay: `POST /api/orders/{invoiceId}/checkout`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub payable: bool,
    /// The shop offers to save the card for its later payments (`allowSaveCard`): the widget
    /// asks the payer, unticked, and sends the answer with the start (`saveCard`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_save_card: bool,
    /// A paid order's fiscal receipt: the fiscal data operator's page of it, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_url: Option<String>,
    /// A paid order's fiscal receipt is on its way (ask again in a moment for `receiptUrl`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub receipt_due: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}
