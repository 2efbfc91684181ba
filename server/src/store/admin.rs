//! The console's rows: sessions (by the SHA-256 of their cookie), sign-in attempts per name
//! and client address, second factors and recovery codes,
//! and what people did to orders (`admin_actions`, migration 0012).

use super::operations::OperationRow;
use super::{Conn, StoreError, Tx};
use crate::params;
use epay_api_types::Action;

/// One (name, client address) pair's attempts that did not end in a sign-in (the decisions
/// are `admin::throttle`'s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts that did not end in a sign-in, within the window.
    pub failures: i64,
    /// Unix seconds of the latest attempt.
    pub last_at: i64,
    /// No attempt is checked before this (unix seconds).
    pub next_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub user_name: String,
    pub role: epay_api_types::Role,
    /// SHA-256 of the password hash the person signed in with.
    pub credential: String,
    pub csrf: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
    /// Signed in with a second factor, or enrolled one in this session.
    pub second_factor: bool,
}

pub fn create_session(tx: &mut Tx, digest: &str, row: &SessionRow, now: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO admin_sessions (id_digest, user_name, role, credential, csrf, created_at, last_seen_at, expires_at, second_factor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![digest, row.user_name, row.role, row.credential, row.csrf, now, now, row.expires_at, i64::from(row.second_factor)],
    )?;
    Ok(())
}

/// The session whose cookie hashes to `digest`, if it has neither expired nor idled out.
pub fn live_session(db: &mut Conn, digest: &str, now: i64, idle_secs: i64) -> Result<Option<SessionRow>, StoreError> {
    db.query_optional(
        "SELECT user_name, role, credential, csrf, expires_at, last_seen_at, second_factor FROM admin_sessions
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
                second_factor: row.get::<i64>(6)? != 0,
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
    Ok(tx.execute(PRUNE_EXPIRED_SESSIONS, params![now])? + tx.execute(PRUNE_IDLE_SESSIONS, params![now - idle_secs])?)
}

/// Maintenance statements, each through its own index (`maintenance::tests` checks the plans).
pub(crate) const PRUNE_EXPIRED_SESSIONS: &str = "DELETE FROM admin_sessions WHERE expires_at <= ?";
pub(crate) const PRUNE_IDLE_SESSIONS: &str = "DELETE FROM admin_sessions WHERE last_seen_at <= ?";

/// The attempts record of (`user_name`, `client`), locked until the transaction ends (so
/// concurrent attempts are counted one after another); a new pair starts empty.
pub fn lock_attempts(tx: &mut Tx, user_name: &str, client: &str) -> Result<Attempts, StoreError> {
    tx.query_one(
        "INSERT INTO admin_sign_in_attempts (user_name, client, failures, last_at, next_at) VALUES (?, ?, 0, 0, 0)
         ON CONFLICT (user_name, client) DO UPDATE SET failures = admin_sign_in_attempts.failures
         RETURNING failures, last_at, next_at",
        params![user_name, client],
        |row| Ok(Attempts { failures: row.get(0)?, last_at: row.get(1)?, next_at: row.get(2)? }),
    )
}

pub fn save_attempts(tx: &mut Tx, user_name: &str, client: &str, attempts: &Attempts) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE admin_sign_in_attempts SET failures = ?, last_at = ?, next_at = ? WHERE user_name = ? AND client = ?",
        params![attempts.failures, attempts.last_at, attempts.next_at, user_name, client],
    )?;
    Ok(())
}

/// Puts back `before` for an attempt that turned out not to be a failure (never checked, or
/// the right password asking for the second factor), unless another attempt changed the
/// record since (`after` is what this one wrote).
pub fn restore_attempts(tx: &mut Tx, user_name: &str, client: &str, before: &Attempts, after: &Attempts) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE admin_sign_in_attempts SET failures = ?, last_at = ?, next_at = ?
         WHERE user_name = ? AND client = ? AND failures = ? AND last_at = ? AND next_at = ?",
        params![before.failures, before.last_at, before.next_at, user_name, client, after.failures, after.last_at, after.next_at],
    )?;
    Ok(())
}

