//! Capture, cancel and refund as stored: each is written before ePay is asked, and what ePay
//! answered moves it (and its order) on. The refund limit is checked on the writer, so
//! concurrent refunds cannot together exceed what was charged.

use super::leases::Schedule;
use super::orders::{OrderRow, find_by_invoice};
use super::sql::columns;
use super::{Conn, Param, StoreError, Tx, now, params};

#[derive(Clone, Debug, PartialEq)]
pub struct OperationRow {
    pub id: i64,
    pub order_id: i64,
    pub kind: String,
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    pub external_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub status: String,
    pub epay_answer: Option<String>,
    pub attempts: i64,
    pub next_check_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A request for an operation, before the rules are applied.
#[derive(Clone, Debug)]
pub struct NewOperation {
    pub invoice_id: String,
    pub kind: &'static str,
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    pub idempotency_key: String,
    pub fingerprint: String,
}

#[derive(Debug)]
pub enum Begun {
    /// Stored as `pending`: ask ePay now.
    New(OperationRow, Box<OrderRow>),
    /// The same Idempotency-Key and request: the operation it made.
    Replayed(OperationRow),
    KeyReused,
    NoOrder,
    /// The rules refused it (`crate::operations::rules`); nothing stored.
    Refused(crate::operations::Refusal),
}

columns!(
    OperationRow, OPERATION_COLUMNS, operation_from_row;
    id, order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status, epay_answer, attempts, next_check_ms,
    created_at, updated_at,
);

fn select(db: &mut Conn, rest: &str, params: &[&dyn Param]) -> Result<Vec<OperationRow>, StoreError> {
    db.query_all(&format!("SELECT {OPERATION_COLUMNS} FROM operations {rest}"), params, operation_from_row)
}

/// The operation `id` (inside a write job, locked until it commits).
pub fn find(db: &mut Conn, id: i64) -> Result<Option<OperationRow>, StoreError> {
    let sql = format!("WHERE id = ? {}", db.for_update());
    Ok(select(db, &sql, params![id])?.pop())
}

fn find_by_key(db: &mut Conn, key: &str) -> Result<Option<OperationRow>, StoreError> {
    Ok(select(db, "WHERE idempotency_key = ?", params![key])?.pop())
}

/// Refunds that hold part of the charged amount: done, in flight or not yet known.
fn refunds_held(tx: &mut Tx, order_id: i64) -> Result<i64, StoreError> {
    // CAST: PostgreSQL sums BIGINTs as NUMERIC.
    tx.query_one(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM operations
           WHERE order_id = ? AND kind = 'refund' AND status IN ('pending', 'unknown', 'succeeded')",
        params![order_id],
        |row| row.get(0),
    )
}

/// Operations in flight on the order (one at a time: ePay's answers to concurrent operations
/// on one transaction are not documented).
fn in_flight(tx: &mut Tx, order_id: i64) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT COUNT(*) FROM operations WHERE order_id = ? AND kind <> 'refund' AND status IN ('pending', 'unknown')",
        params![order_id],
        |row| row.get(0),
    )
}

pub fn begin(tx: &mut Tx, new: NewOperation) -> Result<Begun, StoreError> {
    let replay =
        |existing: OperationRow| if existing.fingerprint == new.fingerprint { Begun::Replayed(existing) } else { Begun::KeyReused };
    if let Some(existing) = find_by_key(tx, &new.idempotency_key)? {
        return Ok(replay(existing));
    }
    // The order is locked from here to the commit: operations on one order are decided one
    // at a time, whichever instance takes them (the refund limit reads what the others left).
    let Some(order) = find_by_invoice(tx, &new.invoice_id)? else { return Ok(Begun::NoOrder) };
    // The same key may have been stored meanwhile, by the job this one waited for.
    if let Some(existing) = find_by_key(tx, &new.idempotency_key)? {
        return Ok(replay(existing));
    }
    let held = refunds_held(tx, order.id)?;
    let busy = in_flight(tx, order.id)? > 0;
    let amount_minor = match crate::operations::rules::check(&order, new.kind, new.amount_minor, held, busy) {
        Ok(amount) => amount,
        Err(refusal) => return Ok(Begun::Refused(refusal)),
    };
    let external_id = uuid::Uuid::new_v4().to_string();
    let created_at = now();
    let id = tx.query_one(
        "INSERT INTO operations (order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status,
            created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
        params![order.id, new.kind, amount_minor, new.reason, external_id, new.idempotency_key, new.fingerprint, created_at, created_at],
        |row| row.get(0),
    )?;
    let row = OperationRow {
        id,
        order_id: order.id,
        kind: new.kind.to_owned(),
        amount_minor,
        reason: new.reason,
        external_id,
        idempotency_key: new.idempotency_key,
        fingerprint: new.fingerprint,
        status: "pending".into(),
        epay_answer: None,
        attempts: 0,
        next_check_ms: None,
        created_at,
        updated_at: created_at,
    };
    Ok(Begun::New(row, Box::new(order)))
}

