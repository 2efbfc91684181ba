//! Payments with a saved card and its deactivation (docs/epay-contract.md, "Saved cards").
//!
//! `POST /sandbox/api/payments/cards/auth`: a payment by `cardId`, server to server, without a
//! payment page or 3-D Secure. The token is the saved-card page's: `client_credentials` with the
//! invoice fields. The body's shape is not on an ePay page (the page is cut after the token);
//! it is the one public integrations send: `{"paymentType": "cardId", "cardId": {"id"}, amount,
//! currency, invoiceId, terminalId, description, accountId, email, phone, postLink,
//! failurePostLink, …}`. The answer on success is the payment those integrations read
//! (`id`, `invoiceID`, `amount`, `cardID`, `reference`…); a decline answers 400 `{"code":
//! reasonCode, "message": reason}` as ePay's operation pages print errors (also unconfirmed).
//! Either way the transaction is in the status API and a postLink goes out, as after a payment
//! on the page. `operationFaults` apply, so tests can lose the answer of a payment that happened.
//!
//! `POST /sandbox/api/card/deactivate/{cardId}` with a service token, answering `{"status":
//! "card successfully deactivated"}` ("Deactivation of the Card ID"); a card deactivated, or
//! unknown, answers 400 `{"code", "message"}` (the page prints no error).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::Amount;
use serde_json::{Value, json};

use super::cards;
use super::delivery;
use super::payform::charge;
use super::state::{Grant, InvoiceTerms, MethodFlag, OperationFault, PaySession, TOKEN_LIFETIME, TokenTerms, Transaction};
use super::{Sandbox, amount_json};

const HANG: Duration = Duration::from_secs(600);

fn bearer(headers: &HeaderMap) -> &str {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("")
}

fn refuse(status: u16, code: i64, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"code": code, "message": message.into()}))).into_response()
}

/// A request read: what the invoice is and which card pays it.
struct CardPayment {
    session: PaySession,
    card_id: String,
}

/// Checks the body against the token, as the payment page checks its payment object.
fn read_request(token: &TokenTerms, body: &Value) -> Result<CardPayment, String> {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("").trim().to_owned();
    if text("paymentType") != "cardId" {
        return Err(format!("paymentType must be \"cardId\", got `{}`", text("paymentType")));
    }
    let card_id = body.get("cardId").and_then(|c| c.get("id")).and_then(Value::as_str).unwrap_or("").trim().to_owned();
    if card_id.is_empty() {
        return Err("cardId.id is required".into());
    }
    let invoice_id = text("invoiceId");
    if token.invoice_id.as_deref() != Some(invoice_id.as_str()) {
        return Err(format!("invoiceId `{invoice_id}` is not the token's invoice"));
    }
    let amount = match body.get("amount") {
        Some(Value::Number(n)) => Amount::parse(&n.to_string()).ok(),
        Some(Value::String(s)) => Amount::parse(s.trim()).ok(),
        _ => None,
    };
    if amount.is_none() || amount != token.amount {
        return Err(format!("amount {:?} is not the token's amount", body.get("amount")));
    }
    if token.currency.as_deref() != Some(text("currency").as_str()) {
        return Err(format!("currency `{}` is not the token's", text("currency")));
    }
    if text("terminalId") != token.terminal {
        return Err("terminalId is not the token's terminal".into());
    }
    let post_link = token.post_link.clone().unwrap_or_default();
    if !text("postLink").is_empty() && text("postLink") != post_link {
        return Err("postLink differs from the one the token was issued with".into());
    }
    let failure_post_link = Some(text("failurePostLink")).filter(|l| !l.is_empty()).unwrap_or_else(|| token.failure_post_link.clone());
    let terms = InvoiceTerms {
        invoice_id,
        amount: amount.expect("checked above"),
        currency: text("currency"),
        terminal: token.terminal.clone(),
        post_link,
        failure_post_link,
        secret_hash: token.secret_hash.clone(),
    };
    let session = PaySession {
        terms,
        flag: MethodFlag::Pay,
        description: text("description"),
        account_id: text("accountId"),
        email: text("email"),
        phone: text("phone"),
        language: text("language"),
        back_link: String::new(),
        failure_back_link: String::new(),
        expires_at: Instant::now() + TOKEN_LIFETIME,
        card_save: false,
    };
    Ok(CardPayment { session, card_id })
}

