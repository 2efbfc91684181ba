//! ePay's status API (`GET {API}/check-status/{payment|p2p}/transaction/{invoiceId}`) behind a
//! service token, read into one typed answer. ePay prints two shapes (docs/epay-contract.md,
//! "Status API"): card payments answer `{"resultCode", "resultMessage", "transaction": {…}}`,
//! transfers `{"result": {"code", "message"}, "transaction": {"p2p": {…}}}`. Both are read
//! leniently: codes as strings or numbers, amounts as numbers or strings. In both, `terminal`
//! is ePay's short terminal number and `terminalID` the UUID the token was issued for.

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

/// `resultCode` (card payments) or `result.code` (transfers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultCode {
    /// "100": the transaction exists; its `statusName` says what became of it.
    Found,
    /// "101".
    Rejected,
    /// "102".
    NotFound,
    /// "103".
    Error,
    /// "107".
    InProgress,
    /// "104", "106", "109": a problem with the terminal (the raw code kept).
    TerminalProblem(String),
    /// Anything else, kept as sent.
    Other(String),
}

impl ResultCode {
    pub fn parse(code: &str) -> ResultCode {
        match code.trim() {
            "100" => ResultCode::Found,
            "101" => ResultCode::Rejected,
            "102" => ResultCode::NotFound,
            "103" => ResultCode::Error,
            "107" => ResultCode::InProgress,
            code @ ("104" | "106" | "109") => ResultCode::TerminalProblem(code.to_owned()),
            other => ResultCode::Other(other.to_owned()),
        }
    }

    /// The code as ePay sent it.
    pub fn code(&self) -> &str {
        match self {
            ResultCode::Found => "100",
            ResultCode::Rejected => "101",
            ResultCode::NotFound => "102",
            ResultCode::Error => "103",
            ResultCode::InProgress => "107",
            ResultCode::TerminalProblem(code) | ResultCode::Other(code) => code,
        }
    }
}

/// A transaction's `statusName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionStatus {
    New,
    /// Held (two-stage terminals), not charged.
    Auth,
    /// Charged: the money is the merchant's.
    Charge,
    Cancel,
    CancelOld,
    Refund,
    Failed,
    Reject,
    /// A 3-D Secure check under way.
    ThreeD,
    Verified,
    Fingerprint,
    /// Anything else, kept as sent: never paid, never failed; a person looks.
    Other(String),
}

impl TransactionStatus {
    pub fn parse(name: &str) -> TransactionStatus {
        match name.trim().to_ascii_uppercase().as_str() {
            "NEW" => TransactionStatus::New,
            "AUTH" => TransactionStatus::Auth,
            "CHARGE" => TransactionStatus::Charge,
            "CANCEL" => TransactionStatus::Cancel,
            "CANCEL_OLD" => TransactionStatus::CancelOld,
            "REFUND" => TransactionStatus::Refund,
            "FAILED" => TransactionStatus::Failed,
            "REJECT" => TransactionStatus::Reject,
            "3D" => TransactionStatus::ThreeD,
            "VERIFIED" => TransactionStatus::Verified,
            "FINGERPRINT" => TransactionStatus::Fingerprint,
            _ => TransactionStatus::Other(name.to_owned()),
        }
    }

    /// The name as ePay writes it.
    pub fn name(&self) -> &str {
        match self {
            TransactionStatus::New => "NEW",
            TransactionStatus::Auth => "AUTH",
            TransactionStatus::Charge => "CHARGE",
            TransactionStatus::Cancel => "CANCEL",
            TransactionStatus::CancelOld => "CANCEL_OLD",
            TransactionStatus::Refund => "REFUND",
            TransactionStatus::Failed => "FAILED",
            TransactionStatus::Reject => "REJECT",
            TransactionStatus::ThreeD => "3D",
            TransactionStatus::Verified => "VERIFIED",
            TransactionStatus::Fingerprint => "FINGERPRINT",
            TransactionStatus::Other(raw) => raw,
        }
    }

