//! The console's fiscal receipts: how many are due, issued and failing, the cash register's
//! shift and alert, and a receipt asked for again by an operator (recorded in `admin_actions`).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use epay_api_types::{Action, AdminReceipt, AdminReceipts, AdminRegister, ErrorCode, Receipt};

use super::staff::Staff;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::admin::{self, ActionRow};
use crate::store::receipts::{self, ReceiptRow, Retry};
use crate::store::{StoreError, now};
use crate::views::order::rfc3339;
use crate::views::receipt::receipt_view;

const STATUSES: [&str; 3] = ["due", "issued", "failed"];

/// `GET /api/admin/receipts?status=due|issued|failed`.
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<AdminReceipts>, AppError> {
    let status = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "status")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty());
    if let Some(status) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(AppError::unprocessable(ErrorCode::InvalidField, format!("status `{status}` is not one of due, issued, failed")));
    }
    let cashbox = app.config.fiscal.webkassa.as_ref().map(|w| w.cashbox.clone());
    let (counts, rows, register) = app
        .store
        .read(move |db| {
            let register = cashbox.as_deref().map(|cashbox| receipts::register(db, cashbox)).transpose()?;
            Ok((receipts::counts(db)?, receipts::list(db, status.as_deref(), 100)?, register))
        })
        .await?;
    let ms = |at: Option<i64>| at.map(|ms| rfc3339(ms / 1000));
    Ok(Json(AdminReceipts {
        enabled: app.config.fiscal.enabled(),
        due: counts.due,
        issued: counts.issued,
        failed: counts.failed,
        oldest_due_at: ms(counts.oldest_due_ms),
        register: register.map(|r| AdminRegister {
            cashbox: r.cashbox,
            shift_opened_at: ms(r.shift_opened_ms),
            last_closed_at: ms(r.last_closed_ms),
            alert: r.alert,
            alert_text: r.alert_text,
            alert_since: ms(r.alert_since_ms),
            last_error: r.last_error,
        }),
        receipts: rows.iter().map(admin_receipt).collect(),
    }))
}

fn admin_receipt(row: &ReceiptRow) -> AdminReceipt {
    AdminReceipt {
        invoice_id: row.invoice_id.clone(),
        receipt: receipt_view(row),
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_ms.filter(|_| row.status == "due").map(|ms| rfc3339(ms / 1000)),
    }
}

/// `POST /api/admin/receipts/{rcpt_id}/retry`, for operators: a failed or waiting receipt is due
/// now. It keeps its external number, so one that was issued after all is found, not issued
/// twice.
pub async fn retry(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    Path(receipt_ref): Path<String>,
) -> Result<Json<Receipt>, AppError> {
    staff.require_operator()?;
    let Some(id) = receipt_ref.strip_prefix("rcpt_").and_then(|id| id.parse::<i64>().ok()) else {
        return Err(AppError::not_found(format!("no receipt `{receipt_ref}`")));
    };
    let actor = staff.name.clone();
    let retried = app
        .store
        .write(move |tx| {
            let retried = receipts::retry(tx, id)?;
            if let Retry::DueNow(row) = &retried {
                let action = ActionRow {
                    order_id: Some(row.order_id),
                    note: Some(format!("asked for receipt rcpt_{id} again")),
                    ..ActionRow::new(Action::RetryReceipt, actor.clone(), now())
                };
                admin::record_action(tx, &action)?;
            }
            Ok::<_, StoreError>(retried)
        })
        .await?;
    let conflict = |message: String| AppError::new(axum::http::StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, message);
    let row = match retried {
        Retry::DueNow(row) => row,
        Retry::InFlight => {
            return Err(conflict(format!("receipt `{receipt_ref}` is being issued right now; look again in a minute")).retry_after(60));
        }
        Retry::NotRetryable => {
            return Err(conflict(format!(
                "receipt `{receipt_ref}` is issued (or does not exist): an issued receipt is never issued again"
            )));
        }
    };
    tracing::info!(user = %staff.name, receipt = %receipt_ref, "fiscal receipt asked for again in the console");
    Ok(Json(receipt_view(&row)))
}
