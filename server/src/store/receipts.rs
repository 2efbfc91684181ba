//! Fiscal receipts (migration 0019, docs/fiscal-receipts.md): a sale receipt made due in the
//! transaction that makes its order paid, a return receipt in the one that records a refund's
//! success; claimed one at a time by the receipts' worker (`fiscal::worker`) on any instance,
//! never issued twice (`sent_ms`: looked up before it is sent again), and the cash register's
//! shift and alerts as the proxy last saw them.
//!
//! Only orders made while a registrar was configured owe receipts (their `receipt_lines`). What
//! a receipt lists is computed by the worker before its first request (`fiscal::lines`) and kept
//! here, so every later request sends the same receipt.

use epay_api_types::EventType;

use super::leases::Schedule;
use super::orders::announce;
use super::{Conn, Row, StoreError, Tx, now_ms, params};

/// Receipts due for an attempt, oldest first; a receipt waits for the earlier receipts of its
/// order still due (a return is based on its sale's, and spread over what earlier returns left);
/// one behind a refused receipt is tried, and refused with the reason, rather than kept waiting.
pub const ISSUING: Schedule = Schedule {
    table: "receipts",
    due: "next_attempt_ms",
    only: " AND status = 'due' AND NOT EXISTS (SELECT 1 FROM receipts earlier
             WHERE earlier.order_id = receipts.order_id AND earlier.id < receipts.id AND earlier.status = 'due')",
    also_set: "",
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptKind {
    Sale,
    Return,
}

impl ReceiptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptKind::Sale => "sale",
            ReceiptKind::Return => "return",
        }
    }
}

/// A receipt as stored, with what its order says of the buyer.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiptRow {
    pub id: i64,
    pub order_id: i64,
    pub invoice_id: String,
    pub operation_id: Option<i64>,
    pub kind: ReceiptKind,
    pub external_number: String,
    pub amount_minor: i64,
    /// JSON of `fiscal::lines::Position`s, fixed before the first request.
    pub positions: Option<String>,
    /// `due`, `issued`, `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: Option<i64>,
    pub sent_ms: Option<i64>,
    pub last_error: Option<String>,
    pub issued: Option<IssuedReceipt>,
    pub created_ms: i64,
}

/// What the registrar said of a receipt it issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedReceipt {
    /// The fiscal sign.
    pub check_number: String,
    /// The OFD's link for the buyer.
    pub ticket_url: String,
    pub registration_number: String,
    /// As the registrar printed it (local time).
    pub local_time: String,
    /// ISO 8601, UTC (a return's basis).
    pub utc_time: String,
    pub offline: bool,
    pub shift_number: Option<i64>,
    pub issued_ms: i64,
}

const COLUMNS: &str = "receipts.id, receipts.order_id, (SELECT invoice_id FROM orders WHERE orders.id = receipts.order_id),
    operation_id, kind, external_number, receipts.amount_minor, positions, receipts.status, attempts, next_attempt_ms, sent_ms,
    last_error, check_number, ticket_url, registration_number, issued_local, issued_utc, offline, shift_number, issued_ms,
    created_ms";

