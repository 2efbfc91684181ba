//! The merchant API (`/api/merchant/...`): the shop's backend creates priced orders and reads
//! what became of them. Server to server, with `Authorization: Bearer <MERCHANT_API_KEY>`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::checkout::string_or_number;
use crate::{Decision, EventType, Language, MerchantStatus, OperationStatus, OrderState, PaymentMethod, PostLinkEndpoint, PostLinkVerdict};

/// Capture, cancel or refund: one vocabulary from the merchant API (`/capture`, `/cancel`,
/// `/refunds`) through the store (`operations.kind`) to ePay's endpoints.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// ePay's `charge` of an AUTH.
    Capture,
    Cancel,
    Refund,
}

impl OperationKind {
    /// The name the store and the merchant API use.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Capture => "capture",
            OperationKind::Cancel => "cancel",
            OperationKind::Refund => "refund",
        }
    }

    pub fn parse(name: &str) -> Option<OperationKind> {
        match name {
            "capture" => Some(OperationKind::Capture),
            "cancel" => Some(OperationKind::Cancel),
            "refund" => Some(OperationKind::Refund),
            _ => None,
        }
    }
}

/// The largest `metadata` object, in bytes of JSON.
pub const METADATA_MAX_BYTES: usize = 4096;
/// The largest `reference`, in bytes.
pub const REFERENCE_MAX_BYTES: usize = 128;

/// `POST /api/merchant/orders`. The price (amount, currency) and what is sold are fixed here,
/// once: nothing about them can change afterwards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantOrderRequest {
    /// Decimal text such as "1500" or "1500.50" (a JSON number is read through its text).
    #[serde(deserialize_with = "string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1500.50"))]
    pub amount: String,
    /// ISO 4217; the proxy's first `CURRENCIES` entry when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What the payer pays for, shown by the widget and sent to ePay (at most 125 bytes).
    pub description: String,
    /// The shop's own order id: unique among the merchant's orders (1 to 128 bytes).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PaymentMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The older name of `allowSaveCard`, read the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_save: Option<bool>,
    /// Offer the payer to save the card for later payments in this shop (off by default; needs
    /// `accountId`): the widget shows the choice, unticked, and ePay saves the card only when
    /// the payer ticks it. The card then appears under `/api/merchant/customers/{accountId}/cards`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_save_card: Option<bool>,
    /// Pay the order now with this saved card of `accountId` (`card_…`), server to server: no
    /// payer, no payment page. The answer shows the order as ePay's status API confirmed it
    /// (or `pending` while it cannot yet tell); webhooks say the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_card: Option<String>,
    /// Any JSON object up to 4 KiB, returned exactly as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>))]
    pub metadata: Option<Box<RawValue>>,
    /// How long the payer may start paying, from now (60 s to 30 days): a 15-minute
    /// reservation is 900. The order settles (`expiresAt`) an ePay token's lifetime (7,200 s)
    /// later; a payment made after this window is late (`order.paid_late`: a hold is cancelled,
    /// a charge kept or refunded as `LATE_PAYMENTS` says). When absent, `expiresInSecs` decides,
    /// or 79,200 (the order settles after 24 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    pub payable_for_secs: Option<u64>,
    /// The older way to say it, kept working as it was: from 7,260 s, when the order settles
    /// (payable until 7,200 s before); below that (60 s and up), the payable window itself, as
    /// before December 2026. Send one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    pub expires_in_secs: Option<u64>,
    /// Where ePay sends the payer back (the shop's own order page; `order={invoiceId}` is
    /// added to its query). The hosted payment page when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// What the fiscal receipt lists (with a registrar configured, `FISCAL_REGISTRAR`): each
    /// line's quantity × price, added up, must equal `amount`. Without it the receipt has one
    /// line, `description` for `amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ReceiptItem>>,
}

/// A line of an order's fiscal receipt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptItem {
    /// What was sold, as the receipt prints it (1 to 128 characters; from the national catalogue
    /// where the law asks for it).
    pub name: String,
    /// How many, up to three decimals ("1.5" kg); 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::checkout::optional_string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2"))]
    pub quantity: Option<String>,
    /// The price of one unit, decimal text like `amount`.
    #[serde(deserialize_with = "crate::checkout::string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "750"))]
    pub price: String,
    /// The VAT rate in percent ("16"), or "none"; the proxy's `FISCAL_VAT_RATE` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::checkout::optional_string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "16"))]
    pub vat: Option<String>,
    /// The unit's code in the national classifier; 796 (piece) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<u32>,
    /// The cash register's section; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<u32>,
}

