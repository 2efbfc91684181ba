//! `POST /sandbox/api/operation/{transactionId}/charge|cancel|refund` behind a service token,
//! reading each request where ePay's page puts it (docs/epay-contract.md, "Operations"):
//! charge takes `amount` in the query or a JSON body (the same in both when both are sent),
//! refund takes `amount` and `externalID` in the query and, without `amount`, refunds the
//! whole charge that is left. ePay's rules: charge and cancel only an AUTH, refund only a
//! CHARGE, every refund at least 10 ₸, never more than was charged. Every request is
//! performed: ePay's pages do not promise that a repeated `externalID` is answered once, so
//! the sandbox does not either. Success is HTTP 200 with no body, errors HTTP 400 with
//! `{"code", "message"}`, as the pages print them; the status API reflects every change
//! (after `statusLagMs`, when a test asks for a lagging status API). `operationFaults` make
//! the next requests misbehave as gateways do (`state::OperationFault`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::Amount;
use serde_json::{Value, json};

use super::Sandbox;
use super::state::{Grant, OperationFault, Performed, Transaction};

/// How long a request that "never answers" is held open: far past any client's timeout.
const HANG: Duration = Duration::from_secs(600);

/// ePay's smallest refund ("The minimum refund amount is 10 tenge").
pub const MIN_REFUND_MINOR: u64 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Charge,
    Cancel,
    Refund,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Charge => "charge",
            Kind::Cancel => "cancel",
            Kind::Refund => "refund",
        }
    }
}

/// How many charge, cancel and refund requests the sandbox performed.
pub async fn performed(State(sandbox): State<Arc<Sandbox>>) -> Json<u32> {
    Json(sandbox.registry().operations_performed)
}

/// Every operation the sandbox performed, in order (`GET /sandbox/operations`).
pub async fn list(State(sandbox): State<Arc<Sandbox>>) -> Json<Vec<Performed>> {
    Json(sandbox.registry().performed.clone())
}

type QueryString = Query<std::collections::HashMap<String, String>>;

pub async fn charge(state: State<Arc<Sandbox>>, path: Path<String>, query: QueryString, headers: HeaderMap, body: Bytes) -> Response {
    operate(state, path, query, headers, body, Kind::Charge).await
}

pub async fn cancel(state: State<Arc<Sandbox>>, path: Path<String>, query: QueryString, headers: HeaderMap, body: Bytes) -> Response {
    operate(state, path, query, headers, body, Kind::Cancel).await
}

pub async fn refund(state: State<Arc<Sandbox>>, path: Path<String>, query: QueryString, headers: HeaderMap, body: Bytes) -> Response {
    operate(state, path, query, headers, body, Kind::Refund).await
}

/// The amount the request asks for, read where `kind`'s page puts it. `Err`: a refusal.
fn requested_amount(kind: Kind, query: &std::collections::HashMap<String, String>, body: &Value) -> Result<Option<Amount>, String> {
    let bad = || "amount must be a positive number with at most 2 decimals".to_owned();
    let in_query = query.get("amount").map(|a| Amount::parse(a.trim()).map_err(|_| bad())).transpose()?;
    match kind {
        // The refund page: query only (a JSON body is not read: without `amount` in the query
        // the whole charge is refunded).
        Kind::Refund => Ok(in_query),
        Kind::Cancel => Ok(None),
        Kind::Charge => {
            let in_body = match body.get("amount") {
                None | Some(Value::Null) => None,
                Some(value) => Some(parse_amount(value).ok_or_else(bad)?),
            };
            match (in_query, in_body) {
                (Some(q), Some(b)) if q != b => Err(format!("amount {q} in the query and {b} in the body differ")),
                (q, b) => Ok(q.or(b)),
            }
        }
    }
}

