//! `epay-proxy orders show <invoiceId>`: an order and every notification it received, and
//! `epay-proxy orders list [N]`: the latest orders, as JSON, for whoever is on call.
//! Secrets are left out.

use serde_json::json;

use crate::store::{Store, StoreError, notifications, orders};
use crate::views::order as view;

pub async fn show_order(store: &Store, invoice_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let invoice_id = invoice_id.to_owned();
    let found = store
        .read(move |db| {
            let Some(order) = orders::find_by_invoice(db, &invoice_id)? else { return Ok(None) };
            let received = notifications::read_for_order(db, order.id)?;
            Ok(Some((order, received)))
        })
        .await?;
    let Some((order, received)) = found else { return Ok(None) };
    let received: Vec<_> = received
        .into_iter()
        .map(|n| {
            // The raw body is kept for audits; its secret_hash is not for terminals.
            let raw = serde_json::from_str::<serde_json::Value>(&n.raw_body).map(|mut v| {
                if let Some(fields) = v.as_object_mut() {
                    fields.remove("secret_hash");
                }
                v
            });
            json!({
                "id": n.id, "endpoint": n.endpoint, "verdict": n.verdict, "reason": n.reason,
                "code": n.code, "transactionId": n.transaction_id, "source": n.source, "receivedAt": n.received_at,
                "body": raw.unwrap_or_else(|_| json!(n.raw_body)),
            })
        })
        .collect();
    Ok(Some(json!({
        "invoiceId": order.invoice_id,
        "status": order.status.as_str(),
        "publicStatus": order.status.public(),
        "amount": order.amount().to_string(),
        "currency": order.currency,
        "terminal": order.terminal,
        "method": order.method,
        "description": order.description,
        "transactionId": order.transaction_id,
        "cardMask": order.card_mask,
        "cardSave": order.card_save,
        "savedCard": order.card_id.as_ref().map(|id| json!({ "cardId": id, "cardMask": order.card_mask, "cardType": order.card_type })),
        "fee": view::money(order.fee_minor),
        "amountBonus": view::money(order.amount_bonus_minor),
        "orgAmount": view::money(order.org_amount_minor),
        "payoutAmount": view::money(order.payout_amount_minor),
        "approvalCode": order.approval_code,
        "reference": order.reference,
        "failureReason": order.failure_reason,
        "failureCode": order.failure_code,
        "startError": order.start_error,
        "reviewReason": order.review_reason,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "nextCheckMs": order.next_check_ms,
        "checkAttempts": order.check_attempts,
        "lastCheck": order.last_check,
        "invoiceSuffixHeld": order.reserved_suffix.is_some(),
        "version": order.version,
        "notifications": received,
    })))
}

/// The `limit` most recent orders, newest first, one summary each.
pub async fn list_orders(store: &Store, limit: i64) -> Result<Vec<serde_json::Value>, StoreError> {
    let rows = store.read(move |db| orders::latest(db, limit)).await?;
    Ok(rows
        .iter()
        .map(|order| {
            json!({
                "invoiceId": order.invoice_id,
                "status": order.status.as_str(),
                "amount": order.amount().to_string(),
                "currency": order.currency,
                "description": order.description,
                "reviewReason": order.review_reason,
                "createdAt": order.created_at,
            })
        })
        .collect())
}
