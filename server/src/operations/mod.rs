//! Capture, cancel and refund, whoever asks (the merchant API's
//! `POST /api/merchant/orders/{invoiceId}/capture|cancel|refunds` in `merchant/operations.rs`,
//! or a person in the console), each with an Idempotency-Key. An operation is stored (claimed by the request, due for a lookup the
//! moment its claim ends) before ePay is asked, and settles only when ePay's status API shows
//! it (`confirm.rs`):
//!
//! - ePay took it (2xx): looked up until the status API shows it;
//! - no answer (timeout, 5xx), or a 4xx to a repeat: looked up; sent again only when the status
//!   API proves it did not happen; when the status API cannot tell, a person decides (the
//!   operation and its order go to `review`);
//! - refused (4xx) the first time: failed, nothing happened.
//!
//! ePay's pages do not promise that a repeated `externalID` is performed once, so nothing here
//! relies on it. The rules are `rules.rs`; both it and `confirm.rs` are pure.

pub mod confirm;
pub mod review;
pub mod rules;

pub use rules::Refusal;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use epay_api_types::{Amount, ErrorCode, OperationRequest, OperationResult};

use crate::epay::{OperationAnswer, OperationKind, StatusKind};
use crate::error::AppError;
use crate::idempotency::REPLAYED_HEADER;
use crate::state::AppState;
use crate::store::leases::{self, Due};
use crate::store::now_ms;
use crate::store::operations::{self, Begun, NewOperation, OperationRow, OperationStatus};
use crate::store::orders::{self, OrderRow};
use crate::views::{operation_view, order_view};
use confirm::{Ledger, Ready, Seen, Settling, Step};
use futures::StreamExt;

/// Looks at the schedule this often when nothing is due.
const IDLE: Duration = Duration::from_secs(1);

/// 201 with the operation and its order; `Idempotent-Replayed: true` for a repeat.
pub fn created(result: OperationResult, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(result)).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// An operation someone asked for: the merchant's backend, or a person in the console (`by`).
pub struct Requested {
    pub invoice_id: String,
    pub kind: OperationKind,
    pub request: OperationRequest,
    /// The caller's key: a retry with it is the same operation.
    pub idempotency_key: String,
    pub by: Option<ByPerson>,
}

/// A person's operation: recorded in the order's history, in the transaction that stores it.
pub struct ByPerson {
    pub actor: String,
    /// The refund a review's resolution decided: allowed on an order in `review`.
    pub resolving_review: Option<crate::store::admin::ActionRow>,
}

