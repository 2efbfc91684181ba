//! The one writer of an order's state: every change of `orders.status` goes through `change`,
//! which checks the move against the machine (`state.rs`) and writes, in the caller's
//! transaction, the history row and, for a state the shop hears of, the webhook event with the
//! order as it then stood (`snapshot.rs`). Events that announce no state of the order (an
//! operation's, `order.paid_late`, `order.review_resolved`) are written by `announce`. No
//! database trigger writes any of these (migration 0015 dropped them).

use epay_api_types::EventType;

use super::reads::find_by_id;
use super::snapshot::OrderSnapshot;
use super::state::{OrderState, announced_as, may_become};
use crate::store::{Param, StoreError, Tx, now, now_ms, params};

/// A move of one order.
pub(crate) struct Move<'a> {
    pub to: OrderState,
    /// Only from these states (from any when empty); from another, nothing is written.
    pub from: &'a [OrderState],
    /// Other columns to set with the state: `name = ?, ` pieces, each with its value in `values`.
    pub set: &'a str,
    pub values: &'a [&'a dyn Param],
    /// `updated_at`, and the history row's time (unix seconds).
    pub at: i64,
}

/// Moves order `id` as `step` says. Returns the state it left (the same one when it stayed
/// put: the other columns are still set, and nothing is announced), or `None` when it was in
/// none of `step.from`, or when the machine forbids the move: then nothing of it is written,
/// and the order is flagged for a person (`review_reason`) with an error in the log, in the
/// caller's transaction; a worker that retried an error would retry it for ever, and what
/// ePay did (a refund performed) must still be recorded by the caller and seen by a person.
pub(crate) fn change(tx: &mut Tx, id: i64, step: Move<'_>) -> Result<Option<OrderState>, StoreError> {
    let lock = tx.for_update();
    // Whether it owes fiscal receipts comes with its state: no statement more for an order that
    // owes none.
    let read: Option<(OrderState, i64)> = tx.query_optional(
        &format!("SELECT status, CAST(CASE WHEN receipt_lines IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM orders WHERE id = ? {lock}"),
        params![id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some((was, owes_receipts)) = read else { return Err(StoreError::Vanished(id)) };
    if !step.from.is_empty() && !step.from.contains(&was) {
        return Ok(None);
    }
    if was != step.to && !may_become(was, step.to) {
        tracing::error!(order_id = id, from = %was, to = %step.to, "a move the state machine forbids was not made; the order is flagged for a person");
        let why = format!("the proxy did not move it from {was} to {}, a move its state machine forbids: check it against ePay", step.to);
        flag_for_review(tx, id, &why)?;
        return Ok(None);
    }
    let mut values: Vec<&dyn Param> = Vec::with_capacity(step.values.len() + 3);
    values.push(&step.to);
    values.extend_from_slice(step.values);
    values.push(&step.at);
    values.push(&id);
    // The row is locked and its state read: the update's answer would tell nothing new.
    tx.execute_later(&format!("UPDATE orders SET status = ?, {}updated_at = ?, version = version + 1 WHERE id = ?", step.set), &values)?;
    if was != step.to {
        record_history(tx, id, step.to, step.at)?;
        // A card the payment saved may be charged once ePay confirmed the payment.
        if matches!(step.to, OrderState::Paid | OrderState::Authorized) {
            crate::store::cards::activate_saved_by(tx, id)?;
        }
        // Money taken is a sale the law wants a receipt for (a hold is not, until captured).
        if step.to == OrderState::Paid && owes_receipts == 1 {
            crate::store::receipts::make_sale_due(tx, id)?;
        }
        if let Some(kind) = announced_as(step.to) {
            announce(tx, id, kind, None)?;
        }
    }
    Ok(Some(was))
}

/// Flags an order for a human, keeping its state (a paid order stays paid).
pub fn flag_for_review(tx: &mut Tx, id: i64, reason: &str) -> Result<(), StoreError> {
    tx.execute_later("UPDATE orders SET review_reason = ?, updated_at = ?, version = version + 1 WHERE id = ?", params![reason, now(), id])
}

/// The first step of an order's history: it was stored in `state` at `at`.
pub(crate) fn record_history(tx: &mut Tx, id: i64, state: OrderState, at: i64) -> Result<(), StoreError> {
    tx.execute_later("INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)", params![id, state, at])
}

/// Writes event `kind` about order `order_id` (and operation `operation_id`) into the outbox,
/// with the order as it stands now in this transaction, due at once.
pub fn announce(tx: &mut Tx, order_id: i64, kind: EventType, operation_id: Option<i64>) -> Result<(), StoreError> {
    let order = find_by_id(tx, order_id)?.ok_or(StoreError::Vanished(order_id))?;
    let snapshot = serde_json::to_string(&OrderSnapshot::take(tx, &order)?).expect("a snapshot serializes");
    insert_event(tx, kind, Some(order_id), operation_id, None, &snapshot)
}

/// Writes event `kind` about subscription `subscription_id` (and the order of its charge, if the
/// event is about one) into the outbox, due at once; `data` is the subscription as the merchant
/// API shows it now (`store::subscriptions` calls it with each change it announces).
pub fn announce_subscription(
    tx: &mut Tx,
    subscription_id: i64,
    kind: EventType,
    order_id: Option<i64>,
    data: &str,
) -> Result<(), StoreError> {
    insert_event(tx, kind, order_id, None, Some(subscription_id), data)
}

/// The one statement that writes an event.
fn insert_event(
    tx: &mut Tx,
    kind: EventType,
    order_id: Option<i64>,
    operation_id: Option<i64>,
    subscription_id: Option<i64>,
    snapshot: &str,
) -> Result<(), StoreError> {
    let (event_id, at) = (format!("msg_{}", crate::secrets::random_hex(16)), now_ms());
    tx.made_event_due();
    tx.execute_later(
        "INSERT INTO webhook_events (event_id, type, order_id, operation_id, subscription_id, created_ms, next_attempt_ms, snapshot)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![event_id, kind, order_id, operation_id, subscription_id, at, at, snapshot],
    )
}
