//! The one writer of an order's state: every change of `orders.status` goes through `change`,
//! which checks the move against the machine (`state.rs`) and writes, in the caller's
//! transaction, the history row and, for a state the shop hears of, the webhook event with the
//! order as it then stood (`snapshot.rs`). Events that announce no state of the order (an
//! operation's, `order.paid_late`, `order.review_resolved`) are written by `announce`. No
//! database trigger writes any of these (migration 0015 dropped them).

use epay_api_types::EventType;

use super::snapshot::OrderSnapshot;
use super::state::{OrderState, announced_as, may_become};
use crate::store::{Dialect, Param, StoreError, Tx, now, now_ms, params};

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
    let (was, owes_receipts) = match (tx.locked_state(id), tx.take_prefetched()) {
        // The job read it locked (`lock_by_id`), or its batch did for it (a job that named it,
        // `Store::write_locking`, and moves it first): whether it owes receipts is then left to
        // the statement that makes one due, which checks it itself.
        (Some(was), _) => (was, None),
        (None, Some(order)) if order.id == id => (order.status, None),
        (None, _) => {
            let (was, owes) = read_locked(tx, id)?;
            (was, Some(owes))
        }
    };
    if !step.from.is_empty() && !step.from.contains(&was) {
        return Ok(None);
    }
    if was != step.to && !may_become(was, step.to) {
        tracing::error!(order_id = id, from = %was, to = %step.to, "a move the state machine forbids was not made; the order is flagged for a person");
        let why = format!("the proxy did not move it from {was} to {}, a move its state machine forbids: check it against ePay", step.to);
        flag_for_review(tx, id, &why)?;
        return Ok(None);
    }
    write_move(tx, id, &step, was != step.to)?;
    // Remembered as written, before anything else of the move can fail.
    tx.remember_locked(id, step.to);
    if was != step.to {
        // A card the payment saved may be charged once ePay confirmed the payment.
        if matches!(step.to, OrderState::Paid | OrderState::Authorized) {
            crate::store::cards::activate_saved_by(tx, id)?;
        }
        // Money taken is a sale the law wants a receipt for (a hold is not, until captured).
        if step.to == OrderState::Paid && owes_receipts != Some(false) {
            crate::store::receipts::make_sale_due(tx, id)?;
        }
        if let Some(kind) = announced_as(step.to) {
            announce(tx, id, kind, None)?;
        }
    }
    Ok(Some(was))
}

/// The update of the order and, when its state changes, its history row: on PostgreSQL one
/// statement (a statement costs the server more than a row does), on SQLite two. Neither's
/// answer is read: the row is locked and its state known.
fn write_move(tx: &mut Tx, id: i64, step: &Move<'_>, moved: bool) -> Result<(), StoreError> {
    let mut values: Vec<&dyn Param> = Vec::with_capacity(step.values.len() + 5);
    values.push(&step.to);
    values.extend_from_slice(step.values);
    values.push(&step.at);
    values.push(&id);
    let update = format!("UPDATE orders SET status = ?, {}updated_at = ?, version = version + 1 WHERE id = ?", step.set);
    match (moved, tx.dialect()) {
        (false, Dialect::Postgres) => tx.execute_later_for_order(&update, &values, id, || merged_move(step.set, false)),
        (false, Dialect::Sqlite) => tx.execute_later(&update, &values),
        (true, Dialect::Postgres) => {
            values.extend_from_slice(&[&step.to, &step.at]);
            let update = format!("WITH moved AS ({update} RETURNING id) {HISTORY_FROM_MOVED}");
            tx.execute_later_for_order(&update, &values, id, || merged_move(step.set, true))
        }
        (true, Dialect::Sqlite) => {
            tx.execute_later(&update, &values)?;
            record_history(tx, id, step.to, step.at)
        }
    }
}

/// The one statement that writes a history row, without its values.
macro_rules! history_row {
    () => {
        "INSERT INTO order_history (order_id, status, at) "
    };
}
const HISTORY_FROM_MOVED: &str = concat!(history_row!(), "SELECT id, ?, ? FROM moved");

