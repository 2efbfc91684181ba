//! When the confirmation worker asks ePay's status API about an order: the schedule lives in
//! the row (`next_check_ms`, `check_attempts`, `last_hint_ms`), so a restart resumes it.
//!
//! An order is claimed before it is asked about: its next question moves to the end of a lease,
//! so no other instance (and no later round of this one) asks about it meanwhile, and if this
//! instance dies before it records the answer, the order is due again when the lease ends.

use super::reads::{ORDER_COLUMNS, order_from_row};
use super::row::OrderRow;
use crate::store::{StoreError, Tx, params};

pub use crate::store::leases::STATUS_CHECKS;

/// Claims up to `limit` orders due at `now_ms`, the longest-waiting first, until `lease_until_ms`.
pub fn claim_due_checks(tx: &mut Tx, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    STATUS_CHECKS.claim(tx, now_ms, lease_until_ms, limit, ORDER_COLUMNS, order_from_row)
}

/// Asks the status API about the order again at `at_ms`, remembering what it said last.
pub fn schedule_check(tx: &mut Tx, id: i64, at_ms: i64, last_check: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET next_check_ms = ?, check_attempts = check_attempts + 1, last_check = ?, version = version + 1 WHERE id = ?",
        params![at_ms, last_check, id],
    )?;
    Ok(())
}

/// Stops asking the status API about an order (a failed or expired order that a hint made the
/// worker ask about, and that is still not paid), remembering what it said last.
pub fn stop_checking(tx: &mut Tx, id: i64, last_check: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET next_check_ms = NULL, last_check = ?, version = version + 1 WHERE id = ?", params![last_check, id])?;
    Ok(())
}

/// A postLink without secret_hash named this order: ask the status API now (`at_ms`), on the
/// fast schedule of a fresh hint. Waiting orders start their pauses over; a confirming order
/// keeps its count of questions, so hints cannot keep it from review.
pub fn schedule_hinted_check(tx: &mut Tx, id: i64, at_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET next_check_ms = ?, last_hint_ms = ?, version = version + 1,
            check_attempts = CASE WHEN status = 'confirming' THEN check_attempts ELSE 0 END
         WHERE id = ?",
        params![at_ms, at_ms, id],
    )?;
    Ok(())
}
