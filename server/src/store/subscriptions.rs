//! Subscriptions (migration 0018): a customer's saved card billed every period, and each
//! attempt to charge a period (`subscription_charges`: one merchant order per (period, attempt),
//! made once). What to do next is decided above the store (`subscriptions::schedule`, pure);
//! this file stores it, and `save` is the one writer of a subscription's state, compared and
//! set on its version, so two instances never both act on one subscription.
//!
//! `due_ms` is on the test clock (`store::clock`), not the real one, and says when the
//! subscription is charged next; a worker holds one it took until `claimed_until_ms` (real
//! time). It is therefore not one of `leases::SCHEDULES`, whose claims move the due time itself.

use epay_api_types::{IntervalUnit, OrderState, SubscriptionStatus};

use super::{Conn, Row, StoreError, Tx, params};

#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRow {
    pub id: i64,
    /// The id the merchant API shows (`sub_…`).
    pub sub_ref: String,
    pub account_id: String,
    /// `saved_cards.id`.
    pub card_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub interval_unit: IntervalUnit,
    pub interval_count: i64,
    /// The first period's start (test-clock seconds).
    pub anchor_at: i64,
    pub description: String,
    pub metadata: Option<String>,
    /// Days before each retry of a declined charge ("1,3,5").
    pub retry_days: String,
    pub status: SubscriptionStatus,
    pub status_reason: Option<String>,
    /// The period charged next (1 is the first).
    pub next_period: i64,
    /// Declined attempts of `next_period`.
    pub attempt: i64,
    /// When the worker acts on it next (test-clock ms); NULL: never (paused, cancelled).
    pub due_ms: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<i64>,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// The card's id as the merchant API shows it.
    pub card_ref: String,
}

const COLUMNS: &str =
    "id, sub_ref, account_id, card_id, amount_minor, currency, interval_unit, interval_count, anchor_at, description, metadata,
    retry_days, status, status_reason, next_period, attempt, due_ms, cancel_at_period_end, cancelled_at, idempotency_key, fingerprint,
    created_at, updated_at, version, (SELECT card_ref FROM saved_cards c WHERE c.id = card_id)";

fn subscription_from_row(row: &Row<'_>) -> Result<SubscriptionRow, StoreError> {
    Ok(SubscriptionRow {
        id: row.get(0)?,
        sub_ref: row.get(1)?,
        account_id: row.get(2)?,
        card_id: row.get(3)?,
        amount_minor: row.get(4)?,
        currency: row.get(5)?,
        interval_unit: row.get(6)?,
        interval_count: row.get(7)?,
        anchor_at: row.get(8)?,
        description: row.get(9)?,
        metadata: row.get(10)?,
        retry_days: row.get(11)?,
        status: row.get(12)?,
        status_reason: row.get(13)?,
        next_period: row.get(14)?,
        attempt: row.get(15)?,
        due_ms: row.get(16)?,
        cancel_at_period_end: row.get::<i64>(17)? != 0,
        cancelled_at: row.get(18)?,
        idempotency_key: row.get(19)?,
        fingerprint: row.get(20)?,
        created_at: row.get(21)?,
        updated_at: row.get(22)?,
        version: row.get(23)?,
        card_ref: row.get(24)?,
    })
}

/// What `insert` made of a request.
#[derive(Debug)]
pub enum Inserted {
    New(SubscriptionRow),
    /// The Idempotency-Key made this one before, with the same request.
    Replayed(SubscriptionRow),
    /// The Idempotency-Key made another.
    KeyReused,
}

/// Stores a new subscription (`row.id`, `version` are ignored), or finds the one its
/// Idempotency-Key made.
pub fn insert(tx: &mut Tx, row: &SubscriptionRow) -> Result<Inserted, StoreError> {
    if let Some(existing) = find_where(tx, "idempotency_key = ?", &row.idempotency_key)? {
        return Ok(if existing.fingerprint == row.fingerprint { Inserted::Replayed(existing) } else { Inserted::KeyReused });
    }
    tx.execute(
        "INSERT INTO subscriptions (sub_ref, account_id, card_id, amount_minor, currency, interval_unit, interval_count, anchor_at, description,
            metadata, retry_days, status, next_period, attempt, due_ms, idempotency_key, fingerprint, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            row.sub_ref,
            row.account_id,
            row.card_id,
            row.amount_minor,
            row.currency,
            row.interval_unit,
            row.interval_count,
            row.anchor_at,
            row.description,
            row.metadata,
            row.retry_days,
            row.status,
            row.next_period,
            row.attempt,
            row.due_ms,
            row.idempotency_key,
            row.fingerprint,
            row.created_at,
            row.updated_at
        ],
    )?;
    let stored = find_where(tx, "idempotency_key = ?", &row.idempotency_key)?.ok_or(StoreError::Vanished(0))?;
    Ok(Inserted::New(stored))
}

