//! Confirmation and reconciliation: the background worker that asks ePay's status API.
//!
//! - An order whose success postLink passed every check is `confirming`, due at once; only
//!   the status API can make it paid (see `decide.rs`).
//! - An order still `pending` `RECONCILE_AFTER_SECS` after its token (no postLink came), or
//!   `start_failed` that long after its token request failed, is asked about with growing
//!   pauses until it is paid, failed or expired.
//!
//! Everything the worker needs is in the orders table (`next_check_ms`, `check_attempts`),
//! so a restart picks up where the last process stopped. A postLink wakes it at once.

pub(crate) mod decide;
pub mod late;

pub use decide::{Decision, Policy, decide, unavailable};

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use epay_api_types::Action;

use crate::epay::StatusKind;
use crate::state::AppState;
use crate::store::admin::ActionRow;
use crate::store::leases::{self, Due};
use crate::store::orders::{self, OrderKey, OrderRow, OrderState};
use crate::store::{StoreError, now, now_ms};

/// Orders claimed from the schedule at a time (each round asks about them, `STATUS_API_CONCURRENCY`
/// at once).
const BATCH: i64 = 256;
/// The longest the worker sleeps without looking at the schedule.
const IDLE_MS: i64 = 2_000;
/// Pauses for confirming orders: 1 s, doubling, at most 5 minutes.
const CONFIRM_FIRST_MS: i64 = 1_000;
const CONFIRM_LONGEST_MS: i64 = 300_000;
/// The longest pause between questions about a pending order.
const RECONCILE_LONGEST_MS: i64 = 1_800_000;

pub async fn run(app: Arc<AppState>) {
    let lease_ms = leases::lease_ms(app.config.epay.timeout);
    loop {
        let due = leases::claim_if_due(&app.store, &orders::STATUS_CHECKS, move |tx, now| {
            orders::claim_due_checks(tx, now, now + lease_ms, BATCH)
        })
        .await;
        let next = match due {
            Ok(Due::Claimed(due)) => {
                futures::stream::iter(due)
                    .for_each_concurrent(app.config.confirmation.status_concurrency, |order| check(&app, order))
                    .await;
                continue;
            }
            Ok(Due::Idle { next_ms }) => next_ms,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the confirmation schedule");
                None
            }
        };
        let wait = next.map_or(IDLE_MS, |at| (at - now_ms()).clamp(10, IDLE_MS));
        tokio::select! {
            _ = app.confirmations.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
        }
    }
}

/// Asks the status API about one order and records what follows from the answer.
async fn check(app: &Arc<AppState>, order: OrderRow) {
    let kind = StatusKind::for_method(order.method);
    let settings = &app.config.confirmation;
    let policy = Policy {
        two_stage: settings.two_stage,
        now: now(),
        expiry_grace_secs: settings.expiry_grace.as_secs() as i64,
        max_confirm_attempts: MAX_CONFIRM_ATTEMPTS,
    };
    let decision = match app.epay.transaction_status(kind, &order.invoice_id, &order.terminal).await {
        Ok(answer) => decide(&order, &answer, &policy),
        Err(err) => unavailable(&order, &policy, format!("status API unavailable: {err}")),
    };
    let delay_ms = next_delay_ms(&order, settings.reconcile_after.as_millis() as i64, now_ms());
    let (id, version) = (order.id, order.version);
    let invoice_id = order.invoice_id.clone();
    let recorded = decision.clone();
    let late_payments = app.config.operations.late_payments;
    let result =
        app.store.write_locking(Some(OrderKey::Id(id)), move |tx| apply(tx, id, version, &recorded, delay_ms, late_payments)).await;
    match (result, &decision) {
        (Err(err), _) => tracing::error!(%invoice_id, error = %err, "cannot record a status answer"),
        (Ok(false), _) => tracing::info!(%invoice_id, "order changed while ePay was asked; deciding again later"),
        (Ok(true), Decision::Pay(_)) => tracing::info!(%invoice_id, "payment confirmed by the status API: paid"),
        (Ok(true), Decision::Authorize(_)) => tracing::info!(%invoice_id, "hold confirmed by the status API: authorized, to be captured"),
        (Ok(true), Decision::Fail(_)) => tracing::info!(%invoice_id, "status API: payment failed"),
        (Ok(true), Decision::Expire(_)) => tracing::info!(%invoice_id, "no payment before the window closed: expired"),
        (Ok(true), Decision::Review(why)) => tracing::warn!(%invoice_id, reason = %why, "order needs a human: review"),
        (Ok(true), Decision::AskAgain(said)) => tracing::info!(%invoice_id, %said, delay_ms, "status not final; asking again later"),
        (Ok(true), Decision::Stop(said)) => tracing::info!(%invoice_id, %said, "the hint changed nothing: the order stays as it was"),
    }
}

/// When an order that just became `pending` or `start_failed` is first looked up, unless a
/// postLink (or a retry) comes before.
pub fn first_check_ms(settings: &crate::config::ConfirmationSettings) -> i64 {
    now_ms() + settings.reconcile_after.as_millis() as i64
}

