//! `GET /sandbox/api/check-status/{payment|p2p}/transaction/{invoiceId}` behind a service
//! token, answering in the shapes ePay's pages print (docs/epay-contract.md, "Status API";
//! the samples in docs/epay-samples/, and a test holds the two to the same keys and types):
//! card payments `{"resultCode", "resultMessage", "transaction": {…}}`, transfers
//! `{"result": {"code", "message"}, "transaction": {"p2p": {…}}}`; `terminal` is a short
//! terminal number and `terminalID` the UUID; `amount` is what the charge holds now,
//! `orgAmount` what it was, `payoutAmount` what was refunded, `amountBonus` the bonus part.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::Amount;
use serde_json::{Value, json};

use super::state::{Grant, Transaction};
use super::{Sandbox, amount_json};

/// How often the status API was asked about each invoice.
pub async fn questions(State(sandbox): State<Arc<Sandbox>>) -> Json<std::collections::HashMap<String, u32>> {
    Json(sandbox.registry().status_questions.clone())
}

/// Which of ePay's two answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Payment,
    P2p,
}

pub async fn check(State(sandbox): State<Arc<Sandbox>>, Path(invoice_id): Path<String>, uri: OriginalUri, headers: HeaderMap) -> Response {
    let shape = if uri.path().contains("/check-status/p2p/") { Shape::P2p } else { Shape::Payment };
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let mut registry = sandbox.registry();
    if !registry.live_token(bearer).is_some_and(|t| matches!(t.grant, Grant::Service)) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401, "message": "a valid service token is required"}))).into_response();
    }
    *registry.status_questions.entry(invoice_id.clone()).or_default() += 1;
    {
        let mut control = sandbox.control();
        if control.status_in_progress > 0 {
            control.status_in_progress -= 1;
            return Json(result(shape, "107", "Операция в обработке")).into_response();
        }
    }
    let Some(t) = registry.settled(&invoice_id).map(Transaction::as_seen) else {
        return Json(result(shape, "102", "Транзакция не найдена")).into_response();
    };
    let fee_in_amount = sandbox.control().fee_in_amount;
    let mut answer = result(shape, "100", "SUCCESS");
    answer["transaction"] = match shape {
        Shape::Payment => payment_transaction(t, fee_in_amount),
        Shape::P2p => json!({ "p2p": p2p_transaction(t, fee_in_amount) }),
    };
    Json(answer).into_response()
}

/// An answer without a transaction, in the shape of `shape`.
fn result(shape: Shape, code: &str, message: &str) -> Value {
    match shape {
        Shape::Payment => json!({"resultCode": code, "resultMessage": message}),
        Shape::P2p => json!({"result": {"code": code, "message": message}}),
    }
}

/// The amounts ePay reports: what the charge holds now, what it was, what went back.
struct Amounts {
    amount: Value,
    original: Value,
    refunded: Value,
    bonus: Value,
}

/// Refunds come out of the card part first, then the bonus part (which of the two ePay returns
/// first is not published: the proxy counts both together). `orgAmount` is the whole original
/// amount, bonus part included.
fn amounts(t: &Transaction, fee_in_amount: bool) -> Amounts {
    let whole = t.reported_amount(fee_in_amount).minor();
    let card = whole.saturating_sub(t.bonus.minor());
    let refunded = t.refunded.minor();
    Amounts {
        amount: amount_json(Amount::from_minor(card.saturating_sub(refunded))),
        original: amount_json(Amount::from_minor(whole)),
        refunded: amount_json(t.refunded),
        bonus: amount_json(Amount::from_minor(t.bonus.minor().saturating_sub(refunded.saturating_sub(card)))),
    }
}

/// The card-payment transaction, with the keys of the page's sample.
fn payment_transaction(t: &Transaction, fee_in_amount: bool) -> Value {
    let Amounts { amount, original, refunded, bonus } = amounts(t, fee_in_amount);
    json!({
        "id": t.id,
        "createdDate": t.created_at,
        "invoiceID": t.invoice_id,
        "amount": amount,
        "amountBonus": bonus,
        "payoutAmount": refunded,
        "orgAmount": original,
        "approvalCode": t.approval_code,
        "data": "",
        "currency": t.currency,
        "terminal": short_terminal_number(&t.terminal),
        "terminalID": t.terminal,
        "accountID": "",
        "description": "",
        "language": "rus",
        "cardMask": t.card_mask,
        "cardType": card_type(&t.card_mask),
        "issuer": "HALYK BANK (SANDBOX)",
        "reference": t.reference,
        "intReference": "",
        "secure": false,
        "statusID": "",
        "statusName": t.status_name,
        "reason": t.reason,
        "reasonCode": t.reason_code,
        "name": "",
        "email": "",
        "phone": "",
        "ip": "127.0.0.1",
        "ipCountry": "",
        "ipCity": "",
        "ipRegion": "",
        "ipDistrict": "",
        "ipLongitude": 0,
        "ipLatitude": 0,
    })
}

/// The transfer, with the keys of the P2P page's sample.
fn p2p_transaction(t: &Transaction, fee_in_amount: bool) -> Value {
    let Amounts { amount, refunded, bonus, .. } = amounts(t, fee_in_amount);
    json!({
        "id": t.id,
        "createdDate": t.created_at,
        "invoiceID": t.invoice_id,
        "amount": amount,
        "amountBonus": bonus,
        "payoutAmount": refunded,
        "currency": t.currency,
        "cardType": card_type(&t.card_mask),
        "terminal": short_terminal_number(&t.terminal),
        "terminalID": t.terminal,
        "accountID": "",
        "description": "",
        "language": "",
        "reference": t.reference,
        "cardMask": t.card_mask,
        "approvalCode": t.approval_code,
        "statusName": t.status_name,
        "reason": t.reason,
        "reasonCode": t.reason_code,
    })
}

/// ePay's short number for a terminal ("98120001"): the sandbox derives a stable one from the
/// UUID (FNV-1a), never the UUID itself.
pub fn short_terminal_number(terminal: &str) -> String {
    let hash = terminal.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("98{:06}", hash % 1_000_000)
}

pub fn card_type(mask: &str) -> &'static str {
    match mask.as_bytes().first() {
        Some(b'4') => "VISA",
        Some(b'5') => "MASTERCARD",
        Some(b'3') => "AMEX",
        _ => "",
    }
}
