//! Talking to ePay: the OAuth token endpoint (and, for confirmation, the status API).

mod client;
mod status;
mod token;

pub use client::{EpayClient, EpayError};
pub use status::{StatusAnswer, StatusKind, TransactionInfo};
pub use token::{PaymentTokenRequest, SERVICE_SCOPE, Token};
