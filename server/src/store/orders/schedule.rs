//! When the confirmation worker asks ePay's status API about an order: the schedule lives in
//! the row (`next_check_ms`, `check_attempts`, `last_hint_ms`), so a restart resumes it.

use sqlx::SqlitePool;

use super::reads::select_orders;
use super::row::OrderRow;
use crate::store::{StoreError, Tx};

/// Orders the confirmation worker should ask about now, the longest-waiting first: open ones,
/// and a failed or expired order a postLink without secret_hash said may have been paid.
pub async fn due_for_check(pool: &SqlitePool, now_ms: i64, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    Ok(select_orders!(
        "WHERE next_check_ms IS NOT NULL AND next_check_ms <= ?
           AND status IN ('pending', 'start_failed', 'confirming', 'failed', 'expired')
         ORDER BY next_check_ms LIMIT ?",
        now_ms,
        limit,
    )
    .fetch_all(pool)
    .await?)
}

/// When the next question is due, if any.
pub async fn next_check_ms(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(next_check_ms) AS "next: i64" FROM orders
           WHERE next_check_ms IS NOT NULL AND status IN ('pending', 'start_failed', 'confirming', 'failed', 'expired')"#
    )
    .fetch_one(pool)
    .await?)
}

/// Asks the status API about the order again at `at_ms`, remembering what it said last.
pub fn schedule_check(tx: &mut Tx, id: i64, at_ms: i64, last_check: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET next_check_ms = ?, check_attempts = check_attempts + 1, last_check = ?, version = version + 1 WHERE id = ?",
        rusqlite::params![at_ms, last_check, id],
    )?;
    Ok(())
}

/// Stops asking the status API about an order (a failed or expired order that a hint made the
/// worker ask about, and that is still not paid), remembering what it said last.
pub fn stop_checking(tx: &mut Tx, id: i64, last_check: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET next_check_ms = NULL, last_check = ?, version = version + 1 WHERE id = ?",
        rusqlite::params![last_check, id],
    )?;
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
        rusqlite::params![at_ms, at_ms, id],
    )?;
    Ok(())
}
