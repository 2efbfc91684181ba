//! `GET /api/orders/{invoiceId}` for the widget's outcome view. Invoice numbers can be
//! guessed, so the order's key (from the back link) is required; an unknown invoice and a
//! wrong key answer alike.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use epay_api_types::{ApiError, ErrorCode, ORDER_KEY_HEADER, OrderSource, OrderStatus, OrderView};

use crate::error::AppError;
use crate::secrets::constant_time_eq;
use crate::state::AppState;
use crate::store::now;
use crate::store::orders::{self, OrderRow, OrderState};

const NOT_STARTED: &str = "the payment could not be started";

/// The order `invoice_id` if the request carries its key (`X-Order-Key`); an unknown invoice
/// and a wrong key answer alike.
pub async fn keyed_order(app: &AppState, invoice_id: &str, headers: &HeaderMap) -> Result<OrderRow, AppError> {
    let key = headers.get(ORDER_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if key.is_empty() {
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::OrderKeyRequired,
            "send the order's key (the back link's `key`, or the merchant's `orderKey`) in the X-Order-Key header",
        ));
    }
    let invoice_id = invoice_id.to_owned();
    let order = app.store.read(move |db| orders::find_by_invoice(db, &invoice_id)).await?;
    order
        .filter(|order| constant_time_eq(key, order.order_key.expose()))
        .ok_or_else(|| AppError::not_found("no order with this number and key"))
}

/// What became of an order, for its payer.
#[utoipa::path(
    get,
    path = "/api/orders/{invoiceId}",
    operation_id = "getOrderStatus",
    tag = "widget",
    params(
        ("invoiceId" = String, Path, description = "The order's invoice id"),
        ("X-Order-Key" = String, Header, description = "The order's key"),
    ),
    responses(
        (status = 200, description = "The order's status, amount and, once known, its outcome", body = OrderView),
        (status = 401, description = "`order_key_required`", body = ApiError),
        (status = 404, description = "`not_found`: no order with this number and key", body = ApiError),
    )
)]
pub async fn show(
    State(app): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<OrderView>, AppError> {
    let order = keyed_order(&app, &invoice_id, &headers).await?;
    let id = order.id;
    // An order a saved card pays, server to server, is never the payer's to start.
    let payable = order.payable(now()) && app.store.read(move |db| crate::store::cards::charge_of(db, id)).await?.is_none();
    // An order past its `payableUntil` that nobody started is over for its payer, though it
    // stays `open` for the shop until `expiresAt`.
    let never_started = matches!(order.status, OrderState::Open | OrderState::StartFailed);
    let status =
        if order.source == OrderSource::Merchant && never_started && !payable { OrderStatus::Expired } else { order.status.public() };
    let (failure_reason, failure_code) = match order.status {
        OrderState::Failed => (order.failure_reason.clone(), order.failure_code),
        OrderState::StartFailed => (Some(NOT_STARTED.to_owned()), None),
        _ => (None, None),
    };
    // The sale's receipt, for the payer's outcome page: its link only if it is a web page.
    let sale = match order.status {
        OrderState::Paid => app.store.read(move |db| crate::store::receipts::for_order(db, id)).await?.into_iter().next(),
        _ => None,
    };
    let receipt_url =
        sale.as_ref().and_then(|sale| sale.issued.as_ref()).and_then(|issued| crate::views::receipt::web_link(&issued.ticket_url));
    Ok(Json(OrderView {
        status,
        amount: order.amount().to_string(),
        currency: order.currency.clone(),
        card_mask: order.card_mask.clone().filter(|_| order.status == OrderState::Paid),
        failure_reason,
        failure_code,
        method: Some(order.method),
        description: (order.source == OrderSource::Merchant).then(|| order.description.clone()),
        payable,
        allow_save_card: payable && crate::store::cards::may_keep(&order, true),
        receipt_due: sale.as_ref().is_some_and(|sale| sale.status == "due"),
        receipt_url,
    }))
}