/// A fiscal receipt of the order: its sale, or the return of a refund.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// `rcpt_…`
    pub id: String,
    /// `sale` or `return`.
    pub kind: String,
    /// `due` (waiting for the registrar), `issued`, or `failed` (refused as it is: a person
    /// looks, and may ask for it again in the console).
    pub status: String,
    pub amount: String,
    /// The refund it returns (`op_…`), for a return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The fiscal sign, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_sign: Option<String>,
    /// The fiscal data operator's page of the receipt (also its QR code), for the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The cash register's registration number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    /// RFC 3339; when the registrar issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// Issued while the cash register was offline (the OFD receives it later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<bool>,
    /// Why the last attempt did not issue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339; when it became due.
    pub created_at: String,
}

/// Who fixed an order's amount.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// The merchant API.
    Merchant,
    /// The payer, through `POST /api/checkout` (`CHECKOUT_OPEN_AMOUNTS=true`).
    Payer,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Merchant => "merchant",
            OrderSource::Payer => "payer",
        }
    }

    pub fn from_name(name: &str) -> Option<OrderSource> {
        [OrderSource::Merchant, OrderSource::Payer].into_iter().find(|source| source.as_str() == name)
    }
}

/// An order as the merchant sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantOrder {
    pub invoice_id: String,
    /// Opens the order to the payer: give it to the widget (`data-order-key`) or use
    /// `checkoutUrl`, which carries it in its fragment.
    pub order_key: String,
    pub source: OrderSource,
    pub status: MerchantStatus,
    /// The proxy's own state (`created`, `confirming`, `review`...), for people on call.
    pub state: OrderState,
    /// Grows with every change of the order: of two views (or two webhook events) of one order,
    /// the one with the higher version is the newer.
    pub version: i64,
    pub amount: String,
    pub currency: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub method: PaymentMethod,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: Language,
    pub card_save: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>))]
    pub metadata: Option<Box<RawValue>>,
    /// The hosted payment page, with the order key in its fragment (merchant orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; when the order settles (merchant orders): a token handed out for it expires
    /// by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// RFC 3339; the end of the payable window: payments can be started until then, and one
    /// made later is late (merchant orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payable_until: Option<String>,
    /// `payableUntil` as seconds after `createdAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payable_for_secs: Option<i64>,
    /// `expiresAt` as seconds after `createdAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<i64>,
    /// The payment, once ePay reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentDetails>,
    /// What was charged (a CHARGE, or the capture of an AUTH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_amount: Option<String>,
    /// What refunds returned so far.
    pub refunded_amount: String,
    /// A paid (or held) merchant order: whether the payer paid after `payableUntil` (by ePay's
    /// transaction time; `order.paid_late`). A late hold is cancelled; a late charge is kept or
    /// refunded as the proxy's `LATE_PAYMENTS` says (single-order reads and webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_after_expiry: Option<bool>,
    /// Captures, cancels and refunds, oldest first (single-order reads and webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<MerchantOperation>>,
    /// Webhooks only: when the event was made (RFC 3339, milliseconds); `data` is the order as
    /// it stood then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_created_at: Option<String>,
    /// Webhooks of an operation (`refund.succeeded`, `refund.failed`, `order.captured`) only:
    /// the operation the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<MerchantOperation>,
    /// Why the order needs a person (state `review`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_reason: Option<String>,
    /// What a person decided about the order's review, in the console (single-order reads
    /// and webhooks, once decided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_resolution: Option<ReviewResolution>,
    /// Every status the order went through (single-order reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<StatusChange>>,
    /// The newest postLinks received for it (20 at most), accepted or not, oldest first
    /// (single-order reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_links: Option<Vec<ReceivedPostLink>>,
    /// How many postLinks it received in all (single-order reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_links_count: Option<i64>,
    /// The proxy's questions to ePay's status API (single-order reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// Its fiscal receipts, oldest first, when it owes any (single-order reads and webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts: Option<Vec<Receipt>>,
}

