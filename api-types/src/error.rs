use serde::{Deserialize, Serialize};

/// Every 4xx/5xx body of the proxy: a stable code the widget translates, and an English
/// message a developer can act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    UnsupportedMediaType,
    BodyTooLarge,
    InvalidAmount,
    AmountTooSmall,
    AmountTooLarge,
    InvalidField,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    CheckoutInProgress,
    CheckoutFinished,
    OrderKeyRequired,
    NotFound,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    Rejected,
    Timeout,
    Internal,
    /// A code this build does not know (a newer proxy).
    #[serde(other)]
    Unknown,
}
