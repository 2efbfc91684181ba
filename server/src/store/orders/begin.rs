//! The start of a checkout: find the order of its Idempotency-Key (and let the idempotency
//! policy say what to do with it) or store a new one. On the writer, so the lookup and the
//! insert cannot interleave with another checkout.

use super::change::{Move, change};
use super::idempotency::{self, Replay};
use super::invoice_ids::{OpenOrders, insert_with_unique_invoice};
use super::reads::find_by_idempotency_key;
use super::row::{NewOrder, OrderRow};
use super::state::OrderState;
use crate::store::{StoreError, Tx, now, params, unique_violation};
use std::sync::atomic::AtomicBool;

/// What `begin_checkout` decided.
#[derive(Debug)]
pub enum Begin {
    /// This request owns the order now and must obtain its token.
    Start(OrderRow),
    /// The same Idempotency-Key already has a usable token: answer with it.
    Ready(OrderRow),
    /// Another request with the same key is obtaining the token right now.
    InProgress(OrderRow),
    /// The key's order is past checkout (paid, failed, expired...).
    Finished(OrderRow),
    /// The key was used before with a different request body.
    KeyReused,
    /// A merchant order past its expiry (now `expired` if nobody had started it).
    Expired(OrderRow),
    /// As many orders hold an invoice suffix as `MAX_OPEN_ORDERS` allows.
    TooManyOpen,
}

/// `counted` belongs to the write job that calls this (it may run more than once before it
/// commits): its new order is counted among the open ones once.
pub fn begin_checkout(tx: &mut Tx, new: NewOrder, open: &OpenOrders, counted: &AtomicBool) -> Result<Begin, StoreError> {
    if let Some(begun) = replay(tx, &new)? {
        return Ok(begun);
    }
    if open.is_full() {
        return Ok(Begin::TooManyOpen);
    }
    match insert_with_unique_invoice(tx, &new) {
        Ok(order) => {
            open.added_once(counted);
            Ok(Begin::Start(order))
        }
        // Another instance stored an order under the same key since the lookup (PostgreSQL
        // made this insert wait for its commit): that order is the answer.
        Err(err) if unique_violation(&err).is_some_and(|names| names.contains("idempotency_key")) => replay(tx, &new)?.ok_or(err),
        Err(err) => Err(err),
    }
}

/// What the idempotency policy says about the order already stored under `new`'s key, if any.
fn replay(tx: &mut Tx, new: &NewOrder) -> Result<Option<Begin>, StoreError> {
    let Some(key) = &new.idempotency_key else { return Ok(None) };
    let Some(order) = find_by_idempotency_key(tx, key)? else { return Ok(None) };
    Ok(Some(match idempotency::replay(&order, &new.request_fingerprint, now()) {
        Replay::KeyReused => Begin::KeyReused,
        Replay::Ready => Begin::Ready(order),
        Replay::InProgress => Begin::InProgress(order),
        Replay::Finished => Begin::Finished(order),
        Replay::Restart => Begin::Start(restart(tx, order)?),
        Replay::Expired | Replay::TooLateToStart => Begin::Expired(order),
    }))
}

/// Moves an order (back) to `created` so this request can obtain a (new) token for it.
pub(super) fn restart(tx: &mut Tx, order: OrderRow) -> Result<OrderRow, StoreError> {
    let updated_at = now();
    change(tx, order.id, Move { to: OrderState::Created, from: &[], set: "start_error = NULL, ", values: params![], at: updated_at })?;
    Ok(OrderRow { status: OrderState::Created, start_error: None, updated_at, version: order.version + 1, ..order })
}
