//! A merchant's order request: the checkout rules (amount, currency, description, contact
//! details) and the merchant's own (reference, metadata, expiry, return URL). Pure.

use epay_api_types::{ErrorCode, METADATA_MAX_BYTES, MerchantOrderRequest, PaymentMethod, REFERENCE_MAX_BYTES};

use crate::checkout::validate::{self, Terms, ValidCheckout};
use crate::config::CheckoutSettings;
use crate::error::AppError;
use crate::store::orders::DOCUMENTED_LIFETIME_SECS;
use crate::text::is_direction_control;

/// How long a merchant order may be paid when the request does not say: it settles after 24 h.
pub const DEFAULT_PAYABLE_SECS: u64 = 86_400 - TOKEN_SECS;
/// The shortest payable window: a minute to start paying.
pub const MIN_PAYABLE_SECS: u64 = 60;
pub const MAX_PAYABLE_SECS: u64 = 30 * 86_400;
/// An ePay token's lifetime: an order settles this long after its payable window, so no token
/// handed out in the window outlives it.
const TOKEN_SECS: u64 = DOCUMENTED_LIFETIME_SECS as u64;

/// A request that passed every rule.
#[derive(Clone, Debug)]
pub struct ValidOrder {
    pub checkout: ValidCheckout,
    pub reference: String,
    pub metadata: Option<String>,
    /// How long the payer may start paying.
    pub payable_for_secs: u64,
    pub return_url: Option<String>,
    /// Pay at once with this saved card of the order's `accountId` (`card_…`).
    pub saved_card: Option<String>,
    /// The receipt's line items as sent (JSON), for the fingerprint.
    pub items: Option<String>,
}

impl ValidOrder {
    /// How long the order lives: its payable window and a token's lifetime.
    pub fn lifetime_secs(&self) -> u64 {
        self.payable_for_secs + TOKEN_SECS
    }

    /// Identifies the request for Idempotency-Key reuse checks (by the order's lifetime, as
    /// stored orders' fingerprints were made).
    pub fn fingerprint(&self) -> String {
        let mut canonical = [
            self.checkout.fingerprint(),
            self.reference.clone(),
            self.metadata.clone().unwrap_or_default(),
            self.lifetime_secs().to_string(),
            self.return_url.clone().unwrap_or_default(),
        ]
        .join("\u{1f}");
        // Only when present: orders stored before savedCard existed keep their fingerprints.
        if let Some(card) = &self.saved_card {
            canonical = canonical + "\u{1f}card:" + card;
        }
        if let Some(items) = &self.items {
            canonical = canonical + "\u{1f}items:" + items;
        }
        crate::secrets::sha256_hex(canonical.as_bytes())
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable(ErrorCode::InvalidField, message)
}

/// Where a merchant's order may be: `https_only` in production (`EPAY_ENV=prod`), where every
/// URL the proxy is given is https; `return_origins`, the origins a payer may be sent back to
/// (`ALLOWED_ORIGINS` and the proxy's own), whose pages can reach the proxy.
pub struct Reach<'a> {
    pub https_only: bool,
    pub return_origins: &'a [String],
}

