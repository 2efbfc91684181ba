//! The console's rows: sessions (by the SHA-256 of their cookie), failed sign-ins per name,
//! and what people did to orders (`admin_actions`, migration 0012).

use super::{Conn, StoreError, Tx};
use crate::params;

#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub user_name: String,
    pub role: String,
    /// SHA-256 of the password hash the person signed in with.
    pub credential: String,
    pub csrf: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

pub fn create_session(tx: &mut Tx, digest: &str, row: &SessionRow, now: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO admin_sessions (id_digest, user_name, role, credential, csrf, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![digest, row.user_name, row.role, row.credential, row.csrf, now, now, row.expires_at],
    )?;
    Ok(())
}

/// The session whose cookie hashes to `digest`, if it has neither expired nor idled out.
pub fn live_session(db: &mut Conn, digest: &str, now: i64, idle_secs: i64) -> Result<Option<SessionRow>, StoreError> {
    db.query_optional(
        "SELECT user_name, role, credential, csrf, expires_at, last_seen_at FROM admin_sessions
         WHERE id_digest = ? AND expires_at > ? AND last_seen_at > ?",
        params![digest, now, now - idle_secs],
        |row| {
            Ok(SessionRow {
                user_name: row.get(0)?,
                role: row.get(1)?,
                credential: row.get(2)?,
                csrf: row.get(3)?,
                expires_at: row.get(4)?,
                last_seen_at: row.get(5)?,
            })
        },
    )
}

pub fn touch_session(tx: &mut Tx, digest: &str, now: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE admin_sessions SET last_seen_at = ? WHERE id_digest = ?", params![now, digest])?;
    Ok(())
}

pub fn end_session(tx: &mut Tx, digest: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM admin_sessions WHERE id_digest = ?", params![digest])?;
    Ok(())
}

/// Deletes the sessions that ended (maintenance).
pub fn prune_sessions(tx: &mut Tx, now: i64, idle_secs: i64) -> Result<u64, StoreError> {
    tx.execute("DELETE FROM admin_sessions WHERE expires_at <= ? OR last_seen_at <= ?", params![now, now - idle_secs])
}

/// Until when `user_name` is locked out (unix seconds), if it is now.
pub fn locked_until(db: &mut Conn, user_name: &str, now: i64) -> Result<Option<i64>, StoreError> {
    let until: Option<i64> =
        db.query_optional("SELECT locked_until FROM admin_sign_in_failures WHERE user_name = ?", params![user_name], |row| row.get(0))?;
    Ok(until.filter(|until| *until > now))
}

/// Counts a failed sign-in; the `after`th in a row locks the name for `lock_secs`. Returns
/// the end of the lock when this failure set one.
pub fn record_failure(tx: &mut Tx, user_name: &str, now: i64, after: i64, lock_secs: i64) -> Result<Option<i64>, StoreError> {
    let failures: i64 = tx.query_one(
        "INSERT INTO admin_sign_in_failures (user_name, failures, last_at, locked_until) VALUES (?, 1, ?, 0)
         ON CONFLICT (user_name) DO UPDATE SET failures = admin_sign_in_failures.failures + 1, last_at = excluded.last_at
         RETURNING failures",
        params![user_name, now],
        |row| row.get(0),
    )?;
    if failures < after {
        return Ok(None);
    }
    let until = now + lock_secs;
    tx.execute("UPDATE admin_sign_in_failures SET failures = 0, locked_until = ? WHERE user_name = ?", params![until, user_name])?;
    Ok(Some(until))
}

pub fn clear_failures(tx: &mut Tx, user_name: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM admin_sign_in_failures WHERE user_name = ?", params![user_name])?;
    Ok(())
}

/// One thing a person did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionRow {
    pub order_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub decision: Option<String>,
    pub checked: Option<String>,
    pub note: Option<String>,
    pub operation_id: Option<i64>,
    pub event_id: Option<String>,
    pub at: i64,
}

/// A person's decision on an order in review (`admin_actions.action`).
pub const RESOLVE_REVIEW: &str = "resolve_review";
/// A payment that came after its order's payable window, as the confirmation recorded it.
pub const LATE_PAYMENT: &str = "late_payment";

pub fn record_action(tx: &mut Tx, action: &ActionRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO admin_actions (order_id, actor, action, decision, checked, note, operation_id, event_id, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            action.order_id,
            action.actor,
            action.action,
            action.decision,
            action.checked,
            action.note,
            action.operation_id,
            action.event_id,
            action.at
        ],
    )?;
    Ok(())
}

pub fn actions_for_order(db: &mut Conn, order_id: i64) -> Result<Vec<ActionRow>, StoreError> {
    db.query_all(
        "SELECT order_id, actor, action, decision, checked, note, operation_id, event_id, at FROM admin_actions
         WHERE order_id = ? ORDER BY id",
        params![order_id],
        |row| {
            Ok(ActionRow {
                order_id: row.get(0)?,
                actor: row.get(1)?,
                action: row.get(2)?,
                decision: row.get(3)?,
                checked: row.get(4)?,
                note: row.get(5)?,
                operation_id: row.get(6)?,
                event_id: row.get(7)?,
                at: row.get(8)?,
            })
        },
    )
}
