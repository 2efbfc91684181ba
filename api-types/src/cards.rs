//! Saved cards in the merchant API (`/api/merchant/customers/{accountId}/cards`): cards ePay
//! saved for a customer (the shop's `accountId`) after the payer agreed in the widget.

use serde::{Deserialize, Serialize};

use crate::{CardStatus, IntervalUnit, MerchantStatus, SubscriptionStatus};

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

/// `POST /api/merchant/subscriptions`: bill a customer's saved card every period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// The customer (`accountId` of the order that saved the card).
    pub account_id: String,
    /// Their saved card (`card_…`), `active`.
    pub card: String,
    /// Each period's price: decimal text such as "4990" or "4990.50".
    #[serde(deserialize_with = "crate::checkout::string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4990"))]
    pub amount: String,
    /// ISO 4217; the proxy's first `CURRENCIES` entry when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub interval: IntervalUnit,
    /// Periods of `interval` per charge (1 to 366; "every 3 months" is `month` and 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_count: Option<u32>,
    /// RFC 3339: the first period's start and first charge (now when absent; never in the past).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// What each charge is for (at most 125 bytes, sent to ePay; the period is added).
    pub description: String,
    /// Any JSON object up to 4 KiB, returned exactly as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>))]
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    /// Days after a declined charge to try again, one entry per retry (default `[1, 3, 5]`; at
    /// most 10 retries, each 1 to 60 days). After the last the subscription is `past_due`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_days: Option<Vec<u32>>,
}

/// `PATCH /api/merchant/subscriptions/{id}`: what may change (each optional).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionChange {
    /// The price from the next period on (a period being charged keeps its amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Another saved card of the customer: a `past_due` subscription is charged with it at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /api/merchant/subscriptions/{id}/cancel`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionCancel {
    /// Keep it until the paid period ends (no further charge), instead of ending it now.
    #[serde(default)]
    pub at_period_end: bool,
}

/// A subscription as the merchant API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `sub_` and 24 hex digits.
    pub id: String,
    pub account_id: String,
    pub card: String,
    pub status: SubscriptionStatus,
    /// Why it is `past_due` or `cancelled` (`insufficient_funds`, `card_expired`,
    /// `card_deleted`, `unpaid`, `cancelled_by_merchant`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub amount: String,
    pub currency: String,
    pub interval: IntervalUnit,
    pub interval_count: u32,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>))]
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    pub retry_days: Vec<u32>,
    /// RFC 3339: the first period's start.
    pub start: String,
    /// The period charged next (1 is the first), and its bounds.
    pub current_period: i64,
    pub current_period_start: String,
    pub current_period_end: String,
    /// RFC 3339: when the proxy charges (or retries, or ends it) next, on the test clock in
    /// the sandbox; absent when nothing is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_charge_at: Option<String>,
    /// Declined attempts of the current period.
    pub failed_attempts: i64,
    pub cancel_at_period_end: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    pub created_at: String,
    /// The latest charge (in webhooks: the one the event is about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_charge: Option<SubscriptionCharge>,
    /// Every charge, oldest first (single reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Vec<SubscriptionCharge>>,
}

/// One attempt to charge one period: one merchant order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCharge {
    pub period: i64,
    pub attempt: i64,
    pub invoice_id: String,
    pub amount: String,
    /// The order's status: `pending`, `paid`, `failed`, `expired`…
    pub status: MerchantStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    pub period_start: String,
    pub period_end: String,
    pub created_at: String,
}

/// `GET /api/merchant/subscriptions?accountId=`: oldest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub data: Vec<Subscription>,
}

/// The body of a subscription's webhook (`subscription.*`), signed like every other.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionWebhookPayload {
    pub r#type: crate::EventType,
    pub timestamp: String,
    /// The subscription as it stood when the event was made.
    pub data: Subscription,
}

/// `GET` and `POST /api/merchant/test-clock/advance` (sandbox only): the clock subscriptions
/// are billed by, ahead of the real one by what tests moved it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestClock {
    /// RFC 3339: the test clock's now.
    pub now: String,
    pub offset_secs: i64,
}

/// `POST /api/merchant/test-clock/advance`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestClockAdvance {
    /// Seconds to move the clock forward (1 to 5 years' worth).
    pub seconds: i64,
}