/// `write_move`'s statement on PostgreSQL for several orders at once (`Tx::execute_later_for_order`):
/// each order's values come from a row of `{rows}`, in the order of the single statement's.
fn merged_move(set: &str, with_history: bool) -> String {
    let (set, values) = crate::store::db::postgres::lettered(set, 2);
    let (at, id) = (2 + values, 3 + values);
    let update = format!(
        "UPDATE orders SET status = v.p1, {set}updated_at = v.p{at}, version = version + 1 FROM {{rows}} WHERE orders.id = v.p{id}"
    );
    match with_history {
        false => update,
        true => format!(
            "WITH moved AS ({update} RETURNING orders.id, v.p{} AS moved_to, v.p{} AS moved_at) {}SELECT id, moved_to, moved_at FROM moved",
            id + 1,
            id + 2,
            history_row!()
        ),
    }
}

/// On PostgreSQL, `insert` (a new order's `INSERT ... RETURNING id`) with the order's first
/// history row in one statement, which answers the new order's id (or nothing, as `insert`).
/// The history row's state and time are the two values after `insert`'s.
pub(super) fn with_first_history(insert: &str) -> String {
    format!("WITH inserted AS ({insert}), history AS ({}SELECT id, ?, ? FROM inserted) SELECT id FROM inserted", history_row!())
}