pub fn order(request: &MerchantOrderRequest, rules: &CheckoutSettings, reach: &Reach<'_>) -> Result<ValidOrder, AppError> {
    let https_only = reach.https_only;
    let allow_save_card = match (request.allow_save_card, request.card_save) {
        (Some(allow), Some(old)) if allow != old => {
            return Err(invalid("send allowSaveCard (or its older name cardSave), not both with different values"));
        }
        (allow, old) => allow.or(old).unwrap_or(false),
    };
    let account_id = request.account_id.as_deref().map(str::trim).unwrap_or_default();
    if allow_save_card && account_id.is_empty() {
        return Err(invalid("allowSaveCard needs accountId: a card is saved for a customer of the shop, whom accountId names"));
    }
    let saved_card = match request.saved_card.as_deref().map(str::trim) {
        None => None,
        Some(card) if !card.starts_with("card_") || card.len() > 64 => {
            return Err(invalid(format!(
                "savedCard `{card}` is not a saved card's id (card_…, from GET /api/merchant/customers/{{accountId}}/cards)"
            )));
        }
        Some(_) if account_id.is_empty() => return Err(invalid("savedCard needs accountId: the customer whose card it is")),
        Some(_) if allow_save_card => return Err(invalid("allowSaveCard makes no sense with savedCard: the card is saved already")),
        Some(card) => Some(card.to_owned()),
    };
    let terms = Terms {
        amount: &request.amount,
        currency: request.currency.as_deref(),
        description: Some(&request.description),
        account_id: request.account_id.as_deref(),
        email: request.email.as_deref(),
        phone: request.phone.as_deref(),
        language: request.language,
        card_save: Some(allow_save_card),
        // Cards are saved by card payments, and pay card payments (ePay's `payments/cards/auth`):
        // either makes `pay` the default.
        method: request.method.or((allow_save_card || saved_card.is_some()).then_some(PaymentMethod::Pay)),
    };
    let checkout = validate::terms(terms, rules)?;
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
    let payable_for_secs = payable_window(request.payable_for_secs, request.expires_in_secs).map_err(invalid)?;
    let return_url = match request.return_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match url::Url::parse(text) {
            Ok(url) if url.scheme() == "http" && https_only => {
                return Err(invalid(format!("returnUrl `{text}` must be https:// in production (EPAY_ENV=prod)")));
            }
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() && url.fragment().is_none() => {
                // A page the proxy does not answer (CORS) could never show the payer how it went:
                // its widget would wait for ever for an order nobody can pay there.
                let origin = url.origin().ascii_serialization();
                if !reach.return_origins.contains(&origin) {
                    return Err(invalid(format!(
                        "returnUrl is on {origin}, which is not in ALLOWED_ORIGINS ({}): the payer's browser there cannot reach this proxy, so its widget would wait for ever; add {origin} to ALLOWED_ORIGINS, or send a returnUrl on an allowed origin",
                        reach.return_origins.join(", ")
                    )));
                }
                Some(url.to_string())
            }
            _ => return Err(invalid(format!("returnUrl `{text}` must be an absolute http(s) URL without a fragment"))),
        },
    };
    if saved_card.is_some() && checkout.method.is_transfer() {
        return Err(invalid("savedCard pays card payments only (method pay)"));
    }
    if allow_save_card && checkout.method.is_transfer() {
        return Err(invalid("allowSaveCard saves cards of card payments only (method pay): a saved card pays on the card terminal"));
    }
    let items = request.items.as_ref().map(|items| serde_json::to_string(items).expect("items serialize"));
    Ok(ValidOrder { checkout, reference, metadata, payable_for_secs, return_url, saved_card, items })
}