fn find_where(db: &mut Conn, condition: &'static str, value: &dyn super::Param) -> Result<Option<SubscriptionRow>, StoreError> {
    let lock = db.for_update();
    db.query_optional(&format!("SELECT {COLUMNS} FROM subscriptions WHERE {condition} {lock}"), &[value], subscription_from_row)
}

pub fn find(db: &mut Conn, sub_ref: &str) -> Result<Option<SubscriptionRow>, StoreError> {
    find_where(db, "sub_ref = ?", &sub_ref)
}

pub fn find_by_id(db: &mut Conn, id: i64) -> Result<Option<SubscriptionRow>, StoreError> {
    find_where(db, "id = ?", &id)
}

/// A customer's subscriptions (all when `account_id` is `None`), oldest first, at most `limit`.
pub fn list(db: &mut Conn, account_id: Option<&str>, limit: i64) -> Result<Vec<SubscriptionRow>, StoreError> {
    match account_id {
        Some(account) => db.query_all(
            &format!("SELECT {COLUMNS} FROM subscriptions WHERE account_id = ? ORDER BY id LIMIT ?"),
            params![account, limit],
            subscription_from_row,
        ),
        None => db.query_all(&format!("SELECT {COLUMNS} FROM subscriptions ORDER BY id LIMIT ?"), params![limit], subscription_from_row),
    }
}

/// Claims up to `limit` subscriptions due at `clock_now_ms` (the test clock) that no live claim
/// holds at `now_ms` (real time), until `lease_until_ms` (real time). A claim bumps the version:
/// what the worker decides applies to the claimed row only.
pub fn claim_due(tx: &mut Tx, clock_now_ms: i64, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<SubscriptionRow>, StoreError> {
    let sql = format!(
        "UPDATE subscriptions SET claimed_until_ms = ?, version = version + 1
         WHERE id IN (SELECT id FROM subscriptions WHERE due_ms IS NOT NULL AND due_ms <= ? AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?)
                      ORDER BY due_ms, id LIMIT ? {})
         RETURNING id",
        tx.skip_locked()
    );
    let ids: Vec<i64> = tx.query_all(&sql, params![lease_until_ms, clock_now_ms, now_ms, limit], |row| row.get(0))?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        claimed.extend(find_by_id(tx, id)?);
    }
    Ok(claimed)
}

/// Extends this worker's claim (held until `held_until_ms`) to `until_ms`: false when it ran
/// out and another worker holds the subscription now.
pub fn renew(tx: &mut Tx, id: i64, held_until_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "UPDATE subscriptions SET claimed_until_ms = ? WHERE id = ? AND claimed_until_ms = ?",
        params![until_ms, id, held_until_ms],
    )? == 1)
}

/// Gives this worker's claim (held until `held_until_ms`) up: the subscription is due again at
/// its `due_ms`. Another worker's claim stays.
pub fn release(tx: &mut Tx, id: i64, held_until_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE subscriptions SET claimed_until_ms = NULL WHERE id = ? AND claimed_until_ms = ?", params![id, held_until_ms])?;
    Ok(())
}

/// When the next subscription no live claim holds at `now_ms` is due (test-clock ms).
pub fn next_due_ms(db: &mut Conn, now_ms: i64) -> Result<Option<i64>, StoreError> {
    db.query_one(
        "SELECT MIN(due_ms) FROM subscriptions WHERE due_ms IS NOT NULL AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?)",
        params![now_ms],
        |row| row.get(0),
    )
}

