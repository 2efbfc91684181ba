//! Capture, cancel and refund as stored: each is written before ePay is asked, and what ePay
//! answered moves it (and its order) on. The refund limit is checked on the writer, so
//! concurrent refunds cannot together exceed what was charged.

use sqlx::SqlitePool;

use super::orders::{OrderRow, find_by_invoice};
use super::sql::columns;
use super::{StoreError, Tx, now};

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

macro_rules! select_operations {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            OperationRow,
            r#"SELECT id AS "id!", order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status,
                epay_answer, attempts, next_check_ms, created_at, updated_at
             FROM operations "# + $rest
            $(, $arg)*
        )
    };
}

// The writer's reads of operations (rusqlite), the same columns as `select_operations!`.
columns!(
    OperationRow, OPERATION_COLUMNS, operation_from_row;
    id, order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status, epay_answer, attempts, next_check_ms,
    created_at, updated_at,
);

/// The operation `condition` (a `WHERE` clause with one parameter) finds, read on the writer.
fn find_where(tx: &mut Tx, condition: &'static str, value: &dyn rusqlite::ToSql) -> Result<Option<OperationRow>, StoreError> {
    tx.query_optional(&format!("SELECT {OPERATION_COLUMNS} FROM operations {condition}"), [value], operation_from_row)
}

/// The operation `id`, read on the writer.
pub fn find(tx: &mut Tx, id: i64) -> Result<Option<OperationRow>, StoreError> {
    find_where(tx, "WHERE id = ?", &id)
}

/// Refunds that hold part of the charged amount: done, in flight or not yet known.
fn refunds_held(tx: &mut Tx, order_id: i64) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM operations
           WHERE order_id = ? AND kind = 'refund' AND status IN ('pending', 'unknown', 'succeeded')",
        [order_id],
        |row| row.get(0),
    )
}

/// Operations in flight on the order (one at a time: ePay's answers to concurrent operations
/// on one transaction are not documented).
fn in_flight(tx: &mut Tx, order_id: i64) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT COUNT(*) FROM operations WHERE order_id = ? AND kind <> 'refund' AND status IN ('pending', 'unknown')",
        [order_id],
        |row| row.get(0),
    )
}

pub fn begin(tx: &mut Tx, new: NewOperation) -> Result<Begun, StoreError> {
    let key = new.idempotency_key.as_str();
    if let Some(existing) = find_where(tx, "WHERE idempotency_key = ?", &key)? {
        return Ok(if existing.fingerprint == new.fingerprint { Begun::Replayed(existing) } else { Begun::KeyReused });
    }
    let Some(order) = find_by_invoice(tx, &new.invoice_id)? else { return Ok(Begun::NoOrder) };
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
        rusqlite::params![
            order.id,
            new.kind,
            amount_minor,
            new.reason,
            external_id,
            new.idempotency_key,
            new.fingerprint,
            created_at,
            created_at
        ],
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
                rusqlite::params![op.amount_minor, updated_at, op.order_id],
            )?;
        }
        "cancel" => {
            tx.execute(
                "UPDATE orders SET status = 'cancelled', updated_at = ?, version = version + 1 WHERE id = ?",
                rusqlite::params![updated_at, op.order_id],
            )?;
        }
        _ => {
            tx.execute(
                "UPDATE orders SET refunded_minor = refunded_minor + ?,
                    status = CASE WHEN refunded_minor + ? >= captured_minor THEN 'refunded' ELSE status END,
                    updated_at = ?, version = version + 1
                 WHERE id = ?",
                rusqlite::params![op.amount_minor, op.amount_minor, updated_at, op.order_id],
            )?;
        }
    }
    // After the order: its event (order.paid) comes before the operation's (order.captured).
    tx.execute(
        "UPDATE operations SET status = 'succeeded', epay_answer = ?, next_check_ms = NULL, attempts = attempts + 1, updated_at = ?
         WHERE id = ?",
        rusqlite::params![said, updated_at, id],
    )?;
    Ok(true)
}

/// ePay refused it: nothing happened.
pub fn fail(tx: &mut Tx, id: i64, said: &str) -> Result<(), StoreError> {
    let updated_at = now();
    tx.execute(
        "UPDATE operations SET status = 'failed', epay_answer = ?, next_check_ms = NULL, attempts = attempts + 1, updated_at = ?
         WHERE id = ? AND status IN ('pending', 'unknown')",
        rusqlite::params![said, updated_at, id],
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
        rusqlite::params![said, next_check_ms, updated_at, id],
    )?;
    Ok(())
}

pub async fn due(pool: &SqlitePool, now_ms: i64, limit: i64) -> Result<Vec<OperationRow>, StoreError> {
    Ok(select_operations!("WHERE next_check_ms IS NOT NULL AND next_check_ms <= ? ORDER BY next_check_ms LIMIT ?", now_ms, limit)
        .fetch_all(pool)
        .await?)
}

pub async fn read(pool: &SqlitePool, id: i64) -> Result<Option<OperationRow>, StoreError> {
    Ok(select_operations!("WHERE id = ?", id).fetch_optional(pool).await?)
}

pub async fn for_order(pool: &SqlitePool, order_id: i64) -> Result<Vec<OperationRow>, StoreError> {
    Ok(select_operations!("WHERE order_id = ? ORDER BY id", order_id).fetch_all(pool).await?)
}