/// The payable window a request asks for: `payableForSecs`, or the older `expiresInSecs` as it
/// worked before (from 7,260 s the order's lifetime, below that the window itself). Pure.
fn payable_window(payable_for_secs: Option<u64>, expires_in_secs: Option<u64>) -> Result<u64, String> {
    let range = MIN_PAYABLE_SECS..=MAX_PAYABLE_SECS;
    let window = match (payable_for_secs, expires_in_secs) {
        (Some(_), Some(_)) => return Err("send payableForSecs (how long the payer may start paying) or expiresInSecs, not both".into()),
        (Some(window), None) if range.contains(&window) => window,
        (Some(_), None) => {
            return Err(format!(
                "payableForSecs must be between {MIN_PAYABLE_SECS} and {MAX_PAYABLE_SECS} (30 days), e.g. 900 for a 15-minute reservation"
            ));
        }
        (None, Some(lifetime)) if range.contains(&lifetime) => match lifetime.checked_sub(TOKEN_SECS) {
            Some(window) if window >= MIN_PAYABLE_SECS => window,
            _ => lifetime,
        },
        (None, Some(_)) => {
            return Err(format!(
                "expiresInSecs must be between {MIN_PAYABLE_SECS} and {MAX_PAYABLE_SECS} (30 days); payableForSecs says how long the payer may start paying"
            ));
        }
        (None, None) => DEFAULT_PAYABLE_SECS,
    };
    Ok(window)
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

    /// The shop at shop.kz, on a developer's machine (`false`) or in production (`true`).
    fn shop(https_only: bool) -> Reach<'static> {
        static ORIGINS: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| vec!["http://shop.kz".to_owned(), "https://shop.kz".to_owned()]);
        Reach { https_only, return_origins: &ORIGINS }
    }

    #[test]
    fn a_valid_order_keeps_its_metadata_byte_for_byte() {
        let valid = order(
            &request(r#"{"amount":"1500.50","description":"Order 42","reference":"42","metadata":{"b":1, "a":[true]}}"#),
            &rules(),
            &shop(false),
        )
        .unwrap();
        assert_eq!(valid.metadata.as_deref(), Some(r#"{"b":1, "a":[true]}"#));
        assert_eq!((valid.payable_for_secs, valid.lifetime_secs()), (DEFAULT_PAYABLE_SECS, 86_400), "settles after 24 h");
        assert_eq!(valid.checkout.amount.to_string(), "1500.50");
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (r#"{"amount":"1","description":"","reference":"1"}"#, "description"),
            (r#"{"amount":"1","description":"x","reference":"  "}"#, "reference"),
            (r#"{"amount":"1","description":"x","reference":"1","metadata":[1]}"#, "metadata"),
            (r#"{"amount":"1","description":"x","reference":"1","expiresInSecs":5}"#, "expiresInSecs"),
            (r#"{"amount":"1","description":"x","reference":"1","payableForSecs":59}"#, "payableForSecs"),
            (r#"{"amount":"1","description":"x","reference":"1","payableForSecs":900,"expiresInSecs":900}"#, "not both"),
            (r#"{"amount":"1","description":"x","reference":"1","returnUrl":"javascript:alert(1)"}"#, "returnUrl"),
            (r#"{"amount":"1","description":"x","reference":"1","allowSaveCard":true}"#, "accountId"),
            (r#"{"amount":"1","description":"x","reference":"1","accountId":"c","allowSaveCard":true,"cardSave":false}"#, "not both"),
            (r#"{"amount":"1","description":"x","reference":"1","savedCard":"card_1"}"#, "accountId"),
            (r#"{"amount":"1","description":"x","reference":"1","accountId":"c","savedCard":"4111111111111111"}"#, "savedCard"),
            (r#"{"amount":"1","description":"x","reference":"1","accountId":"c","savedCard":"card_1","method":"p2p"}"#, "savedCard"),
            (r#"{"amount":"1","description":"x","reference":"1","accountId":"c","allowSaveCard":true,"method":"p2p"}"#, "allowSaveCard"),
        ];
        for (json, field) in cases {
            let err = order(&request(json), &rules(), &shop(false)).unwrap_err();
            assert!(err.message.contains(field), "{json}: {}", err.message);
        }
        let big = format!(r#"{{"amount":"1","description":"x","reference":"1","metadata":{{"a":"{}"}}}}"#, "x".repeat(4100));
        assert!(order(&request(&big), &rules(), &shop(false)).unwrap_err().message.contains("metadata"));
    }

    #[test]
    fn a_short_hold_works_and_requests_valid_before_keep_their_meaning() {
        let window = |json: &str| order(&request(json), &rules(), &shop(false)).map(|v| (v.payable_for_secs, v.lifetime_secs()));
        let base = r#""amount":"1","description":"x","reference":"1""#;
        assert_eq!(window(&format!("{{{base},\"payableForSecs\":900}}")).unwrap(), (900, 8_100), "a 15-minute reservation");
        assert_eq!(window(&format!("{{{base},\"payableForSecs\":60}}")).unwrap(), (60, 7_260));
        // Since December 2026 (issue 20): expiresInSecs from 7,260 is the order's lifetime.
        assert_eq!(window(&format!("{{{base},\"expiresInSecs\":10800}}")).unwrap(), (3_600, 10_800));
        assert_eq!(window(&format!("{{{base},\"expiresInSecs\":7260}}")).unwrap(), (60, 7_260));
        // Before it: 60 s and up, the window itself (a 422 for a while; valid again).
        assert_eq!(window(&format!("{{{base},\"expiresInSecs\":3600}}")).unwrap(), (3_600, 10_800));
        assert!(window(&format!("{{{base},\"payableForSecs\":2592001}}")).is_err());
    }

    #[test]
    fn production_refuses_an_http_return_url_as_it_does_every_other_url() {
        let http = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"http://shop.kz/thanks"}"#);
        assert!(order(&http, &rules(), &shop(false)).is_ok(), "test and sandbox take http (a shop on a developer's machine)");
        let err = order(&http, &rules(), &shop(true)).unwrap_err();
        assert!(err.message.contains("returnUrl") && err.message.contains("https"), "{}", err.message);
        let https = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"https://shop.kz/thanks"}"#);
        assert!(order(&https, &rules(), &shop(true)).is_ok());
    }

    /// A page the proxy does not answer could never show the payer how it went.
    #[test]
    fn a_return_url_on_an_origin_the_proxy_does_not_allow_is_refused_with_the_fix() {
        let elsewhere = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"https://other.kz/thanks"}"#);
        let err = order(&elsewhere, &rules(), &shop(true)).unwrap_err();
        assert!(err.message.contains("https://other.kz") && err.message.contains("ALLOWED_ORIGINS"), "{}", err.message);
        let other_port = request(r#"{"amount":"1","description":"x","reference":"1","returnUrl":"https://shop.kz:8443/thanks"}"#);
        assert!(order(&other_port, &rules(), &shop(true)).is_err(), "an origin is scheme, host and port");
    }

    #[test]
    fn the_fingerprint_covers_every_term() {
        let base = order(&request(r#"{"amount":"1","description":"x","reference":"1"}"#), &rules(), &shop(false)).unwrap();
        for other in [
            r#"{"amount":"2","description":"x","reference":"1"}"#,
            r#"{"amount":"1","description":"y","reference":"1"}"#,
            r#"{"amount":"1","description":"x","reference":"2"}"#,
            r#"{"amount":"1","description":"x","reference":"1","metadata":{}}"#,
            r#"{"amount":"1","description":"x","reference":"1","expiresInSecs":9000}"#,
            r#"{"amount":"1","description":"x","reference":"1","payableForSecs":900}"#,
            r#"{"amount":"1","description":"x","reference":"1","returnUrl":"https://shop.kz/o/1"}"#,
            r#"{"amount":"1","description":"x","reference":"1","method":"pay"}"#,
            r#"{"amount":"1","description":"x","reference":"1","accountId":"customer-7"}"#,
            r#"{"amount":"1","description":"x","reference":"1","email":"buyer@shop.kz"}"#,
            r#"{"amount":"1","description":"x","reference":"1","phone":"+77011234567"}"#,
            r#"{"amount":"1","description":"x","reference":"1","language":"kk"}"#,
            r#"{"amount":"1","description":"x","reference":"1","accountId":"c","cardSave":true}"#,
            r#"{"amount":"1","description":"x","reference":"1","accountId":"c","savedCard":"card_1"}"#,
        ] {
            assert_ne!(order(&request(other), &rules(), &shop(false)).unwrap().fingerprint(), base.fingerprint(), "{other}");
        }
    }
}
