//! `POST /api/epay/postlink` and `/api/epay/failure-postlink`: ePay's server-to-server
//! notifications. Each is recorded durably (raw body, verdict, reason, source) before the
//! answer. One with the order's secret_hash moves its order (a success only as far as
//! `confirming`: the status API decides); one without secret_hash is a hint that makes the
//! proxy ask the status API at once; one with a wrong secret_hash is forged and changes
//! nothing.

pub mod invariants;
mod parse;
mod transition;
mod verify;

pub use parse::Notification;
pub use transition::Decision;
pub use verify::Secret;

use std::net::IpAddr;
use std::sync::Arc;

use crate::store::Tx;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use epay_api_types::ErrorCode;
use serde::Serialize;

use crate::error::AppError;
use crate::rate_limit::ClientAddr;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::cards;
pub use crate::store::notifications::Endpoint;
use crate::store::notifications::{self, NewNotification, Verdict};
use crate::store::now_ms;
use crate::store::orders::{self, OrderKey, OrderRow, OrderState, Outcome};

#[derive(Serialize)]
pub struct Receipt {
    pub result: Verdict,
}

pub async fn postlink(State(app): State<Arc<AppState>>, ClientAddr(source): ClientAddr, body: Bytes) -> Result<Json<Receipt>, AppError> {
    receive(&app, Endpoint::Postlink, source, body).await
}

pub async fn failure_postlink(
    State(app): State<Arc<AppState>>,
    ClientAddr(source): ClientAddr,
    body: Bytes,
) -> Result<Json<Receipt>, AppError> {
    receive(&app, Endpoint::FailurePostlink, source, body).await
}

const NO_MATCH: &str = "the notification matches no order this proxy issued (unknown invoiceId or wrong secret_hash)";

/// A hint makes the proxy ask the status API at most this often per order.
pub const HINT_INTERVAL_MS: i64 = 5_000;

/// What happened to one notification.
#[derive(Debug)]
enum Handled {
    /// Recorded with this verdict; `ask` wakes the confirmation worker.
    Done {
        verdict: Verdict,
        ask: bool,
    },
    Rejected {
        status: StatusCode,
        reason: String,
    },
    /// Not recorded: its source sent too many that changed nothing.
    Limited,
}

async fn receive(app: &Arc<AppState>, endpoint: Endpoint, source: IpAddr, body: Bytes) -> Result<Json<Receipt>, AppError> {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let parsed = Notification::parse(&body);
    let limiter = app.postlink_limiter.clone();
    // The limiter's answer for this notification, asked once however often the job runs.
    let admitted = std::cell::Cell::new(None);
    let order =
        parsed.as_ref().ok().and_then(|n| n.invoice_id.as_deref()).map(|invoice_id| OrderKey::Invoice(invoice_id.trim().to_owned()));
    let handled = app
        .store
        .write_locking(order, move |tx| {
            let context = Context { endpoint, raw: &raw, source, now_ms: now_ms(), limiter: &limiter, admitted: &admitted };
            match &parsed {
                Ok(n) => handle(tx, &context, n),
                Err(err) => reject(
                    tx,
                    &context,
                    None,
                    &Notification::default(),
                    StatusCode::BAD_REQUEST,
                    format!("body is not a JSON object ({err:?})"),
                    None,
                ),
            }
        })
        .await?;
    match handled {
        Handled::Done { verdict, ask } => {
            if ask {
                app.confirmations.notify_one();
            }
            Ok(Json(Receipt { result: verdict }))
        }
        Handled::Rejected { status, reason } => Err(AppError::new(status, ErrorCode::Rejected, reason)),
        Handled::Limited => Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many notifications without a valid secret_hash from this address (or for this order); they are no longer stored",
        )),
    }
}

/// What the rules say about a notification for `order` (the order its invoiceId names, if
/// any). Pure: `handle` stores the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluation {
    /// Refused; `stored` is the precise reason kept with it, `answer` what the caller is told.
    Reject { status: StatusCode, stored: String, answer: String },
    /// No secret_hash: recorded, answered 200; `ask` says whether the status API is asked now.
    Hint { ask: bool },
    /// Authentic: what it does to the order, and where it disagrees with the order (kept as
    /// the notification's reason; the status API has the last word).
    Apply { decision: Decision, success: bool, disagreement: Option<String> },
}