async fn operate(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    Query(query): QueryString,
    headers: HeaderMap,
    body: Bytes,
    kind: Kind,
) -> Response {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !sandbox.registry().live_token(bearer).is_some_and(|t| matches!(t.grant, Grant::Service)) {
        return answer(401, json!({"code": 401, "message": "a valid service token is required"}));
    }
    let request: Value = if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    if !request.is_object() {
        return answer(400, json!({"code": 400, "message": "the body must be a JSON object"}));
    }
    // Read before the control lock: the status API takes the registry's lock, then control's.
    let invoice_id = sandbox.registry().transactions.values().flatten().find(|t| t.id == id).map(|t| t.invoice_id.clone());
    let (fail, refuse, slow_ms, fault, lag_ms, refund_label) = {
        let mut control = sandbox.control();
        let fail = control.fail_operations > 0;
        control.fail_operations = control.fail_operations.saturating_sub(1);
        let refuse = !fail && control.refuse_operations > 0;
        control.refuse_operations = control.refuse_operations.saturating_sub(u32::from(refuse));
        let slow = control.slow_operations > 0;
        control.slow_operations = control.slow_operations.saturating_sub(1);
        let fault = control.take_fault(invoice_id.as_deref().unwrap_or_default());
        let refund_label = if control.partly_refunded_as_refund { "REFUND" } else { "CHARGE" };
        (fail, refuse, slow.then_some(control.slow_operation_ms), fault, control.status_lag_ms, refund_label)
    };
    if fail {
        return answer(500, json!({"code": 500, "message": "internal error (sandbox control: failOperations)"}));
    }
    if refuse {
        return answer(400, json!({"code": 100, "message": ""}));
    }
    let sandbox = sandbox.clone();
    let work = Work { kind, query, request, refund_label, lag_ms };
    let (status, reply) = match fault {
        Some(OperationFault::Fail500) => return answer(500, json!({"code": 500, "message": "internal error (sandbox control: fail500)"})),
        Some(OperationFault::Hang) => {
            tokio::time::sleep(HANG).await;
            return answer(504, json!({"code": 504, "message": "sandbox control: hang"}));
        }
        // On a task of its own: the bank performs it even after the client gave up waiting.
        Some(OperationFault::LateThenPerform { ms }) => {
            let late = async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                perform(&sandbox, &id, &work)
            };
            tokio::spawn(late).await.unwrap_or((500, json!({"code": 500, "message": "sandbox: the late operation failed"})))
        }
        _ => perform(&sandbox, &id, &work),
    };
    match fault {
        Some(OperationFault::PerformThenHang) => {
            tokio::time::sleep(HANG).await;
            return answer(504, json!({"code": 504, "message": "sandbox control: performThenHang"}));
        }
        Some(OperationFault::PerformThen500) => {
            return answer(500, json!({"code": 500, "message": "internal error (sandbox control: performThen500)"}));
        }
        _ => {}
    }
    if let Some(ms) = slow_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    answer(status, reply)
}

/// One operation request as read, and how the sandbox is told to perform it.
struct Work {
    kind: Kind,
    query: std::collections::HashMap<String, String>,
    request: Value,
    refund_label: &'static str,
    lag_ms: u64,
}

/// Performs one operation request on the transaction `id` as ePay's rules allow it, and
/// records it; the answer's status and body.
fn perform(sandbox: &Sandbox, id: &str, work: &Work) -> (u16, Value) {
    let Work { kind, query, request, refund_label, lag_ms } = work;
    let (kind, lag_ms) = (*kind, *lag_ms);
    match requested_amount(kind, query, request) {
        Err(message) => (400, json!({"code": 400, "message": message})),
        Ok(amount) => {
            let mut registry = sandbox.registry();
            let registry = &mut *registry;
            match registry.transactions.values_mut().flatten().find(|t| t.id == id) {
                None => (400, json!({"code": 404, "message": "transaction not found"})),
                Some(t) => {
                    let before = t.clone();
                    let (status, reply) = apply(t, kind, amount, refund_label);
                    if status == 200 {
                        registry.operations_performed += 1;
                        registry.performed.push(Performed {
                            invoice_id: t.invoice_id.clone(),
                            transaction_id: t.id.clone(),
                            kind: kind.name(),
                            amount_minor: moved(&before, t, kind),
                            external_id: query.get("externalID").cloned(),
                        });
                        if lag_ms > 0 {
                            let shown = Box::new(Transaction { lagging: None, ..before });
                            t.lagging = Some((std::time::Instant::now() + Duration::from_millis(lag_ms), shown));
                        }
                    }
                    (status, reply)
                }
            }
        }
    }
}

/// What an operation moved, in minor units: a refund's or a capture's amount, 0 for a cancel.
fn moved(before: &Transaction, after: &Transaction, kind: Kind) -> u64 {
    match kind {
        Kind::Refund => after.refunded.minor() - before.refunded.minor(),
        Kind::Charge => after.amount.minor(),
        Kind::Cancel => 0,
    }
}

/// HTTP 200 with no body (as the pages print it), or the error JSON.
fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_success() { status.into_response() } else { (status, Json(body)).into_response() }
}

fn parse_amount(value: &Value) -> Option<Amount> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Amount::parse(&text).ok()
}