/// A person's decision about an order in `review` (`order.review_resolved`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResolution {
    /// `paid`, `failed` or `refund` (a full refund through ePay; the order becomes `refunded`
    /// when ePay's status API shows it), or about an operation in review `done`, `not_done`,
    /// `send_again` or `epay_ledger`.
    pub decision: Decision,
    /// What the person checked.
    pub checked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who decided.
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// A capture, cancel or refund.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantOperation {
    /// `op_` and a number.
    pub id: String,
    pub kind: OperationKind,
    /// `pending` (ePay is being asked), `succeeded` (ePay's status API shows it), `failed` (ePay
    /// refused it the first time: nothing happened), `accepted` (ePay took it; the status API
    /// does not show it yet), `unknown` (no reliable answer: it is being looked up, sent again
    /// only when the status API proves it did not happen) or `review` (nobody can tell whether
    /// it happened: a person decides; the order is in `review`).
    pub status: OperationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What ePay said last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The Idempotency-Key the merchant sent with it.
    pub idempotency_key: String,
    /// RFC 3339.
    pub created_at: String,
}

/// `POST /api/merchant/orders/{invoiceId}/capture` and `/refunds` (both fields optional;
/// `reason` only for refunds).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationRequest {
    /// The whole amount (capture: what was authorized; refund: what is left) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a capture, cancel or refund request gets: the operation and the order after it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationResult {
    pub operation: MerchantOperation,
    pub order: MerchantOrder,
}

/// The body of every webhook POSTed to `WEBHOOK_URL`, signed by Standard Webhooks (the
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` headers).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookPayload {
    pub r#type: EventType,
    /// RFC 3339 with milliseconds: when the event was made.
    pub timestamp: String,
    /// The order as it stood when the event was made (`version`, `eventCreatedAt`), and for an
    /// operation's event (`order.captured`, `refund.*`) the operation in `operation`.
    pub data: MerchantOrder,
}

/// A webhook event as `GET /api/merchant/events` shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// The `webhook-id` of every delivery attempt.
    pub id: String,
    pub r#type: EventType,
    /// The order it is about (absent for a subscription's event without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// The subscription it is about (`subscription.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// `pending`, `delivered` or `failed` (given up after 3 days).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// The body sent (fixed at the first attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<WebhookPayload>))]
    pub payload: Option<Box<RawValue>>,
    pub attempts: Vec<DeliveryAttempt>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// RFC 3339.
    pub at: String,
    /// The receiver's HTTP status; absent when it did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of the receiver's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    pub duration_ms: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEventPage {
    pub events: Vec<WebhookEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What ePay reported about the payment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_code: Option<String>,
    /// The card's scheme as ePay reported it (`VISA`, `MC`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_type: Option<String>,
    /// The bank that issued the card, from the accepted postLink (single-order reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// ePay's retrieval reference number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epay_reference: Option<String>,
    /// A transfer's fee, beside the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// The part of the price Halyk bonuses paid (ePay's `amountBonus`); the card paid the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_bonus: Option<String>,
    /// The transaction's original amount as ePay reported it (`orgAmount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_amount: Option<String>,
    /// ePay's `payoutAmount`, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<i64>,
    /// A declined payment: why, for programs (`insufficient_funds`, `try_again_later`,
    /// `card_expired`, `card_deactivated`, `card_deleted` or `declined`); `failureReason` says it
    /// for people, in ePay's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

/// One step of an order's life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// The proxy's state the order entered.
    pub state: OrderState,
    /// The merchant status it meant (as `MerchantOrder.status`).
    pub status: MerchantStatus,
    /// RFC 3339.
    pub at: String,
}

/// A postLink as received (its body is not repeated: it holds ePay's secret_hash).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedPostLink {
    pub endpoint: PostLinkEndpoint,
    pub verdict: PostLinkVerdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 3339.
    pub received_at: String,
}

/// Where the confirmation through ePay's status API stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    pub attempts: i64,
    /// What the status API said last, as the proxy summarised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_answer: Option<String>,
    /// RFC 3339; absent when nothing more will be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<String>,
}

/// `GET /api/merchant/orders`: newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantOrderPage {
    pub orders: Vec<MerchantOrder>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
