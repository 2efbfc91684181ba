//! What operators do from the console, each recorded with who and when in the order's
//! history (`admin_actions`), in the transaction of the change: refunds, captures and cancels
//! (the merchant API's own code, `operations::request_operation`), resending a webhook, and
//! resolving a review.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use epay_api_types::{Action, Decision, ErrorCode, EventType, OperationRequest, ReviewDecision};

use super::staff::Staff;
use crate::epay::OperationKind;
use crate::error::AppError;
use crate::json::JsonBody;
use crate::operations::{ByPerson, Requested, request_operation, review};
use crate::state::AppState;
use crate::store::admin::{self, ActionRow};
use crate::store::operations::{self, OperationRow};
use crate::store::orders::{self, OrderState};
use crate::store::{now, now_ms, webhooks};

const CHECKED_MAX: usize = 500;
const NOTE_MAX: usize = 1000;

async fn operate(
    app: &Arc<AppState>,
    staff: &Staff,
    invoice_id: String,
    headers: &HeaderMap,
    body: &Bytes,
    kind: OperationKind,
) -> Result<Response, AppError> {
    staff.require_operator()?;
    let idempotency_key = crate::idempotency::required_idempotency_key(
        headers,
        ": the console sends one per confirmation, so a double click is one operation",
    )?;
    let request = crate::operations::read_request(body)?;
    let by = ByPerson { actor: staff.name.clone(), resolving_review: None };
    tracing::info!(user = %staff.name, invoice_id = %invoice_id, kind = kind.as_str(), "operation asked in the console");
    let (result, replayed) = request_operation(app, Requested { invoice_id, kind, request, idempotency_key, by: Some(by) }).await?;
    Ok(crate::operations::created(result, replayed))
}

/// `POST /api/admin/orders/{invoiceId}/refunds|capture|cancel`: `kind`, for operators.
pub fn operation(kind: OperationKind) -> MethodRouter<Arc<AppState>> {
    post(
        move |State(app): State<Arc<AppState>>,
              Extension(staff): Extension<Staff>,
              Path(invoice_id): Path<String>,
              headers: HeaderMap,
              body: Bytes| async move { operate(&app, &staff, invoice_id, &headers, &body, kind).await },
    )
}