/// Questions about a confirming order before a human is asked to look (about an hour).
pub const MAX_CONFIRM_ATTEMPTS: i64 = 14;

/// How long a postLink without secret_hash keeps an order on the fast schedule.
const HINT_FRESH_MS: i64 = 600_000;
/// The longest pause of the fast schedule.
const HINTED_LONGEST_MS: i64 = 60_000;

pub fn next_delay_ms(order: &OrderRow, reconcile_after_ms: i64, now_ms: i64) -> i64 {
    let doubling = 1i64 << order.check_attempts.clamp(0, 20);
    let hinted = order.last_hint_ms.is_some_and(|at| now_ms - at < HINT_FRESH_MS);
    match order.status {
        OrderState::Confirming => (CONFIRM_FIRST_MS * doubling).min(CONFIRM_LONGEST_MS),
        // A hint says the payer may just have paid: ask soon, as for a confirming order.
        _ if hinted => (CONFIRM_FIRST_MS * doubling).min(HINTED_LONGEST_MS),
        _ => (reconcile_after_ms.max(1_000) * doubling).min(RECONCILE_LONGEST_MS),
    }
}

/// Records `decision` if the order is still the version it was made on (a postLink may have
/// changed it meanwhile). Returns whether it did. A payment that came after its merchant
/// order's payable window is handled as `late_payments` says (`late.rs`), in the same
/// transaction.
pub fn apply(
    tx: &mut crate::store::Tx,
    id: i64,
    version: i64,
    decision: &Decision,
    delay_ms: i64,
    late_payments: crate::config::LatePayments,
) -> Result<bool, StoreError> {
    let Some(order) = orders::lock_by_id(tx, id)? else { return Ok(false) };
    if order.version != version {
        return Ok(false);
    }
    match decision {
        Decision::Pay(outcome) => match orders::reclaim_suffix(tx, &order)? {
            Ok(()) => {
                orders::set_outcome(tx, id, OrderState::Paid, outcome)?;
                handle_late(tx, &order, OrderState::Paid, outcome, late_payments)?;
            }
            // Paid after its suffix went to a newer order: ePay may confuse the two.
            Err(holder) => orders::review_late_payment(tx, id, outcome, "the status API confirmed a payment", &holder)?,
        },
        Decision::Authorize(outcome) => match orders::reclaim_suffix(tx, &order)? {
            Ok(()) => {
                orders::set_outcome(tx, id, OrderState::Authorized, outcome)?;
                handle_late(tx, &order, OrderState::Authorized, outcome, late_payments)?;
            }
            Err(holder) => orders::review_late_payment(tx, id, outcome, "the status API confirmed a hold (AUTH)", &holder)?,
        },
        Decision::Fail(outcome) => orders::set_outcome(tx, id, OrderState::Failed, outcome)?,
        Decision::Review(reason) => orders::send_to_review(tx, id, reason)?,
        Decision::Expire(said) => orders::expire(tx, id, said)?,
        Decision::AskAgain(said) => orders::schedule_check(tx, id, now_ms() + delay_ms, said)?,
        Decision::Stop(said) => orders::stop_checking(tx, id, said)?,
    }
    Ok(true)
}

/// A payment `order` got (now `state`) after its payable window: recorded in its timeline,
/// announced (`order.paid_late`), and undone if `late_payments` says so, by an operation due
/// at once for the lookup worker (which sends it like any other).
fn handle_late(
    tx: &mut crate::store::Tx,
    order: &OrderRow,
    state: OrderState,
    outcome: &orders::Outcome,
    late_payments: crate::config::LatePayments,
) -> Result<(), StoreError> {
    let Some(late) = late::late_payment(order, state, outcome.paid_at, now(), late_payments) else { return Ok(()) };
    tracing::warn!(invoice_id = %order.invoice_id, note = %late.note(), "a payment came after its order's payable window");
    let action =
        ActionRow { order_id: Some(order.id), note: Some(late.note()), ..ActionRow::new(Action::LatePayment, "epay-proxy", now()) };
    crate::store::admin::record_action(tx, &action)?;
    orders::announce(tx, order.id, epay_api_types::EventType::OrderPaidLate, None)?;
    if !late.by_epays_clock {
        return orders::flag_for_review(tx, order.id, &late.note());
    }
    let Some(kind) = late.undo else { return Ok(()) };
    let new = crate::store::operations::NewOperation {
        invoice_id: order.invoice_id.clone(),
        kind,
        amount_minor: None,
        reason: Some(late.note()),
        idempotency_key: format!("{}/{}/{}", order.invoice_id, kind.as_str(), Action::LatePayment),
        fingerprint: Action::LatePayment.as_str().into(),
        claim_until_ms: now_ms(),
        from_review: false,
    };
    match crate::store::operations::begin(tx, new, &crate::operations::rules::check)? {
        crate::store::operations::Begun::New(..) | crate::store::operations::Begun::Replayed(_) => Ok(()),
        other => {
            tracing::error!(invoice_id = %order.invoice_id, ?other, "a late payment could not be undone: review");
            orders::flag_for_review(tx, order.id, &format!("{}; but it could not be undone: {other:?}", late.note()))
        }
    }
}
