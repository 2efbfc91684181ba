//! The API boundary between the checkout widget (wasm) and the token proxy.
//!
//! The types carry `serde` derives: the proxy reads and writes them with serde_json; the
//! widget reads the proxy's JSON through its own readers (`src/wire.rs`, which a browser test
//! holds against serde), so no JSON library reaches the wasm. What only the proxy needs comes
//! with features: TEXT columns (`store`), the merchant API's and the console's types and the
//! words they share (`merchant`, `admin`; `vocabulary.rs`), OpenAPI schemas (`openapi`).

#[cfg(feature = "admin")]
mod admin;
#[cfg(feature = "merchant")]
mod cards;
mod checkout;
mod error;
mod language;
#[cfg(feature = "merchant")]
mod merchant;
mod method;
mod money;
mod order;
#[cfg(feature = "store")]
#[doc(hidden)]
pub mod sql;
#[cfg(feature = "merchant")]
mod vocabulary;
mod widget_config;

#[cfg(feature = "admin")]
pub use admin::{
    AdminCustomer, AdminCustomerLine, AdminOrder, AdminReceipt, AdminReceipts, AdminRegister, AdminSession, AdminSignIn, AdminSummary,
    AttemptOutcome, CSRF_HEADER, Figure, Happening, PeriodFigures, ReceiptFigures, RecoveryCodes, ReviewDecision, SecondFactorCode,
    SecondFactorEnrolment, StateCause, TimelineEntry,
};
#[cfg(feature = "merchant")]
pub use cards::{
    SavedCard, SavedCardList, Subscription, SubscriptionCancel, SubscriptionChange, SubscriptionCharge, SubscriptionList,
    SubscriptionRequest, SubscriptionWebhookPayload, TestClock, TestClockAdvance,
};
pub use checkout::{CheckoutRequest, CheckoutResponse, DESCRIPTION_MAX_BYTES, IDEMPOTENCY_KEY_HEADER};
pub use error::{ApiError, ErrorCode};
pub use language::Language;
#[cfg(feature = "merchant")]
pub use merchant::{
    Confirmation, DeliveryAttempt, METADATA_MAX_BYTES, MerchantOperation, MerchantOrder, MerchantOrderPage, MerchantOrderRequest,
    OperationKind, OperationRequest, OperationResult, OrderSource, PaymentDetails, REFERENCE_MAX_BYTES, Receipt, ReceiptItem,
    ReceivedPostLink, ReviewResolution, StatusChange, WebhookEvent, WebhookEventPage, WebhookPayload,
};
pub use method::PaymentMethod;
pub use money::{Amount, AmountError};
pub use order::{ORDER_KEY_HEADER, OrderStatus, OrderView};
#[cfg(feature = "merchant")]
pub use vocabulary::{
    Action, CardStatus, Decision, EventType, IntervalUnit, MerchantStatus, OperationStatus, OrderState, PostLinkEndpoint, PostLinkVerdict,
    Role, SubscriptionStatus,
};
pub use widget_config::WidgetConfig;

/// What ePay accepts as an invoiceId: digits only, 6 to 15 of them.
pub fn is_valid_invoice_id(id: &str) -> bool {
    (6..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}
