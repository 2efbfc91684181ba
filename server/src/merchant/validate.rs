//! A merchant's order request: the checkout rules (amount, currency, description, contact
//! details) and the merchant's own (reference, metadata, expiry, return URL). Pure.

use epay_api_types::{CheckoutRequest, ErrorCode, METADATA_MAX_BYTES, MerchantOrderRequest, REFERENCE_MAX_BYTES};

use crate::checkout::validate::{self, ValidCheckout, is_direction_control};
use crate::config::CheckoutSettings;
use crate::epay::token::DOCUMENTED_LIFETIME_SECS;
use crate::error::AppError;

/// How long a merchant order lives when the request does not say.
pub const DEFAULT_EXPIRY_SECS: u64 = 86_400;
/// One token's lifetime and a minute to start paying: no token outlives its order.
pub const MIN_EXPIRY_SECS: u64 = DOCUMENTED_LIFETIME_SECS as u64 + 60;
pub const MAX_EXPIRY_SECS: u64 = 30 * 86_400;

/// A request that passed every rule.
#[derive(Clone, Debug)]
pub struct ValidOrder {
    pub checkout: ValidCheckout,
    pub reference: String,
    pub metadata: Option<String>,
    pub expires_in_secs: u64,
    pub return_url: Option<String>,
}

impl ValidOrder {
    /// Identifies the request for Idempotency-Key reuse checks.
    pub fn fingerprint(&self) -> String {
        let canonical = [
            self.checkout.fingerprint(),
            self.reference.clone(),
            self.metadata.clone().unwrap_or_default(),
            self.expires_in_secs.to_string(),
            self.return_url.clone().unwrap_or_default(),
        ]
        .join("\u{1f}");
        crate::secrets::sha256_hex(canonical.as_bytes())
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable(ErrorCode::InvalidField, message)
}

/// `https_only`: production (`EPAY_ENV=prod`), where every URL the proxy is given is https.
pub fn order(request: &MerchantOrderRequest, rules: &CheckoutSettings, https_only: bool) -> Result<ValidOrder, AppError> {
    let as_checkout = CheckoutRequest {
        amount: request.amount.clone(),
        currency: request.currency.clone(),
        description: Some(request.description.clone()),
        account_id: request.account_id.clone(),
        email: request.email.clone(),
        phone: request.phone.clone(),
        language: request.language,
        card_save: request.card_save,
        method: request.method,
    };
    let checkout = validate::checkout(&as_checkout, rules)?;
    if checkout.description.is_empty() {
        return Err(invalid("description is required: it tells the payer what they pay for"));
    }
    let reference = request.reference.trim().to_owned();
    if reference.is_empty() || reference.len() > REFERENCE_MAX_BYTES {
        return Err(invalid(format!("reference (the shop's own order id) must be 1 to {REFERENCE_MAX_BYTES} bytes")));
    }
    if reference.chars().any(|c| c.is_control() || is_direction_control(c)) {
        return Err(invalid("reference must not contain control or text-direction characters"));
    }
    let metadata = match &request.metadata {
        None => None,
        Some(raw) => {
            let text = raw.get();
            if text.len() > METADATA_MAX_BYTES {
                return Err(invalid(format!("metadata is {} bytes of JSON; at most {METADATA_MAX_BYTES} are kept", text.len())));
            }
            if !text.trim_start().starts_with('{') {
                return Err(invalid("metadata must be a JSON object, e.g. {\"cartId\": \"c-17\"}"));
            }
            Some(text.to_owned())
        }
    };
    let expires_in_secs = request.expires_in_secs.unwrap_or(DEFAULT_EXPIRY_SECS);
    if !(MIN_EXPIRY_SECS..=MAX_EXPIRY_SECS).contains(&expires_in_secs) {
        return Err(invalid(format!(
            "expiresInSecs must be between {MIN_EXPIRY_SECS} and {MAX_EXPIRY_SECS} (30 days): an ePay payment token lives \
             {DOCUMENTED_LIFETIME_SECS} s and cannot be shortened, and no token is handed out that would outlive the order"
        )));
    }
    let return_url = match request.return_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match url::Url::parse(text) {
            Ok(url) if url.scheme() == "http" && https_only => {
                return Err(invalid(format!("returnUrl `{text}` must be https:// in production (EPAY_ENV=prod)")));
            }
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() && url.fragment().is_none() => {
                Some(url.to_string())
            }
            _ => return Err(invalid(format!("returnUrl `{text}` must be an absolute http(s) URL without a fragment"))),
        },
    };
    Ok(ValidOrder { checkout, reference, metadata, expires_in_secs, return_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> CheckoutSettings {
        crate::config::Config::from_lookup(|_| None).unwrap().checkout
    }

    fn request(json: &str) -> MerchantOrderRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_valid_order_keeps_its_metadata_byte_for_byte() {
        let valid = order(
            &request(r#"{"amount":"1500.50","description":"Order 42","reference":"42","metadata":{"b":1, "a":[true]}}"#),
            &rules(),
            false,
        )
        .unwrap();
        assert_eq!(valid.metadata.as_deref(), Some(r#"{"b":1, "a":[true]}"#));
        assert_eq!(valid.expires_in_secs, DEFAULT_EXPIRY_SECS);
        assert_eq!(valid.checkout.amount.to_string(), "1500.50");
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (r#"{"amount":"1","description":"","reference":"1"}"#, "description"),
            (r#"{"amount":"1","description":"x","reference":"  "}"#, "reference"),
            (r#"{"amount":"1","description":"x","reference":"1","metadata":[1]}"#, "metadata"),
            (r#"{"amount":"1","description":"x","reference":"1","expiresInSecs":5}"#, "expiresInSecs"),
            (r#"{"amount":"1","description":"x","reference":"1","returnUrl":"javascript:alert(1)"}"#, "returnUrl"),
        ];
        for (json, field) in cases {
            let err = order(&request(json), &rules(), false).unwrap_err();
            assert!(err.message.contains(field), "{json}: {}", err.message);
        }
        let big = format!(r#"{{"amount":"1","description":"x","reference":"1","metadata":{{"a":"{}"}}}}"#, "x".repeat(4100));
        assert!(order(&request(&big), &rules(), false).unwrap_err().message.contains("metadata"));
    }

    #[test]
    fn production_refuses_an_http_return_url_as_it_does_every_other_url() {
        let http = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"http://shop.kz/thanks"}"#);
        assert!(order(&http, &rules(), false).is_ok(), "test and sandbox take http (a shop on a developer's machine)");
        let err = order(&http, &rules(), true).unwrap_err();
        assert!(err.message.contains("returnUrl") && err.message.contains("https"), "{}", err.message);
        let https = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"https://shop.kz/thanks"}"#);
        assert!(order(&https, &rules(), true).is_ok());
    }

    #[test]
    fn the_fingerprint_covers_every_term() {
        let base = order(&request(r#"{"amount":"1","description":"x","reference":"1"}"#), &rules(), false).unwrap();
        for other in [
            r#"{"amount":"2","description":"x","reference":"1"}"#,
            r#"{"amount":"1","description":"y","reference":"1"}"#,
            r#"{"amount":"1","description":"x","reference":"2"}"#,
            r#"{"amount":"1","description":"x","reference":"1","metadata":{}}"#,
            r#"{"amount":"1","description":"x","reference":"1","expiresInSecs":9000}"#,
        ] {
            assert_ne!(order(&request(other), &rules(), false).unwrap().fingerprint(), base.fingerprint(), "{other}");
        }
    }
}