/// The state of order `id`, read and locked, and whether it owes fiscal receipts (read with
/// it: no statement more for an order that owes none).
fn read_locked(tx: &mut Tx, id: i64) -> Result<(OrderState, bool), StoreError> {
    let lock = tx.for_update();
    let read: Option<(OrderState, i64)> = tx.query_optional(
        &format!("SELECT status, CAST(CASE WHEN receipt_lines IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM orders WHERE id = ? {lock}"),
        params![id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    read.map(|(was, owes)| (was, owes == 1)).ok_or(StoreError::Vanished(id))
}

/// Flags an order for a human, keeping its state (a paid order stays paid).
pub fn flag_for_review(tx: &mut Tx, id: i64, reason: &str) -> Result<(), StoreError> {
    tx.execute_later("UPDATE orders SET review_reason = ?, updated_at = ?, version = version + 1 WHERE id = ?", params![reason, now(), id])
}

/// The first step of an order's history: it was stored in `state` at `at`.
pub(crate) fn record_history(tx: &mut Tx, id: i64, state: OrderState, at: i64) -> Result<(), StoreError> {
    tx.execute_later(concat!(history_row!(), "VALUES (?, ?, ?)"), params![id, state, at])
}

/// Writes event `kind` about order `order_id` (and operation `operation_id`) into the outbox,
/// with the order as it stands now in this transaction, due at once.
pub fn announce(tx: &mut Tx, order_id: i64, kind: EventType, operation_id: Option<i64>) -> Result<(), StoreError> {
    let snapshot = OrderSnapshot::now(tx, order_id)?.ok_or(StoreError::Vanished(order_id))?;
    let snapshot = serde_json::to_string(&snapshot).expect("a snapshot serializes");
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use epay_api_types::PaymentMethod;

    use super::super::invoice_ids::insert_with_unique_invoice;
    use super::super::reads::{find_by_id, lock_by_id};
    use super::super::row::NewOrder;
    use super::*;
    use crate::store::Store;

    async fn store_with_an_order() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        let order = store.write(|tx| insert_with_unique_invoice(tx, &NewOrder::example(1_000, PaymentMethod::Pay))).await.unwrap();
        (dir, store, order.id)
    }

    fn to_pending(tx: &mut Tx, id: i64) -> Result<Option<OrderState>, StoreError> {
        change(tx, id, Move { to: OrderState::Pending, from: &[OrderState::Created], set: "", values: params![], at: now() })
    }

    fn history(store: &Store, id: i64) -> impl Future<Output = Vec<OrderState>> {
        let store = store.clone();
        async move {
            store
                .read(move |db| {
                    db.query_all("SELECT status FROM order_history WHERE order_id = ? ORDER BY id", params![id], |row| row.get(0))
                })
                .await
                .unwrap()
        }
    }

    /// A move remembered inside a step that failed is rolled back with it: the next move of the
    /// same job reads the order again instead of trusting the state it remembered.
    #[tokio::test]
    async fn a_state_remembered_in_a_failed_step_is_forgotten() {
        let (_dir, store, id) = store_with_an_order().await;
        let moved = store
            .write(move |tx| {
                assert_eq!(lock_by_id(tx, id)?.unwrap().status, OrderState::Created);
                let failed = tx.attempt(|tx| {
                    assert_eq!(to_pending(tx, id)?, Some(OrderState::Created));
                    Err::<(), _>(StoreError::Closed)
                });
                assert!(failed.is_err());
                to_pending(tx, id)
            })
            .await
            .unwrap();
        assert_eq!(moved, Some(OrderState::Created), "moved from created, as the database had it");
        assert_eq!(history(&store, id).await, [OrderState::Created, OrderState::Pending]);
    }

    /// Jobs that share a batch do not share what they remembered: one that failed (its writes
    /// rolled back) cannot make the next one skip or misjudge a move.
    #[tokio::test]
    async fn a_job_of_the_same_batch_does_not_trust_a_failed_job_s_state() {
        let (_dir, store, id) = store_with_an_order().await;
        // A first job holds the writer while the two others queue: they share the next batch.
        let hold = store.write(|_tx| {
            std::thread::sleep(Duration::from_millis(200));
            Ok(())
        });
        let queued = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let failing = store.write(move |tx| {
                lock_by_id(tx, id)?;
                to_pending(tx, id)?;
                Err::<(), _>(StoreError::Closed)
            });
            let next = store.write(move |tx| to_pending(tx, id));
            futures::future::join(failing, next).await
        };
        let (held, (failed, moved)) = tokio::join!(hold, queued);
        held.unwrap();
        assert!(failed.is_err());
        assert_eq!(moved.unwrap(), Some(OrderState::Created));
        let order = store.read(move |db| find_by_id(db, id)).await.unwrap().unwrap();
        assert_eq!(order.status, OrderState::Pending);
        assert_eq!(history(&store, id).await, [OrderState::Created, OrderState::Pending]);
    }

    /// What the job read locked, and each move it made, is what `change` starts from
    /// (`Tx::locked_state`); a rolled-back step forgets it, and an order not read locked is not
    /// remembered until a move reads it.
    #[tokio::test]
    async fn the_locked_read_and_each_move_are_remembered_until_rolled_back() {
        let (_dir, store, id) = store_with_an_order().await;
        let seen = store
            .write(move |tx| {
                let before = tx.locked_state(id);
                lock_by_id(tx, id)?;
                let read = tx.locked_state(id);
                to_pending(tx, id)?;
                let moved = tx.locked_state(id);
                let _ = tx.attempt(|tx| {
                    change(tx, id, Move { to: OrderState::Confirming, from: &[], set: "", values: params![], at: now() })?;
                    Err::<(), _>(StoreError::Closed)
                });
                Ok([before, read, moved, tx.locked_state(id)])
            })
            .await
            .unwrap();
        assert_eq!(seen, [None, Some(OrderState::Created), Some(OrderState::Pending), None]);
    }

    /// A job that locked the order moves it on what it read, and a second move in the same job
    /// starts where the first left it.
    #[tokio::test]
    async fn moves_in_one_job_follow_each_other() {
        let (_dir, store, id) = store_with_an_order().await;
        let (first, second) = store
            .write(move |tx| {
                lock_by_id(tx, id)?;
                let first = to_pending(tx, id)?;
                let second = change(tx, id, Move { to: OrderState::Confirming, from: &[], set: "", values: params![], at: now() })?;
                Ok((first, second))
            })
            .await
            .unwrap();
        assert_eq!((first, second), (Some(OrderState::Created), Some(OrderState::Pending)));
        assert_eq!(history(&store, id).await, [OrderState::Created, OrderState::Pending, OrderState::Confirming]);
    }
}
