//! `POST /api/orders/{invoiceId}/checkout`: the widget starts paying a merchant order. The
//! order's terms are the merchant's; this request only asks for its token. The order is its
//! own idempotency key: a second click or a second tab gets the same token (or a fresh one for
//! the same invoice), never a second invoice.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use epay_api_types::{ApiError, ErrorCode, OrderSource};

use super::{CheckoutBody, answer};
use crate::error::AppError;
use crate::order_status::keyed_order;
use crate::state::AppState;
use crate::store::{cards, orders};

/// Start (or resume) paying a merchant order. The body may say whether the payer agreed to
/// save the card (`{"saveCard": true}`), when the order offers it (`allowSaveCard`).
#[utoipa::path(
    post,
    path = "/api/orders/{invoiceId}/checkout",
    operation_id = "startOrderCheckout",
    tag = "widget",
    params(
        ("invoiceId" = String, Path, description = "The merchant order's invoice id"),
        ("X-Order-Key" = String, Header, description = "The order's key (`orderKey` of the merchant API)"),
    ),
    responses(
        (status = 200, description = "The order and ePay's token: what the widget hands to halyk", body = CheckoutBody),
        (status = 401, description = "`order_key_required`", body = ApiError),
        (status = 404, description = "`not_found`: no order with this number and key", body = ApiError),
        (status = 409, description = "`not_a_merchant_order`, `checkout_in_progress`, `checkout_finished` (also: an order paid by a saved card, which has no payment page)", body = ApiError),
        (status = 410, description = "`order_expired`: the order's time ran out", body = ApiError),
        (status = 422, description = "`invalid_field`: a body that tries to change the order, or `saveCard` on an order that does not offer it", body = ApiError),
        (status = 429, description = "`rate_limited`", body = ApiError),
        (status = 502, description = "`upstream_error`", body = ApiError),
        (status = 503, description = "`token_rate_exceeded`, `timeout`", body = ApiError),
        (status = 504, description = "`upstream_timeout`", body = ApiError),
    )
)]
pub async fn start(
    State(app): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CheckoutBody>, AppError> {
    let order = keyed_order(&app, &invoice_id, &headers).await?;
    let id = order.id;
    if app.store.read(move |db| cards::charge_of(db, id)).await?.is_some() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::CheckoutFinished,
            "this order is paid by a saved card, server to server: it has no payment page",
        ));
    }
    let save_card = save_card_choice(&body)?;
    if save_card && !cards::may_keep(&order, true) {
        return Err(AppError::unprocessable(
            ErrorCode::InvalidField,
            "saveCard: this order does not offer to save the card (the shop did not set allowSaveCard)",
        ));
    }
    if order.source != OrderSource::Merchant {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::NotAMerchantOrder,
            "this order was started by a payer's checkout: retry POST /api/checkout with the same Idempotency-Key",
        ));
    }
    let (id, offered) = (order.id, cards::may_keep(&order, true));
    let begin = app
        .store
        .write(move |tx| {
            let begin = orders::begin_order_checkout(tx, id)?;
            // The payer's answer, when the order asked: the latest start's counts.
            if offered && matches!(begin, orders::Begin::Start(_) | orders::Begin::Ready(_) | orders::Begin::InProgress(_)) {
                cards::record_consent(tx, id, save_card, crate::store::now())?;
            }
            Ok(begin)
        })
        .await?;
    let mut checkout = answer(&app, begin).await?;
    // ePay saves the card only when the payer said yes (halyk's `cardSave`).
    checkout.0.card_save = offered && save_card;
    Ok(checkout)
}

/// The only thing a payer may say when starting a merchant order: whether to save the card.
/// An empty body (or `{}`) is no. Pure.
fn save_card_choice(body: &[u8]) -> Result<bool, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(false);
    }
    let refuse = || {
        AppError::unprocessable(
            ErrorCode::InvalidField,
            "this request takes at most {\"saveCard\": true|false}: the order's amount, currency and description were fixed by the merchant and cannot change",
        )
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| refuse())?;
    let object = value.as_object().ok_or_else(refuse)?;
    if object.keys().any(|key| key != "saveCard") {
        return Err(refuse());
    }
    match object.get("saveCard") {
        None => Ok(false),
        Some(serde_json::Value::Bool(choice)) => Ok(*choice),
        Some(_) => Err(refuse()),
    }
}
