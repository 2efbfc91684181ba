//! Talking to ePay: the OAuth token endpoint (and, for confirmation, the status API).

mod client;
mod token;

pub use client::{EpayClient, EpayError};
pub use token::{PaymentTokenRequest, Token};
