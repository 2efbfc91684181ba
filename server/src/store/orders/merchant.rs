//! Merchant orders: creating one (its Idempotency-Key and its reference decide whether a request
//! makes a new order), starting its payment from the widget, letting it expire, and listing
//! orders for the merchant. On the writer where a decision and its write must not interleave.

use sqlx::SqlitePool;

use super::begin::{Begin, restart};
use super::idempotency::{self, Replay};
use super::invoice_ids::{OpenOrders, insert_with_unique_invoice};
use super::reads::{find_by_id, find_by_merchant_idempotency_key, select_orders};
use super::row::{NewOrder, OrderRow};
use super::state::OrderState;
use crate::store::{StoreError, Tx, now};

/// What `create_merchant_order` decided.
#[derive(Debug)]
pub enum Created {
    /// A new order, stored `open`.
    New(OrderRow),
    /// The same Idempotency-Key with the same request: the order it made then.
    Replayed(OrderRow),
    /// The Idempotency-Key was used with another request.
    KeyReused,
    /// Another order already has this reference (its invoice id).
    DuplicateReference(String),
    TooManyOpen,
}

pub fn create_merchant_order(tx: &mut Tx, new: NewOrder, open: &OpenOrders) -> Result<Created, StoreError> {
    let terms = new.merchant.as_ref().expect("a merchant order has merchant terms");
    let key = terms.idempotency_key.as_str();
    if let Some(order) = find_by_merchant_idempotency_key(tx, key)? {
        return Ok(if order.merchant_fingerprint.as_deref() == Some(terms.fingerprint.as_str()) {
            Created::Replayed(order)
        } else {
            Created::KeyReused
        });
    }
    let reference = terms.reference.as_str();
    if let Some(holder) = tx.query_optional("SELECT invoice_id FROM orders WHERE merchant_reference = ?", [reference], |row| row.get(0))? {
        return Ok(Created::DuplicateReference(holder));
    }
    if open.is_full() {
        return Ok(Created::TooManyOpen);
    }
    let order = insert_with_unique_invoice(tx, &new)?;
    open.added();
    Ok(Created::New(order))
}

/// The start of a merchant order's payment (`POST /api/orders/{id}/checkout`): the order
/// itself is the idempotency key, so a second click or a second tab gets the same order's
/// token, or a fresh one for the same invoice, never a new invoice. An `open` order past its
/// expiry becomes `expired` here.
pub fn begin_order_checkout(tx: &mut Tx, id: i64) -> Result<Begin, StoreError> {
    let Some(order) = find_by_id(tx, id)? else { return Err(StoreError::Vanished(id)) };
    Ok(match idempotency::for_order(&order, now()) {
        Replay::Ready => Begin::Ready(order),
        Replay::InProgress => Begin::InProgress(order),
        Replay::Restart => Begin::Start(restart(tx, order)?),
        Replay::Finished => Begin::Finished(order),
        Replay::Expired => {
            if order.status == OrderState::Open {
                expire_open(tx, order.id)?;
            }
            Begin::Expired(order)
        }
        Replay::KeyReused => Begin::KeyReused,
    })
}

fn expire_open(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    let updated_at = now();
    tx.execute(
        "UPDATE orders SET status = 'expired', updated_at = ?, version = version + 1 WHERE id = ? AND status = 'open'",
        rusqlite::params![updated_at, id],
    )?;
    Ok(())
}

/// `open` orders past their expiry become `expired` (nobody ever had a token for them).
pub fn expire_open_orders(tx: &mut Tx, now: i64) -> Result<u64, StoreError> {
    tx.execute(EXPIRE_OPEN_ORDERS, rusqlite::params![now, now])
}

/// A maintenance statement: it reads only `open` orders (`maintenance::tests` checks the plan).
pub(crate) const EXPIRE_OPEN_ORDERS: &str =
    "UPDATE orders SET status = 'expired', updated_at = ?, version = version + 1 WHERE status = 'open' AND expires_at <= ?";

pub async fn read_by_reference(pool: &SqlitePool, reference: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(select_orders!("WHERE merchant_reference = ?", reference).fetch_optional(pool).await?)
}

/// What `GET /api/merchant/orders` filters on.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub reference: Option<String>,
    pub status: Option<Vec<&'static str>>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
}

/// One page of orders below `before_id` (the cursor), newest first: `limit` rows at most.
pub async fn list(pool: &SqlitePool, filter: &OrderFilter, before_id: Option<i64>, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    // The states of the public status asked for, as a JSON array for `json_each` (one
    // statement, checked at compile time, whatever the filter).
    let states = filter.status.as_ref().map(|states| {
        let quoted: Vec<String> = states.iter().map(|state| format!("\"{state}\"")).collect();
        format!("[{}]", quoted.join(","))
    });
    Ok(select_orders!(
        "WHERE (?1 IS NULL OR merchant_reference = ?1)
           AND (?2 IS NULL OR status IN (SELECT value FROM json_each(?2)))
           AND (?3 IS NULL OR created_at >= ?3)
           AND (?4 IS NULL OR created_at < ?4)
           AND (?5 IS NULL OR id < ?5)
         ORDER BY id DESC LIMIT ?6",
        filter.reference,
        states,
        filter.created_from,
        filter.created_to,
        before_id,
        limit,
    )
    .fetch_all(pool)
    .await?)
}

/// One status an order entered, and when (unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub status: OrderState,
    pub at: i64,
}

pub async fn history(pool: &SqlitePool, order_id: i64) -> Result<Vec<HistoryRow>, StoreError> {
    Ok(sqlx::query_as!(
        HistoryRow,
        r#"SELECT status AS "status: OrderState", at FROM order_history WHERE order_id = ? ORDER BY id"#,
        order_id
    )
    .fetch_all(pool)
    .await?)
}
