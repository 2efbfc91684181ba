//! Invoice ids and the last six digits ePay wants unique too: drawing a fresh id for a new
//! order, holding its suffix until its token can no longer be used, releasing and reclaiming
//! it, and counting the orders that hold one (`MAX_OPEN_ORDERS`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::change::{record_history, with_first_history};
use super::row::{NewOrder, OrderRow};
use super::state::OrderState;
use crate::invoice;
use crate::store::{Conn, Dialect, Param, StoreError, Tx, now, params, unique_violation};

/// A new order's row, then `tail` (what to do on a conflict, and `RETURNING id`).
macro_rules! insert_order {
    ($tail:literal) => {
        concat!(
            "INSERT INTO orders (invoice_id, invoice_suffix, reserved_suffix, order_key, secret_hash, idempotency_key,
    request_fingerprint, amount_minor, currency, terminal, method, description, account_id,
    email, phone, language, card_save, status, created_at, updated_at, source, merchant_reference,
    merchant_idempotency_key, merchant_fingerprint, metadata, return_url, expires_at, receipt_lines)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ",
            $tail
        )
    };
}

/// Random draws before giving up on a unique invoice id (each collides with p < 1e-3).
const INVOICE_ATTEMPTS: usize = 32;

/// Stores `new` as a `created` order under a fresh random invoice id whose full number and
/// last six digits are both unused (database constraints; a collision draws again). Any other
/// unique violation (the same Idempotency-Key or reference stored meanwhile by another
/// instance) is the caller's to handle; the failed insert leaves nothing behind.
pub fn insert_with_unique_invoice(tx: &mut Tx, new: &NewOrder) -> Result<OrderRow, StoreError> {
    let created_at = now();
    let amount_minor = new.amount.minor() as i64;
    let (status, source) = new.first_state();
    let merchant = new.merchant.as_ref();
    let (reference, merchant_key, fingerprint) =
        (merchant.map(|m| &m.reference), merchant.map(|m| &m.idempotency_key), merchant.map(|m| &m.fingerprint));
    let (metadata, return_url, expires_at) = (
        merchant.and_then(|m| m.metadata.as_ref()),
        merchant.and_then(|m| m.return_url.as_ref()),
        merchant.map(|m| created_at + m.lifetime_secs),
    );
    for _ in 0..INVOICE_ATTEMPTS {
        let invoice_id = invoice::new_invoice_id();
        let suffix = invoice::suffix(&invoice_id);
        let values = params![
            invoice_id,
            suffix,
            suffix,
            new.order_key,
            new.secret_hash,
            new.idempotency_key,
            new.request_fingerprint,
            amount_minor,
            new.currency,
            new.terminal,
            new.method,
            new.description,
            new.account_id,
            new.email,
            new.phone,
            new.language,
            new.card_save,
            status,
            created_at,
            created_at,
            source,
            reference,
            merchant_key,
            fingerprint,
            metadata,
            return_url,
            expires_at,
            new.receipt_lines,
        ];
        // Without a conflict (nearly always) the insert is one statement; with one, it runs again
        // inside a savepoint (PostgreSQL refuses every statement after an error until one is
        // rolled back) to learn which constraint it broke.
        let inserted = match insert_unless_taken(tx, values, status, created_at)? {
            Some(id) => Ok(id),
            None => tx.attempt(|tx| tx.query_one(insert_order!("RETURNING id"), values, |row| row.get(0))).and_then(|id| {
                record_history(tx, id, status, created_at)?;
                Ok(id)
            }),
        };
        match inserted {
            Ok(id) => return Ok(OrderRow::created(id, invoice_id, new, created_at)),
            // The invoice id or its last six digits are taken: draw again.
            Err(e) if unique_violation(&e).is_some_and(|names| names.contains("invoice_id") || names.contains("reserved_suffix")) => {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::InvoiceIdsExhausted)
}

/// Inserts the order `values` describe with the first row of its history, unless a unique
/// value of it is taken (then nothing, and `None`): on PostgreSQL one statement, on SQLite two.
fn insert_unless_taken(tx: &mut Tx, values: &[&dyn Param], status: OrderState, at: i64) -> Result<Option<i64>, StoreError> {
    if tx.dialect() == Dialect::Postgres {
        let values: Vec<&dyn Param> = values.iter().copied().chain([&status as &dyn Param, &at]).collect();
        return tx.query_optional(&with_first_history(insert_order!("ON CONFLICT DO NOTHING RETURNING id")), &values, |row| row.get(0));
    }
    let inserted = tx.query_optional(insert_order!("ON CONFLICT DO NOTHING RETURNING id"), values, |row| row.get(0))?;
    if let Some(id) = inserted {
        record_history(tx, id, status, at)?;
    }
    Ok(inserted)
}

/// Makes sure `order` holds its invoice suffix before it can be paid. A suffix released after
/// the order's token ran out may since have gone to a newer order: then `Err` names that
/// order's invoice, and the caller hands this one to a human instead (ePay tells orders apart
/// by those six digits too).
pub fn reclaim_suffix(tx: &mut Tx, order: &OrderRow) -> Result<Result<(), String>, StoreError> {
    if order.reserved_suffix.is_some() {
        return Ok(Ok(()));
    }
    let suffix = invoice::suffix(&order.invoice_id);
    let holder: Option<String> =
        tx.query_optional("SELECT invoice_id FROM orders WHERE reserved_suffix = ? AND id <> ?", params![suffix, order.id], |row| {
            row.get(0)
        })?;
    if let Some(holder) = holder {
        return Ok(Err(holder));
    }
    tx.execute("UPDATE orders SET reserved_suffix = ?, version = version + 1 WHERE id = ?", params![suffix, order.id])?;
    Ok(Ok(()))
}

/// Releases the invoice suffixes of finished orders whose token can no longer be used
/// (`grace_secs` after it expired), so new orders may draw them. Returns how many orders
/// still hold one.
/// Through `orders_suffix_release` (migration 0006): only orders that hold a suffix and can
/// let it go are read, however many finished orders the table holds (`status || ''` keeps
/// SQLite from preferring the status index, which lists every paid order ever, as SQLite's
/// `+status` would, in SQL PostgreSQL takes too).
pub(crate) const RELEASE_SUFFIXES: &str = "UPDATE orders SET reserved_suffix = NULL
     WHERE reserved_suffix IS NOT NULL AND COALESCE(token_expires_at, expires_at, created_at) <= ?
       AND status || '' IN ('paid', 'failed', 'expired', 'review', 'authorized', 'cancelled', 'refunded')";

pub fn release_suffixes(tx: &mut Tx, now: i64, grace_secs: i64) -> Result<(), StoreError> {
    tx.execute(RELEASE_SUFFIXES, params![now - grace_secs])?;
    Ok(())
}

/// Counted on the index of the suffixes held (as many rows as orders hold one).
pub(crate) const COUNT_HOLDING_SUFFIX: &str = "SELECT COUNT(*) FROM orders WHERE reserved_suffix IS NOT NULL";

pub fn count_holding_suffix(db: &mut Conn) -> Result<u64, StoreError> {
    let held: i64 = db.query_one(COUNT_HOLDING_SUFFIX, params![], |row| row.get(0))?;
    Ok(held as u64)
}

/// Merchant orders holding a suffix (their own index, migration 0011).
pub(crate) const COUNT_MERCHANT_HOLDING_SUFFIX: &str =
    "SELECT COUNT(*) FROM orders WHERE reserved_suffix IS NOT NULL AND source = 'merchant'";

pub fn count_merchant_holding_suffix(db: &mut Conn) -> Result<u64, StoreError> {
    let held: i64 = db.query_one(COUNT_MERCHANT_HOLDING_SUFFIX, params![], |row| row.get(0))?;
    Ok(held as u64)
}

/// How many orders hold an invoice suffix, kept in memory so a checkout need not count them:
/// an insert adds one (inside its write job, so that the jobs of one batch see each other's),
/// the maintenance task recounts after it releases suffixes. Several instances on PostgreSQL
/// each count their own inserts between recounts (docs/deploy.md has the arithmetic); the
/// unique index on the suffixes holds whatever the count says.
///
/// An insert is in flight from its add until its write job has finished (`settled`): it may be
/// committed after a count's snapshot, so a recount keeps every add not yet settled when the
/// count began on top of the count; it never forgets one (one committed while the count ran is
/// counted twice until the next round, and one whose write failed is counted until the next
/// round: erring on the side of the limit). A job may run more than once before it commits (its
/// batch rolled back): its order is added once (`added_once`).
#[derive(Debug, Default)]
pub struct OpenOrders {
    held: AtomicU64,
    /// Every insert this process made.
    adds: AtomicU64,
    /// The adds whose write jobs have finished (committed or not).
    settled: AtomicU64,
    max: u64,
}

impl OpenOrders {
    pub fn new(held: u64, max: u64) -> OpenOrders {
        OpenOrders { held: AtomicU64::new(held), adds: AtomicU64::new(0), settled: AtomicU64::new(0), max }
    }

    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    pub(super) fn is_full(&self) -> bool {
        self.held() >= self.max
    }

    /// `added`, unless the write job that owns `counted` already counted its order in a run
    /// that did not commit. The job's caller then calls `settled` once it has finished.
    pub(super) fn added_once(&self, counted: &AtomicBool) {
        if !counted.swap(true, Ordering::SeqCst) {
            self.added();
        }
    }

    fn added(&self) {
        self.adds.fetch_add(1, Ordering::SeqCst);
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    /// The write job of an add has finished, committed or not.
    pub fn settled(&self) {
        self.settled.fetch_add(1, Ordering::SeqCst);
    }

    /// Taken right before a count: what `recounted` is told it began at.
    pub fn counting(&self) -> u64 {
        self.settled.load(Ordering::SeqCst)
    }

    /// `held`, counted from the store after `counting` said `began`, with this process's adds
    /// not settled by then on top, but never above both what this process already counts and
    /// the store's count: an insert committed after `began` and before the count's snapshot is
    /// in both, and raises nothing (another instance's inserts, in the count alone, do).
    pub fn recounted(&self, held: u64, began: u64) {
        let since = self.adds.load(Ordering::SeqCst).saturating_sub(began);
        let counted = held + since;
        let _ = self.held.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(counted.min(now.max(held))));
    }
}

#[cfg(test)]
mod open_orders_tests {
    use std::sync::atomic::AtomicBool;

    use super::OpenOrders;

    /// An insert in flight while the round counts (added, its job not finished, so perhaps not
    /// in the count) is not forgotten by the recount; the quota still holds. A job that runs
    /// twice adds once.
    #[test]
    fn a_recount_keeps_the_inserts_in_flight() {
        let open = OpenOrders::new(0, 2);
        let first = AtomicBool::new(false);
        open.added_once(&first); // committed and settled before the round
        open.added_once(&first); // the same job run again: not a second order
        open.settled();
        let second = AtomicBool::new(false);
        open.added_once(&second); // in flight while the round counts
        let began = open.counting();
        open.recounted(1, began);
        assert_eq!(open.held(), 2);
        assert!(open.is_full(), "a third order would pass the quota");
        // An insert committed before the count, settled after it began: counted once.
        let late = OpenOrders::new(1, 2);
        let began = late.counting();
        late.added_once(&AtomicBool::new(false));
        late.recounted(2, began);
        assert_eq!(late.held(), 2, "not 3");
        // The next round, with both committed and settled, counts them as they are.
        open.settled();
        let began = open.counting();
        open.recounted(2, began);
        assert_eq!(open.held(), 2);
    }
}
