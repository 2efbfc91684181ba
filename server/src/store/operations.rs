//! Capture, cancel and refund as stored: each is written before ePay is asked, and what ePay
//! and its status API showed moves it (and its order) on. One operation at a time per order,
//! decided on the writer, so refunds cannot together exceed what was charged and a refund is
//! confirmed by the charge shrinking by exactly its amount.
//!
//! An operation is claimed from the moment it is stored: `next_check_ms` is both when it is
//! due for a lookup and the claim of whoever is working on it (until then). Whoever holds it
//! records the result; a worker whose claim was taken over (its lease ran out) records nothing.
//! Every request to ePay is preceded by `start_sending`, a compare-and-set of the claim that
//! also counts the request (`sends`, `sent_ms`): a worker that lost its claim sends nothing,
//! and an operation whose request may have reached ePay is never sent again by a worker, only
//! looked up (`operations::confirm`).

use super::orders::{self, Move, OrderRow, OrderState, find_by_invoice};
use super::sql::columns;
use super::{Conn, Param, StoreError, Tx, now, params};
use epay_api_types::{EventType, OperationKind};

/// Where an operation stands.
pub use epay_api_types::OperationStatus;

#[derive(Clone, Debug, PartialEq)]
pub struct OperationRow {
    pub id: i64,
    pub order_id: i64,
    pub kind: OperationKind,
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    pub external_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub status: OperationStatus,
    pub epay_answer: Option<String>,
    pub attempts: i64,
    /// When it is due for a lookup, and the claim of whoever works on it until then.
    pub next_check_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Requests that may have reached ePay.
    pub sends: i64,
    /// When the latest of them started (unix ms); `None`: none may have since it was stored
    /// (or since a person decided to send it again), so it may be sent.
    pub sent_ms: Option<i64>,
    /// The transaction as the status API showed it just before the latest request.
    pub before_amount_minor: Option<i64>,
    pub before_bonus_minor: Option<i64>,
    pub before_org_minor: Option<i64>,
    pub before_status: Option<String>,
    /// Since when it has waited for the same thing (unix ms): to be sent at all (its requests
    /// could not leave), or, once sent, for a trace at ePay (the first lookup that showed none).
    pub waiting_since_ms: Option<i64>,
}

impl OperationRow {
    /// The transaction as it stood before the latest request, if it was recorded.
    pub fn before(&self) -> Option<Ledger> {
        Some(Ledger {
            amount_minor: self.before_amount_minor?,
            bonus_minor: self.before_bonus_minor.unwrap_or(0),
            org_minor: self.before_org_minor,
            status: self.before_status.clone()?,
        })
    }

    /// Whether a request of it may have reached ePay and its outcome is not known: it is
    /// looked up, never sent again by a worker.
    pub fn maybe_sent(&self) -> bool {
        self.sent_ms.is_some()
    }

    /// A row as `begin` stores it (tests build others from it).
    pub fn stored(id: i64, order_id: i64, kind: OperationKind, amount_minor: Option<i64>, claim: Option<i64>, at: i64) -> OperationRow {
        OperationRow {
            id,
            order_id,
            kind,
            amount_minor,
            reason: None,
            external_id: String::new(),
            idempotency_key: String::new(),
            fingerprint: String::new(),
            status: OperationStatus::Pending,
            epay_answer: None,
            attempts: 0,
            next_check_ms: claim,
            created_at: at,
            updated_at: at,
            sends: 0,
            sent_ms: None,
            before_amount_minor: None,
            before_bonus_minor: None,
            before_org_minor: None,
            before_status: None,
            waiting_since_ms: None,
        }
    }
}

/// A request for an operation, before the rules are applied.
#[derive(Clone, Debug)]
pub struct NewOperation {
    pub invoice_id: String,
    pub kind: OperationKind,
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    pub idempotency_key: String,
    pub fingerprint: String,
    /// The claim of the request that stores it (unix ms): it performs the operation now, and
    /// if it dies, the lookup worker takes it over then.
    pub claim_until_ms: i64,
    /// A refund a person decided when resolving a review: the order, in `review`, is checked
    /// as the paid order the person found it to be.
    pub from_review: bool,
}

