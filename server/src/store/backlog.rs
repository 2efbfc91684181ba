//! What waits in the store, read in one go (the gauges of `/metrics`, the console's home):
//! orders per state, the oldest unconfirmed, confirmations due, operations unsettled, the
//! webhook backlog.

use super::orders::OrderState;
use super::{Conn, StoreError, now, now_ms};
use crate::params;

/// One reading of the store.
#[derive(Debug, Default, PartialEq)]
pub struct Backlog {
    pub orders_by_state: Vec<(OrderState, i64)>,
    pub oldest_unconfirmed_secs: i64,
    pub confirmations_due: i64,
    pub operations_waiting: i64,
    pub webhook_backlog: i64,
    pub oldest_undelivered_secs: i64,
    /// Fiscal receipts due (waiting for the registrar) and failed (refused: a person looks).
    pub receipts_due: i64,
    pub receipts_failed: i64,
    pub oldest_due_receipt_secs: i64,
    /// Cash registers with an alert a person must act on.
    pub register_alerts: i64,
}

/// Reads the figures; every query runs on an index (status, next_check_ms, next_attempt_ms).
pub fn read_now(db: &mut Conn) -> Result<Backlog, StoreError> {
    let (now, now_ms) = (now(), now_ms());
    let counted = db.query_all("SELECT status, COUNT(*) FROM orders GROUP BY status", params![], |row| {
        Ok((row.get::<String>(0)?, row.get::<i64>(1)?))
    })?;
    let orders_by_state = OrderState::ALL
        .iter()
        .map(|state| (*state, counted.iter().find(|(name, _)| name == state.as_str()).map_or(0, |(_, n)| *n)))
        .collect();
    let oldest_confirming: Option<i64> =
        db.query_one("SELECT MIN(updated_at) FROM orders WHERE status = 'confirming'", params![], |row| row.get(0))?;
    let confirmations_due: i64 =
        db.query_one("SELECT COUNT(*) FROM orders WHERE next_check_ms IS NOT NULL AND next_check_ms <= ?", params![now_ms], |row| {
            row.get(0)
        })?;
    let operations_waiting: i64 =
        db.query_one("SELECT COUNT(*) FROM operations WHERE status IN ('pending', 'accepted', 'unknown')", params![], |row| row.get(0))?;
    let (webhook_backlog, oldest_pending_ms): (i64, Option<i64>) =
        db.query_one("SELECT COUNT(*), MIN(created_ms) FROM webhook_events WHERE status = 'pending'", params![], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    let receipts = super::receipts::counts(db)?;
    let register_alerts: i64 =
        db.query_one("SELECT COUNT(*) FROM fiscal_registers WHERE alert IS NOT NULL", params![], |row| row.get(0))?;
    Ok(Backlog {
        receipts_due: receipts.due,
        receipts_failed: receipts.failed,
        oldest_due_receipt_secs: receipts.oldest_due_ms.map_or(0, |at| ((now_ms - at) / 1000).max(0)),
        register_alerts,
        orders_by_state,
        oldest_unconfirmed_secs: oldest_confirming.map_or(0, |at| (now - at).max(0)),
        confirmations_due,
        operations_waiting,
        webhook_backlog,
        oldest_undelivered_secs: oldest_pending_ms.map_or(0, |at| ((now_ms - at) / 1000).max(0)),
    })
}
