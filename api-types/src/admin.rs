//! The console's API (`/api/admin/*`): what the proxy's own back office reads and sends.
//! Orders are the merchant API's `MerchantOrder`: one implementation, two doors.

use serde::{Deserialize, Serialize};

use crate::{
    Action, Decision, EventType, MerchantOrder, OperationKind, OperationStatus, OrderState, PostLinkEndpoint, PostLinkVerdict, Role,
    WebhookEvent,
};

/// The header every change carries: the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/admin/session`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminSignIn {
    pub user: String,
    pub password: String,
    /// The six-digit code of the person's authenticator app, or one of their recovery
    /// codes, when they have a second factor (the answer `second_factor_required` says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Who is signed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminSession {
    pub user: String,
    pub role: Role,
    /// Send it as `X-CSRF-Token` with every change.
    pub csrf_token: String,
    /// RFC 3339: the session ends then at the latest (sooner after idling).
    pub expires_at: String,
    /// The person has a second factor (TOTP) enrolled.
    #[serde(default)]
    pub second_factor: bool,
    /// The person must enrol a second factor before anything else (`ADMIN_REQUIRE_2FA`):
    /// until then this session may only enrol one and sign out.
    #[serde(default)]
    pub must_enrol: bool,
}

/// `POST /api/admin/second-factor`: a new TOTP secret to put into an authenticator app,
/// confirmed by sending one of its codes to `/api/admin/second-factor/confirm`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondFactorEnrolment {
    /// The `otpauth://totp/...` link the QR code holds.
    pub otpauth_link: String,
    /// The QR code, an SVG `data:` URL for an `<img>`.
    pub qr_code: String,
    /// The secret in base32, for apps that take it typed.
    pub secret: String,
}

/// A code from the authenticator app (confirming an enrolment).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecondFactorCode {
    pub code: String,
}

/// One-time recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A count and the amount of its orders.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Figure {
    pub count: i64,
    /// Tenge, as the merchant API writes amounts ("1500.50").
    pub amount: String,
}

/// Orders created in a period, by what became of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodFigures {
    /// RFC 3339: the period's start (midnight in Almaty, UTC+5).
    pub from: String,
    /// Paid, authorized or refunded later: the payment went through.
    pub paid: Figure,
    /// Declined, never started, or a hold released.
    pub failed: Figure,
    /// What refunds returned (amount), on how many orders (count).
    pub refunded: Figure,
    /// Not paid yet: open, at ePay's page, or being confirmed.
    pub waiting: Figure,
    pub review: Figure,
    pub expired: Figure,
}

/// `GET /api/admin/summary`: the home page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminSummary {
    pub today: PeriodFigures,
    /// Since Monday.
    pub week: PeriodFigures,
    /// Orders in review now, whenever created.
    pub reviews_open: i64,
    /// Webhook events not delivered yet.
    pub webhook_backlog: i64,
    /// Seconds the oldest of them has waited (0 when none).
    pub oldest_undelivered_secs: i64,
    /// Fiscal receipts (with a registrar): due, refused, and cash registers needing a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts: Option<ReceiptFigures>,
}

/// The home page's receipts tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptFigures {
    pub due: i64,
    pub failed: i64,
    /// Seconds the oldest receipt due has waited (0 when none).
    pub oldest_due_secs: i64,
    pub register_alerts: i64,
}

/// One line of an order's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// RFC 3339.
    pub at: String,
    /// What happened, in words the console translates.
    #[serde(flatten)]
    pub what: Happening,
    /// The evidence as it was recorded, untranslated: ePay's answer, a reason, an id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The person, for what a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// One line of an order's timeline, by its `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Happening {
    /// The order entered `state`, for `cause`.
    State { state: OrderState, cause: StateCause },
    /// A postLink arrived at `endpoint`, and the proxy's verdict on it.
    #[serde(rename = "postlink")]
    PostLink {
        endpoint: PostLinkEndpoint,
        verdict: PostLinkVerdict,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transaction_id: Option<String>,
    },
    /// ePay's status API answered (`detail`) the last of `questions`.
    Check { questions: i64 },
    /// A person did `action` (`resolve_review`, a money action, a resend...), with the
    /// decision of a review.
    Action {
        action: Action,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<Decision>,
    },
    /// A capture, cancel or refund was asked (`asked`), or reached `status`.
    Operation {
        /// `op_` and a number.
        operation: String,
        operation_kind: OperationKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<String>,
        status: OperationStatus,
        asked: bool,
    },
    /// A webhook event was made, or an attempt sent it (and what the receiver answered).
    Webhook {
        event: EventType,
        /// Set for an attempt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<AttemptOutcome>,
    },
}