/// A transaction as the status API showed it: what the charge held (`amount`, and the part
/// Halyk bonuses paid), its original amount and its `statusName` (`operations::confirm` reads
/// it from an answer and compares it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    pub amount_minor: i64,
    pub bonus_minor: i64,
    pub org_minor: Option<i64>,
    pub status: String,
}

impl Ledger {
    /// What the charge holds: card and bonus parts together.
    pub fn held(&self) -> i64 {
        self.amount_minor + self.bonus_minor
    }
}

/// What the caller's rules say of a new operation on an order (`operations::rules::check`):
/// the amount it is for, or why not.
pub type Rules<'a, R> = &'a dyn Fn(&OrderRow, OperationKind, Option<i64>, i64, bool) -> Result<Option<i64>, R>;

#[derive(Debug)]
pub enum Begun<R> {
    /// Stored as `pending`, claimed by the caller: ask ePay now.
    New(OperationRow, Box<OrderRow>),
    /// The same Idempotency-Key and request: the operation it made.
    Replayed(OperationRow),
    KeyReused,
    NoOrder,
    /// The caller's rules refused it; nothing stored.
    Refused(R),
}

columns!(
    OperationRow, OPERATION_COLUMNS, operation_from_row;
    id, order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status, epay_answer, attempts, next_check_ms,
    created_at, updated_at, sends, sent_ms, before_amount_minor, before_bonus_minor, before_org_minor, before_status, waiting_since_ms,
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

/// What refunds hold of the charged amount: done, in flight or in doubt.
fn refunds_held(tx: &mut Tx, order_id: i64) -> Result<i64, StoreError> {
    // CAST: PostgreSQL sums BIGINTs as NUMERIC.
    tx.query_one(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM operations
           WHERE order_id = ? AND kind = 'refund' AND status <> 'failed'",
        params![order_id],
        |row| row.get(0),
    )
}

/// Stores a new operation on its order (locked), unless the same key made one already or
/// `rules` refuse it: `rules` get the order as it is checked, the kind, the amount asked,
/// what refunds hold of the charge and whether another operation is unsettled, and answer
/// the amount (or why not).
pub fn begin<R>(tx: &mut Tx, new: NewOperation, rules: Rules<'_, R>) -> Result<Begun<R>, StoreError> {
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
    // One at a time: ePay's answers to concurrent operations on one transaction are not
    // documented, and a refund is confirmed by the charge shrinking by exactly its amount.
    let busy = unsettled(tx, order.id)?.is_some();
    let checked_as = match order.status {
        OrderState::Review if new.from_review && new.kind == OperationKind::Refund => {
            OrderRow { status: OrderState::Paid, ..order.clone() }
        }
        _ => order.clone(),
    };
    let amount_minor = match rules(&checked_as, new.kind, new.amount_minor, held, busy) {
        Ok(amount) => amount,
        Err(refusal) => return Ok(Begun::Refused(refusal)),
    };
    let external_id = uuid::Uuid::new_v4().to_string();
    let created_at = now();
    let id = tx.query_one(
        "INSERT INTO operations (order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status,
            next_check_ms, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id",
        params![
            order.id,
            new.kind,
            amount_minor,
            new.reason,
            external_id,
            new.idempotency_key,
            new.fingerprint,
            new.claim_until_ms,
            created_at,
            created_at
        ],
        |row| row.get(0),
    )?;
    let row = OperationRow {
        reason: new.reason,
        external_id,
        idempotency_key: new.idempotency_key,
        fingerprint: new.fingerprint,
        ..OperationRow::stored(id, order.id, new.kind, amount_minor, Some(new.claim_until_ms), created_at)
    };
    Ok(Begun::New(row, Box::new(order)))
}

/// The operation `id` if `claim` is still its claim (locked until the job commits).
fn claimed(tx: &mut Tx, id: i64, claim: i64) -> Result<Option<OperationRow>, StoreError> {
    Ok(find(tx, id)?.filter(|op| op.status.in_flight() && op.next_check_ms == Some(claim)))
}

/// Extends the claim `claim` on `id` to `until_ms`. Returns whether the caller still holds it.
pub fn renew(tx: &mut Tx, id: i64, claim: i64, until_ms: i64) -> Result<bool, StoreError> {
    let renewed = tx.execute(
        "UPDATE operations SET next_check_ms = ? WHERE id = ? AND next_check_ms = ? AND status NOT IN ('succeeded', 'failed')",
        params![until_ms, id, claim],
    )?;
    Ok(renewed == 1)
}

/// Just before a request to ePay: the claim `claim` is renewed to `until_ms` (compare-and-set:
/// a worker that lost its claim sends nothing) and the request is counted, with the
/// transaction as the status API showed it (`before`). Only an operation that may be sent
/// (`pending`, no request outstanding) takes it. Returns whether the caller may send.
pub fn start_sending(tx: &mut Tx, id: i64, claim: i64, until_ms: i64, sent_at_ms: i64, before: &Ledger) -> Result<bool, StoreError> {
    let started = tx.execute(
        "UPDATE operations SET next_check_ms = ?, sends = sends + 1, sent_ms = ?, before_amount_minor = ?, before_bonus_minor = ?,
            before_org_minor = ?, before_status = ?, waiting_since_ms = NULL, updated_at = ?
         WHERE id = ? AND next_check_ms = ? AND status = 'pending' AND sent_ms IS NULL",
        params![until_ms, sent_at_ms, before.amount_minor, before.bonus_minor, before.org_minor, before.status, now(), id, claim],
    )?;
    Ok(started == 1)
}

/// Nothing reached ePay (no service token, no snapshot, a refused connection): the operation
/// stays `pending`, to be sent at `retry_at_ms`; it has waited to be sent since
/// `waiting_since_ms`. `took_back`: a counted request never left (its connection was
/// refused), so it is uncounted.
pub fn not_sent(
    tx: &mut Tx,
    id: i64,
    claim: i64,
    said: &str,
    retry_at_ms: i64,
    waiting_since_ms: i64,
    took_back: bool,
) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    let taken_back = i64::from(took_back);
    tx.execute(
        "UPDATE operations SET sends = sends - ?, sent_ms = CASE WHEN ? = 1 THEN NULL ELSE sent_ms END, waiting_since_ms = ? WHERE id = ?",
        params![taken_back, taken_back, waiting_since_ms, id],
    )?;
    set_status(tx, &op, OperationStatus::Pending, said, Some(retry_at_ms))?;
    Ok(true)
}

