//! Merchant orders: creating one (its Idempotency-Key and its reference decide whether a request
//! makes a new order), starting its payment from the widget, letting it expire, and listing
//! orders for the merchant. On the writer where a decision and its write must not interleave.

use super::begin::{Begin, restart};
use super::change::{Move, change};
use super::idempotency::{self, Replay};
use super::invoice_ids::{OpenOrders, insert_with_unique_invoice};
use super::reads::{find_by_id, find_by_merchant_idempotency_key, find_by_reference, select};
use super::row::{NewOrder, OrderRow};
use super::state::OrderState;
use crate::store::sql::List;
use crate::store::{Conn, Dialect, StoreError, Tx, now, params, unique_violation};
use std::sync::atomic::AtomicBool;

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
    /// `MAX_OPEN_ORDERS` orders hold a suffix.
    TooManyOpen,
    /// `MAX_OPEN_MERCHANT_ORDERS` merchant orders hold a suffix.
    TooManyOpenMerchant,
}

/// `open` counts every order holding a suffix, `merchant_open` the merchant orders among them
/// (their own quota, so that a shop cannot take every suffix from the payers); `counted`
/// belongs to the calling write job, which may run more than once: a new order counts once.
pub fn create_merchant_order(
    tx: &mut Tx,
    new: NewOrder,
    open: &OpenOrders,
    merchant_open: &OpenOrders,
    counted: &[AtomicBool; 2],
) -> Result<Created, StoreError> {
    if let Some(created) = existing(tx, &new)? {
        return Ok(created);
    }
    if merchant_open.is_full() {
        return Ok(Created::TooManyOpenMerchant);
    }
    if open.is_full() {
        return Ok(Created::TooManyOpen);
    }
    match insert_with_unique_invoice(tx, &new) {
        Ok(order) => {
            open.added_once(&counted[0]);
            merchant_open.added_once(&counted[1]);
            Ok(Created::New(order))
        }
        // Another instance stored the same key or reference since the lookup (PostgreSQL made
        // this insert wait for its commit): answer as if it had been there first.
        Err(err) if unique_violation(&err).is_some_and(|names| names.contains("merchant_")) => existing(tx, &new)?.ok_or(err),
        Err(err) => Err(err),
    }
}

/// What an order already stored under `new`'s Idempotency-Key or reference makes of it. The
/// order found by its reference is judged by its key too: on PostgreSQL another instance may
/// commit the same request between the two lookups.
fn existing(tx: &mut Tx, new: &NewOrder) -> Result<Option<Created>, StoreError> {
    let terms = new.merchant.as_ref().expect("a merchant order has merchant terms");
    let found = match find_by_merchant_idempotency_key(tx, &terms.idempotency_key)? {
        Some(order) => Some(order),
        None => find_by_reference(tx, &terms.reference)?,
    };
    Ok(found.map(|order| match order.merchant_idempotency_key.as_deref() {
        Some(key) if key == terms.idempotency_key && order.merchant_fingerprint.as_deref() == Some(terms.fingerprint.as_str()) => {
            Created::Replayed(order)
        }
        Some(key) if key == terms.idempotency_key => Created::KeyReused,
        _ => Created::DuplicateReference(order.invoice_id),
    }))
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
        Replay::TooLateToStart => Begin::Expired(order),
        Replay::Expired => {
            if order.status == OrderState::Open {
                expire_open(tx, order.id, now())?;
            }
            Begin::Expired(order)
        }
        Replay::KeyReused => Begin::KeyReused,
    })
}

fn expire_open(tx: &mut Tx, id: i64, at: i64) -> Result<(), StoreError> {
    change(tx, id, Move { to: OrderState::Expired, from: &[OrderState::Open], set: "", values: params![], at })?;
    Ok(())
}

/// `open` orders past their expiry become `expired` (nobody ever had a token for them).
pub fn expire_open_orders(tx: &mut Tx, now: i64) -> Result<u64, StoreError> {
    let lock = tx.for_update();
    let due: Vec<i64> = tx.query_all(&format!("{EXPIRE_OPEN_ORDERS} {lock}"), params![now], |row| row.get(0))?;
    for &id in &due {
        expire_open(tx, id, now)?;
    }
    Ok(due.len() as u64)
}

/// A maintenance statement: it reads only `open` orders (`maintenance::tests` checks the plan).
/// In the order of their ids, so that two instances' rounds lock them in one order.
pub(crate) const EXPIRE_OPEN_ORDERS: &str = "SELECT id FROM orders WHERE status = 'open' AND expires_at <= ? ORDER BY id";

/// What `GET /api/merchant/orders` filters on.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub reference: Option<String>,
    pub status: Option<Vec<&'static str>>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// The console's search: an invoice id, a reference, an e-mail (any case) or a phone, or
    /// a part of a card mask or a phone (`4111`, `1111`, `7701`).
    pub search: Option<String>,
}

/// One page of orders below `before_id` (the cursor), newest first: `limit` rows at most.
pub fn list(db: &mut Conn, filter: &OrderFilter, before_id: Option<i64>, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    let states = filter.status.as_ref().map(|states| List(states.iter().map(|state| state.to_string()).collect::<Vec<String>>()));
    let in_states = match db.dialect() {
        Dialect::Sqlite => "status IN (SELECT value FROM json_each(?2))",
        Dialect::Postgres => "status = ANY(?2)",
    };
    // Each parameter's first use gives it its type (PostgreSQL cannot type `? IS NULL`).
    let rest = format!(
        "WHERE (merchant_reference = ?1 OR ?1 IS NULL)
           AND ({in_states} OR ?2 IS NULL)
           AND (created_at >= ?3 OR ?3 IS NULL)
           AND (created_at < ?4 OR ?4 IS NULL)
           AND (id < ?5 OR ?5 IS NULL)
           AND (invoice_id = ?7 OR merchant_reference = ?7 OR LOWER(email) = LOWER(?7) OR phone = ?7
                OR card_mask LIKE ?8 ESCAPE '!' OR phone LIKE ?8 ESCAPE '!' OR ?7 IS NULL)
         ORDER BY id DESC LIMIT ?6"
    );
    let contains = filter.search.as_ref().map(|text| format!("%{}%", like_escaped(text)));
    select(db, &rest, params![filter.reference, states, filter.created_from, filter.created_to, before_id, limit, filter.search, contains])
}

/// `text` with LIKE's wildcards taken literally (`!` is the escape).
fn like_escaped(text: &str) -> String {
    text.replace('!', "!!").replace('%', "!%").replace('_', "!_")
}

/// One status an order entered, and when (unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub status: OrderState,
    pub at: i64,
}

pub fn history(db: &mut Conn, order_id: i64) -> Result<Vec<HistoryRow>, StoreError> {
    db.query_all("SELECT status, at FROM order_history WHERE order_id = ? ORDER BY id", params![order_id], |row| {
        Ok(HistoryRow { status: row.get(0)?, at: row.get(1)? })
    })
}
