//! The test clock (migration 0018): how far the clock subscriptions are billed by runs ahead of
//! the real one. Tests, and merchants' own tests on the sandbox, move it forward; it never goes
//! back, and it is one for every instance on the store.

use super::{Conn, StoreError, Tx, params};

/// Seconds the test clock is ahead (0 when never moved).
pub fn offset_secs(db: &mut Conn) -> Result<i64, StoreError> {
    let offset: Option<i64> = db.query_optional("SELECT offset_secs FROM test_clock WHERE id = 1", params![], |row| row.get(0))?;
    Ok(offset.unwrap_or(0))
}

/// Moves the test clock `seconds` forward; the new offset.
pub fn advance(tx: &mut Tx, seconds: i64) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO test_clock (id, offset_secs) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET offset_secs = test_clock.offset_secs + excluded.offset_secs",
        params![seconds],
    )?;
    offset_secs(tx)
}
