//! Capture, cancel and refund through the merchant API:
//! `POST /api/merchant/orders/{invoiceId}/capture|cancel|refunds`, each with an
//! Idempotency-Key. An operation is stored (with the externalID ePay will get) before ePay is
//! asked; ePay's answer is confirmed through the status API; an answer that never came (a
//! timeout, a 5xx) is looked up by the background task here, and re-sent only with the same
//! externalID, which ePay answers once. The rules are `rules.rs`, what the status API must show
//! is `confirm.rs`; both pure.

pub mod confirm;
pub mod rules;

pub use rules::Refusal;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use epay_api_types::{Amount, ErrorCode, MerchantOperation, OperationRequest, OperationResult};

use crate::AppState;
use crate::epay::{OperationAnswer, OperationKind, StatusKind};
use crate::error::AppError;
use crate::merchant::create::REPLAYED_HEADER;
use crate::merchant::view;
use crate::openapi::{MerchantAuthErrors, OperationErrors};
use crate::store::leases::{self, Due};
use crate::store::operations::{self, Begun, NewOperation, OperationRow};
use crate::store::orders::{self, OrderRow};
use crate::store::{notifications, now_ms};

/// Looks at the schedule this often when nothing is due.
const IDLE: Duration = Duration::from_secs(1);
/// An unknown operation is looked up after this, doubling.
const FIRST_CHECK_MS: i64 = 2_000;
/// Lookups before a human is asked to look (about an hour of doubling pauses).
const MAX_ATTEMPTS: i64 = 12;

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/capture",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("invoiceId" = String, Path), ("Idempotency-Key" = String, Header, description = "Required")),
    request_body(content = OperationRequest, description = "`amount`: a partial capture (the whole authorized amount when absent)"),
    responses(
        (status = 201, description = "The capture (`succeeded`, `failed`, or `unknown` while it is looked up) and the order", body = OperationResult),
        MerchantAuthErrors,
        OperationErrors,
    )
)]
pub async fn capture(state: State<Arc<AppState>>, path: Path<String>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    operate(state, path, headers, body, "capture").await
}

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/cancel",
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
    operate(state, path, headers, body, "cancel").await
}

#[utoipa::path(
    post,
    path = "/api/merchant/orders/{invoiceId}/refunds",
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
    operate(state, path, headers, body, "refund").await
}

async fn operate(
    State(app): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    kind: &'static str,
) -> Result<Response, AppError> {
    let idempotency_key =
        crate::checkout::required_idempotency_key(&headers, ": a retry with the same key is the same operation, never a second one")?;
    let request = read_request(&body)?;
    if kind == "cancel" && (request.amount.is_some() || request.reason.is_some()) {
        return Err(AppError::unprocessable(ErrorCode::InvalidField, "a cancel releases the whole hold: send no body"));
    }
    let amount_minor = match request.amount.as_deref() {
        None => None,
        Some(text) => Some(
            Amount::parse(text.trim())
                .map_err(|_| {
                    AppError::unprocessable(
                        ErrorCode::InvalidAmount,
                        format!("amount `{text}` is not a decimal such as \"500\" or \"500.50\""),
                    )
                })?
                .minor() as i64,
        ),
    };
    let reason = request.reason.map(|r| r.trim().chars().take(255).collect::<String>()).filter(|r| !r.is_empty());
    let fingerprint = crate::secrets::sha256_hex(format!("{invoice_id}\u{1f}{kind}\u{1f}{amount_minor:?}\u{1f}{reason:?}").as_bytes());
    // The key is the merchant's, per operation kind and order, so one key cannot mean two things.
    let new = NewOperation {
        invoice_id: invoice_id.clone(),
        kind,
        amount_minor,
        reason,
        idempotency_key: format!("{invoice_id}/{kind}/{idempotency_key}"),
        fingerprint,
    };
    let begun = app.store.write(move |tx| operations::begin(tx, new)).await?;
    let (op, replayed) = match begun {
        Begun::New(op, order) => {
            // On its own task: a merchant that disconnects must not leave it half asked.
            let task = tokio::spawn(perform(app.clone(), op, *order));
            (task.await.map_err(AppError::internal)??, false)
        }
        Begun::Replayed(op) => (op, true),
        Begun::KeyReused => {
            return Err(AppError::unprocessable(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for another request; use a new key for a new operation",
            ));
        }
        Begun::NoOrder => return Err(AppError::not_found(format!("no order with invoice id `{invoice_id}`"))),
        Begun::Refused(Refusal::NotAllowed(message)) => {
            return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, message));
        }
        Begun::Refused(Refusal::Amount(message)) => return Err(AppError::unprocessable(ErrorCode::InvalidAmount, message)),
    };
    let result = result(&app, &op).await?;
    let mut response = (StatusCode::CREATED, Json(result)).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn read_request(body: &[u8]) -> Result<OperationRequest, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(OperationRequest::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            AppError::unprocessable(ErrorCode::InvalidField, format!("the JSON does not fit: {e}"))
        } else {
            AppError::bad_request(ErrorCode::InvalidJson, format!("the body is not valid JSON: {e}"))
        }
    })
}