/// ePay took it (2xx): `accepted`, written with the renewal of the claim to `until_ms` for the
/// status question that follows. Returns whether the caller still holds it.
pub fn accept(tx: &mut Tx, id: i64, claim: i64, said: &str, until_ms: i64) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    set_status(tx, &op, OperationStatus::Accepted, said, Some(until_ms))?;
    Ok(true)
}

/// The operation happened (the status API shows it, or a person says so): it and its order
/// move on, in one transaction with their events.
fn apply_done(tx: &mut Tx, op: &OperationRow, said: &str) -> Result<(), StoreError> {
    let at = now();
    let step = match op.kind {
        OperationKind::Capture => {
            Move { to: OrderState::Paid, from: &[], set: "captured_minor = ?, ", values: params![op.amount_minor], at }
        }
        OperationKind::Cancel => Move { to: OrderState::Cancelled, from: &[], set: "", values: params![], at },
        OperationKind::Refund => {
            let order = orders::lock_by_id(tx, op.order_id)?.ok_or(StoreError::Vanished(op.order_id))?;
            let to = after_refund(&order, op.amount_minor.unwrap_or_default());
            Move { to, from: &[], set: "refunded_minor = refunded_minor + ?, ", values: params![op.amount_minor], at }
        }
    };
    orders::change(tx, op.order_id, step)?;
    if op.kind == OperationKind::Refund {
        super::receipts::make_return_due(tx, op.order_id, op.id, op.amount_minor.unwrap_or_default())?;
    }
    // After the order: its event (order.paid) comes before the operation's (order.captured).
    set_status(tx, op, OperationStatus::Succeeded, said, None)
}