/// `POST /api/admin/events/{eventId}/resend`: the event goes again now (same id and body).
pub async fn resend(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    Path(event_id): Path<String>,
) -> Result<Response, AppError> {
    staff.require_operator()?;
    let (id, actor) = (event_id.clone(), staff.name.clone());
    let found = app
        .store
        .write(move |tx| {
            let Some(event) = webhooks::find(tx, &id)? else { return Ok(false) };
            webhooks::resend(tx, &id, now_ms())?;
            let action =
                ActionRow { order_id: event.order_id, event_id: Some(id.clone()), ..ActionRow::new(Action::Resend, actor.clone(), now()) };
            admin::record_action(tx, &action)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(AppError::not_found(format!("no event `{event_id}`")));
    }
    tracing::info!(user = %staff.name, event = %event_id, "webhook event queued again from the console");
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The decision as the rules allow it: what was checked, a short note. Pure.
pub fn read_decision(decision: &ReviewDecision) -> Result<(Decision, String, Option<String>), AppError> {
    let kind = decision.decision;
    let checked: String = decision.checked.trim().to_owned();
    if checked.is_empty() || checked.chars().count() > CHECKED_MAX {
        return Err(AppError::unprocessable(
            ErrorCode::InvalidField,
            format!("checked: say what you looked at (1 to {CHECKED_MAX} characters), e.g. \"ePay cabinet: CHARGE 1500, transaction 123\""),
        ));
    }
    let note = decision.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(AppError::unprocessable(ErrorCode::InvalidField, format!("note: at most {NOTE_MAX} characters")));
    }
    Ok((kind, checked, note))
}

/// `POST /api/admin/orders/{invoiceId}/review`: a person records what they checked and
/// decides. For a payment in review, `paid` and `failed` set the order (the shop gets
/// `order.review_resolved`, then `order.paid` or `order.failed`); `refund` asks ePay for a
/// full refund, which ePay's status API confirms like any other (the order stays in review
/// until then). For a capture, cancel or refund in review, `done`, `not_done` or `send_again`
/// settle it (`crate::operations::review`).
pub async fn resolve_review(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    Path(invoice_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReviewDecision>,
) -> Result<Response, AppError> {
    staff.require_operator()?;
    let (decision, checked, note) = read_decision(&body)?;
    let at = now();
    let resolution = ActionRow {
        decision: Some(decision),
        checked: Some(checked),
        note,
        ..ActionRow::new(Action::ResolveReview, staff.name.clone(), at)
    };
    tracing::info!(user = %staff.name, invoice_id = %invoice_id, %decision, "review resolved in the console");
    if let Some(decision) = review::Decision::of(decision) {
        let order = review::decide(&app, &invoice_id, decision, resolution).await?;
        return Ok(axum::Json(crate::views::order_view(&app.store, &app.config.server, &order).await?).into_response());
    }
    let invoice = invoice_id.clone();
    let in_review = app
        .store
        .read(move |db| match orders::find_by_invoice(db, &invoice)? {
            Some(order) => operations::in_review(db, order.id),
            None => Ok(None),
        })
        .await?;
    if let Some(op) = in_review {
        return Err(operation_open(&invoice_id, &op));
    }
    if decision == Decision::Refund {
        let invoice = invoice_id.clone();
        let order = app.store.read(move |db| orders::find_by_invoice(db, &invoice)).await?;
        let order = order.ok_or_else(|| AppError::not_found(format!("no order with invoice id `{invoice_id}`")))?;
        if order.status != OrderState::Review {
            return Err(not_in_review(&invoice_id, order.status));
        }
        let idempotency_key = crate::idempotency::required_idempotency_key(&headers, ": one per decision, so a double click refunds once")?;
        let by = ByPerson { actor: staff.name.clone(), resolving_review: Some(ActionRow { order_id: Some(order.id), ..resolution }) };
        let request = OperationRequest { amount: None, reason: Some("review resolved: refund".into()) };
        let requested = Requested { invoice_id, kind: OperationKind::Refund, request, idempotency_key, by: Some(by) };
        let (result, replayed) = request_operation(&app, requested).await?;
        return Ok(crate::operations::created(result, replayed));
    }
    let invoice = invoice_id.clone();
    let settled = app
        .store
        .write(move |tx| {
            let Some(order) = orders::find_by_invoice(tx, &invoice)? else { return Ok(Err(Unresolved::NoOrder)) };
            if order.status != OrderState::Review {
                return Ok(Err(Unresolved::NotInReview(order.status)));
            }
            // Decided on the locked order: an operation of it still in flight (the refund of an
            // earlier decision) or in review is decided about itself, never overridden here.
            if let Some(op) = operations::unsettled(tx, order.id)? {
                return Ok(Err(Unresolved::OperationOpen(Box::new(op))));
            }
            let to = if decision == Decision::Paid { OrderState::Paid } else { OrderState::Failed };
            if !orders::resolve_review(tx, order.id, to, at)? {
                return Ok(Err(Unresolved::NotInReview(order.status)));
            }
            admin::record_action(tx, &ActionRow { order_id: Some(order.id), ..resolution.clone() })?;
            orders::announce(tx, order.id, EventType::OrderReviewResolved, None)?;
            Ok(Ok(order.id))
        })
        .await?;
    match settled {
        Ok(_) => {
            let invoice = invoice_id.clone();
            let order =
                app.store.read(move |db| orders::find_by_invoice(db, &invoice)).await?.ok_or_else(|| AppError::internal("vanished"))?;
            Ok(axum::Json(crate::views::order_view(&app.store, &app.config.server, &order).await?).into_response())
        }
        Err(Unresolved::NoOrder) => Err(AppError::not_found(format!("no order with invoice id `{invoice_id}`"))),
        Err(Unresolved::NotInReview(state)) => Err(not_in_review(&invoice_id, state)),
        Err(Unresolved::OperationOpen(op)) => Err(operation_open(&invoice_id, &op)),
    }
}

/// Why a payment's review decision was not taken.
enum Unresolved {
    NoOrder,
    NotInReview(OrderState),
    /// A capture, cancel or refund of the order is in flight or in review.
    OperationOpen(Box<OperationRow>),
}

fn operation_open(invoice_id: &str, op: &OperationRow) -> AppError {
    let message = if op.status == operations::OperationStatus::Review {
        format!(
            "order {invoice_id} is in review for its {} op_{}: decide done (ePay did it), not_done (ePay did not) or send_again",
            op.kind.as_str(),
            op.id
        )
    } else {
        format!(
            "order {invoice_id} has its {} op_{} in flight ({}): decide when it has settled",
            op.kind.as_str(),
            op.id,
            op.status.as_str()
        )
    };
    AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, message)
}

fn not_in_review(invoice_id: &str, state: OrderState) -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        ErrorCode::OperationNotAllowed,
        format!("order {invoice_id} is not in review (it is {}): there is nothing to resolve", state.as_str()),
    )
}