/// `user_name` signed in from `client`: its failures there are forgotten.
pub fn forget_attempts(tx: &mut Tx, user_name: &str, client: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM admin_sign_in_attempts WHERE user_name = ? AND client = ?", params![user_name, client])?;
    Ok(())
}

/// Deletes the records nobody has added to since `before` whose wait is over (maintenance):
/// made-up names do not pile up.
pub fn prune_attempts(tx: &mut Tx, before: i64, now: i64) -> Result<u64, StoreError> {
    tx.execute(PRUNE_SIGN_IN_ATTEMPTS, params![before, now])
}

/// A maintenance statement: through `admin_sign_in_attempts_age`.
pub(crate) const PRUNE_SIGN_IN_ATTEMPTS: &str = "DELETE FROM admin_sign_in_attempts WHERE last_at < ? AND next_at <= ?";

/// A person's TOTP secret (base32) and whether it is confirmed (the last time step used is
/// checked by `use_step` in its statement).
#[derive(Clone, Debug, PartialEq)]
pub struct FactorRow {
    pub secret: String,
    pub confirmed: bool,
}

pub fn second_factor(db: &mut Conn, user_name: &str) -> Result<Option<FactorRow>, StoreError> {
    db.query_optional("SELECT secret, confirmed_at FROM admin_second_factors WHERE user_name = ?", params![user_name], |row| {
        Ok(FactorRow { secret: row.get(0)?, confirmed: row.get::<Option<i64>>(1)?.is_some() })
    })
}

/// Starts enrolling `secret` for `user_name`, replacing an enrolment not confirmed yet.
/// `false` when the person already has a confirmed factor (a reset comes first).
pub fn begin_enrolment(tx: &mut Tx, user_name: &str, secret: &str, now: i64) -> Result<bool, StoreError> {
    let written = tx.execute(
        "INSERT INTO admin_second_factors (user_name, secret, confirmed_at, last_step, created_at) VALUES (?, ?, NULL, 0, ?)
         ON CONFLICT (user_name) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at
         WHERE admin_second_factors.confirmed_at IS NULL",
        params![user_name, secret, now],
    )?;
    Ok(written == 1)
}

/// Confirms the enrolment of `secret` with the code of time step `step`, stores the digests
/// of the recovery codes (replacing any), marks `session` as signed in with the factor and
/// ends the person's other sessions (made without it).
pub fn confirm_enrolment(
    tx: &mut Tx,
    user_name: &str,
    secret: &str,
    step: i64,
    recovery_digests: &[String],
    session: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let confirmed = tx.execute(
        "UPDATE admin_second_factors SET confirmed_at = ?, last_step = ? WHERE user_name = ? AND secret = ? AND confirmed_at IS NULL",
        params![now, step, user_name, secret],
    )?;
    if confirmed != 1 {
        return Ok(false);
    }
    tx.execute("DELETE FROM admin_recovery_codes WHERE user_name = ?", params![user_name])?;
    for digest in recovery_digests {
        tx.execute("INSERT INTO admin_recovery_codes (user_name, code_digest, used_at) VALUES (?, ?, NULL)", params![user_name, digest])?;
    }
    tx.execute("UPDATE admin_sessions SET second_factor = 1 WHERE id_digest = ?", params![session])?;
    tx.execute("DELETE FROM admin_sessions WHERE user_name = ? AND id_digest <> ?", params![user_name, session])?;
    Ok(true)
}

/// Takes the code of time step `step` for `user_name`: `false` when a code of that step or a
/// later one was used already (a code works once).
pub fn use_step(tx: &mut Tx, user_name: &str, step: i64) -> Result<bool, StoreError> {
    let used = tx.execute(
        "UPDATE admin_second_factors SET last_step = ? WHERE user_name = ? AND confirmed_at IS NOT NULL AND last_step < ?",
        params![step, user_name, step],
    )?;
    Ok(used == 1)
}

