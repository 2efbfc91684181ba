//! Reading orders: one column list, typed and checked against the schema at compile time.

use sqlx::SqlitePool;

use super::row::OrderRow;
use crate::store::sql::columns;
use crate::store::{StoreError, Tx};

/// `SELECT` every column of `orders`, typed, followed by `$rest` (a string literal) and its
/// arguments: the column list is written once, and every query that uses it is checked
/// against the schema at compile time (`.sqlx/`).
macro_rules! select_orders {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::store::orders::OrderRow,
            r#"SELECT id AS "id!", invoice_id, order_key AS "order_key: crate::secrets::SecretText",
                secret_hash AS "secret_hash: crate::secrets::SecretText", idempotency_key, request_fingerprint,
                amount_minor, currency, terminal, method AS "method: epay_api_types::PaymentMethod", description,
                account_id, email, phone, language AS "language: epay_api_types::Language", card_save AS "card_save: bool",
                status AS "status: crate::store::orders::OrderState", token_response, token_expires_at, start_error,
                transaction_id, card_mask, approval_code, reference, failure_reason, failure_code, review_reason,
                created_at, updated_at, next_check_ms, check_attempts, last_check, version, reserved_suffix, fee_minor,
                card_id, card_type, last_hint_ms, source AS "source: epay_api_types::OrderSource", merchant_reference,
                merchant_idempotency_key, merchant_fingerprint, metadata, return_url, expires_at, captured_minor,
                refunded_minor
             FROM orders "# + $rest
            $(, $arg)*
        )
    };
}
pub(crate) use select_orders;

// The same columns for the writer's own reads (rusqlite), in `OrderRow`'s field order.
columns!(
    OrderRow, ORDER_COLUMNS, order_from_row;
    id, invoice_id, order_key, secret_hash, idempotency_key, request_fingerprint, amount_minor, currency, terminal, method, description,
    account_id, email, phone, language, card_save, status, token_response, token_expires_at, start_error, transaction_id, card_mask,
    approval_code, reference, failure_reason, failure_code, review_reason, created_at, updated_at, next_check_ms, check_attempts,
    last_check, version, reserved_suffix, fee_minor, card_id, card_type, last_hint_ms, source, merchant_reference, merchant_idempotency_key,
    merchant_fingerprint, metadata, return_url, expires_at, captured_minor, refunded_minor,
);

/// The order `condition` (a `WHERE` clause with one parameter) finds, read on the writer.
fn find_where(tx: &mut Tx, condition: &'static str, value: &dyn rusqlite::ToSql) -> Result<Option<OrderRow>, StoreError> {
    // The statement is prepared once: the connection's cache keys on its text.
    tx.query_optional(&format!("SELECT {ORDER_COLUMNS} FROM orders {condition}"), [value], order_from_row)
}

pub fn find_by_id(tx: &mut Tx, id: i64) -> Result<Option<OrderRow>, StoreError> {
    find_where(tx, "WHERE id = ?", &id)
}

pub fn find_by_invoice(tx: &mut Tx, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(tx, "WHERE invoice_id = ?", &invoice_id)
}

pub fn find_by_idempotency_key(tx: &mut Tx, key: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(tx, "WHERE idempotency_key = ?", &key)
}

pub fn find_by_merchant_idempotency_key(tx: &mut Tx, key: &str) -> Result<Option<OrderRow>, StoreError> {
    find_where(tx, "WHERE merchant_idempotency_key = ?", &key)
}

pub async fn read_by_invoice(pool: &SqlitePool, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(select_orders!("WHERE invoice_id = ?", invoice_id).fetch_optional(pool).await?)
}

pub async fn read_by_id(pool: &SqlitePool, id: i64) -> Result<Option<OrderRow>, StoreError> {
    Ok(select_orders!("WHERE id = ?", id).fetch_optional(pool).await?)
}

pub async fn read_by_idempotency_key(pool: &SqlitePool, key: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(select_orders!("WHERE idempotency_key = ?", key).fetch_optional(pool).await?)
}

/// The `limit` most recent orders, newest first.
pub async fn read_latest(pool: &SqlitePool, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    Ok(select_orders!("ORDER BY id DESC LIMIT ?", limit).fetch_all(pool).await?)
}
