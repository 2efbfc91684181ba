//! The merchant API's doors to capture, cancel and refund:
//! `POST /api/merchant/orders/{invoiceId}/capture|cancel|refunds`, each with an
//! Idempotency-Key; the work is `operations::request_operation`'s, shared with the console.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use epay_api_types::{ApiError, OperationRequest, OperationResult};

use super::auth::MerchantAuthErrors;
use crate::epay::OperationKind;
use crate::error::AppError;
use crate::operations::{Requested, created, read_request, request_operation};
use crate::state::AppState;

/// The errors of capture, cancel and refund.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
pub enum OperationErrors {
    /// `invalid_json`, `idempotency_key_required`, `invalid_idempotency_key`
    #[response(status = 400)]
    BadRequest(ApiError),
    /// `not_found`: no order with this invoice id
    #[response(status = 404)]
    NotFound(ApiError),
    /// `operation_not_allowed`: the message says what the order allows
    #[response(status = 409)]
    NotAllowed(ApiError),
    /// `invalid_amount` (more than is left, or below ePay's minimum), `invalid_field`, `idempotency_key_reused`
    #[response(status = 422)]
    Unprocessable(ApiError),
}

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/capture",
    operation_id = "captureMerchantOrder",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("invoiceId" = String, Path), ("Idempotency-Key" = String, Header, description = "Required")),
    request_body(content = OperationRequest, description = "`amount`: a partial capture (the whole authorized amount when absent)"),
    responses(
        (status = 201, description = "The capture (`succeeded`, `failed`, or `accepted`/`unknown` while it is looked up) and the order", body = OperationResult),
        MerchantAuthErrors,
        OperationErrors,
    )
)]
pub async fn capture(state: State<Arc<AppState>>, path: Path<String>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    operate(state, path, headers, body, OperationKind::Capture).await
}

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/cancel",
    operation_id = "cancelMerchantOrder",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("invoiceId" = String, Path), ("Idempotency-Key" = String, Header, description = "Required")),
    responses(
        (status = 201, description = "The cancel and the order", body = OperationResult),
        MerchantAuthErrors,
        OperationErrors,
    )
)]
pub async fn cancel(state: State<Arc<AppState>>, path: Path<String>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    operate(state, path, headers, body, OperationKind::Cancel).await
}

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/refunds",
    operation_id = "refundMerchantOrder",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("invoiceId" = String, Path), ("Idempotency-Key" = String, Header, description = "Required")),
    request_body(content = OperationRequest, description = "`amount`: a partial refund, at least 10 ₸ (what is left when absent); `reason`"),
    responses(
        (status = 201, description = "The refund and the order", body = OperationResult),
        MerchantAuthErrors,
        OperationErrors,
    )
)]
pub async fn refund(state: State<Arc<AppState>>, path: Path<String>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    operate(state, path, headers, body, OperationKind::Refund).await
}

async fn operate(
    State(app): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    kind: OperationKind,
) -> Result<Response, AppError> {
    let idempotency_key =
        crate::idempotency::required_idempotency_key(&headers, ": a retry with the same key is the same operation, never a second one")?;
    let request = read_request(&body)?;
    let (result, replayed) = request_operation(&app, Requested { invoice_id, kind, request, idempotency_key, by: None }).await?;
    Ok(created(result, replayed))
}
