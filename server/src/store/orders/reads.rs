//! Reading orders: one column list for every statement that reads a whole order, on the
//! readers (`Store::read`) and inside a write job alike (`Tx` reads like any connection).

use super::row::OrderRow;
use crate::store::sql::{List, columns};
use crate::store::{Conn, Param, StoreError, Tx, params};

columns!(
    OrderRow, ORDER_COLUMNS, order_from_row;
    id, invoice_id, order_key, secret_hash, idempotency_key, request_fingerprint, amount_minor, currency, terminal, method, description,
    account_id, email, phone, language, card_save, status, token_response, token_expires_at, start_error, transaction_id, card_mask,
    approval_code, reference, failure_reason, failure_code, review_reason, created_at, updated_at, next_check_ms, check_attempts,
    last_check, version, reserved_suffix, fee_minor, card_id, card_type, last_hint_ms, source, merchant_reference, merchant_idempotency_key,
    merchant_fingerprint, metadata, return_url, expires_at, captured_minor, refunded_minor,
    amount_bonus_minor, org_amount_minor, payout_amount_minor,
);

/// Every order `rest` (a `WHERE`/`ORDER BY`/`LIMIT` tail) selects.
pub(crate) fn select(db: &mut Conn, rest: &str, params: &[&dyn Param]) -> Result<Vec<OrderRow>, StoreError> {
    // The statement is prepared once per connection: the cache keys on its text.
    db.query_all(&format!("SELECT {ORDER_COLUMNS} FROM orders {rest}"), params, order_from_row)
}

/// The order `condition` (a `WHERE` clause with one parameter) finds; inside a write job,
/// locked until it commits (`Conn::for_update`).
fn find_where(db: &mut Conn, condition: &'static str, value: &dyn Param) -> Result<Option<OrderRow>, StoreError> {
    let lock = db.for_update();
    db.query_optional(&format!("SELECT {ORDER_COLUMNS} FROM orders {condition} {lock}"), &[value], order_from_row)
}

/// Inside a write job: the order with id `id`, locked until the job's transaction ends, its
/// state remembered so that a move of it (`change`) does not read it again. The job's first
/// locking read takes the order its batch already read for it, when it named it
/// (`Store::write_locking`).
pub fn lock_by_id(tx: &mut Tx, id: i64) -> Result<Option<OrderRow>, StoreError> {
    let order = match tx.take_prefetched() {
        Some(order) if order.id == id => Some(order),
        _ => find_by_id(tx, id)?,
    };
    remember(tx, order)
}

/// Inside a write job: the order `invoice_id` names, locked and remembered as `lock_by_id`.
pub fn lock_by_invoice(tx: &mut Tx, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    let order = match tx.take_prefetched() {
        Some(order) if order.invoice_id == invoice_id => Some(order),
        _ => find_by_invoice(tx, invoice_id)?,
    };
    remember(tx, order)
}

/// The order a write job locks first, named before it runs (`Store::write_locking`), so that
/// a PostgreSQL batch reads and locks its jobs' orders in one statement (`pg_writer.rs`). A job
/// that names one promises to write no other order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderKey {
    Id(i64),
    /// As `lock_by_invoice` is asked for it.
    Invoice(String),
}

impl OrderKey {
    pub fn names(&self, order: &OrderRow) -> bool {
        match self {
            OrderKey::Id(id) => order.id == *id,
            OrderKey::Invoice(invoice_id) => order.invoice_id == *invoice_id,
        }
    }
}

/// Inside a PostgreSQL write transaction: the orders `keys` name, read and locked in one
/// statement, in the order of their ids (two batches that lock the same orders wait for each
/// other rather than deadlock).
///
/// Planned for the lists it is given each time: a plan made once for any lists (PostgreSQL's
/// generic plan, which it settles on after a few batches) reads the whole table for every
/// batch, seen as 3 ms a batch where the indexes take 0.1.
pub(in crate::store) fn lock_all(tx: &mut Tx, keys: &[&OrderKey]) -> Result<Vec<OrderRow>, StoreError> {
    let ids: Vec<i64> = keys.iter().filter_map(|key| if let OrderKey::Id(id) = key { Some(*id) } else { None }).collect();
    let invoices: Vec<String> =
        keys.iter().filter_map(|key| if let OrderKey::Invoice(invoice) = key { Some(invoice.clone()) } else { None }).collect();
    tx.query_all_planned_for_values(
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ANY(?) OR invoice_id = ANY(?) ORDER BY id FOR UPDATE"),
        params![List(ids), List(invoices)],
        order_from_row,
    )
}

fn remember(tx: &mut Tx, order: Option<OrderRow>) -> Result<Option<OrderRow>, StoreError> {
    if let Some(order) = &order {
        tx.remember_locked(order.id, order.status);
    }
    Ok(order)
}

pub fn find_by_id(db: &mut Conn, id: i64) -> Result<Option<OrderRow>, StoreError> {
    find_where(db, "WHERE id = ?", &id)
}

pub fn find_by_invoice(db: &mut Conn, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(db, "WHERE invoice_id = ?", &invoice_id)
}

pub fn find_by_idempotency_key(db: &mut Conn, key: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(db, "WHERE idempotency_key = ?", &key)
}

pub fn find_by_merchant_idempotency_key(db: &mut Conn, key: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(db, "WHERE merchant_idempotency_key = ?", &key)
}

pub fn find_by_reference(db: &mut Conn, reference: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(db, "WHERE merchant_reference = ?", &reference)
}

/// The orders created from `from` up to (not including) `to`, unix seconds, oldest first.
pub fn created_between(db: &mut Conn, from: i64, to: i64) -> Result<Vec<OrderRow>, StoreError> {
    select(db, "WHERE created_at >= ? AND created_at < ? ORDER BY id", params![from, to])
}

/// The `limit` most recent orders, newest first.
pub fn latest(db: &mut Conn, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    select(db, "ORDER BY id DESC LIMIT ?", params![limit])
}

/// How many rows of each kind order `id` has beside it: postLinks up to the one `up_to`,
/// operations, people's actions and fiscal receipts. One statement, so that a view of an order
/// reads only the lists it has (most orders have neither operations, actions nor receipts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Related {
    pub post_links: i64,
    pub operations: i64,
    pub actions: i64,
    pub receipts: i64,
}

pub fn related(db: &mut Conn, id: i64, up_to: i64) -> Result<Related, StoreError> {
    db.query_one(
        "SELECT (SELECT COUNT(*) FROM notifications WHERE order_id = ? AND id <= ?),
                (SELECT COUNT(*) FROM operations WHERE order_id = ?),
                (SELECT COUNT(*) FROM admin_actions WHERE order_id = ?),
                (SELECT COUNT(*) FROM receipts WHERE order_id = ?)",
        params![id, up_to, id, id, id],
        |row| Ok(Related { post_links: row.get(0)?, operations: row.get(1)?, actions: row.get(2)?, receipts: row.get(3)? }),
    )
}
