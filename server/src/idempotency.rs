//! Idempotency keys as every door of the proxy reads them (a payer's checkout, the merchant
//! API, the console): the `Idempotency-Key` header, optional or required, and the header that
//! marks an answer as the replay of an earlier request.

use axum::http::HeaderMap;
use epay_api_types::{ErrorCode, IDEMPOTENCY_KEY_HEADER};

use crate::error::AppError;

/// Set on the answer to a repeated request (the same Idempotency-Key and body).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Idempotency-Key: optional; when present 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else { return Ok(None) };
    let bad = || {
        AppError::bad_request(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
        )
    };
    let text = value.to_str().map_err(|_| bad())?;
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(text.to_owned()))
}

/// Idempotency-Key where it is required (the merchant API, the console): `why` tells the
/// caller what a repeat with the same key is safe from.
pub fn required_idempotency_key(headers: &HeaderMap, why: &str) -> Result<String, AppError> {
    idempotency_key(headers)?
        .ok_or_else(|| AppError::bad_request(ErrorCode::IdempotencyKeyRequired, format!("send an Idempotency-Key header{why}")))
}