async fn result(app: &AppState, op: &OperationRow) -> Result<OperationResult, AppError> {
    let order_id = op.order_id;
    let order = app
        .store
        .read(move |db| orders::find_by_id(db, order_id))
        .await?
        .ok_or_else(|| AppError::internal("an operation without its order"))?;
    Ok(OperationResult { operation: operation_view(op), order: order_view(app, &order).await? })
}

/// The order as the merchant API shows it, with its operations (single reads and webhooks).
pub async fn order_view(app: &AppState, order: &OrderRow) -> Result<epay_api_types::MerchantOrder, crate::store::StoreError> {
    let order_id = order.id;
    let (history, post_links, ops) = app
        .store
        .read(move |db| {
            Ok((orders::history(db, order_id)?, notifications::read_for_order(db, order_id)?, operations::for_order(db, order_id)?))
        })
        .await?;
    let mut view = view::detailed(&app.config.server, order, &history, &post_links);
    view.operations = Some(ops.iter().map(operation_view).collect());
    Ok(view)
}

pub fn operation_view(op: &OperationRow) -> MerchantOperation {
    MerchantOperation {
        id: format!("op_{}", op.id),
        kind: op.kind.clone(),
        status: op.status.clone(),
        amount: op.amount_minor.map(|minor| Amount::from_minor(minor as u64).to_string()),
        reason: op.reason.clone(),
        message: op.epay_answer.clone(),
        created_at: view::rfc3339(op.created_at),
    }
}

/// Asks ePay to perform `op` on `order`'s transaction and records what follows. Returns the
/// operation as it then stands.
async fn perform(app: Arc<AppState>, op: OperationRow, order: OrderRow) -> Result<OperationRow, AppError> {
    let Some(transaction_id) = order.transaction_id.clone() else {
        let id = op.id;
        app.store.write(move |tx| operations::fail(tx, id, "the order has no ePay transaction id")).await?;
        return reread(&app, op.id).await;
    };
    let kind = match op.kind.as_str() {
        "capture" => OperationKind::Charge,
        "cancel" => OperationKind::Cancel,
        _ => OperationKind::Refund,
    };
    let amount = op.amount_minor.map(|minor| Amount::from_minor(minor as u64));
    let answer = app.epay.operation(kind, &transaction_id, &order.terminal, amount, &op.external_id).await;
    let id = op.id;
    match answer {
        Ok(OperationAnswer::Accepted(_)) => confirm_or_wait(&app, &op, &order, "ePay accepted it").await?,
        Ok(OperationAnswer::Refused { status, message }) => {
            tracing::warn!(invoice_id = %order.invoice_id, kind = %op.kind, status, %message, "ePay refused an operation");
            let said = format!("ePay refused it (HTTP {status}): {message}");
            app.store.write(move |tx| operations::fail(tx, id, &said)).await?;
        }
        Err(err) => {
            tracing::warn!(invoice_id = %order.invoice_id, kind = %op.kind, error = %err, "no answer from ePay; the operation will be looked up");
            let (said, at) = (format!("no answer from ePay ({err}); looking it up"), now_ms() + FIRST_CHECK_MS);
            app.store.write(move |tx| operations::mark_unknown(tx, id, &said, Some(at))).await?;
        }
    }
    reread(&app, op.id).await
}

async fn reread(app: &AppState, id: i64) -> Result<OperationRow, AppError> {
    app.store.read(move |db| operations::find(db, id)).await?.ok_or_else(|| AppError::internal("an operation vanished"))
}

