//! ePay's status API (`GET {API}/check-status/{payment|p2p}/transaction/{invoiceId}`) behind a
//! service token. Read leniently: `resultCode` is the string "100" in ePay's answers and a
//! number in some integrations' tests; amounts come as numbers or strings.

use std::time::{Duration, Instant};

use epay_api_types::Amount;
use serde_json::Value;

use super::{EpayClient, EpayError};

/// Which status endpoint: card payments, or transfers (P2P, OCT, AFT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Payment,
    P2p,
}

impl StatusKind {
    /// The endpoint for an order paid with `method` (`halyk.<method>`).
    pub fn for_method(method: epay_api_types::PaymentMethod) -> StatusKind {
        if method.is_transfer() { StatusKind::P2p } else { StatusKind::Payment }
    }

    fn path(self) -> &'static str {
        match self {
            StatusKind::Payment => "payment",
            StatusKind::P2p => "p2p",
        }
    }
}

/// What the status API said about an invoice.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusAnswer {
    /// "100" found, "101" rejected, "102" not found, "107" in progress, others: errors.
    pub result_code: String,
    pub result_message: String,
    pub transaction: Option<TransactionInfo>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactionInfo {
    pub id: Option<String>,
    pub invoice_id: Option<String>,
    /// The amount as sent (kept to report a mismatch), and parsed exactly.
    pub amount_text: Option<String>,
    pub amount: Option<Amount>,
    pub currency: Option<String>,
    pub terminal: Option<String>,
    pub status_name: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub reason_code: Option<i64>,
    /// A transfer's fee, when ePay reports one (Halyk's SDK has `fee` beside `amount`).
    pub fee: Option<Amount>,
}

/// A service token is reused until shortly before it expires (unlike payment tokens, which
/// are one per invoice).
const SERVICE_TOKEN_MARGIN: Duration = Duration::from_secs(60);

impl EpayClient {
    /// Asks about `invoice_id`, paid on `terminal`, with that terminal's service token.
    ///
    /// Other ePay clients read 4xx bodies as answers (`resultCode` 101, 102…), so every answer
    /// with a body that parses is one; only transport failures, timeouts and 5xx (and a 4xx
    /// that says nothing) mean the API is unavailable.
    pub async fn transaction_status(&self, kind: StatusKind, invoice_id: &str, terminal: &str) -> Result<StatusAnswer, EpayError> {
        let url = self.settings.api_endpoint(&format!("/check-status/{}/transaction/{invoice_id}", kind.path()));
        let token = self.cached_service_token(terminal).await?;
        let (status, body) = match self.exchange(self.http.get(&url).bearer_auth(&token)).await? {
            // An expired or revoked service token: get a new one, once.
            (reqwest::StatusCode::UNAUTHORIZED, _) => {
                self.forget_service_token(terminal).await;
                let token = self.cached_service_token(terminal).await?;
                self.exchange(self.http.get(&url).bearer_auth(&token)).await?
            }
            answer => answer,
        };
        read_status_answer(status, &body)
    }

    pub(super) async fn forget_service_token(&self, terminal: &str) {
        self.service_tokens.lock().await.remove(terminal);
    }

