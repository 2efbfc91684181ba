//! The API boundary between the checkout widget (wasm) and the token proxy.
//!
//! The types carry `serde` derives: the proxy reads and writes them with serde_json; the
//! widget reads the proxy's JSON through its own readers (`src/wire.rs`, which a browser test
//! holds against serde), so no JSON library reaches the wasm. What only the proxy needs comes
//! with features: TEXT columns (`store`), the merchant API's and the console's types
//! (`merchant`, `admin`), OpenAPI schemas (`openapi`).

#[cfg(feature = "admin")]
mod admin;
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
mod widget_config;

#[cfg(feature = "admin")]
pub use admin::{
    AdminOrder, AdminSession, AdminSignIn, AdminSummary, CSRF_HEADER, Figure, PeriodFigures, RecoveryCodes, ReviewDecision,
    SecondFactorCode, SecondFactorEnrolment, TimelineEntry,
};
pub use checkout::{CheckoutRequest, CheckoutResponse, DESCRIPTION_MAX_BYTES, IDEMPOTENCY_KEY_HEADER};
pub use error::{ApiError, ErrorCode};
pub use language::Language;
#[cfg(feature = "merchant")]
pub use merchant::{
    Confirmation, DeliveryAttempt, METADATA_MAX_BYTES, MerchantOperation, MerchantOrder, MerchantOrderPage, MerchantOrderRequest,
    OperationKind, OperationRequest, OperationResult, OrderSource, PaymentDetails, REFERENCE_MAX_BYTES, ReceivedPostLink, ReviewResolution,
    StatusChange, WebhookEvent, WebhookEventPage,
};
pub use method::PaymentMethod;
pub use money::{Amount, AmountError};
pub use order::{ORDER_KEY_HEADER, OrderStatus, OrderView};
pub use widget_config::WidgetConfig;

/// What ePay accepts as an invoiceId: digits only, 6 to 15 of them.
pub fn is_valid_invoice_id(id: &str) -> bool {
    (6..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}
