use serde::{Deserialize, Serialize};

/// Every 4xx/5xx body of the proxy: a stable code the widget translates, and an English
/// message a developer can act on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    TooManyOpenOrders,
    TooManyOpenMerchantOrders,
    TokenRateExceeded,
    UpstreamError,
    UpstreamTimeout,
    Rejected,
    Timeout,
    Internal,
    Unauthorized,
    BrowserOriginRefused,
    IdempotencyKeyRequired,
    DuplicateReference,
    OpenAmountsDisabled,
    OrderExpired,
    NotAMerchantOrder,
    InvalidCursor,
    OperationNotAllowed,
    /// Signed in, but not allowed: a change without the session's CSRF token, or a money
    /// action by a `viewer` (the console).
    Forbidden,
    /// The password was right; send the code of the person's second factor too (`code`).
    SecondFactorRequired,
    /// A saved card that cannot pay: unknown for the customer, deleted, or saved by a payment
    /// ePay has not confirmed yet.
    CardNotUsable,
    /// A code this build does not know (a newer proxy).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 34] = [
        ErrorCode::InvalidJson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::BodyTooLarge,
        ErrorCode::InvalidAmount,
        ErrorCode::AmountTooSmall,
        ErrorCode::AmountTooLarge,
        ErrorCode::InvalidField,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::CheckoutInProgress,
        ErrorCode::CheckoutFinished,
        ErrorCode::OrderKeyRequired,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::TooManyOpenOrders,
        ErrorCode::TooManyOpenMerchantOrders,
        ErrorCode::TokenRateExceeded,
        ErrorCode::UpstreamError,
        ErrorCode::UpstreamTimeout,
        ErrorCode::Rejected,
        ErrorCode::Timeout,
        ErrorCode::Internal,
        ErrorCode::Unauthorized,
        ErrorCode::BrowserOriginRefused,
        ErrorCode::IdempotencyKeyRequired,
        ErrorCode::DuplicateReference,
        ErrorCode::OpenAmountsDisabled,
        ErrorCode::OrderExpired,
        ErrorCode::NotAMerchantOrder,
        ErrorCode::InvalidCursor,
        ErrorCode::OperationNotAllowed,
        ErrorCode::Forbidden,
        ErrorCode::SecondFactorRequired,
        ErrorCode::CardNotUsable,
    ];

    /// The wire name (what serde writes), for readers that do without serde.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::AmountTooSmall => "amount_too_small",
            ErrorCode::AmountTooLarge => "amount_too_large",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::CheckoutInProgress => "checkout_in_progress",
            ErrorCode::CheckoutFinished => "checkout_finished",
            ErrorCode::OrderKeyRequired => "order_key_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyOpenOrders => "too_many_open_orders",
            ErrorCode::TooManyOpenMerchantOrders => "too_many_open_merchant_orders",
            ErrorCode::TokenRateExceeded => "token_rate_exceeded",
            ErrorCode::UpstreamError => "upstream_error",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::Rejected => "rejected",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::BrowserOriginRefused => "browser_origin_refused",
            ErrorCode::IdempotencyKeyRequired => "idempotency_key_required",
            ErrorCode::DuplicateReference => "duplicate_reference",
            ErrorCode::OpenAmountsDisabled => "open_amounts_disabled",
            ErrorCode::OrderExpired => "order_expired",
            ErrorCode::NotAMerchantOrder => "not_a_merchant_order",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::OperationNotAllowed => "operation_not_allowed",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SecondFactorRequired => "second_factor_required",
            ErrorCode::CardNotUsable => "card_not_usable",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The code for a wire name; `Unknown` for names this build does not know.
    pub fn from_wire(name: &str) -> ErrorCode {
        ErrorCode::ALL.into_iter().find(|code| code.as_str() == name).unwrap_or(ErrorCode::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
        }
        assert_eq!(ErrorCode::from_wire("brand_new_code"), ErrorCode::Unknown);
    }
}