pub fn evaluate(order: Option<&OrderRow>, endpoint: Endpoint, n: &Notification, now_ms: i64) -> Evaluation {
    let reject = |status: StatusCode, stored: String| Evaluation::Reject { status, answer: stored.clone(), stored };
    if n.invoice_id.is_none() {
        return reject(StatusCode::BAD_REQUEST, "no invoiceId".into());
    }
    let Some(order) = order else {
        return reject(StatusCode::FORBIDDEN, NO_MATCH.into());
    };
    match verify::secret(order, n) {
        // Stored with the precise reason, answered exactly like an unknown invoice.
        Secret::Wrong => {
            return Evaluation::Reject { status: StatusCode::FORBIDDEN, stored: "secret_hash is wrong".into(), answer: NO_MATCH.into() };
        }
        Secret::Missing => return Evaluation::Hint { ask: hint_asks(order, now_ms) },
        Secret::Matches => {}
    }
    let Some(success) = n.is_success() else {
        return reject(StatusCode::BAD_REQUEST, "no code".into());
    };
    if success && endpoint == Endpoint::FailurePostlink {
        return reject(StatusCode::UNPROCESSABLE_ENTITY, "a success notification arrived at failurePostLink".into());
    }
    let disagreements = verify::disagreements(order, n);
    let disagreement = (!disagreements.is_empty()).then(|| disagreements.join("; ") + "; the status API decides");
    Evaluation::Apply { decision: transition::decide(order, n, success), success, disagreement }
}

/// Whether a hint about `order` makes the proxy ask the status API now: not about a paid
/// order or one a human has, and at most once per `HINT_INTERVAL_MS`, so nobody can make the
/// proxy hammer ePay.
pub fn hint_asks(order: &OrderRow, now_ms: i64) -> bool {
    let settled = matches!(order.status, OrderState::Paid | OrderState::Review);
    !settled && order.last_hint_ms.is_none_or(|last| now_ms - last >= HINT_INTERVAL_MS)
}

/// What `handle` works with besides the notification.
struct Context<'a> {
    endpoint: Endpoint,
    raw: &'a str,
    source: IpAddr,
    now_ms: i64,
    limiter: &'a crate::rate_limit::SourceLimiter,
    /// The limiter's answer, once asked: a write job may run more than once before it commits
    /// (its batch rolled back), and a notification must cost its source one slot.
    admitted: &'a std::cell::Cell<Option<bool>>,
}

impl Context<'_> {
    /// Whether the limiter lets this notification's source store one more.
    fn admits(&self) -> bool {
        if let Some(admitted) = self.admitted.get() {
            return admitted;
        }
        let admitted = self.limiter.admits(self.source);
        self.admitted.set(Some(admitted));
        admitted
    }
}

fn handle(tx: &mut Tx, cx: &Context<'_>, n: &Notification) -> Result<Handled, StoreError> {
    let order = match n.invoice_id.as_deref() {
        Some(invoice_id) => orders::lock_by_invoice(tx, invoice_id.trim())?,
        None => None,
    };
    let order_id = order.as_ref().map(|o| o.id);
    let (decision, success, disagreement) = match evaluate(order.as_ref(), cx.endpoint, n, cx.now_ms) {
        Evaluation::Reject { status, stored, answer } => return reject(tx, cx, order_id, n, status, stored, Some(answer)),
        Evaluation::Hint { ask } => return hint(tx, cx, order.expect("a hint names a known order"), n, ask),
        Evaluation::Apply { decision, success, disagreement } => (decision, success, disagreement),
    };
    let order = order.expect("evaluate applies only to a known order");
    let (verdict, reason) = match decision {
        Decision::Move(state) => {
            let outcome = outcome_of(&order, n, success);
            // A success for a finished order whose suffix went to a newer order meanwhile:
            // money moved, but ePay may confuse the two; a human decides.
            match (state, orders::reclaim_suffix(tx, &order)?) {
                (OrderState::Confirming, Err(holder)) => {
                    orders::review_late_payment(tx, order.id, &outcome, "a success arrived", &holder)?;
                    tracing::warn!(invoice_id = %order.invoice_id, %holder, "late success for a released invoice suffix: review");
                }
                _ => orders::set_outcome(tx, order.id, state, &outcome)?,
            }
            (Verdict::Accepted, disagreement)
        }
        Decision::Duplicate => (Verdict::Duplicate, None),
        Decision::Ignore(why) => (Verdict::Ignored, Some(why.to_owned())),
        Decision::IgnoreAndFlag(why) => {
            orders::flag_for_review(tx, order.id, why)?;
            (Verdict::Ignored, Some(why.to_owned()))
        }
    };
    record(tx, cx, Some(order.id), n, verdict, reason.as_deref())?;
    if success {
        keep_saved_card(tx, &order, n, cx.now_ms)?;
    }
    tracing::info!(invoice_id = %order.invoice_id, endpoint = ?cx.endpoint, ?verdict, success, reason, "postLink recorded");
    let ask = verdict == Verdict::Accepted && success;
    Ok(Handled::Done { verdict, ask })
}

