//! `POST /api/epay/postlink` and `/api/epay/failure-postlink`: ePay's server-to-server
//! notifications. Each is recorded durably (raw body, verdict, reason) before the answer;
//! only one that passes every check may move its order.

mod parse;
mod transition;
mod verify;

pub use parse::Notification;
pub use transition::Decision;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use epay_api_types::ErrorCode;
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::AppState;
use crate::error::AppError;
use crate::store::StoreError;
pub use crate::store::notifications::Endpoint;
use crate::store::notifications::{self, NewNotification, Verdict};
use crate::store::orders::{self, OrderRow, Outcome};

#[derive(Serialize)]
pub struct Receipt {
    pub result: Verdict,
}

pub async fn postlink(State(app): State<Arc<AppState>>, body: Bytes) -> Result<Json<Receipt>, AppError> {
    receive(&app, Endpoint::Postlink, body).await
}

pub async fn failure_postlink(State(app): State<Arc<AppState>>, body: Bytes) -> Result<Json<Receipt>, AppError> {
    receive(&app, Endpoint::FailurePostlink, body).await
}

const NO_MATCH: &str = "the notification matches no order this proxy issued (unknown invoiceId or wrong secret_hash)";

/// What happened to one notification.
#[derive(Debug)]
enum Handled {
    Done(Verdict),
    Rejected { status: StatusCode, reason: String },
}

async fn receive(app: &Arc<AppState>, endpoint: Endpoint, body: Bytes) -> Result<Json<Receipt>, AppError> {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let parsed = Notification::parse(&body);
    let handled = app
        .store
        .write(async move |conn| match parsed {
            Ok(n) => handle(conn, endpoint, &n, &raw).await,
            Err(err) => {
                let reason = format!("body is not a JSON object ({err:?})");
                record(conn, endpoint, None, &Notification::default(), &raw, Verdict::Rejected, Some(&reason)).await?;
                tracing::warn!(?endpoint, %reason, "postLink rejected");
                Ok(Handled::Rejected { status: StatusCode::BAD_REQUEST, reason })
            }
        })
        .await?;
    match handled {
        Handled::Done(verdict) => {
            if verdict == Verdict::Accepted {
                // An accepted success is now `confirming`: ask the status API without delay.
                app.confirmations.notify_one();
            }
            Ok(Json(Receipt { result: verdict }))
        }
        Handled::Rejected { status, reason } => Err(AppError::new(status, ErrorCode::Rejected, reason)),
    }
}

/// What the rules say about a notification for `order` (the order its invoiceId names, if
/// any). Pure: `handle` stores the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluation {
    /// Refused; `stored` is the precise reason kept with it, `answer` what the caller is told.
    Reject { status: StatusCode, stored: String, answer: String },
    /// Authentic: what it does to the order.
    Apply { decision: Decision, success: bool },
}

pub fn evaluate(order: Option<&OrderRow>, endpoint: Endpoint, n: &Notification) -> Evaluation {
    let reject = |status: StatusCode, stored: String| Evaluation::Reject { status, answer: stored.clone(), stored };
    if n.invoice_id.is_none() {
        return reject(StatusCode::BAD_REQUEST, "no invoiceId".into());
    }
    let Some(order) = order else {
        return reject(StatusCode::FORBIDDEN, NO_MATCH.into());
    };
    if let Err(mismatch) = verify::check(order, n) {
        let stored = mismatch.describe(order);
        return match mismatch {
            // Stored with the precise reason, answered exactly like an unknown invoice.
            verify::Mismatch::SecretHash => Evaluation::Reject { status: StatusCode::FORBIDDEN, stored, answer: NO_MATCH.into() },
            _ => reject(StatusCode::UNPROCESSABLE_ENTITY, stored),
        };
    }
    let Some(success) = n.is_success() else {
        return reject(StatusCode::BAD_REQUEST, "no code".into());
    };
    if success && endpoint == Endpoint::FailurePostlink {
        return reject(StatusCode::UNPROCESSABLE_ENTITY, "a success notification arrived at failurePostLink".into());
    }
    Evaluation::Apply { decision: transition::decide(order, n, success), success }
}

async fn handle(conn: &mut SqliteConnection, endpoint: Endpoint, n: &Notification, raw: &str) -> Result<Handled, StoreError> {
    let order = match n.invoice_id.as_deref() {
        Some(invoice_id) => orders::find_by_invoice(conn, invoice_id.trim()).await?,
        None => None,
    };
    let order_id = order.as_ref().map(|o| o.id);
    let (decision, success) = match evaluate(order.as_ref(), endpoint, n) {
        Evaluation::Reject { status, stored, answer } => {
            record(conn, endpoint, order_id, n, raw, Verdict::Rejected, Some(&stored)).await?;
            tracing::warn!(invoice_id = n.invoice_id.as_deref(), ?endpoint, reason = %stored, "postLink rejected");
            return Ok(Handled::Rejected { status, reason: answer });
        }
        Evaluation::Apply { decision, success } => (decision, success),
    };
    let order = order.expect("evaluate applies only to a known order");
    let (verdict, reason) = match decision {
        Decision::Move(state) => {
            let outcome = Outcome {
                transaction_id: n.transaction_id.clone(),
                card_mask: n.card_mask.clone(),
                approval_code: n.approval_code.clone(),
                reference: n.reference.clone(),
                failure_reason: (!success).then(|| n.reason.clone()).flatten(),
                failure_code: if success { None } else { n.reason_code },
            };
            orders::set_outcome(conn, order.id, state, &outcome).await?;
            (Verdict::Accepted, None)
        }
        Decision::Duplicate => (Verdict::Duplicate, None),
        Decision::Ignore(why) => (Verdict::Ignored, Some(why)),
        Decision::IgnoreAndFlag(why) => {
            orders::flag_for_review(conn, order.id, why).await?;
            (Verdict::Ignored, Some(why))
        }
    };
    record(conn, endpoint, Some(order.id), n, raw, verdict, reason).await?;
    tracing::info!(invoice_id = %order.invoice_id, ?endpoint, ?verdict, success, reason, "postLink recorded");
    Ok(Handled::Done(verdict))
}

async fn record(
    conn: &mut SqliteConnection,
    endpoint: Endpoint,
    order_id: Option<i64>,
    n: &Notification,
    raw: &str,
    verdict: Verdict,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let new = NewNotification {
        order_id,
        endpoint,
        invoice_id: n.invoice_id.as_deref(),
        transaction_id: n.transaction_id.as_deref(),
        code: n.code.as_deref(),
        verdict,
        reason,
        raw_body: raw,
    };
    notifications::insert(conn, &new).await.map(|_| ())
}