    pub(super) async fn cached_service_token(&self, terminal: &str) -> Result<String, EpayError> {
        let mut cached = self.service_tokens.lock().await;
        if let Some((token, valid_until)) = cached.get(terminal)
            && Instant::now() < *valid_until
        {
            return Ok(token.clone());
        }
        let token = self.service_token(terminal).await?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(SERVICE_TOKEN_MARGIN);
        cached.insert(terminal.to_owned(), (token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }
}

/// What an HTTP answer of the status API means: a status answer whenever the body is one
/// (whatever the HTTP status below 500), otherwise an error.
pub(crate) fn read_status_answer(status: reqwest::StatusCode, body: &[u8]) -> Result<StatusAnswer, EpayError> {
    if status.is_server_error() {
        return Err(super::client::status_error(status, body));
    }
    match parse_status(body) {
        Ok(answer) => Ok(answer),
        Err(_) if status != reqwest::StatusCode::OK => Err(super::client::status_error(status, body)),
        Err(malformed) => Err(malformed),
    }
}

pub(crate) fn parse_status(body: &[u8]) -> Result<StatusAnswer, EpayError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| EpayError::Malformed(format!("status answer is not JSON ({e})")))?;
    let text = |v: &Value, names: &[&str]| {
        names.iter().find_map(|n| v.get(*n)).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let result_code = text(&value, &["resultCode"]).ok_or_else(|| EpayError::Malformed("status answer has no resultCode".into()))?;
    let transaction = value.get("transaction").filter(|t| t.is_object()).map(|t| {
        let amount_text = text(t, &["amount"]);
        TransactionInfo {
            id: text(t, &["id"]),
            invoice_id: text(t, &["invoiceID", "invoiceId"]),
            amount: amount_text.as_deref().and_then(|a| Amount::parse(a.trim()).ok()),
            amount_text,
            currency: text(t, &["currency"]),
            terminal: text(t, &["terminal", "terminalID"]),
            status_name: text(t, &["statusName"]),
            card_mask: text(t, &["cardMask"]),
            approval_code: text(t, &["approvalCode"]),
            reference: text(t, &["reference"]),
            reason: text(t, &["reason"]),
            reason_code: text(t, &["reasonCode"]).and_then(|c| c.trim().parse().ok()),
            fee: text(t, &["fee", "commission"]).and_then(|f| Amount::parse(f.trim()).ok()),
        }
    });
    Ok(StatusAnswer {
        result_code: result_code.trim().to_owned(),
        result_message: text(&value, &["resultMessage"]).unwrap_or_default(),
        transaction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_result_code_as_text_whatever_its_json_type() {
        let a = parse_status(br#"{"resultCode":"100","resultMessage":"ok","transaction":{"amount":1500,"statusName":"CHARGE","invoiceID":"123456","reasonCode":"0"}}"#).unwrap();
        assert_eq!(a.result_code, "100");
        let t = a.transaction.unwrap();
        assert_eq!(
            (t.amount, t.status_name.as_deref(), t.invoice_id.as_deref(), t.reason_code),
            (Some(Amount::from_minor(150_000)), Some("CHARGE"), Some("123456"), Some(0))
        );
        let b = parse_status(br#"{"resultCode":102,"resultMessage":"not found"}"#).unwrap();
        assert_eq!((b.result_code.as_str(), b.transaction), ("102", None));
        assert!(parse_status(b"<html>").is_err());
        assert!(parse_status(br#"{"resultMessage":"?"}"#).is_err());
    }

    #[test]
    fn answers_with_4xx_are_answers_and_5xx_are_outages() {
        use reqwest::StatusCode;
        let not_found = br#"{"resultCode":"102","resultMessage":"not found"}"#;
        assert_eq!(read_status_answer(StatusCode::BAD_REQUEST, not_found).unwrap().result_code, "102");
        assert_eq!(
            read_status_answer(StatusCode::NOT_FOUND, br#"{"resultCode":101,"resultMessage":"rejected"}"#).unwrap().result_code,
            "101"
        );
        assert!(matches!(read_status_answer(StatusCode::SERVICE_UNAVAILABLE, not_found), Err(EpayError::Status { status: 503, .. })));
        assert!(matches!(
            read_status_answer(StatusCode::BAD_REQUEST, br#"{"code":400,"message":"bad"}"#),
            Err(EpayError::Status { status: 400, .. })
        ));
        assert!(matches!(read_status_answer(StatusCode::OK, b"<html>"), Err(EpayError::Malformed(_))));
    }

    #[test]
    fn reads_a_transfer_fee_beside_the_amount() {
        let a = parse_status(br#"{"resultCode":"100","transaction":{"amount":"1500","fee":"45.50","statusName":"CHARGE"}}"#).unwrap();
        let t = a.transaction.unwrap();
        assert_eq!((t.amount, t.fee), (Some(Amount::from_minor(150_000)), Some(Amount::from_minor(4_550))));
    }
}
