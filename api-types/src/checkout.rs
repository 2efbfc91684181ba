use serde::{Deserialize, Deserializer, Serialize};

use crate::{Language, PaymentMethod};

/// Header carrying the client's idempotency key for `POST /api/checkout`.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// ePay stores at most 125 bytes of description.
pub const DESCRIPTION_MAX_BYTES: usize = 125;

/// `POST /api/checkout`. Only the amount is required; the proxy owns everything else
/// (invoice id, terminal, links, token).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// Decimal text such as "1500" or "1500.50". JSON numbers are accepted too and read
    /// through their shortest text form, never as binary fractions.
    #[serde(deserialize_with = "string_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1500.50"))]
    pub amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_save: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PaymentMethod>,
}

/// What the widget needs to call `halyk.<method>`: the token object exactly as ePay returned
/// it (`Auth` is raw JSON on the proxy, a JS value in the widget) and every field the proxy
/// owns. It never carries client_secret or secret_hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(bound = ""))]
pub struct CheckoutResponse<Auth> {
    pub invoice_id: String,
    /// Lets the payer (and only the payer) read this order's status.
    pub order_key: String,
    pub amount: String,
    pub currency: String,
    pub terminal: String,
    pub description: String,
    /// ePay's code for the payment page language ("RU", "KZ", "EN").
    pub language: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub card_save: bool,
    pub method: PaymentMethod,
    pub back_link: String,
    pub failure_back_link: String,
    pub post_link: String,
    pub failure_post_link: String,
    /// ePay's payment-api.js for the configured environment.
    pub script_url: String,
    /// Exact origin of ePay's payment page (overlay messages come only from there).
    pub payform_origin: String,
    /// ePay's token object, exactly as ePay returned it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub auth: Auth,
}

pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = String;
        fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
            f.write_str("a decimal amount such as \"1500.50\"")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E>(self, v: f64) -> Result<String, E> {
            // Rust prints the shortest text that reads back as the same f64, so 1500.5
            // becomes "1500.5" and 0.1 + 0.2 becomes "0.30000000000000004" (then rejected
            // by the amount parser for its decimals): exact, without trusting the float.
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(Visitor)
}

/// `string_or_number` for a field that may be absent (with `#[serde(default)]`).
#[cfg(feature = "merchant")]
pub(crate) fn optional_string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    string_or_number(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_reads_from_string_or_number() {
        let from_string: CheckoutRequest = serde_json::from_str(r#"{"amount":"1500.50"}"#).unwrap();
        let from_number: CheckoutRequest = serde_json::from_str(r#"{"amount":1500.5}"#).unwrap();
        let from_integer: CheckoutRequest = serde_json::from_str(r#"{"amount":1500}"#).unwrap();
        assert_eq!(from_string.amount, "1500.50");
        assert_eq!(from_number.amount, "1500.5");
        assert_eq!(from_integer.amount, "1500");
    }

    #[test]
    fn unknown_fields_are_refused_so_typos_surface() {
        let err = serde_json::from_str::<CheckoutRequest>(r#"{"amount":"1","ammount":"2"}"#).unwrap_err();
        assert!(err.to_string().contains("ammount"), "{err}");
    }
}
