//! Who may use the merchant API: a request with `Authorization: Bearer <key>` naming one of
//! the configured keys (compared in constant time, through their SHA-256 so the length leaks
//! nothing either), and never a browser: a request that carries `Origin` is refused, and these
//! routes have no CORS, so no storefront script can call them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use epay_api_types::{ApiError, ErrorCode};

use crate::error::AppError;
use crate::secrets::bearer_matches;
use crate::state::AppState;

/// What a request's headers say about its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Merchant,
    NoKey,
    WrongKey,
    Browser,
}

/// Pure: the headers against the configured keys.
pub fn identify(headers: &HeaderMap, keys: &[secrecy::SecretString]) -> Caller {
    if headers.contains_key(header::ORIGIN) {
        return Caller::Browser;
    }
    match bearer_matches(headers, keys) {
        None => Caller::NoKey,
        Some(true) => Caller::Merchant,
        Some(false) => Caller::WrongKey,
    }
}

pub async fn require_merchant(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Result<Response, AppError> {
    match identify(request.headers(), &app.config.merchant.api_keys) {
        Caller::Merchant => Ok(next.run(request).await),
        Caller::Browser => {
            tracing::warn!(path = %request.uri().path(), "merchant API called from a browser origin; refused");
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::BrowserOriginRefused,
                "the merchant API is for the shop's backend only; a browser must never hold the merchant API key",
            ))
        }
        caller => {
            // Logged without the key (nor any part of it).
            tracing::warn!(path = %request.uri().path(), missing = caller == Caller::NoKey, "merchant API: missing or wrong key");
            let mut error = AppError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "send `Authorization: Bearer <MERCHANT_API_KEY>` with one of the proxy's merchant API keys",
            );
            error.www_authenticate = true;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<secrecy::SecretString> {
        vec!["k".repeat(32).into(), "r".repeat(40).into()]
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn any_configured_key_is_a_merchant_and_nothing_else_is() {
        let keys = keys();
        assert_eq!(identify(&headers(&[("authorization", &format!("Bearer {}", "k".repeat(32)))]), &keys), Caller::Merchant);
        assert_eq!(identify(&headers(&[("authorization", &format!("Bearer {}", "r".repeat(40)))]), &keys), Caller::Merchant);
        assert_eq!(identify(&headers(&[("authorization", &format!("Bearer {}", "k".repeat(31)))]), &keys), Caller::WrongKey);
        assert_eq!(identify(&headers(&[("authorization", &format!("Basic {}", "k".repeat(32)))]), &keys), Caller::NoKey);
        assert_eq!(identify(&headers(&[]), &keys), Caller::NoKey);
        assert_eq!(identify(&headers(&[("authorization", "Bearer anything")]), &[]), Caller::WrongKey, "no keys: nobody");
        let from_browser = headers(&[("authorization", &format!("Bearer {}", "k".repeat(32))), ("origin", "https://shop.kz")]);
        assert_eq!(identify(&from_browser, &keys), Caller::Browser, "the right key from a page is still refused");
    }
}

/// The answers of every merchant route to a caller that is not the merchant's backend.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
pub enum MerchantAuthErrors {
    /// `unauthorized`: no or a wrong merchant API key
    #[response(status = 401)]
    Unauthorized(ApiError),
    /// `browser_origin_refused`: the request came from a web page
    #[response(status = 403)]
    BrowserOrigin(ApiError),
}