pub async fn pay(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, body: Bytes) -> Response {
    // On a task of its own: the bank performs a payment even after the client gave up waiting.
    let task = tokio::spawn(perform(sandbox, headers, body));
    task.await.unwrap_or_else(|_| refuse(500, 500, "sandbox: the payment task failed"))
}

async fn perform(sandbox: Arc<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let token = match sandbox.registry().live_token(bearer(&headers)).map(|t| (t.scope.clone(), t.grant.clone())) {
        Some((scope, Grant::Payment(terms))) if scope.split_whitespace().any(|s| s == "payment") => terms,
        _ => return refuse(401, 401, "a payment token issued for this invoice is required"),
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let CardPayment { session, card_id } = match read_request(&token, &request) {
        Ok(payment) => payment,
        Err(message) => return refuse(400, 400, message),
    };
    let invoice_id = session.terms.invoice_id.clone();
    let (fault, two_stage, bonus_minor) = {
        let mut control = sandbox.control();
        (control.take_fault(&invoice_id), control.two_stage, control.bonus_minor)
    };
    match fault {
        Some(OperationFault::Fail500) => return refuse(500, 500, "internal error (sandbox control: fail500)"),
        Some(OperationFault::Hang) => {
            tokio::time::sleep(HANG).await;
            return refuse(504, 504, "sandbox control: hang");
        }
        Some(OperationFault::LateThenPerform { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    // The payment itself, under the registry's lock: one payment per invoice, one count per card.
    let performed = {
        let mut registry = sandbox.registry();
        if registry.is_paid(&invoice_id) {
            drop(registry);
            return refuse(400, 400, format!("invoice {invoice_id} is already paid"));
        }
        let Some(card) = registry.saved_cards.get_mut(&card_id) else {
            drop(registry);
            return refuse(400, 404, format!("card {card_id} is not a saved card of this merchant"));
        };
        if card.terminal != session.terms.terminal || card.account_id != session.account_id {
            return refuse(400, 404, format!("card {card_id} was not saved for this accountId on this terminal"));
        }
        let outcome = if card.deactivated {
            cards::DEACTIVATED
        } else {
            card.charges += 1;
            cards::saved_charge(card.number, card.charges)
        };
        let number = card.number;
        let transaction = charge(&session, number, outcome, None, two_stage, bonus_minor);
        registry.transactions.entry(invoice_id.clone()).or_default().push(transaction.clone());
        transaction
    };
    tracing::info!(invoice_id = %invoice_id, status = performed.status_name, "sandbox: payment by cardId processed");
    delivery::notify(&sandbox, &session, &performed, "", Some(&card_id)).await;
    match fault {
        Some(OperationFault::PerformThenHang) => {
            tokio::time::sleep(HANG).await;
            return refuse(504, 504, "sandbox control: performThenHang");
        }
        Some(OperationFault::PerformThen500) => return refuse(500, 500, "internal error (sandbox control: performThen500)"),
        _ => {}
    }
    answer(&session, &performed, &card_id)
}

/// The payment as public integrations read ePay's answer, or the decline.
fn answer(session: &PaySession, t: &Transaction, card_id: &str) -> Response {
    if t.reason_code != 0 {
        return refuse(400, t.reason_code, t.reason.clone());
    }
    Json(json!({
        "id": t.id,
        "accountId": session.account_id,
        "amount": amount_json(t.amount),
        "amountBonus": amount_json(t.bonus),
        "currency": t.currency,
        "description": session.description,
        "email": session.email,
        "invoiceID": t.invoice_id,
        "language": session.language,
        "phone": session.phone,
        "reference": t.reference,
        "intReference": "",
        "secure3D": null,
        "cardID": card_id,
        "paymentLink": "",
    }))
    .into_response()
}

pub async fn deactivate(State(sandbox): State<Arc<Sandbox>>, Path(card_id): Path<String>, headers: HeaderMap) -> Response {
    let mut registry = sandbox.registry();
    if !registry.live_token(bearer(&headers)).is_some_and(|t| matches!(t.grant, Grant::Service)) {
        return refuse(401, 401, "a valid service token is required");
    }
    let Some(card) = registry.saved_cards.get_mut(&card_id) else {
        return refuse(400, 404, format!("card {card_id} not found"));
    };
    if card.deactivated {
        return refuse(400, 400, format!("card {card_id} is already deactivated"));
    }
    card.deactivated = true;
    registry.deactivations += 1;
    Json(json!({"status": "card successfully deactivated"})).into_response()
}

/// The saved cards, for tests (`GET /sandbox/cards`): id, mask, charges made, deactivated.
pub async fn list(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    let registry = sandbox.registry();
    let cards: Vec<Value> = registry
        .saved_cards
        .iter()
        .map(|(id, card)| {
            json!({"cardId": id, "cardMask": cards::mask(card.number), "accountId": card.account_id, "charges": card.charges, "deactivated": card.deactivated})
        })
        .collect();
    Json(json!({"cards": cards, "deactivations": registry.deactivations}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::CardOutcome;
    use crate::state::SecretHash;

    fn token() -> TokenTerms {
        TokenTerms {
            invoice_id: Some("000000000042".into()),
            amount: Some(Amount::from_minor(150_000)),
            currency: Some("KZT".into()),
            terminal: "T".into(),
            post_link: Some("http://127.0.0.1/p".into()),
            failure_post_link: String::new(),
            secret_hash: SecretHash("s".into()),
        }
    }

    fn body() -> Value {
        json!({"paymentType": "cardId", "cardId": {"id": "c-1"}, "amount": 1500, "currency": "KZT", "invoiceId": "000000000042",
               "terminalId": "T", "accountId": "u-1", "postLink": "http://127.0.0.1/p"})
    }

    #[test]
    fn a_payment_by_card_id_must_match_its_token() {
        let read = read_request(&token(), &body()).unwrap();
        assert_eq!((read.card_id.as_str(), read.session.account_id.as_str()), ("c-1", "u-1"));
        for (field, value) in [
            ("paymentType", json!("card")),
            ("cardId", json!({})),
            ("amount", json!(1500.01)),
            ("currency", json!("USD")),
            ("invoiceId", json!("000000000043")),
            ("terminalId", json!("other")),
            ("postLink", json!("http://127.0.0.1/elsewhere")),
        ] {
            let mut wrong = body();
            wrong[field] = value;
            assert!(read_request(&token(), &wrong).is_err(), "{field}");
        }
    }

    #[test]
    fn saved_cards_behave_as_their_numbers_say() {
        assert_eq!(cards::saved_charge("4111111111111111", 7), CardOutcome::Approve);
        assert_eq!(cards::saved_charge("4000000000000341", 1), CardOutcome::Approve);
        assert!(matches!(cards::saved_charge("4000000000000341", 2), CardOutcome::Decline { reason_code: 484, .. }));
        assert_eq!(cards::saved_charge("4000000000000341", 3), CardOutcome::Approve);
        assert!(matches!(cards::saved_charge("4000000000000002", 1), CardOutcome::Decline { .. }));
        assert_eq!(cards::saved_charge("4000000000000069", 1), CardOutcome::Approve);
        assert_eq!(cards::saved_charge("4000000000000069", 2), cards::EXPIRED);
        assert!(matches!(cards::saved_charge("4000000000009995", 1), CardOutcome::Decline { reason_code: 484, .. }));
    }
}
