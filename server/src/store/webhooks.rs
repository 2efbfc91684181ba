//! The webhook outbox: events (written with the change they announce, by `orders::change`),
//! their delivery schedule and every attempt.
//!
//! An event is claimed before it is sent: its next attempt moves to the end of a lease, so no
//! other instance sends it meanwhile, and if this one dies mid-delivery the event is due again
//! when the lease ends (the same webhook-id: receivers drop what they already have).

use super::sql::List;
use super::{Conn, Dialect, Row, StoreError, Tx, params};

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub event_id: String,
    pub r#type: epay_api_types::EventType,
    /// The order it is about; `None` for a subscription's event without one.
    pub order_id: Option<i64>,
    pub invoice_id: Option<String>,
    /// The subscription it is about (`subscription.*`), and its id as the merchant API shows it.
    pub subscription_id: Option<i64>,
    pub subscription_ref: Option<String>,
    pub operation_id: Option<i64>,
    pub created_ms: i64,
    pub payload: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
    /// The order as it stood when the event was made (JSON; `orders::OrderSnapshot`), or for a
    /// subscription's event the subscription as the merchant API showed it then.
    pub snapshot: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRow {
    pub event_id: i64,
    pub at_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: i64,
}

/// What one attempt ended in.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub at_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: i64,
}

/// The columns of `EventRow`, with the order's invoice id; `webhook_events` is `e` when
/// selecting, itself when returning.
const EVENT_COLUMNS: &str = "id, event_id, type, order_id, (SELECT invoice_id FROM orders o WHERE o.id = order_id), operation_id,
    created_ms, payload, status, attempts, next_attempt_ms, delivered_ms, snapshot, subscription_id,
    (SELECT sub_ref FROM subscriptions s WHERE s.id = subscription_id)";

fn event_from_row(row: &Row<'_>) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: row.get(0)?,
        event_id: row.get(1)?,
        r#type: row.get(2)?,
        order_id: row.get(3)?,
        invoice_id: row.get(4)?,
        operation_id: row.get(5)?,
        created_ms: row.get(6)?,
        payload: row.get(7)?,
        status: row.get(8)?,
        attempts: row.get(9)?,
        next_attempt_ms: row.get(10)?,
        delivered_ms: row.get(11)?,
        snapshot: row.get(12)?,
        subscription_id: row.get(13)?,
        subscription_ref: row.get(14)?,
    })
}

fn select(db: &mut Conn, rest: &str, params: &[&dyn super::Param]) -> Result<Vec<EventRow>, StoreError> {
    db.query_all(&format!("SELECT {EVENT_COLUMNS} FROM webhook_events {rest}"), params, event_from_row)
}

pub use super::leases::DELIVERIES;

/// Claims up to `limit` events due at `now_ms`, oldest first, until `lease_until_ms` (their
/// next attempt moves there). Returns them as claimed.
pub fn claim_due(tx: &mut Tx, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    DELIVERIES.claim(tx, now_ms, lease_until_ms, limit, EVENT_COLUMNS, event_from_row)
}

/// Makes the events of `claims` (id, claimed until) due at `now_ms` again, those still so claimed
/// (an attempt that was cut short records nothing).
pub fn hand_back(tx: &mut Tx, claims: &[(i64, i64)], now_ms: i64) -> Result<(), StoreError> {
    tx.made_event_due();
    for (id, claimed_until) in claims {
        tx.execute(
            "UPDATE webhook_events SET next_attempt_ms = ? WHERE id = ? AND next_attempt_ms = ?",
            params![now_ms, id, claimed_until],
        )?;
    }
    Ok(())
}

/// Fixes the body of an event at its first attempt: every retry sends the same bytes. Returns
/// the body that stands (an earlier one wins).
pub fn fix_payload(tx: &mut Tx, id: i64, payload: &str) -> Result<String, StoreError> {
    // Sent with the read below, in one round trip on PostgreSQL.
    tx.execute_later("UPDATE webhook_events SET payload = ? WHERE id = ? AND payload IS NULL", params![payload, id])?;
    let stored: Option<String> = tx.query_one("SELECT payload FROM webhook_events WHERE id = ?", params![id], |row| row.get(0))?;
    Ok(stored.unwrap_or_else(|| payload.to_owned()))
}