/// Why an order entered a state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum StateCause {
    /// The shop made it through the merchant API.
    MadeByTheShop,
    /// The payer pressed Pay.
    PayerPressedPay,
    /// ePay issued a payment token.
    TokenIssued,
    /// No token from ePay (`detail` says why).
    NoToken,
    /// A postLink said how it went; the status API is asked.
    PostLinkArrived,
    /// A person must look (`detail` says why).
    PersonMustLook,
    /// Its time ran out without a payment.
    TimeRanOut,
    /// ePay's status API said so, after the postLink with `postLinkCode` if one came.
    StatusApi {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_link_code: Option<String>,
    },
    /// An operation ePay's status API confirmed.
    OperationConfirmed,
    /// A person resolved its review with `decision`.
    ReviewResolved { decision: Decision },
}

/// What a webhook attempt came to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOutcome {
    /// The receiver's HTTP status; none when it did not answer (`error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// `GET /api/admin/orders/{invoiceId}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminOrder {
    pub order: MerchantOrder,
    /// Everything that happened to it, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Its webhook events with every delivery attempt, oldest first.
    pub events: Vec<WebhookEvent>,
}

/// `POST /api/admin/orders/{invoiceId}/review`: what a person decided about an order in review.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewDecision {
    /// For a payment in review: `paid` (the payment is there: the order is paid), `failed` (no
    /// money arrived), or `refund` (the money goes back: a full refund through ePay, which
    /// confirms it). For a capture, cancel or refund in review: `done` (ePay did it), `not_done`
    /// (ePay did not: nothing moved) or `send_again` (the same externalID, sent only if ePay
    /// still shows no trace of it), or `epay_ledger` (a refund in review: the refunds ePay's
    /// ledger shows).
    pub decision: Decision,
    /// What the person checked, e.g. "ePay cabinet: transaction 123, CHARGE 1500".
    pub checked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `GET /api/admin/customers/{accountId}`: a customer's saved cards and subscriptions (each
/// with every charge).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminCustomer {
    pub account_id: String,
    pub cards: Vec<crate::SavedCard>,
    pub subscriptions: Vec<crate::Subscription>,
}

/// One line of `GET /api/admin/customers`: a customer with cards or subscriptions.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminCustomerLine {
    pub account_id: String,
    pub active_cards: i64,
    pub active_subscriptions: i64,
}

/// `GET /api/admin/receipts?status=`: fiscal receipts due, issued and failing, and the cash
/// register as the proxy last saw it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminReceipts {
    /// Whether a registrar is configured (`FISCAL_REGISTRAR`).
    pub enabled: bool,
    pub due: i64,
    pub issued: i64,
    pub failed: i64,
    /// RFC 3339: since when the oldest receipt due waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_due_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<AdminRegister>,
    /// The newest receipts of the status asked for (all when none), 100 at most.
    pub receipts: Vec<AdminReceipt>,
}

/// The cash register: its shift, and what a person must act on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminRegister {
    pub cashbox: String,
    /// RFC 3339: the first receipt of the open shift; none: no shift open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_opened_at: Option<String>,
    /// RFC 3339: the last Z-report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_closed_at: Option<String>,
    /// `cash_register_blocked`, `cash_register_not_activated`, `offline_over_72_hours`,
    /// `wrong_credentials`, `cash_register_not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_since: Option<String>,
    /// Why the last Z-report failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A receipt with its order and its attempts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminReceipt {
    pub invoice_id: String,
    pub receipt: crate::Receipt,
    pub attempts: i64,
    /// RFC 3339: the next attempt of a receipt due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
}
