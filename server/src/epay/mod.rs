//! Talking to ePay: the OAuth token endpoint, the status API, capture, cancel and refund, and
//! reading what ePay reports (`reported.rs`).

mod client;
pub mod decline;
pub mod metrics;
pub(crate) mod operation;
pub mod reported;
pub mod saved_card;
mod status;
pub(crate) mod token;

pub(crate) use client::causes;
pub use client::{EpayClient, EpayError};
pub use operation::{OperationAnswer, OperationKind, read_operation_answer};
pub use saved_card::{CardPayment, CardPaymentAnswer};
#[cfg(test)]
pub(crate) use status::read_status_answer;
pub use status::{ResultCode, StatusAnswer, StatusKind, TransactionInfo, TransactionStatus};
pub use token::{PaymentTokenRequest, SERVICE_SCOPE, Token};

/// An amount as ePay's JSON takes it: a number (1500, 1500.5), exact for two decimals.
pub fn amount_number(amount: epay_api_types::Amount) -> serde_json::Value {
    let minor = amount.minor();
    if minor.is_multiple_of(100) { serde_json::json!(minor / 100) } else { serde_json::json!(minor as f64 / 100.0) }
}