fn receipt_from_row(row: &Row<'_>) -> Result<ReceiptRow, StoreError> {
    let kind: String = row.get(4)?;
    let check_number: Option<String> = row.get(13)?;
    let issued = match check_number {
        Some(check_number) => Some(IssuedReceipt {
            check_number,
            ticket_url: row.get::<Option<String>>(14)?.unwrap_or_default(),
            registration_number: row.get::<Option<String>>(15)?.unwrap_or_default(),
            local_time: row.get::<Option<String>>(16)?.unwrap_or_default(),
            utc_time: row.get::<Option<String>>(17)?.unwrap_or_default(),
            offline: row.get::<Option<i64>>(18)?.unwrap_or(0) != 0,
            shift_number: row.get(19)?,
            issued_ms: row.get::<Option<i64>>(20)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(ReceiptRow {
        id: row.get(0)?,
        order_id: row.get(1)?,
        invoice_id: row.get::<Option<String>>(2)?.unwrap_or_default(),
        operation_id: row.get(3)?,
        kind: if kind == "return" { ReceiptKind::Return } else { ReceiptKind::Sale },
        external_number: row.get(5)?,
        amount_minor: row.get(6)?,
        positions: row.get(7)?,
        status: row.get(8)?,
        attempts: row.get(9)?,
        next_attempt_ms: row.get(10)?,
        sent_ms: row.get(11)?,
        last_error: row.get(12)?,
        issued,
        created_ms: row.get(21)?,
    })
}

/// In the transaction that makes order `order_id` paid (its captured amount set): its sale
/// receipt is due, if the order owes receipts and has none yet (an order paid again after a
/// review has one).
pub(crate) fn make_sale_due(tx: &mut Tx, order_id: i64) -> Result<(), StoreError> {
    let at = now_ms();
    tx.execute_later(
        "INSERT INTO receipts (order_id, kind, due_key, external_number, amount_minor, status, next_attempt_ms, created_ms, updated_ms)
         SELECT id, 'sale', 'sale', ?, COALESCE(captured_minor, amount_minor), 'due', ?, ?, ? FROM orders
         WHERE id = ? AND receipt_lines IS NOT NULL
         ON CONFLICT (order_id, due_key) DO NOTHING",
        params![uuid::Uuid::new_v4().to_string(), at, at, at, order_id],
    )
}

/// In the transaction that records refund `operation_id` of `amount_minor` as done: its return
/// receipt is due, if the order's sale owes one (a sale made before receipts were configured
/// has none to return against).
pub(crate) fn make_return_due(tx: &mut Tx, order_id: i64, operation_id: i64, amount_minor: i64) -> Result<(), StoreError> {
    let at = now_ms();
    tx.execute_later(
        "INSERT INTO receipts (order_id, operation_id, kind, due_key, external_number, amount_minor, status, next_attempt_ms, created_ms, updated_ms)
         SELECT order_id, ?, 'return', ?, ?, ?, 'due', ?, ?, ? FROM receipts WHERE order_id = ? AND kind = 'sale'
         ON CONFLICT (order_id, due_key) DO NOTHING",
        params![operation_id, format!("return:{operation_id}"), uuid::Uuid::new_v4().to_string(), amount_minor, at, at, at, order_id],
    )
}

/// Claims the longest-waiting receipt due at `now_ms` until `lease_until_ms`: the claimer's
/// attempt must end before then (`claimed_until_ms` keeps it, for a person's "ask again").
pub fn claim_due(tx: &mut Tx, now_ms: i64, lease_until_ms: i64) -> Result<Option<ReceiptRow>, StoreError> {
    let claimed = ISSUING.claim(tx, now_ms, lease_until_ms, 1, COLUMNS, receipt_from_row)?.into_iter().next();
    if let Some(receipt) = &claimed {
        tx.execute_later("UPDATE receipts SET claimed_until_ms = ? WHERE id = ?", params![lease_until_ms, receipt.id])?;
    }
    Ok(claimed)
}

/// Whether receipt `id` is still claimed until `claimed_until_ms` (its lease did not run out
/// and pass to another instance).
fn still_claimed(tx: &mut Tx, id: i64, claimed_until_ms: i64) -> Result<bool, StoreError> {
    let lock = tx.for_update();
    let status: Option<String> = tx.query_optional(
        &format!("SELECT status FROM receipts WHERE id = ? AND next_attempt_ms = ? {lock}"),
        params![id, claimed_until_ms],
        |row| row.get(0),
    )?;
    Ok(status.as_deref() == Some("due"))
}

/// Fixes what receipt `id` lists before its first request: every later request sends the same.
/// Returns the positions that stand (an earlier claim's win).
pub fn fix_positions(tx: &mut Tx, id: i64, positions: &str) -> Result<String, StoreError> {
    tx.execute_later("UPDATE receipts SET positions = ? WHERE id = ? AND positions IS NULL", params![positions, id])?;
    let stored: Option<String> = tx.query_one("SELECT positions FROM receipts WHERE id = ?", params![id], |row| row.get(0))?;
    Ok(stored.unwrap_or_else(|| positions.to_owned()))
}

/// Records that receipt `id`'s request is about to leave (once: the first time): from now on it
/// is looked up before it is ever sent again. Returns false when the claim was lost.
pub fn mark_sent(tx: &mut Tx, id: i64, claimed_until_ms: i64, at_ms: i64) -> Result<bool, StoreError> {
    if !still_claimed(tx, id, claimed_until_ms)? {
        return Ok(false);
    }
    tx.execute("UPDATE receipts SET sent_ms = COALESCE(sent_ms, ?), updated_ms = ? WHERE id = ?", params![at_ms, at_ms, id])?;
    Ok(true)
}

/// Receipt `id` was issued: recorded with its fiscal sign, announced (`receipt.issued`), and the
/// cash register's shift is open since then at the latest.
pub fn record_issued(tx: &mut Tx, id: i64, claimed_until_ms: i64, cashbox: &str, issued: &IssuedReceipt) -> Result<bool, StoreError> {
    if !still_claimed(tx, id, claimed_until_ms)? {
        return Ok(false);
    }
    let order_id: i64 = tx.query_one(
        "UPDATE receipts SET status = 'issued', next_attempt_ms = NULL, claimed_until_ms = NULL, last_error = NULL, check_number = ?, ticket_url = ?,
             registration_number = ?, issued_local = ?, issued_utc = ?, offline = ?, shift_number = ?, issued_ms = ?, updated_ms = ?
         WHERE id = ? RETURNING order_id",
        params![
            issued.check_number,
            issued.ticket_url,
            issued.registration_number,
            issued.local_time,
            issued.utc_time,
            i64::from(issued.offline),
            issued.shift_number,
            issued.issued_ms,
            issued.issued_ms,
            id
        ],
        |row| row.get(0),
    )?;
    shift_used(tx, cashbox, issued.issued_ms)?;
    clear_alert(tx, cashbox, issued.issued_ms)?;
    announce(tx, order_id, EventType::ReceiptIssued, None)?;
    Ok(true)
}

/// Receipt `id` was not issued this time: one more attempt counted, tried again at
/// `next_attempt_ms` (once sent, it is looked up first).
pub fn retry_later(tx: &mut Tx, id: i64, claimed_until_ms: i64, error: &str, next_attempt_ms: i64) -> Result<bool, StoreError> {
    if !still_claimed(tx, id, claimed_until_ms)? {
        return Ok(false);
    }
    tx.execute(
        "UPDATE receipts SET next_attempt_ms = ?, claimed_until_ms = NULL, attempts = attempts + 1, last_error = ?, updated_ms = ? WHERE id = ?",
        params![next_attempt_ms, error, now_ms(), id],
    )?;
    Ok(true)
}

/// The registrar refused receipt `id` as it is: failed, announced (`receipt.failed`); a person
/// looks, and may make it due again (`retry`).
pub fn record_failed(tx: &mut Tx, id: i64, claimed_until_ms: i64, error: &str) -> Result<bool, StoreError> {
    if !still_claimed(tx, id, claimed_until_ms)? {
        return Ok(false);
    }
    let order_id: i64 = tx.query_one(
        "UPDATE receipts SET status = 'failed', next_attempt_ms = NULL, claimed_until_ms = NULL, attempts = attempts + 1, last_error = ?, updated_ms = ?
         WHERE id = ? RETURNING order_id",
        params![error, now_ms(), id],
        |row| row.get(0),
    )?;
    announce(tx, order_id, EventType::ReceiptFailed, None)?;
    Ok(true)
}

/// What a person's "ask again" found.
#[derive(Clone, Debug, PartialEq)]
pub enum Retry {
    /// Due now (it was failed, or waiting for its next attempt).
    DueNow(Box<ReceiptRow>),
    /// An instance is issuing it right now: asking again would cut its claim short.
    InFlight,
    /// Issued (never issued again), or no such receipt.
    NotRetryable,
}

/// A person asks for receipt `id` again (a failed one, or one waiting): due now, unless an
/// instance is issuing it right now. Its external number stays, so a receipt that was issued
/// after all is found, not issued twice.
pub fn retry(tx: &mut Tx, id: i64) -> Result<Retry, StoreError> {
    let at = now_ms();
    let moved = tx.execute(
        "UPDATE receipts SET status = 'due', next_attempt_ms = ?, updated_ms = ?
         WHERE id = ? AND status IN ('due', 'failed') AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?)",
        params![at, at, id, at],
    )?;
    if moved == 1 {
        return Ok(find(tx, id)?.map_or(Retry::NotRetryable, |row| Retry::DueNow(Box::new(row))));
    }
    Ok(match find(tx, id)? {
        Some(receipt) if receipt.status == "due" => Retry::InFlight,
        _ => Retry::NotRetryable,
    })
}

pub fn find(db: &mut Conn, id: i64) -> Result<Option<ReceiptRow>, StoreError> {
    db.query_optional(&format!("SELECT {COLUMNS} FROM receipts WHERE id = ?"), params![id], receipt_from_row)
}

/// Every receipt of order `order_id`, oldest first.
pub fn for_order(db: &mut Conn, order_id: i64) -> Result<Vec<ReceiptRow>, StoreError> {
    db.query_all(&format!("SELECT {COLUMNS} FROM receipts WHERE order_id = ? ORDER BY id"), params![order_id], receipt_from_row)
}

/// The receipts of `status` (all when `None`), newest first, at most `limit`.
pub fn list(db: &mut Conn, status: Option<&str>, limit: i64) -> Result<Vec<ReceiptRow>, StoreError> {
    match status {
        Some(status) => db.query_all(
            &format!("SELECT {COLUMNS} FROM receipts WHERE status = ? ORDER BY id DESC LIMIT ?"),
            params![status, limit],
            receipt_from_row,
        ),
        None => db.query_all(&format!("SELECT {COLUMNS} FROM receipts ORDER BY id DESC LIMIT ?"), params![limit], receipt_from_row),
    }
}

/// How many receipts are in each status, and since when the oldest due one waits (unix ms).
pub fn counts(db: &mut Conn) -> Result<ReceiptCounts, StoreError> {
    db.query_one(
        "SELECT COUNT(*) FILTER (WHERE status = 'due'), COUNT(*) FILTER (WHERE status = 'issued'),
                COUNT(*) FILTER (WHERE status = 'failed'), MIN(created_ms) FILTER (WHERE status = 'due')
         FROM receipts",
        params![],
        |row| Ok(ReceiptCounts { due: row.get(0)?, issued: row.get(1)?, failed: row.get(2)?, oldest_due_ms: row.get(3)? }),
    )
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiptCounts {
    pub due: i64,
    pub issued: i64,
    pub failed: i64,
    pub oldest_due_ms: Option<i64>,
}

/// The earlier receipts of a receipt's order, oldest first: the sale, then returns (a return's
/// basis and what earlier returns took of each line).
pub fn earlier(db: &mut Conn, receipt: &ReceiptRow) -> Result<Vec<ReceiptRow>, StoreError> {
    db.query_all(
        &format!("SELECT {COLUMNS} FROM receipts WHERE order_id = ? AND id < ? ORDER BY id"),
        params![receipt.order_id, receipt.id],
        receipt_from_row,
    )
}

/// What a receipt needs of its order: its number, description, buyer and `receipt_lines`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptOrder {
    pub invoice_id: String,
    pub description: String,
    pub email: String,
    pub phone: String,
    pub lines: String,
}

pub fn order_of(db: &mut Conn, order_id: i64) -> Result<Option<ReceiptOrder>, StoreError> {
    db.query_optional("SELECT invoice_id, description, email, phone, receipt_lines FROM orders WHERE id = ?", params![order_id], |row| {
        Ok(ReceiptOrder {
            invoice_id: row.get(0)?,
            description: row.get(1)?,
            email: row.get(2)?,
            phone: row.get(3)?,
            lines: row.get::<Option<String>>(4)?.unwrap_or_default(),
        })
    })
}

/// The cash register as the proxy last saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterRow {
    pub cashbox: String,
    /// The first receipt of the open shift (unix ms); `None`: no shift open.
    pub shift_opened_ms: Option<i64>,
    pub last_closed_ms: Option<i64>,
    pub alert: Option<String>,
    pub alert_text: Option<String>,
    pub alert_since_ms: Option<i64>,
    pub last_error: Option<String>,
}

pub fn register(db: &mut Conn, cashbox: &str) -> Result<RegisterRow, StoreError> {
    let row = db.query_optional(
        "SELECT cashbox, shift_opened_ms, last_closed_ms, alert, alert_text, alert_since_ms, last_error FROM fiscal_registers WHERE cashbox = ?",
        params![cashbox],
        |row| {
            Ok(RegisterRow {
                cashbox: row.get(0)?,
                shift_opened_ms: row.get(1)?,
                last_closed_ms: row.get(2)?,
                alert: row.get(3)?,
                alert_text: row.get(4)?,
                alert_since_ms: row.get(5)?,
                last_error: row.get(6)?,
            })
        },
    )?;
    Ok(row.unwrap_or_else(|| RegisterRow { cashbox: cashbox.to_owned(), ..RegisterRow::default() }))
}

fn ensure_register(tx: &mut Tx, cashbox: &str, at_ms: i64) -> Result<(), StoreError> {
    tx.execute_later(
        "INSERT INTO fiscal_registers (cashbox, updated_ms) VALUES (?, ?) ON CONFLICT (cashbox) DO NOTHING",
        params![cashbox, at_ms],
    )
}

/// A receipt went through at `at_ms`: the shift is open since then, unless it was already.
fn shift_used(tx: &mut Tx, cashbox: &str, at_ms: i64) -> Result<(), StoreError> {
    ensure_register(tx, cashbox, at_ms)?;
    tx.execute_later(
        "UPDATE fiscal_registers SET shift_opened_ms = COALESCE(shift_opened_ms, ?), updated_ms = ? WHERE cashbox = ?",
        params![at_ms, at_ms, cashbox],
    )
}

/// A person must act (`alert`: blocked, not activated, offline over 72 hours, wrong
/// credentials): kept until a receipt goes through again.
pub fn raise_alert(tx: &mut Tx, cashbox: &str, alert: &str, text: &str) -> Result<(), StoreError> {
    let at = now_ms();
    ensure_register(tx, cashbox, at)?;
    tx.execute(
        "UPDATE fiscal_registers SET alert_since_ms = CASE WHEN alert = ? THEN alert_since_ms ELSE ? END, alert = ?, alert_text = ?, updated_ms = ?
         WHERE cashbox = ?",
        params![alert, at, alert, text, at, cashbox],
    )?;
    Ok(())
}

fn clear_alert(tx: &mut Tx, cashbox: &str, at_ms: i64) -> Result<(), StoreError> {
    tx.execute_later(
        "UPDATE fiscal_registers SET alert = NULL, alert_text = NULL, alert_since_ms = NULL, updated_ms = ? WHERE cashbox = ? AND alert IS NOT NULL",
        params![at_ms, cashbox],
    )
}

/// The shift was closed (a Z-report) at `at_ms`: the next receipt opens a new one.
pub fn shift_closed(tx: &mut Tx, cashbox: &str, at_ms: i64) -> Result<(), StoreError> {
    ensure_register(tx, cashbox, at_ms)?;
    tx.execute_later(
        "UPDATE fiscal_registers SET shift_opened_ms = NULL, last_closed_ms = ?, last_error = NULL, updated_ms = ? WHERE cashbox = ?",
        params![at_ms, at_ms, cashbox],
    )
}

/// Closing the shift failed: why, for the console.
pub fn shift_close_failed(tx: &mut Tx, cashbox: &str, error: &str) -> Result<(), StoreError> {
    let at = now_ms();
    ensure_register(tx, cashbox, at)?;
    tx.execute_later("UPDATE fiscal_registers SET last_error = ?, updated_ms = ? WHERE cashbox = ?", params![error, at, cashbox])
}