/// The card an authentic success reports, kept for the order's customer when the payer agreed
/// (`cards::may_keep`); ePay reports a card's id only here.
fn keep_saved_card(tx: &mut Tx, order: &OrderRow, n: &Notification, now_ms: i64) -> Result<(), StoreError> {
    let Some(card_id) = n.card_id.clone() else { return Ok(()) };
    let seen =
        cards::SeenCard { epay_card_id: card_id, card_mask: n.card_mask.clone(), card_type: n.card_type.clone(), issuer: n.issuer.clone() };
    if cards::remember(tx, order, &seen, now_ms / 1000)? {
        tracing::info!(invoice_id = %order.invoice_id, "the card the payer agreed to save is kept for their account");
    }
    Ok(())
}

/// The fields a notification sets on its order. The saved card's id only when the order asked
/// ePay to save it; the card's scheme always (support staff read it in the console).
fn outcome_of(order: &OrderRow, n: &Notification, success: bool) -> Outcome {
    let saved = success && order.card_save;
    Outcome {
        transaction_id: n.transaction_id.clone(),
        card_mask: n.card_mask.clone(),
        approval_code: n.approval_code.clone(),
        reference: n.reference.clone(),
        failure_reason: (!success).then(|| n.reason.clone()).flatten(),
        failure_code: if success { None } else { n.reason_code },
        fee: n.fee(),
        card_id: n.card_id.clone().filter(|_| saved),
        card_type: n.card_type.clone(),
        // A postLink reports none of these; the status API does.
        ..Outcome::default()
    }
}

/// A notification without secret_hash: recorded; the status API is asked when `ask` (and the
/// hint is then not counted against its source).
fn hint(tx: &mut Tx, cx: &Context<'_>, order: OrderRow, n: &Notification, ask: bool) -> Result<Handled, StoreError> {
    if !ask && !cx.admits() {
        return Ok(Handled::Limited);
    }
    if ask {
        orders::schedule_hinted_check(tx, order.id, cx.now_ms)?;
    }
    // An order keeps a bounded number of hints: beyond, they only make the status API be asked.
    if notifications::hints_for_order(tx, order.id)? >= notifications::HINTS_PER_ORDER {
        return Ok(if ask { Handled::Done { verdict: Verdict::Hint, ask } } else { Handled::Limited });
    }
    let reason = if ask { "no secret_hash: the status API is asked" } else { "no secret_hash: the status API was asked moments ago" };
    record(tx, cx, Some(order.id), n, Verdict::Hint, Some(reason))?;
    tracing::info!(invoice_id = %order.invoice_id, endpoint = ?cx.endpoint, ask, "postLink without secret_hash: a hint");
    Ok(Handled::Done { verdict: Verdict::Hint, ask })
}

#[allow(clippy::too_many_arguments)]
fn reject(
    tx: &mut Tx,
    cx: &Context<'_>,
    order_id: Option<i64>,
    n: &Notification,
    status: StatusCode,
    stored: String,
    answer: Option<String>,
) -> Result<Handled, StoreError> {
    if !cx.admits() {
        return Ok(Handled::Limited);
    }
    record(tx, cx, order_id, n, Verdict::Rejected, Some(&stored))?;
    tracing::warn!(invoice_id = n.invoice_id.as_deref(), endpoint = ?cx.endpoint, reason = %stored, source = %cx.source, "postLink rejected");
    Ok(Handled::Rejected { status, reason: answer.unwrap_or(stored) })
}

fn record(
    tx: &mut Tx,
    cx: &Context<'_>,
    order_id: Option<i64>,
    n: &Notification,
    verdict: Verdict,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let source = cx.source.to_string();
    let new = NewNotification {
        order_id,
        endpoint: cx.endpoint,
        invoice_id: n.invoice_id.as_deref(),
        transaction_id: n.transaction_id.as_deref(),
        code: n.code.as_deref(),
        verdict,
        reason,
        raw_body: cx.raw,
        source: Some(&source),
    };
    notifications::insert(tx, &new)
}
