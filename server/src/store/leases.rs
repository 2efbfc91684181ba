//! Named leases: a periodic job that must run once across every instance sharing the store
//! (the maintenance round) runs only where its lease was taken. A lease ends by itself, so an
//! instance that died gives its jobs up without anyone's help.

use super::{Conn, Row, StoreError, Tx, params};

/// Takes (or renews) the lease `name` for `holder` until `until_ms`, unless another holder
/// has it past `now_ms`. Returns whether `holder` has it now.
pub fn take(tx: &mut Tx, name: &str, holder: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
    let taken = tx.execute(
        "INSERT INTO leases (name, holder, until_ms) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE leases.until_ms <= ? OR leases.holder = excluded.holder",
        params![name, holder, until_ms, now_ms],
    )?;
    Ok(taken == 1)
}

/// A queue of rows a background worker takes: each row is due at the time (unix ms) in one
/// of its columns, NULL for never. Claiming, the next due time and a restart's resume are
/// built from it alike, so no queue is forgotten by one of them.
pub struct Schedule {
    pub table: &'static str,
    /// The column that says when a row is due; a claim moves it to the end of its lease.
    pub due: &'static str,
    /// Which of the due rows the worker takes ("" for all of them).
    pub only: &'static str,
    /// What else a claim sets (an order's claim bumps its version).
    pub also_set: &'static str,
}

/// Every queue a worker claims from: confirmations and reconciliation, webhook deliveries,
/// capture/cancel/refund lookups, deactivations of deleted cards at ePay, fiscal receipts.
pub const SCHEDULES: [&Schedule; 5] = [&STATUS_CHECKS, &DELIVERIES, &LOOKUPS, &DEACTIVATIONS, &super::receipts::ISSUING];

/// The orders the confirmation worker asks about: open ones, and a failed or expired order a
/// postLink without secret_hash said may have been paid. A claim bumps the order's version:
/// what is decided on it applies to the claimed row only.
pub const STATUS_CHECKS: Schedule = Schedule {
    table: "orders",
    due: "next_check_ms",
    only: " AND status IN ('pending', 'start_failed', 'confirming', 'failed', 'expired')",
    also_set: ", version = version + 1",
};

/// Operations due for a lookup in the status API: unsettled ones, and those whose claim ran
/// out (their instance died or took too long).
pub const LOOKUPS: Schedule = Schedule { table: "operations", due: "next_check_ms", only: "", also_set: "" };

/// Deleted cards whose deactivation at ePay is due (until ePay confirms one).
pub const DEACTIVATIONS: Schedule = Schedule { table: "saved_cards", due: "deactivate_next_ms", only: "", also_set: "" };

/// Events due for an attempt (delivered and given-up ones have none).
pub const DELIVERIES: Schedule = Schedule { table: "webhook_events", due: "next_attempt_ms", only: "", also_set: "" };

impl Schedule {
    /// Claims up to `limit` rows due at `now_ms`, the longest-waiting first, until
    /// `lease_until_ms`, in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
    /// instances claiming at once skip each other's rows). Returns them as claimed:
    /// `returning` columns mapped by `map`.
    pub fn claim<T>(
        &self,
        tx: &mut Tx,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
        returning: &str,
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let Schedule { table, due, only, also_set } = self;
        let sql = format!(
            "UPDATE {table} SET {due} = ?{also_set}
             WHERE id IN (SELECT id FROM {table} WHERE {due} IS NOT NULL AND {due} <= ?{only}
                          ORDER BY {due}, id LIMIT ? {})
             RETURNING {returning}",
            tx.skip_locked()
        );
        tx.query_all(&sql, params![lease_until_ms, now_ms, limit], map)
    }

    /// When the next row is due, if any (a claimed row's lease end counts: if its instance
    /// dies, the row is due then).
    pub fn next_due_ms(&self, db: &mut Conn) -> Result<Option<i64>, StoreError> {
        let Schedule { table, due, only, .. } = self;
        db.query_one(&format!("SELECT MIN({due}) FROM {table} WHERE {due} IS NOT NULL{only}"), params![], |row| row.get(0))
    }
}

/// What a background worker found: rows it claimed, or nothing due before `next_ms` (if ever).
pub enum Due<T> {
    Claimed(Vec<T>),
    Idle { next_ms: Option<i64> },
}

/// Claims what is due now through `claim` (given `now_ms`), after a read through `next_due`
/// says something is: an idle instance reads, it does not write.
pub async fn claim_if_due<T, C>(store: &super::Store, schedule: &'static Schedule, claim: C) -> Result<Due<T>, StoreError>
where
    T: Send + 'static,
    C: FnMut(&mut Tx, i64) -> Result<Vec<T>, StoreError> + Send + 'static,
{
    let next_ms = store.read(|db| schedule.next_due_ms(db)).await?;
    let now_ms = super::now_ms();
    if next_ms.is_none_or(|at| at > now_ms) {
        return Ok(Due::Idle { next_ms });
    }
    let mut claim = claim;
    let claimed = store.write(move |tx| claim(tx, now_ms)).await?;
    Ok(if claimed.is_empty() { Due::Idle { next_ms: None } } else { Due::Claimed(claimed) })
}

/// How long a claimed job is its instance's: long enough for every request it makes to time
/// out (`timeout`, four times over: a token, a retry, the answer), 5 s at least. An instance
/// that dies holds its jobs this long.
pub fn lease_ms(timeout: std::time::Duration) -> i64 {
    (timeout.as_millis() as i64 * 4).max(5_000)
}

/// A restart of the only proxy on a SQLite store: nothing else can hold a claim, so whatever
/// the stopped process had claimed is due now instead of when its lease would have ended.
/// Claims and schedules are the same column, so a question or a retry that was merely
/// scheduled within `lease_ms` comes early too: harmless (one status question or one attempt
/// sooner, once). Returns how many rows it moved.
pub fn resume_claims(tx: &mut Tx, now_ms: i64, lease_ms: i64) -> Result<u64, StoreError> {
    let until = now_ms + lease_ms;
    let mut resumed = 0;
    for Schedule { table, due, only, also_set } in SCHEDULES {
        let sql = format!("UPDATE {table} SET {due} = ?{also_set} WHERE {due} > ? AND {due} <= ?{only}");
        resumed += tx.execute(&sql, params![now_ms, now_ms, until])?;
    }
    Ok(resumed)
}