/// ePay took the operation: the status API must show it before the order moves.
/// A refund of everything the order's charge still holds (the status API then says REFUND).
fn refunds_the_rest(op: &OperationRow, order: &OrderRow) -> bool {
    op.amount_minor == order.captured_minor.map(|captured| captured - order.refunded_minor)
}

async fn confirm_or_wait(app: &AppState, op: &OperationRow, order: &OrderRow, what: &str) -> Result<(), crate::store::StoreError> {
    let full_refund = refunds_the_rest(op, order);
    let status = app.epay.transaction_status(StatusKind::for_method(order.method), &order.invoice_id, &order.terminal).await;
    let id = op.id;
    match status {
        Ok(answer) if confirm::shows(&op.kind, full_refund, &answer) => {
            let said = format!("{what}; the status API shows it ({})", answer.transaction.and_then(|t| t.status_name).unwrap_or_default());
            tracing::info!(invoice_id = %order.invoice_id, kind = %op.kind, "operation confirmed");
            app.store.write(move |tx| operations::succeed(tx, id, &said)).await?;
        }
        other => {
            let said = match other {
                Ok(answer) => format!("{what}; the status API does not show it yet (resultCode {})", answer.result_code),
                Err(err) => format!("{what}; the status API could not be asked ({err})"),
            };
            let at = now_ms() + FIRST_CHECK_MS * (1 << op.attempts.clamp(0, 10));
            app.store.write(move |tx| operations::mark_unknown(tx, id, &said, Some(at))).await?;
        }
    }
    Ok(())
}

/// The background task: operations without a reliable answer are looked up in the status API
/// and, when it does not show them, re-sent with the same externalID (ePay performs an
/// externalID once). After `MAX_ATTEMPTS` the order is flagged for a human.
pub async fn run(app: Arc<AppState>) {
    let lease_ms = leases::lease_ms(app.config.epay.timeout);
    loop {
        let due = leases::claim_if_due(&app.store, &operations::LOOKUPS, move |tx, now| operations::claim_due(tx, now, now + lease_ms, 16));
        match due.await {
            Ok(Due::Claimed(due)) => {
                for op in due {
                    if let Err(err) = look_up(&app, op).await {
                        tracing::error!(error = %err, "cannot look up an operation");
                    }
                }
                continue;
            }
            Ok(Due::Idle { .. }) => {}
            Err(err) => tracing::error!(error = %err, "cannot read the operations schedule"),
        }
        tokio::time::sleep(IDLE).await;
    }
}

async fn look_up(app: &Arc<AppState>, op: OperationRow) -> Result<(), crate::store::StoreError> {
    let order_id = op.order_id;
    let Some(order) = app.store.read(move |db| orders::find_by_id(db, order_id)).await? else { return Ok(()) };
    if op.attempts >= MAX_ATTEMPTS {
        let (id, order_id) = (op.id, order.id);
        let reason =
            format!("{} {} has had no reliable answer from ePay after {} lookups", op.kind, format_args!("op_{}", op.id), op.attempts);
        tracing::warn!(invoice_id = %order.invoice_id, %reason, "operation needs a human");
        return app
            .store
            .write(move |tx| {
                operations::mark_unknown(tx, id, "no reliable answer from ePay; a person must check", None)?;
                orders::flag_for_review(tx, order_id, &reason)
            })
            .await;
    }
    let full_refund = refunds_the_rest(&op, &order);
    let status = app.epay.transaction_status(StatusKind::for_method(order.method), &order.invoice_id, &order.terminal).await;
    if let Ok(answer) = &status
        && confirm::shows(&op.kind, full_refund, answer)
        && (op.kind != "refund" || full_refund)
    {
        // Shown by the status API: it happened, nothing is sent again.
        let id = op.id;
        return app.store.write(move |tx| operations::succeed(tx, id, "looked up: the status API shows it").map(|_| ())).await;
    }
    // Not shown (or a partial refund, which the status API cannot tell apart): the same
    // externalID again, which ePay performs at most once.
    if let Err(err) = perform(app.clone(), op, order).await {
        tracing::warn!(error = ?err, "re-sending an operation failed");
    }
    Ok(())
}