/// Where a refund of `refunded_minor` leaves `order`: refunded when it took the rest of what
/// was captured; paid again when the order was in review for it; otherwise where it is. Pure.
fn after_refund(order: &OrderRow, refunded_minor: i64) -> OrderState {
    if order.refunded_minor + refunded_minor >= order.captured_minor.unwrap_or(order.amount_minor) {
        OrderState::Refunded
    } else if order.status == OrderState::Review {
        OrderState::Paid
    } else {
        order.status
    }
}

/// The status API shows it: it and its order move on. Only the claim's holder records it.
pub fn succeed(tx: &mut Tx, id: i64, claim: i64, said: &str) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    apply_done(tx, &op, said)?;
    Ok(true)
}

/// ePay refused it the first time: nothing happened.
pub fn fail(tx: &mut Tx, id: i64, claim: i64, said: &str) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    set_status(tx, &op, OperationStatus::Failed, said, None)?;
    Ok(true)
}

/// Not settled yet (`Accepted`: ePay took it; `Unknown`: sent, outcome unknown): looked up at
/// `next_check_ms`, which ends the caller's claim. `waiting_since_ms`: the first lookup that
/// showed no trace of it, if one did.
pub fn wait(
    tx: &mut Tx,
    id: i64,
    claim: i64,
    status: OperationStatus,
    said: &str,
    next_check_ms: i64,
    waiting_since_ms: Option<i64>,
) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    tx.execute("UPDATE operations SET waiting_since_ms = ? WHERE id = ?", params![waiting_since_ms, id])?;
    set_status(tx, &op, status, said, Some(next_check_ms))?;
    Ok(true)
}

/// Nobody can tell whether it happened, or ePay shows something else: a person must check.
/// The operation stops being looked up and keeps holding its amount; the order goes to
/// `review` (and `order.review` to the shop), which also stops every other operation on it
/// until the person has decided (`resolve_review`).
pub fn send_to_review(tx: &mut Tx, id: i64, claim: i64, said: &str) -> Result<bool, StoreError> {
    let Some(op) = claimed(tx, id, claim)? else { return Ok(false) };
    set_status(tx, &op, OperationStatus::Review, said, None)?;
    let reason = format!("{} op_{}: {said}", op.kind.as_str(), op.id);
    orders::send_to_review(tx, op.order_id, &reason)?;
    Ok(true)
}

/// What a person decided about an operation in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// ePay did it (its cabinet shows it): applied as if the status API had shown it.
    Done,
    /// ePay did not, and it is not to be sent again: failed; nothing moved.
    NotDone,
    /// ePay shows no trace: sent again, with the same externalID, claimed until the given
    /// time by the caller, who sends it.
    SendAgain(i64),
}

/// Settles the operation `id` in review as a person decided, with its order (back to what it
/// was before the operation, or moved on by it), in one transaction with their events. Returns
/// the operation as it was, or `None` when it is not in review.
pub fn resolve_review(tx: &mut Tx, id: i64, resolution: Resolution, said: &str) -> Result<Option<OperationRow>, StoreError> {
    let Some(op) = find(tx, id)?.filter(|op| op.status == OperationStatus::Review) else { return Ok(None) };
    match resolution {
        Resolution::Done => apply_done(tx, &op, said)?,
        Resolution::NotDone => {
            restore_order(tx, &op)?;
            set_status(tx, &op, OperationStatus::Failed, said, None)?;
        }
        Resolution::SendAgain(claim_until_ms) => {
            restore_order(tx, &op)?;
            tx.execute("UPDATE operations SET sent_ms = NULL, waiting_since_ms = NULL WHERE id = ?", params![id])?;
            set_status(tx, &op, OperationStatus::Pending, said, Some(claim_until_ms))?;
        }
    }
    Ok(Some(op))
}