/// Checks `requested`, stores it and asks ePay (or finds the operation its key made before:
/// `true`). The merchant API and the console both come here.
pub async fn request_operation(app: &Arc<AppState>, requested: Requested) -> Result<(OperationResult, bool), AppError> {
    let Requested { invoice_id, kind, request, idempotency_key, by } = requested;
    if kind == OperationKind::Cancel && (request.amount.is_some() || request.reason.is_some()) {
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
    let fingerprint =
        crate::secrets::sha256_hex(format!("{invoice_id}\u{1f}{}\u{1f}{amount_minor:?}\u{1f}{reason:?}", kind.as_str()).as_bytes());
    // The key is the merchant's, per operation kind and order, so one key cannot mean two
    // things; a person's keys live apart from the merchant's.
    let scope = if by.is_some() { "console:" } else { "" };
    let new = NewOperation {
        invoice_id: invoice_id.clone(),
        kind,
        amount_minor,
        reason,
        idempotency_key: format!("{invoice_id}/{}/{scope}{idempotency_key}", kind.as_str()),
        fingerprint,
        claim_until_ms: now_ms() + lease_ms(app),
        from_review: by.as_ref().is_some_and(|by| by.resolving_review.is_some()),
    };
    let begun = app
        .store
        .write(move |tx| {
            let begun = operations::begin(tx, new.clone(), &rules::check)?;
            if let (Begun::New(op, _), Some(by)) = (&begun, &by) {
                crate::store::admin::record_operation(tx, &by.actor, by.resolving_review.as_ref(), op)?;
            }
            Ok(begun)
        })
        .await?;
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
    Ok((result(app, &op).await?, replayed))
}

pub(crate) fn read_request(body: &[u8]) -> Result<OperationRequest, AppError> {
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
    Ok(OperationResult { operation: operation_view(op), order: order_view(&app.store, &app.config.server, &order).await? })
}

/// How long a worker holds an operation: long enough for every request of one step (a
/// service token, the operation or a status question, a retry after a 401), unless
/// `EPAY_OPERATION_LEASE_SECS` says otherwise.
fn lease_ms(app: &AppState) -> i64 {
    match app.config.operations.lease {
        Some(lease) => lease.as_millis() as i64,
        None => leases::lease_ms(app.config.epay.timeout),
    }
}

fn settling(app: &AppState) -> Settling {
    Settling { window_ms: app.config.operations.settle_window.as_millis() as i64 }
}

/// Sends `op` (claimed by `claim`, with no request outstanding) to ePay and records what
/// follows. Nothing is sent unless the claim is still this worker's just before the request
/// (`operations::start_sending`), with the transaction as the status API then shows it.
/// Returns the operation as it then stands.
async fn perform(app: Arc<AppState>, op: OperationRow, order: OrderRow) -> Result<OperationRow, AppError> {
    let claim = op.next_check_ms.ok_or_else(|| AppError::internal("an operation performed without a claim"))?;
    send(&app, &op, &order, claim).await?;
    reread(&app, op.id).await
}

async fn send(app: &Arc<AppState>, op: &OperationRow, order: &OrderRow, claim: i64) -> Result<(), crate::store::StoreError> {
    let (id, kind) = (op.id, op.kind.as_str());
    let Some(transaction_id) = order.transaction_id.clone() else {
        return app.store.write(move |tx| operations::fail(tx, id, claim, "the order has no ePay transaction id").map(|_| ())).await;
    };
    // Everything that can fail before the request is done first: a failure there sends nothing.
    let token = match app.epay.service_token(&order.terminal).await {
        Ok(token) => token,
        Err(err) => return not_sent(app, op, claim, format!("no service token from ePay ({err})"), false).await,
    };
    let before = match app.epay.transaction_status(StatusKind::for_method(order.method), &order.invoice_id, &order.terminal).await {
        Err(err) => return not_sent(app, op, claim, format!("the status API could not be asked before sending ({err})"), false).await,
        Ok(answer) => match confirm::ready(op, order, &answer) {
            Ready::Send(ledger) => ledger,
            Ready::NoAnswer(said) => {
                return not_sent(app, op, claim, format!("the status API did not show the transaction ({said})"), false).await;
            }
            Ready::Disagrees(why) => {
                tracing::warn!(invoice_id = %order.invoice_id, kind, %why, "ePay's ledger is not the proxy's: review before sending");
                return app.store.write(move |tx| operations::send_to_review(tx, id, claim, &why).map(|_| ())).await;
            }
        },
    };
    let sent_at = now_ms();
    let until = sent_at + lease_ms(app);
    let ledger = before.clone();
    if !app.store.write(move |tx| operations::start_sending(tx, id, claim, until, sent_at, &ledger)).await? {
        tracing::info!(invoice_id = %order.invoice_id, kind, "the operation's claim was taken over: not sent");
        return Ok(());
    }
    let sent = OperationRow { sends: op.sends + 1, sent_ms: Some(sent_at), next_check_ms: Some(until), ..op.clone() };
    let amount = op.amount_minor.map(|minor| Amount::from_minor(minor as u64));
    match app.epay.operation(&token, op.kind, &transaction_id, amount, &op.external_id).await {
        Ok(OperationAnswer::Accepted(_)) => {
            // `accepted` together with a fresh claim for the status question.
            let claim = now_ms() + lease_ms(app);
            let said = "ePay accepted it; waiting for the status API to show it";
            if app.store.write(move |tx| operations::accept(tx, id, until, said, claim)).await? {
                let accepted = OperationRow { status: OperationStatus::Accepted, next_check_ms: Some(claim), ..sent };
                settle(app, &accepted, order, &before, claim).await?;
            }
            Ok(())
        }
        // The first request refused: nothing happened.
        Ok(OperationAnswer::Refused { status, message }) if sent.sends == 1 => {
            tracing::warn!(invoice_id = %order.invoice_id, kind, status, %message, "ePay refused an operation");
            let said = format!("ePay refused it (HTTP {status}): {message}");
            app.store.write(move |tx| operations::fail(tx, id, until, &said).map(|_| ())).await
        }
        // A refusal of a repeat may mean "already done": only the status API can say.
        Ok(OperationAnswer::Refused { status, message }) => {
            tracing::warn!(invoice_id = %order.invoice_id, kind, status, %message, "ePay refused a repeated operation; looking it up");
            look_up_later(app, id, until, format!("ePay refused the repeat (HTTP {status}: {message}); looking it up")).await
        }
        Err(err) if err.never_sent() => {
            tracing::warn!(invoice_id = %order.invoice_id, kind, error = %err, "ePay could not be reached; nothing was sent");
            not_sent(app, &sent, until, format!("{err}"), true).await
        }
        Err(err) => {
            tracing::warn!(invoice_id = %order.invoice_id, kind, error = %err, "no answer from ePay; the operation will be looked up, never sent again on a guess");
            look_up_later(app, id, until, format!("sent, outcome unknown ({err}); looking it up")).await
        }
    }
}

/// A request that may have reached ePay got no answer to rely on: `unknown`, first looked up
/// after the shortest pause.
async fn look_up_later(app: &AppState, id: i64, claim: i64, said: String) -> Result<(), crate::store::StoreError> {
    let at = now_ms() + settling(app).pause_ms(0);
    app.store.write(move |tx| operations::wait(tx, id, claim, OperationStatus::Unknown, &said, at, None).map(|_| ())).await
}

/// Nothing of `op` reached ePay: it is sent again later; after the settle window of trying, a
/// first request is given up (failed: nothing moved, the shop may ask again), a person's
/// "send again" goes back to that person.
async fn not_sent(
    app: &Arc<AppState>,
    op: &OperationRow,
    claim: i64,
    why: String,
    took_back: bool,
) -> Result<(), crate::store::StoreError> {
    let (id, now) = (op.id, now_ms());
    let waiting_since = op.waiting_since_ms.filter(|_| op.status == OperationStatus::Pending).unwrap_or(now);
    let settling = settling(app);
    if now - waiting_since < settling.window_ms {
        let said = format!("not sent: {why}; trying again");
        let at = now + settling.pause_ms(op.attempts);
        return app.store.write(move |tx| operations::not_sent(tx, id, claim, &said, at, waiting_since, took_back).map(|_| ())).await;
    }
    let said = if op.sends - i64::from(took_back) > 0 {
        format!(
            "could not be sent again for {} s ({why}); an earlier request may have reached ePay: a person decides",
            (now - waiting_since) / 1000
        )
    } else {
        format!("could not be sent for {} s, nothing reached ePay: {why}", (now - waiting_since) / 1000)
    };
    tracing::warn!(op = id, %said, "an operation could not be sent");
    let sends = op.sends - i64::from(took_back);
    app.store
        .write(move |tx| {
            if sends > 0 { operations::send_to_review(tx, id, claim, &said) } else { operations::fail(tx, id, claim, &said) }.map(|_| ())
        })
        .await
}

async fn reread(app: &AppState, id: i64) -> Result<OperationRow, AppError> {
    app.store.read(move |db| operations::find(db, id)).await?.ok_or_else(|| AppError::internal("an operation vanished"))
}

/// Asks the status API about `op` (which may have reached ePay; claimed until `claim`),
/// measured against `before`, and records what follows: done, a person, or another lookup.
async fn settle(app: &AppState, op: &OperationRow, order: &OrderRow, before: &Ledger, claim: i64) -> Result<(), crate::store::StoreError> {
    let status = app.epay.transaction_status(StatusKind::for_method(order.method), &order.invoice_id, &order.terminal).await;
    let seen = match &status {
        Ok(answer) => confirm::seen(op, before, answer),
        Err(err) => Seen::NoAnswer(format!("the status API could not be asked ({err})")),
    };
    let (id, kind) = (op.id, op.kind.as_str());
    match confirm::next_step(op, &seen, settling(app), now_ms()) {
        Step::Succeed => {
            tracing::info!(invoice_id = %order.invoice_id, kind, "operation confirmed by the status API");
            let said = format!("the status API shows it ({})", status.map(|a| a.said()).unwrap_or_default());
            app.store.write(move |tx| operations::succeed(tx, id, claim, &said).map(|_| ())).await
        }
        Step::Review(why) => {
            tracing::warn!(invoice_id = %order.invoice_id, kind, %why, "operation needs a person: review");
            app.store.write(move |tx| operations::send_to_review(tx, id, claim, &why).map(|_| ())).await
        }
        Step::Wait { at_ms, waiting_since_ms } => {
            let waiting = if op.status == OperationStatus::Accepted { OperationStatus::Accepted } else { OperationStatus::Unknown };
            let said = match waiting {
                OperationStatus::Accepted => format!("ePay accepted it; the status API does not show it yet ({})", describe(&seen)),
                _ => format!("sent, outcome unknown; {}", describe(&seen)),
            };
            app.store.write(move |tx| operations::wait(tx, id, claim, waiting, &said, at_ms, waiting_since_ms).map(|_| ())).await
        }
    }
}

/// The background task: operations without a settled answer (and those whose claim ran out)
/// are looked up in the status API, several at once; each is re-claimed before its work starts.
pub async fn run(app: Arc<AppState>) {
    loop {
        let lease = lease_ms(&app);
        let due = leases::claim_if_due(&app.store, &operations::LOOKUPS, move |tx, now| operations::claim_due(tx, now, now + lease, 16));
        match due.await {
            Ok(Due::Claimed(due)) => {
                futures::stream::iter(due)
                    .for_each_concurrent(app.config.confirmation.status_concurrency, |op| async {
                        if let Err(err) = look_up(&app, op).await {
                            tracing::error!(error = %err, "cannot look up an operation");
                        }
                    })
                    .await;
                continue;
            }
            Ok(Due::Idle { .. }) => {}
            Err(err) => tracing::error!(error = %err, "cannot read the operations schedule"),
        }
        tokio::time::sleep(IDLE).await;
    }
}

/// What one lookup does (`op` as claimed by this worker): an operation that never reached ePay
/// is sent; one that may have is looked up, never sent again.
async fn look_up(app: &Arc<AppState>, op: OperationRow) -> Result<(), crate::store::StoreError> {
    let Some(claimed) = op.next_check_ms else { return Ok(()) };
    let (id, order_id) = (op.id, op.order_id);
    // A fresh lease for this step: the claim may have waited behind others of the batch.
    let claim = now_ms() + lease_ms(app);
    if !app.store.write(move |tx| operations::renew(tx, id, claimed, claim)).await? {
        return Ok(());
    }
    let Some(order) = app.store.read(move |db| orders::find_by_id(db, order_id)).await? else { return Ok(()) };
    let op = OperationRow { next_check_ms: Some(claim), ..op };
    if op.status == OperationStatus::Pending && !op.maybe_sent() {
        return send(app, &op, &order, claim).await;
    }
    // Stored before ledgers were: measured against the proxy's own records.
    let before = op.before().unwrap_or_else(|| Ledger::recorded(&op, &order));
    settle(app, &op, &order, &before, claim).await
}

fn describe(seen: &Seen) -> String {
    match seen {
        Seen::Done => "the status API shows it".to_owned(),
        Seen::NotDone => "the status API shows no trace of it yet".to_owned(),
        Seen::MoreThanAsked(said) | Seen::CannotTell(said) | Seen::NoAnswer(said) => said.clone(),
    }
}