/// The operation happened (ePay answered and the status API agrees): it and its order move
/// on, in one transaction with the events the triggers write.
pub fn succeed(tx: &mut Tx, id: i64, said: &str) -> Result<bool, StoreError> {
    let Some(op) = find(tx, id)? else { return Ok(false) };
    if op.status == "succeeded" || op.status == "failed" {
        return Ok(false);
    }
    let updated_at = now();
    match op.kind.as_str() {
        "capture" => {
            tx.execute(
                "UPDATE orders SET status = 'paid', captured_minor = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                params![op.amount_minor, updated_at, op.order_id],
            )?;
        }
        "cancel" => {
            tx.execute(
                "UPDATE orders SET status = 'cancelled', updated_at = ?, version = version + 1 WHERE id = ?",
                params![updated_at, op.order_id],
            )?;
        }
        _ => {
            tx.execute(
                "UPDATE orders SET refunded_minor = refunded_minor + ?,
                    status = CASE WHEN refunded_minor + ? >= captured_minor THEN 'refunded' ELSE status END,
                    updated_at = ?, version = version + 1
                 WHERE id = ?",
                params![op.amount_minor, op.amount_minor, updated_at, op.order_id],
            )?;
        }
    }
    // After the order: its event (order.paid) comes before the operation's (order.captured).
    tx.execute(
        "UPDATE operations SET status = 'succeeded', epay_answer = ?, next_check_ms = NULL, attempts = attempts + 1, updated_at = ?
         WHERE id = ?",
        params![said, updated_at, id],
    )?;
    Ok(true)
}

/// ePay refused it: nothing happened.
pub fn fail(tx: &mut Tx, id: i64, said: &str) -> Result<(), StoreError> {
    let updated_at = now();
    tx.execute(
        "UPDATE operations SET status = 'failed', epay_answer = ?, next_check_ms = NULL, attempts = attempts + 1, updated_at = ?
         WHERE id = ? AND status IN ('pending', 'unknown')",
        params![said, updated_at, id],
    )?;
    Ok(())
}

/// No answer to rely on (timeout, 5xx, the status API not agreeing yet): asked about at
/// `next_check_ms`, never repeated blindly; `None` stops asking (a human must look).
pub fn mark_unknown(tx: &mut Tx, id: i64, said: &str, next_check_ms: Option<i64>) -> Result<(), StoreError> {
    let updated_at = now();
    tx.execute(
        "UPDATE operations SET status = 'unknown', epay_answer = ?, next_check_ms = ?, attempts = attempts + 1, updated_at = ?
         WHERE id = ? AND status IN ('pending', 'unknown')",
        params![said, next_check_ms, updated_at, id],
    )?;
    Ok(())
}

/// Operations without a reliable answer, due for a lookup in the status API.
pub const LOOKUPS: Schedule = Schedule { table: "operations", due: "next_check_ms", only: "", also_set: "" };

/// Claims up to `limit` operations due for a lookup at `now_ms` until `lease_until_ms` (their
/// next lookup moves there; if this instance dies, they are due again then).
pub fn claim_due(tx: &mut Tx, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<OperationRow>, StoreError> {
    LOOKUPS.claim(tx, now_ms, lease_until_ms, limit, OPERATION_COLUMNS, operation_from_row)
}

pub fn for_order(db: &mut Conn, order_id: i64) -> Result<Vec<OperationRow>, StoreError> {
    select(db, "WHERE order_id = ? ORDER BY id", params![order_id])
}
