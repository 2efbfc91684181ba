//! `GET /sandbox/api/check-status/{payment|p2p}/transaction/{invoiceId}` behind a service
//! token, answering in ePay's shape: `resultCode` is a string.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::Grant;
use super::{Sandbox, amount_json};

/// How often the status API was asked about each invoice.
pub async fn questions(State(sandbox): State<Arc<Sandbox>>) -> Json<std::collections::HashMap<String, u32>> {
    Json(sandbox.registry().status_questions.clone())
}

pub async fn check(State(sandbox): State<Arc<Sandbox>>, Path(invoice_id): Path<String>, headers: HeaderMap) -> Response {
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
            return Json(json!({"resultCode": "107", "resultMessage": "Операция в обработке"})).into_response();
        }
    }
    let Some(t) = registry.settled(&invoice_id) else {
        return Json(json!({"resultCode": "102", "resultMessage": "Транзакция не найдена"})).into_response();
    };
    let found = matches!(t.status_name, "CHARGE" | "AUTH" | "REFUND" | "CANCEL");
    let amount = t.reported_amount(sandbox.control().fee_in_amount);
    Json(json!({
        "resultCode": if found { "100" } else { "101" },
        "resultMessage": if found { "Транзакция найдена" } else { "Транзакция отклонена" },
        "transaction": {
            "id": t.id,
            "createdDate": t.created_at,
            "invoiceID": t.invoice_id,
            "amount": amount_json(amount),
            "fee": t.fee.map(amount_json).unwrap_or(json!(0)),
            "amountBonus": 0,
            "payoutAmount": 0,
            "currency": t.currency,
            "terminal": t.terminal,
            "accountID": "",
            "description": "",
            "language": "rus",
            "cardMask": t.card_mask,
            "cardType": "",
            "issuer": "HALYK BANK (SANDBOX)",
            "reference": t.reference,
            "reason": t.reason,
            "reasonCode": t.reason_code.to_string(),
            "intReference": "",
            "secure": false,
            "secureDetails": "",
            "statusID": "",
            "statusName": t.status_name,
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
            "approvalCode": t.approval_code,
        }
    }))
    .into_response()
}