/// Records an attempt and what follows: delivered, the next attempt at `next_attempt_ms`, or
/// given up (`failed`). The event moves on only while this attempt's claim holds
/// (`claimed_until_ms`, the lease it was claimed with): if the lease ran out and another
/// instance took the event, or a resend was asked for meanwhile, that one decides. Returns
/// whether the event moved.
pub fn record_attempt(
    tx: &mut Tx,
    id: i64,
    claimed_until_ms: i64,
    attempt: &Attempt,
    delivered: bool,
    next_attempt_ms: Option<i64>,
) -> Result<bool, StoreError> {
    tx.execute_later(
        "INSERT INTO webhook_attempts (event_id, at_ms, status_code, error, response, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
        params![id, attempt.at_ms, attempt.status_code, attempt.error, attempt.response, attempt.duration_ms],
    )?;
    let status = match (delivered, next_attempt_ms) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    let delivered_ms = delivered.then_some(attempt.at_ms);
    let moved = tx.execute(
        "UPDATE webhook_events SET attempts = attempts + 1, status = ?, next_attempt_ms = ?, delivered_ms = COALESCE(?, delivered_ms)
         WHERE id = ? AND next_attempt_ms = ?",
        params![status, next_attempt_ms, delivered_ms, id, claimed_until_ms],
    )?;
    Ok(moved == 1)
}

/// Sends an event again (same webhook-id, same body) at `now_ms`. `None` for an unknown id.
pub fn resend(tx: &mut Tx, event_id: &str, now_ms: i64) -> Result<Option<i64>, StoreError> {
    tx.made_event_due();
    tx.query_optional(
        "UPDATE webhook_events SET status = 'pending', next_attempt_ms = ? WHERE event_id = ? RETURNING id",
        params![now_ms, event_id],
        |row| row.get(0),
    )
}

pub fn find(db: &mut Conn, event_id: &str) -> Result<Option<EventRow>, StoreError> {
    Ok(select(db, "WHERE event_id = ?", params![event_id])?.pop())
}

/// Events newest first, below `before_id` (the cursor), optionally of one order.
pub fn list(db: &mut Conn, invoice_id: Option<&str>, before_id: Option<i64>, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    select(
        db,
        // Each parameter's first use gives it its type (PostgreSQL cannot type `? IS NULL`).
        "WHERE (order_id = (SELECT id FROM orders WHERE invoice_id = ?1) OR ?1 IS NULL) AND (id < ?2 OR ?2 IS NULL)
         ORDER BY id DESC LIMIT ?3",
        params![invoice_id, before_id, limit],
    )
}

/// A page of events (as `list`) with every attempt of each.
pub fn page(
    db: &mut Conn,
    invoice_id: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<(Vec<EventRow>, Vec<AttemptRow>), StoreError> {
    let rows = list(db, invoice_id, before_id, limit)?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let attempts = attempts(db, &ids)?;
    Ok((rows, attempts))
}

pub fn attempts(db: &mut Conn, event_ids: &[i64]) -> Result<Vec<AttemptRow>, StoreError> {
    let in_events = match db.dialect() {
        Dialect::Sqlite => "event_id IN (SELECT value FROM json_each(?))",
        Dialect::Postgres => "event_id = ANY(?)",
    };
    let sql =
        format!("SELECT event_id, at_ms, status_code, error, response, duration_ms FROM webhook_attempts WHERE {in_events} ORDER BY id");
    db.query_all(&sql, params![List(event_ids.to_vec())], |row| {
        Ok(AttemptRow {
            event_id: row.get(0)?,
            at_ms: row.get(1)?,
            status_code: row.get(2)?,
            error: row.get(3)?,
            response: row.get(4)?,
            duration_ms: row.get(5)?,
        })
    })
}

/// Deletes the attempts of events settled before `before_ms` (their bodies stay).
pub fn prune_attempts(tx: &mut Tx, before_ms: i64) -> Result<u64, StoreError> {
    tx.execute(PRUNE_ATTEMPTS, params![before_ms])
}

/// Through `webhook_attempts_age` (migration 0006): only attempts past the retention are read.
pub(crate) const PRUNE_ATTEMPTS: &str = "DELETE FROM webhook_attempts WHERE at_ms < ?
     AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = webhook_attempts.event_id AND e.next_attempt_ms IS NOT NULL)";
