//! `POST` to ePay's OAuth endpoint: one fresh payment token per invoice.

use epay_api_types::Amount;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{EpayClient, EpayError};

/// The invoice a payment token is issued for. ePay checks the payment against these fields.
#[derive(Clone, Debug)]
pub struct PaymentTokenRequest {
    pub scope: &'static str,
    /// The terminal the order is paid on (one per kind of operation).
    pub terminal: String,
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub secret_hash: String,
}

/// A token as ePay returned it.
#[derive(Debug)]
pub struct Token {
    /// The whole JSON object, byte for byte: the widget passes it to halyk as `auth`.
    pub raw: Box<RawValue>,
    pub access_token: String,
    pub expires_in: u64,
}

/// The fields the proxy reads; anything else in the object is passed through untouched.
#[derive(Deserialize)]
struct TokenFields {
    access_token: String,
    expires_in: Seconds,
}

/// `expires_in` is a number in ePay's docs and a string from some of its servers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl EpayClient {
    /// Requests a payment token (multipart form-data, as ePay's documentation sends it).
    pub async fn payment_token(&self, request: &PaymentTokenRequest) -> Result<Token, EpayError> {
        let settings = &self.settings;
        let form = reqwest::multipart::Form::new()
            .text("grant_type", "client_credentials")
            .text("scope", request.scope)
            .text("client_id", settings.client_id.clone())
            .text("client_secret", settings.client_secret.expose_secret().to_owned())
            .text("terminal", request.terminal.clone())
            .text("invoiceID", request.invoice_id.clone())
            .text("amount", request.amount.to_string())
            .text("currency", request.currency.clone())
            .text("postLink", settings.post_link.clone())
            .text("failurePostLink", settings.failure_post_link.clone())
            .text("secret_hash", request.secret_hash.clone());
        let body = self.send(self.http.post(settings.oauth_url.clone()).multipart(form)).await?;
        parse_token(&body)
    }

    /// A service token for the status API on `terminal` (no invoice fields).
    pub async fn service_token(&self, terminal: &str) -> Result<Token, EpayError> {
        let settings = &self.settings;
        let form = reqwest::multipart::Form::new()
            .text("grant_type", "client_credentials")
            .text("scope", SERVICE_SCOPE)
            .text("client_id", settings.client_id.clone())
            .text("client_secret", settings.client_secret.expose_secret().to_owned())
            .text("terminal", terminal.to_owned());
        let body = self.send(self.http.post(settings.oauth_url.clone()).multipart(form)).await?;
        parse_token(&body)
    }
}

/// Scope of the token used for status, charge, cancel and refund.
pub const SERVICE_SCOPE: &str = "webapi usermanagement email_send verification statement statistics payment";

pub(crate) fn parse_token(body: &[u8]) -> Result<Token, EpayError> {
    let raw: Box<RawValue> = serde_json::from_slice(body).map_err(|e| EpayError::Malformed(format!("token response is not JSON ({e})")))?;
    if !raw.get().trim_start().starts_with('{') {
        return Err(EpayError::Malformed("token response is not a JSON object".into()));
    }
    let fields: TokenFields =
        serde_json::from_str(raw.get()).map_err(|e| EpayError::Malformed(format!("token response lacks access_token/expires_in ({e})")))?;
    if fields.access_token.trim().is_empty() {
        return Err(EpayError::Malformed("access_token is empty".into()));
    }
    let expires_in = match fields.expires_in {
        Seconds::Number(n) => n,
        Seconds::Text(text) => {
            text.trim().parse().map_err(|_| EpayError::Malformed(format!("expires_in `{text}` is not a number of seconds")))?
        }
    };
    if expires_in == 0 {
        return Err(EpayError::Malformed("expires_in is 0".into()));
    }
    Ok(Token { raw, access_token: fields.access_token, expires_in })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_expires_in_as_number_or_string_and_keeps_the_raw_object() {
        let body = br#"{"access_token":"DCEB8O_ZM5U7SO_T_U5EJQ","expires_in":"7200","refresh_token":"","scope":"transfer","token_type":"Bearer","extra":1}"#;
        let token = parse_token(body).unwrap();
        assert_eq!(token.expires_in, 7200);
        assert_eq!(token.access_token, "DCEB8O_ZM5U7SO_T_U5EJQ");
        assert_eq!(token.raw.get(), std::str::from_utf8(body).unwrap());
        assert_eq!(parse_token(br#"{"access_token":"a","expires_in":7200}"#).unwrap().expires_in, 7200);
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        for body in [
            &b"<html>oops</html>"[..],
            b"[]",
            br#"{"expires_in":7200}"#,
            br#"{"access_token":"","expires_in":1}"#,
            br#"{"access_token":"a","expires_in":"soon"}"#,
            br#"{"access_token":"a","expires_in":0}"#,
        ] {
            assert!(matches!(parse_token(body), Err(EpayError::Malformed(_))), "{}", String::from_utf8_lossy(body));
        }
    }
}