/// A refund ePay performed that no operation of the proxy asked for (made in ePay's cabinet), as
/// a person recorded it from ePay's ledger: a refund of its own, succeeded, with its event
/// (`refund.succeeded`) and the order's refunded amount.
pub fn record_outside_refund(tx: &mut Tx, order_id: i64, amount_minor: i64, key: &str, said: &str) -> Result<(), StoreError> {
    let at = now();
    let id: i64 = tx.query_one(
        "INSERT INTO operations (order_id, kind, amount_minor, reason, external_id, idempotency_key, fingerprint, status, created_at, updated_at)
         VALUES (?, 'refund', ?, ?, ?, ?, 'outside', 'pending', ?, ?) RETURNING id",
        params![order_id, amount_minor, "made outside the proxy (ePay's ledger)", uuid::Uuid::new_v4().to_string(), key, at, at],
        |row| row.get(0),
    )?;
    let op = OperationRow::stored(id, order_id, OperationKind::Refund, Some(amount_minor), None, at);
    apply_done(tx, &op, said)
}

/// The order of `op`, in review for it, back where it stood before `op`: paid (a refund) or
/// authorized (a capture or cancel).
fn restore_order(tx: &mut Tx, op: &OperationRow) -> Result<(), StoreError> {
    let before = match op.kind {
        OperationKind::Refund => OrderState::Paid,
        OperationKind::Capture | OperationKind::Cancel => OrderState::Authorized,
    };
    orders::change(tx, op.order_id, Move { to: before, from: &[OrderState::Review], set: "", values: params![], at: now() })?;
    Ok(())
}

/// The operation in review on `order_id`, if one is (at most one: one at a time per order).
pub fn in_review(db: &mut Conn, order_id: i64) -> Result<Option<OperationRow>, StoreError> {
    Ok(select(db, "WHERE order_id = ? AND status = 'review' ORDER BY id DESC", params![order_id])?.into_iter().next())
}

/// The operation on `order_id` not settled yet (in flight or in review), if one is.
pub fn unsettled(db: &mut Conn, order_id: i64) -> Result<Option<OperationRow>, StoreError> {
    Ok(select(db, "WHERE order_id = ? AND status NOT IN ('succeeded', 'failed') ORDER BY id DESC", params![order_id])?.into_iter().next())
}

/// The one writer of an operation's status: with the event that announces it, if the shop hears
/// of it (`announced_as`), in the same transaction.
/// `op` is the operation as read in this transaction, before the change.
fn set_status(tx: &mut Tx, op: &OperationRow, status: OperationStatus, said: &str, next_check_ms: Option<i64>) -> Result<(), StoreError> {
    let id = op.id;
    tx.execute(
        "UPDATE operations SET status = ?, epay_answer = ?, next_check_ms = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
        params![status, said, next_check_ms, now(), id],
    )?;
    if let Some(kind) = announced_as(op.kind, status).filter(|_| op.status != status) {
        orders::announce(tx, op.order_id, kind, Some(id))?;
    }
    Ok(())
}

/// The event that announces an operation of `kind` reaching `status`, if the shop hears of it:
/// a capture that succeeded, a refund that succeeded or failed. Pure.
pub fn announced_as(kind: OperationKind, status: OperationStatus) -> Option<EventType> {
    match (kind, status) {
        (OperationKind::Capture, OperationStatus::Succeeded) => Some(EventType::OrderCaptured),
        (OperationKind::Refund, OperationStatus::Succeeded) => Some(EventType::RefundSucceeded),
        (OperationKind::Refund, OperationStatus::Failed) => Some(EventType::RefundFailed),
        _ => None,
    }
}

pub use super::leases::LOOKUPS;

/// Claims up to `limit` operations due for a lookup at `now_ms` until `lease_until_ms` (their
/// next lookup moves there; if this instance dies, they are due again then).
pub fn claim_due(tx: &mut Tx, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<OperationRow>, StoreError> {
    LOOKUPS.claim(tx, now_ms, lease_until_ms, limit, OPERATION_COLUMNS, operation_from_row)
}

pub fn for_order(db: &mut Conn, order_id: i64) -> Result<Vec<OperationRow>, StoreError> {
    select(db, "WHERE order_id = ? ORDER BY id", params![order_id])
}

/// The operations of the orders created in [from, to) (unix seconds), in one query (the
/// console's export).
pub fn for_orders_created(db: &mut Conn, from: i64, to: i64) -> Result<Vec<OperationRow>, StoreError> {
    select(
        db,
        "WHERE order_id IN (SELECT id FROM orders WHERE created_at >= ? AND created_at < ?) ORDER BY order_id, id",
        params![from, to],
    )
}