/// Takes the recovery code whose SHA-256 is `digest`: `false` when it is not one of the
/// person's or was used.
pub fn use_recovery_code(tx: &mut Tx, user_name: &str, digest: &str, now: i64) -> Result<bool, StoreError> {
    let used = tx.execute(
        "UPDATE admin_recovery_codes SET used_at = ? WHERE user_name = ? AND code_digest = ? AND used_at IS NULL",
        params![now, user_name, digest],
    )?;
    Ok(used == 1)
}

/// Removes a person's second factor and recovery codes and ends their sessions (the CLI's
/// `admin reset-2fa`). Whether they had a factor.
pub fn reset_second_factor(tx: &mut Tx, user_name: &str) -> Result<bool, StoreError> {
    let had = tx.execute("DELETE FROM admin_second_factors WHERE user_name = ?", params![user_name])?;
    tx.execute("DELETE FROM admin_recovery_codes WHERE user_name = ?", params![user_name])?;
    tx.execute("DELETE FROM admin_sessions WHERE user_name = ?", params![user_name])?;
    Ok(had > 0)
}

/// Stores that `actor` asked for the operation `op` (in `op`'s transaction): a plain action,
/// or the review decision `resolving_review` it carries out, which also makes
/// `order.review_resolved`.
pub fn record_operation(tx: &mut Tx, actor: &str, resolving_review: Option<&ActionRow>, op: &OperationRow) -> Result<(), StoreError> {
    let action = match resolving_review {
        Some(resolution) => ActionRow { operation_id: Some(op.id), ..resolution.clone() },
        None => ActionRow {
            order_id: Some(op.order_id),
            note: op.reason.clone(),
            operation_id: Some(op.id),
            ..ActionRow::new(op.kind.into(), actor, super::now())
        },
    };
    record_action(tx, &action)?;
    if action.action == Action::ResolveReview {
        super::orders::announce(tx, op.order_id, epay_api_types::EventType::OrderReviewResolved, None)?;
    }
    Ok(())
}

/// One thing a person did.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRow {
    pub order_id: Option<i64>,
    pub actor: String,
    pub action: Action,
    pub decision: Option<epay_api_types::Decision>,
    pub checked: Option<String>,
    pub note: Option<String>,
    pub operation_id: Option<i64>,
    pub event_id: Option<String>,
    pub at: i64,
}

impl ActionRow {
    /// `action` by `actor` at `at` (unix seconds), about nothing more yet.
    pub fn new(action: Action, actor: impl Into<String>, at: i64) -> ActionRow {
        ActionRow {
            order_id: None,
            actor: actor.into(),
            action,
            decision: None,
            checked: None,
            note: None,
            operation_id: None,
            event_id: None,
            at,
        }
    }
}

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

/// Per state: orders, their amount (what was charged, for charged ones), what refunds
/// returned, and how many had a refund.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTotals {
    pub state: String,
    pub count: i64,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub refunded_orders: i64,
}

/// The orders created since `from` (unix seconds), per state (the console's home figures).
pub fn totals_since(db: &mut Conn, from: i64) -> Result<Vec<StateTotals>, StoreError> {
    db.query_all(
        "SELECT status, COUNT(*), CAST(COALESCE(SUM(COALESCE(captured_minor, amount_minor)), 0) AS BIGINT),
                CAST(COALESCE(SUM(refunded_minor), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN refunded_minor > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM orders WHERE created_at >= ? GROUP BY status",
        params![from],
        |row| {
            Ok(StateTotals {
                state: row.get(0)?,
                count: row.get(1)?,
                amount_minor: row.get(2)?,
                refunded_minor: row.get(3)?,
                refunded_orders: row.get(4)?,
            })
        },
    )
}
