//! The webhook outbox: events (written by database triggers with the change they announce),
//! their delivery schedule and every attempt.

use sqlx::SqlitePool;

use super::{StoreError, Tx};

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub event_id: String,
    pub r#type: String,
    pub order_id: i64,
    pub invoice_id: String,
    pub operation_id: Option<i64>,
    pub created_ms: i64,
    pub payload: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
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

macro_rules! select_events {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            EventRow,
            r#"SELECT e.id AS "id!", e.event_id, e.type AS "type", e.order_id, o.invoice_id, e.operation_id, e.created_ms,
                e.payload, e.status, e.attempts, e.next_attempt_ms, e.delivered_ms
             FROM webhook_events e JOIN orders o ON o.id = e.order_id "# + $rest
            $(, $arg)*
        )
    };
}

/// Events whose next attempt is due, oldest first.
pub async fn due(pool: &SqlitePool, now_ms: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    Ok(select_events!(
        "WHERE e.next_attempt_ms IS NOT NULL AND e.next_attempt_ms <= ? ORDER BY e.next_attempt_ms, e.id LIMIT ?",
        now_ms,
        limit
    )
    .fetch_all(pool)
    .await?)
}

pub async fn next_due_ms(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar!(r#"SELECT MIN(next_attempt_ms) AS "at: i64" FROM webhook_events WHERE next_attempt_ms IS NOT NULL"#)
        .fetch_one(pool)
        .await?)
}

/// Fixes the body of an event at its first attempt: every retry sends the same bytes. Returns
/// the body that stands (an earlier one wins).
pub fn fix_payload(tx: &mut Tx, id: i64, payload: &str) -> Result<String, StoreError> {
    tx.execute("UPDATE webhook_events SET payload = ? WHERE id = ? AND payload IS NULL", rusqlite::params![payload, id])?;
    let stored: Option<String> = tx.query_one("SELECT payload FROM webhook_events WHERE id = ?", [id], |row| row.get(0))?;
    Ok(stored.unwrap_or_else(|| payload.to_owned()))
}

/// Records an attempt and what follows: delivered, the next attempt at `next_attempt_ms`, or
/// given up (`failed`).
pub fn record_attempt(tx: &mut Tx, id: i64, attempt: &Attempt, delivered: bool, next_attempt_ms: Option<i64>) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO webhook_attempts (event_id, at_ms, status_code, error, response, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
        rusqlite::params![id, attempt.at_ms, attempt.status_code, attempt.error, attempt.response, attempt.duration_ms],
    )?;
    let status = match (delivered, next_attempt_ms) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    let delivered_ms = delivered.then_some(attempt.at_ms);
    tx.execute(
        "UPDATE webhook_events SET attempts = attempts + 1, status = ?, next_attempt_ms = ?, delivered_ms = COALESCE(?, delivered_ms)
         WHERE id = ?",
        rusqlite::params![status, next_attempt_ms, delivered_ms, id],
    )?;
    Ok(())
}

/// Sends an event again (same webhook-id, same body) at `now_ms`. `None` for an unknown id.
pub fn resend(tx: &mut Tx, event_id: &str, now_ms: i64) -> Result<Option<i64>, StoreError> {
    tx.query_optional(
        "UPDATE webhook_events SET status = 'pending', next_attempt_ms = ? WHERE event_id = ? RETURNING id",
        rusqlite::params![now_ms, event_id],
        |row| row.get(0),
    )
}

pub async fn find(pool: &SqlitePool, event_id: &str) -> Result<Option<EventRow>, StoreError> {
    Ok(select_events!("WHERE e.event_id = ?", event_id).fetch_optional(pool).await?)
}

/// Events newest first, below `before_id` (the cursor), optionally of one order.
pub async fn list(pool: &SqlitePool, invoice_id: Option<&str>, before_id: Option<i64>, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    Ok(select_events!(
        "WHERE (?1 IS NULL OR o.invoice_id = ?1) AND (?2 IS NULL OR e.id < ?2) ORDER BY e.id DESC LIMIT ?3",
        invoice_id,
        before_id,
        limit
    )
    .fetch_all(pool)
    .await?)
}

pub async fn attempts(pool: &SqlitePool, event_ids: &[i64]) -> Result<Vec<AttemptRow>, StoreError> {
    let ids = serde_json::to_string(event_ids).unwrap_or_else(|_| "[]".into());
    Ok(sqlx::query_as!(
        AttemptRow,
        "SELECT event_id, at_ms, status_code, error, response, duration_ms FROM webhook_attempts
         WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Deletes the attempts of events settled before `before_ms` (their bodies stay).
pub fn prune_attempts(tx: &mut Tx, before_ms: i64) -> Result<u64, StoreError> {
    tx.execute(PRUNE_ATTEMPTS, [before_ms])
}

/// Through `webhook_attempts_age` (migration 0006): only attempts past the retention are read.
pub(crate) const PRUNE_ATTEMPTS: &str = "DELETE FROM webhook_attempts WHERE at_ms < ?
     AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = webhook_attempts.event_id AND e.next_attempt_ms IS NOT NULL)";