/// ePay's rules for one operation on transaction `t`; the answer's status and body. A partly
/// refunded charge keeps `partly_refunded` as its `statusName` (ePay's pages show `CHARGE`
/// and `REFUND` both).
pub fn apply(t: &mut Transaction, kind: Kind, amount: Option<Amount>, partly_refunded: &'static str) -> (u16, Value) {
    let refuse = |message: String| (400, json!({"code": 400, "message": message}));
    // ePay's pages print no body for a success.
    const DONE: (u16, Value) = (200, Value::Null);
    match kind {
        Kind::Charge | Kind::Cancel if t.status_name != "AUTH" => {
            refuse(format!("operation is possible only for AUTH transactions; this one is {}", t.status_name))
        }
        Kind::Charge => {
            let charged = amount.unwrap_or(t.amount);
            if charged > t.amount {
                return refuse(format!("cannot charge {charged}: {} was authorized", t.amount));
            }
            t.amount = charged;
            t.status_name = "CHARGE";
            DONE
        }
        Kind::Cancel => {
            t.status_name = "CANCEL";
            DONE
        }
        Kind::Refund if !(t.status_name == "CHARGE" || (t.status_name == "REFUND" && t.refunded < t.amount)) => {
            refuse(format!("refund is possible only for CHARGE transactions; this one is {}", t.status_name))
        }
        Kind::Refund => {
            let left = t.amount.minor() - t.refunded.minor();
            let refunded = amount.map_or(left, |a| a.minor());
            if refunded > left {
                return refuse(format!("cannot refund {}: only {} is left", Amount::from_minor(refunded), Amount::from_minor(left)));
            }
            if refunded < MIN_REFUND_MINOR {
                return refuse(format!("the minimum refund amount is {}", Amount::from_minor(MIN_REFUND_MINOR)));
            }
            t.refunded = Amount::from_minor(t.refunded.minor() + refunded);
            t.status_name = if t.refunded == t.amount { "REFUND" } else { partly_refunded };
            DONE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction(status_name: &'static str) -> Transaction {
        Transaction {
            id: "t".into(),
            invoice_id: "123456789012".into(),
            amount: Amount::from_minor(150_000),
            currency: "KZT".into(),
            terminal: "t".into(),
            status_name,
            refunded: Amount::from_minor(0),
            card_mask: String::new(),
            approval_code: String::new(),
            reference: String::new(),
            reason: String::new(),
            reason_code: 0,
            created_at: String::new(),
            fee: None,
            bonus: Amount::from_minor(0),
            receiver_mask: None,
            lagging: None,
        }
    }

    fn apply_as_charge(t: &mut Transaction, kind: Kind, amount: Option<Amount>) -> (u16, Value) {
        apply(t, kind, amount, "CHARGE")
    }

    #[test]
    fn a_partly_refunded_charge_may_be_labelled_refund_and_refunded_further() {
        let mut charged = transaction("CHARGE");
        assert_eq!(apply(&mut charged, Kind::Refund, Some(Amount::from_minor(50_000)), "REFUND").0, 200);
        assert_eq!(charged.status_name, "REFUND");
        assert_eq!(apply(&mut charged, Kind::Refund, Some(Amount::from_minor(50_000)), "REFUND").0, 200, "still refundable");
        assert_eq!(apply(&mut charged, Kind::Refund, None, "REFUND").0, 200);
        assert_eq!(charged.refunded.minor(), 150_000);
        assert_eq!(apply(&mut charged, Kind::Refund, None, "REFUND").0, 400, "nothing left");
    }

    #[test]
    fn epays_rules_for_each_operation() {
        let mut held = transaction("AUTH");
        assert_eq!(apply_as_charge(&mut held, Kind::Refund, None).0, 400, "no refund of a hold");
        assert_eq!(apply_as_charge(&mut held, Kind::Charge, Some(Amount::from_minor(200_000))).0, 400, "no more than authorized");
        assert_eq!(apply_as_charge(&mut held, Kind::Charge, Some(Amount::from_minor(100_000))).0, 200);
        assert_eq!((held.status_name, held.amount.minor()), ("CHARGE", 100_000));
        assert_eq!(apply_as_charge(&mut held, Kind::Cancel, None).0, 400, "a charge is not cancelled");
        assert_eq!(apply_as_charge(&mut held, Kind::Refund, Some(Amount::from_minor(999))).0, 400, "at least 10 for a partial refund");
        assert_eq!(apply_as_charge(&mut held, Kind::Refund, Some(Amount::from_minor(40_000))).0, 200);
        assert_eq!(held.status_name, "CHARGE", "a partial refund leaves the charge");
        assert_eq!(apply_as_charge(&mut held, Kind::Refund, Some(Amount::from_minor(60_001))).0, 400, "never more than is left");
        assert_eq!(apply_as_charge(&mut held, Kind::Refund, None).0, 200);
        assert_eq!((held.status_name, held.refunded.minor()), ("REFUND", 100_000));
        let mut other = transaction("AUTH");
        assert_eq!(apply_as_charge(&mut other, Kind::Cancel, None).0, 200);
        assert_eq!(other.status_name, "CANCEL");
    }
}
