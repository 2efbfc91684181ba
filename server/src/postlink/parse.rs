//! Lenient reading of ePay's postLink JSON: numbers may arrive as strings and strings as
//! numbers, field names vary in case between documents, unknown fields are ignored.

use epay_api_types::Amount;
use serde_json::{Map, Value};

/// The fields the proxy checks and records. Everything else stays in the raw body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notification {
    pub invoice_id: Option<String>,
    pub secret_hash: Option<String>,
    pub code: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub terminal: Option<String>,
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub reason_code: Option<i64>,
    /// A saved card (cardSave): its id and type.
    pub card_id: Option<String>,
    pub card_type: Option<String>,
    /// The card's bank, as ePay names it ("JSC KASPI BANK").
    pub issuer: Option<String>,
    /// A transfer's fee, when ePay sends one beside the amount.
    pub fee: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    NotJson,
    NotAnObject,
}

impl Notification {
    pub fn parse(body: &[u8]) -> Result<Notification, ParseError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| ParseError::NotJson)?;
        let Value::Object(fields) = value else { return Err(ParseError::NotAnObject) };
        let text = |names: &[&str]| first(&fields, names).and_then(as_text);
        Ok(Notification {
            invoice_id: text(&["invoiceId", "invoiceID", "invoice_id"]),
            // Present but not text (a number, an array…) is still present: a forgery, not a hint.
            secret_hash: first(&fields, &["secret_hash", "secretHash"]).map(|v| as_text(v).unwrap_or_else(|| v.to_string())),
            code: text(&["code"]),
            amount: text(&["amount"]),
            currency: text(&["currency"]),
            terminal: text(&["terminal", "terminalId", "terminalID"]),
            transaction_id: text(&["id", "transactionId"]),
            card_mask: text(&["cardMask"]),
            approval_code: text(&["approvalCode"]),
            reference: text(&["reference"]),
            reason: text(&["reason"]),
            reason_code: first(&fields, &["reasonCode"]).and_then(as_integer),
            card_id: text(&["cardId", "cardID"]).filter(|id| !id.trim().is_empty()),
            card_type: text(&["cardType"]).filter(|t| !t.trim().is_empty()),
            issuer: text(&["issuer"]).filter(|t| !t.trim().is_empty()),
            fee: text(&["fee", "commission"]),
        })
    }

    /// ePay's `code` is "ok" for success; anything else ("error", ...) is a failure.
    pub fn is_success(&self) -> Option<bool> {
        self.code.as_deref().map(|code| code.eq_ignore_ascii_case("ok"))
    }

    /// The amount in exact minor units, if it is a valid amount at all.
    pub fn amount(&self) -> Option<Amount> {
        self.amount.as_deref().and_then(|text| Amount::parse(text.trim()).ok())
    }

    /// The fee in exact minor units, when there is one above zero.
    pub fn fee(&self) -> Option<Amount> {
        self.fee.as_deref().and_then(|text| Amount::parse(text.trim()).ok())
    }
}

fn first<'a>(fields: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| fields.get(*name)).filter(|v| !v.is_null())
}

/// Strings as they are, numbers in their shortest exact text ("1500.5"), booleans as words.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The success sample of the user's document, plus the secret_hash ePay echoes.
    pub const SUCCESS_SAMPLE: &str = r#"{ "accountId": "sad12eqsda", "amount": 100, "approvalCode": "157911", "cardId": "11f1111b-f151-6f11-e161-1111010a2111", "cardMask": "440043...2222", "cardType": "VISA", "code": "ok", "currency": "KZT", "dateTime": "2024-07-29T10:50:56.765674319+05:00", "description": "Arman Alimguzhinov", "email": "", "id": "1d1a11f1-1111-111c-1113b-e8340ce51111", "invoiceId": "191111111", "ip": "213.148.6.204", "ipCity": "", "ipCountry": "", "ipDistrict": "", "ipLatitude": 0, "ipLongitude": 0, "ipRegion": "", "issuer": "JSC KASPI BANK", "language": "RUS", "name": "STANDARD CARDHOLDER", "phone": "", "reason": "success", "reasonCode": 0, "reference": "411111111117", "secure": "no", "secureDetails":"F", "terminal": "67e34d63-102f-4bd1-898e-370781d0074d", "secret_hash": "JDKCNDDGGDTPSKJD" }"#;

    #[test]
    fn reads_the_seed_success_sample() {
        let n = Notification::parse(SUCCESS_SAMPLE.as_bytes()).unwrap();
        assert_eq!(n.invoice_id.as_deref(), Some("191111111"));
        assert_eq!(n.is_success(), Some(true));
        assert_eq!(n.amount(), Some(Amount::from_minor(10_000)));
        assert_eq!(n.card_mask.as_deref(), Some("440043...2222"));
        assert_eq!(n.transaction_id.as_deref(), Some("1d1a11f1-1111-111c-1113b-e8340ce51111"));
        assert_eq!(n.reason_code, Some(0));
        assert_eq!(n.secret_hash.as_deref(), Some("JDKCNDDGGDTPSKJD"));
        assert_eq!(n.card_id.as_deref(), Some("11f1111b-f151-6f11-e161-1111010a2111"));
        assert_eq!(n.card_type.as_deref(), Some("VISA"));
        assert_eq!(n.fee(), None);
    }

    #[test]
    fn numbers_as_strings_and_strings_as_numbers() {
        let n = Notification::parse(br#"{"invoiceId":191111111,"amount":"1500.50","reasonCode":"484","code":"error"}"#).unwrap();
        assert_eq!(n.invoice_id.as_deref(), Some("191111111"));
        assert_eq!(n.amount(), Some(Amount::from_minor(150_050)));
        assert_eq!(n.reason_code, Some(484));
        assert_eq!(n.is_success(), Some(false));
        let n = Notification::parse(br#"{"amount":1500.5,"reasonCode":-498.0}"#).unwrap();
        assert_eq!(n.amount(), Some(Amount::from_minor(150_050)));
        assert_eq!(n.reason_code, Some(-498));
    }

    #[test]
    fn amounts_that_are_not_exact_do_not_parse() {
        let n = Notification::parse(br#"{"amount":100.001}"#).unwrap();
        assert_eq!(n.amount(), None);
        let n = Notification::parse(br#"{"amount":"1e2"}"#).unwrap();
        assert_eq!(n.amount(), None);
    }

    #[test]
    fn refuses_what_is_not_a_json_object() {
        assert_eq!(Notification::parse(b"invoiceId=1"), Err(ParseError::NotJson));
        assert_eq!(Notification::parse(b"[1,2]"), Err(ParseError::NotAnObject));
    }
}