/// Writes `row`'s state (what `schedule` decided, or a person's change) if the stored row is
/// still at `row.version`; returns whether it was. The one writer of a subscription's state.
pub fn save(tx: &mut Tx, row: &SubscriptionRow, now: i64) -> Result<bool, StoreError> {
    let saved = tx.execute(
        "UPDATE subscriptions SET card_id = ?, amount_minor = ?, description = ?, status = ?, status_reason = ?, next_period = ?, attempt = ?,
            due_ms = ?, cancel_at_period_end = ?, cancelled_at = ?, updated_at = ?, version = version + 1
         WHERE id = ? AND version = ?",
        params![
            row.card_id,
            row.amount_minor,
            row.description,
            row.status,
            row.status_reason,
            row.next_period,
            row.attempt,
            row.due_ms,
            i64::from(row.cancel_at_period_end),
            row.cancelled_at,
            now,
            row.id,
            row.version
        ],
    )?;
    Ok(saved == 1)
}

/// Whether order `order_id` may be sent as far as subscriptions go: it bills none, or the one it
/// bills is `active` (locked until the caller commits, on PostgreSQL).
pub fn bills_while_active(tx: &mut Tx, order_id: i64) -> Result<bool, StoreError> {
    let lock = tx.for_update();
    let status: Option<SubscriptionStatus> = tx.query_optional(
        &format!(
            "SELECT s.status FROM subscriptions s JOIN subscription_charges c ON c.subscription_id = s.id WHERE c.order_id = ? {lock}"
        ),
        params![order_id],
        |row| row.get(0),
    )?;
    Ok(status.is_none_or(|status| status == SubscriptionStatus::Active))
}

/// One attempt to charge one period, with its order as it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct ChargeRow {
    pub period: i64,
    pub attempt: i64,
    pub order_id: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub created_at: i64,
    pub invoice_id: String,
    pub amount_minor: i64,
    pub order_state: OrderState,
    pub failure_code: Option<i64>,
    pub failure_reason: Option<String>,
}

const CHARGE_COLUMNS: &str = "c.period, c.attempt, c.order_id, c.period_start, c.period_end, c.created_at, o.invoice_id, o.amount_minor,
    o.status, o.failure_code, o.failure_reason";

fn charge_from_row(row: &Row<'_>) -> Result<ChargeRow, StoreError> {
    Ok(ChargeRow {
        period: row.get(0)?,
        attempt: row.get(1)?,
        order_id: row.get(2)?,
        period_start: row.get(3)?,
        period_end: row.get(4)?,
        created_at: row.get(5)?,
        invoice_id: row.get(6)?,
        amount_minor: row.get(7)?,
        order_state: row.get(8)?,
        failure_code: row.get(9)?,
        failure_reason: row.get(10)?,
    })
}

/// Every charge of subscription `id`, oldest first.
pub fn charges(db: &mut Conn, id: i64) -> Result<Vec<ChargeRow>, StoreError> {
    db.query_all(
        &format!(
            "SELECT {CHARGE_COLUMNS} FROM subscription_charges c JOIN orders o ON o.id = c.order_id
             WHERE c.subscription_id = ? ORDER BY c.period, c.attempt"
        ),
        params![id],
        charge_from_row,
    )
}

/// The charges of one period of subscription `id`, by attempt.
pub fn charges_of_period(db: &mut Conn, id: i64, period: i64) -> Result<Vec<ChargeRow>, StoreError> {
    db.query_all(
        &format!(
            "SELECT {CHARGE_COLUMNS} FROM subscription_charges c JOIN orders o ON o.id = c.order_id
             WHERE c.subscription_id = ? AND c.period = ? ORDER BY c.attempt"
        ),
        params![id, period],
        charge_from_row,
    )
}

/// The charge of (`period`, `attempt`), if it was made.
pub fn charge(db: &mut Conn, id: i64, period: i64, attempt: i64) -> Result<Option<ChargeRow>, StoreError> {
    db.query_optional(
        &format!(
            "SELECT {CHARGE_COLUMNS} FROM subscription_charges c JOIN orders o ON o.id = c.order_id
             WHERE c.subscription_id = ? AND c.period = ? AND c.attempt = ?"
        ),
        params![id, period, attempt],
        charge_from_row,
    )
}

/// Ties order `order_id` to (`period`, `attempt`) of subscription `id` (in the order's own
/// transaction: the pair's key makes a second one impossible).
pub fn record_charge(tx: &mut Tx, id: i64, period: (i64, i64, i64), attempt: i64, order_id: i64, now: i64) -> Result<(), StoreError> {
    let (number, start, end) = period;
    tx.execute(
        "INSERT INTO subscription_charges (subscription_id, period, attempt, order_id, period_start, period_end, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![id, number, attempt, order_id, start, end, now],
    )?;
    Ok(())
}