    /// Not final yet: the payer or ePay is still at it.
    pub fn in_progress(&self) -> bool {
        matches!(self, TransactionStatus::New | TransactionStatus::ThreeD | TransactionStatus::Verified | TransactionStatus::Fingerprint)
    }

    /// Ended without money moving to the merchant.
    pub fn unsuccessful(&self) -> bool {
        matches!(self, TransactionStatus::Failed | TransactionStatus::Reject | TransactionStatus::Cancel | TransactionStatus::CancelOld)
    }
}

/// What the status API said about an invoice.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusAnswer {
    pub result: ResultCode,
    pub result_message: String,
    pub transaction: Option<TransactionInfo>,
}

impl StatusAnswer {
    /// "resultCode 100 (SUCCESS), statusName CHARGE": what ePay said, for logs and history.
    pub fn said(&self) -> String {
        let status = self.transaction.as_ref().and_then(|t| t.status.as_ref());
        match status {
            Some(status) => format!("resultCode {} ({}), statusName {}", self.result.code(), self.result_message, status.name()),
            None => format!("resultCode {} ({})", self.result.code(), self.result_message),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactionInfo {
    pub id: Option<String>,
    pub invoice_id: Option<String>,
    /// The amount as sent (kept to report a mismatch), and parsed exactly: what the
    /// transaction holds now (less what was refunded, see `org_amount`).
    pub amount_text: Option<String>,
    pub amount: Option<Amount>,
    /// The part Halyk bonuses paid (`amountBonus`), beside `amount`.
    pub amount_bonus: Option<Amount>,
    /// The transaction's original amount (`orgAmount`, card payments).
    pub org_amount: Option<Amount>,
    /// `payoutAmount`: what was paid back out (refunded), as far as the samples show.
    pub payout_amount: Option<Amount>,
    pub currency: Option<String>,
    /// The UUID the token was issued for (`terminalID`; `terminal` when that is a UUID).
    pub terminal_id: Option<String>,
    /// ePay's short terminal number (`terminal`, "98120001").
    pub terminal_number: Option<String>,
    /// `statusName`; `None` when the answer has none.
    pub status: Option<TransactionStatus>,
    pub card_mask: Option<String>,
    pub card_type: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub reason_code: Option<i64>,
    /// A transfer's fee, when ePay reports one (Halyk's SDK has `fee` beside `amount`; the
    /// status pages print none).
    pub fee: Option<Amount>,
    /// When the transaction was made at ePay (`createdDate`, RFC 3339 with ePay's offset), in
    /// unix seconds: when the payer paid, whenever the proxy hears of it.
    pub created_at: Option<i64>,
}

impl TransactionInfo {
    /// What the payment covers: the amount plus the bonus part.
    pub fn paid_total(&self) -> Option<Amount> {
        let bonus = self.amount_bonus.map_or(0, Amount::minor);
        self.amount.map(|a| Amount::from_minor(a.minor() + bonus))
    }
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

    /// The terminal's service token, from the cache while it is valid. The cache is locked
    /// only to read and to store: a hanging OAuth endpoint holds up the questions that need a
    /// new token, never the ones that have one.
    pub(super) async fn cached_service_token(&self, terminal: &str) -> Result<String, EpayError> {
        let cached = self.service_tokens.lock().await.get(terminal).cloned();
        if let Some((token, valid_until)) = cached
            && Instant::now() < valid_until
        {
            return Ok(token);
        }
        let token = self.service_token(terminal).await?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(SERVICE_TOKEN_MARGIN);
        self.service_tokens.lock().await.insert(terminal.to_owned(), (token.access_token.clone(), Instant::now() + lifetime));
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
    // Card payments: top-level resultCode; transfers: result.code.
    let (code, message) = match value.get("result").filter(|r| r.is_object()) {
        Some(result) => (text(result, &["code"]), text(result, &["message"])),
        None => (text(&value, &["resultCode"]), text(&value, &["resultMessage"])),
    };
    let code = code.ok_or_else(|| EpayError::Malformed("status answer has neither resultCode nor result.code".into()))?;
    let transaction = value.get("transaction").filter(|t| t.is_object()).map(|t| {
        // Transfers nest the transaction once more: transaction.p2p.
        let t = t.get("p2p").filter(|p| p.is_object()).unwrap_or(t);
        read_transaction(t)
    });
    Ok(StatusAnswer { result: ResultCode::parse(&code), result_message: message.unwrap_or_default(), transaction })
}

fn read_transaction(t: &Value) -> TransactionInfo {
    let amount_text = text(t, &["amount"]);
    let reported = |names: &[&str]| text(t, names).and_then(|a| money(&a));
    let terminal = text(t, &["terminal"]).filter(|s| !s.is_empty());
    let is_uuid = |s: &String| uuid::Uuid::parse_str(s).is_ok();
    TransactionInfo {
        id: text(t, &["id"]),
        invoice_id: text(t, &["invoiceID", "invoiceId"]),
        amount: amount_text.as_deref().and_then(money),
        amount_text,
        amount_bonus: reported(&["amountBonus"]),
        org_amount: reported(&["orgAmount"]),
        payout_amount: reported(&["payoutAmount"]),
        currency: text(t, &["currency"]),
        // Older answers carry only `terminal`; it counts as the UUID only when it is one.
        terminal_id: text(t, &["terminalID", "terminalId"]).filter(|s| !s.is_empty()).or_else(|| terminal.clone().filter(is_uuid)),
        terminal_number: terminal.filter(|s| !is_uuid(s)),
        status: text(t, &["statusName"]).filter(|s| !s.trim().is_empty()).map(|s| TransactionStatus::parse(&s)),
        card_mask: text(t, &["cardMask"]),
        card_type: text(t, &["cardType"]),
        approval_code: text(t, &["approvalCode"]),
        reference: text(t, &["reference"]),
        reason: text(t, &["reason"]),
        reason_code: text(t, &["reasonCode"]).and_then(|c| c.trim().parse().ok()),
        fee: text(t, &["fee", "commission"]).and_then(|f| Amount::parse(f.trim()).ok()),
        created_at: text(t, &["createdDate"]).and_then(|d| unix_seconds(&d)),
    }
}

/// An RFC 3339 time as ePay writes it ("2022-11-15T03:52:17.289853+06:00"), in unix seconds.
pub(crate) fn unix_seconds(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// An amount as ePay reports it; 0 too (a bonus part of nothing, a charge refunded in full).
fn money(text: &str) -> Option<Amount> {
    match Amount::parse(text.trim()) {
        Ok(amount) => Some(amount),
        Err(epay_api_types::AmountError::NotPositive) => Some(Amount::from_minor(0)),
        Err(_) => None,
    }
}

/// The first of `names` present as a string or a number, as text.
fn text(v: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| v.get(*n)).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_result_code_as_text_whatever_its_json_type() {
        let a = parse_status(br#"{"resultCode":"100","resultMessage":"ok","transaction":{"amount":1500,"statusName":"CHARGE","invoiceID":"123456","reasonCode":"0"}}"#).unwrap();
        assert_eq!(a.result, ResultCode::Found);
        let t = a.transaction.unwrap();
        assert_eq!(
            (t.amount, t.status, t.invoice_id.as_deref(), t.reason_code),
            (Some(Amount::from_minor(150_000)), Some(TransactionStatus::Charge), Some("123456"), Some(0))
        );
        let b = parse_status(br#"{"resultCode":102,"resultMessage":"not found"}"#).unwrap();
        assert_eq!((b.result, b.transaction), (ResultCode::NotFound, None));
        assert!(parse_status(b"<html>").is_err());
        assert!(parse_status(br#"{"resultMessage":"?"}"#).is_err());
    }

    #[test]
    fn reads_the_transfer_shape_nested_under_result_and_p2p() {
        let a = parse_status(
            br#"{"result":{"code":"100","message":"SUCCESS"},"transaction":{"p2p":{"id":"x","amount":200,"amountBonus":0,"terminal":"98151552","terminalID":"c36b282f-6819-4d4f-85df-a4bdc8a8f703","statusName":"CHARGE"}}}"#,
        )
        .unwrap();
        assert_eq!((a.result.clone(), a.result_message.as_str()), (ResultCode::Found, "SUCCESS"));
        let t = a.transaction.unwrap();
        assert_eq!(t.terminal_id.as_deref(), Some("c36b282f-6819-4d4f-85df-a4bdc8a8f703"));
        assert_eq!(t.terminal_number.as_deref(), Some("98151552"));
        assert_eq!(t.amount, Some(Amount::from_minor(20_000)));
    }

    #[test]
    fn the_terminal_uuid_comes_from_terminal_id_and_a_short_number_is_never_taken_for_it() {
        let short_only = parse_status(br#"{"resultCode":"100","transaction":{"terminal":"98458031"}}"#).unwrap();
        let t = short_only.transaction.unwrap();
        assert_eq!((t.terminal_id, t.terminal_number.as_deref()), (None, Some("98458031")));
        let uuid_only = parse_status(br#"{"resultCode":"100","transaction":{"terminal":"67e34d63-102f-4bd1-898e-370781d0074d"}}"#).unwrap();
        assert_eq!(uuid_only.transaction.unwrap().terminal_id.as_deref(), Some("67e34d63-102f-4bd1-898e-370781d0074d"));
    }

    #[test]
    fn unknown_codes_and_statuses_are_kept_as_sent() {
        let a = parse_status(br#"{"resultCode":"555","transaction":{"statusName":"SETTLED"}}"#).unwrap();
        assert_eq!(a.result, ResultCode::Other("555".into()));
        assert_eq!(a.transaction.unwrap().status, Some(TransactionStatus::Other("SETTLED".into())));
        assert_eq!(ResultCode::parse("104"), ResultCode::TerminalProblem("104".into()));
        assert_eq!(TransactionStatus::parse("3D"), TransactionStatus::ThreeD);
    }

    #[test]
    fn answers_with_4xx_are_answers_and_5xx_are_outages() {
        use reqwest::StatusCode;
        let not_found = br#"{"resultCode":"102","resultMessage":"not found"}"#;
        assert_eq!(read_status_answer(StatusCode::BAD_REQUEST, not_found).unwrap().result, ResultCode::NotFound);
        assert_eq!(
            read_status_answer(StatusCode::NOT_FOUND, br#"{"result":{"code":101,"message":"rejected"}}"#).unwrap().result,
            ResultCode::Rejected
        );
        assert!(matches!(read_status_answer(StatusCode::SERVICE_UNAVAILABLE, not_found), Err(EpayError::Status { status: 503, .. })));
        assert!(matches!(
            read_status_answer(StatusCode::BAD_REQUEST, br#"{"code":400,"message":"bad"}"#),
            Err(EpayError::Status { status: 400, .. })
        ));
        assert!(matches!(read_status_answer(StatusCode::OK, b"<html>"), Err(EpayError::Malformed(_))));
    }

    #[test]
    fn reads_bonus_original_and_payout_amounts_and_a_fee_beside_the_amount() {
        let a = parse_status(
            br#"{"resultCode":"100","transaction":{"amount":"1500","amountBonus":300,"orgAmount":1800,"payoutAmount":"0","fee":"45.50"}}"#,
        )
        .unwrap();
        let t = a.transaction.unwrap();
        assert_eq!((t.amount, t.fee), (Some(Amount::from_minor(150_000)), Some(Amount::from_minor(4_550))));
        assert_eq!(
            (t.amount_bonus, t.org_amount, t.payout_amount),
            (Some(Amount::from_minor(30_000)), Some(Amount::from_minor(180_000)), Some(Amount::from_minor(0)))
        );
        assert_eq!(t.paid_total(), Some(Amount::from_minor(180_000)));
    }

    #[test]
    fn the_transaction_time_is_read_with_its_offset() {
        let a = parse_status(br#"{"resultCode":"100","transaction":{"createdDate":"2022-11-15T03:52:17.289853+06:00"}}"#).unwrap();
        assert_eq!(a.transaction.unwrap().created_at, Some(1_668_462_737));
        assert_eq!(unix_seconds("2024-07-29T10:50:56.765674319+05:00"), Some(1_722_232_256));
        assert_eq!(unix_seconds("yesterday"), None);
    }
}
