//! Saved cards in the merchant API (`/api/merchant/customers/{accountId}/cards`): cards ePay
//! saved for a customer (the shop's `accountId`) after the payer agreed in the widget.

use serde::{Deserialize, Serialize};

use crate::CardStatus;

/// A customer's saved card. Never a card number: ePay keeps the card; the proxy keeps its
/// mask, scheme and bank.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedCard {
    /// `card_` and 24 hex digits: what `savedCard` of `POST /api/merchant/orders` takes.
    pub id: String,
    pub account_id: String,
    /// `pending` (the payment that saved it is not confirmed yet), `active`, or `deleted`.
    pub status: CardStatus,
    /// As ePay masks it: "440043...2222".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_mask: Option<String>,
    /// VISA, MASTERCARD…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_type: Option<String>,
    /// The card's bank, as ePay names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The order whose payment saved it.
    pub saved_by_invoice_id: String,
    /// RFC 3339.
    pub saved_at: String,
    /// RFC 3339: the latest payment the shop started with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// A deleted card: whether ePay confirmed its deactivation (it is tried until it does; the
    /// card is never charged again either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at_epay: Option<bool>,
}

/// `GET /api/merchant/customers/{accountId}/cards`: oldest first, deleted ones included.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedCardList {
    pub data: Vec<SavedCard>,
}
