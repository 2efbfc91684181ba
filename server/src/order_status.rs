//! `GET /api/orders/{invoiceId}` for the widget's outcome view. Invoice numbers can be
//! guessed, so the order's key (from the back link) is required; an unknown invoice and a
//! wrong key answer alike.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use epay_api_types::{ErrorCode, ORDER_KEY_HEADER, OrderView};

use crate::AppState;
use crate::error::AppError;
use crate::secrets::constant_time_eq;
use crate::store::orders::{self, OrderState};

const NOT_STARTED: &str = "the payment could not be started";

pub async fn show(
    State(app): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<OrderView>, AppError> {
    let key = headers.get(ORDER_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if key.is_empty() {
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::OrderKeyRequired,
            "send the order's key (from the back link's `key` parameter) in the X-Order-Key header",
        ));
    }
    let order = orders::read_by_invoice(app.store.reader(), &invoice_id).await?;
    let Some(order) = order.filter(|order| constant_time_eq(key, order.order_key.expose())) else {
        return Err(AppError::not_found("no order with this number and key"));
    };
    let status = order.status.public();
    let (failure_reason, failure_code) = match order.status {
        OrderState::Failed => (order.failure_reason.clone(), order.failure_code),
        OrderState::StartFailed => (Some(NOT_STARTED.to_owned()), None),
        _ => (None, None),
    };
    Ok(Json(OrderView {
        status,
        amount: order.amount().to_string(),
        currency: order.currency.clone(),
        card_mask: order.card_mask.clone().filter(|_| order.status == OrderState::Paid),
        failure_reason,
        failure_code,
        method: Some(order.method),
    }))
}
