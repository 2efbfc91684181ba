//! Orders: rows, states and the statements that move them.

use std::sync::atomic::{AtomicU64, Ordering};

use epay_api_types::{Amount, OrderStatus};
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::{StoreError, now, now_ms};
use crate::invoice;
use crate::secrets::SecretText;

/// Where an order is in its life. Stored as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "snake_case")]
pub enum OrderState {
    /// Stored, token not yet obtained.
    Created,
    /// Token issued; waiting for the payer and ePay.
    Pending,
    /// The token request failed; a retry with the same Idempotency-Key starts it again.
    StartFailed,
    /// A valid success postLink arrived; waiting for the status API to confirm it.
    Confirming,
    /// Paid: confirmed. Final.
    Paid,
    /// Declined by ePay. A later confirmed success still wins.
    Failed,
    /// Something did not add up; a human must look. Never becomes paid by itself.
    Review,
    /// The payment window closed without a payment.
    Expired,
}

impl OrderState {
    pub fn public(self) -> OrderStatus {
        match self {
            OrderState::Created | OrderState::Pending | OrderState::Confirming | OrderState::Review => OrderStatus::Pending,
            OrderState::Paid => OrderStatus::Paid,
            OrderState::Failed | OrderState::StartFailed => OrderStatus::Failed,
            OrderState::Expired => OrderStatus::Expired,
        }
    }
}

#[derive(Clone, Debug, FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub invoice_id: String,
    pub order_key: SecretText,
    pub secret_hash: SecretText,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub terminal: String,
    pub method: String,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub card_save: bool,
    pub status: OrderState,
    pub token_response: Option<String>,
    pub token_expires_at: Option<i64>,
    pub start_error: Option<String>,
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_code: Option<i64>,
    pub review_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the confirmation worker asks ePay's status API next (unix ms); NULL: never.
    pub next_check_ms: Option<i64>,
    pub check_attempts: i64,
    pub last_check: Option<String>,
    /// Bumped by every change: a decision applies only to the version it was made on.
    pub version: i64,
    /// The invoice suffix this order holds (NULL once released, see `release_suffixes`).
    pub reserved_suffix: Option<String>,
    pub fee_minor: Option<i64>,
    /// The saved card (cardSave) as the success postLink describes it.
    pub card_id: Option<String>,
    pub card_type: Option<String>,
    /// When a postLink without secret_hash last made the proxy ask the status API.
    pub last_hint_ms: Option<i64>,
}

impl OrderRow {
    pub fn amount(&self) -> Amount {
        Amount::from_minor(self.amount_minor as u64)
    }

    /// The row of a new order as `begin_checkout` writes it (state `created`), without
    /// reading it back. Tests and fuzz targets build their orders with it too.
    pub fn created(id: i64, invoice_id: String, new: &NewOrder, created_at: i64) -> OrderRow {
        OrderRow {
            id,
            invoice_id: invoice_id.clone(),
            order_key: new.order_key.clone(),
            secret_hash: new.secret_hash.clone(),
            idempotency_key: new.idempotency_key.clone(),
            request_fingerprint: Some(new.request_fingerprint.clone()),
            amount_minor: new.amount.minor() as i64,
            currency: new.currency.clone(),
            terminal: new.terminal.clone(),
            method: new.method.clone(),
            description: new.description.clone(),
            account_id: new.account_id.clone(),
            email: new.email.clone(),
            phone: new.phone.clone(),
            language: new.language.clone(),
            card_save: new.card_save,
            status: OrderState::Created,
            token_response: None,
            token_expires_at: None,
            start_error: None,
            transaction_id: None,
            card_mask: None,
            approval_code: None,
            reference: None,
            failure_reason: None,
            failure_code: None,
            review_reason: None,
            created_at,
            updated_at: created_at,
            next_check_ms: None,
            check_attempts: 0,
            last_check: None,
            version: 0,
            reserved_suffix: Some(invoice::suffix(&invoice_id).to_owned()),
            fee_minor: None,
            card_id: None,
            card_type: None,
            last_hint_ms: None,
        }
    }

    pub fn method(&self) -> epay_api_types::PaymentMethod {
        epay_api_types::PaymentMethod::from_name(&self.method).unwrap_or_default()
    }
}

/// Everything a checkout stores before ePay is asked for a token.
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub order_key: SecretText,
    pub secret_hash: SecretText,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    pub method: String,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub card_save: bool,
}

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
    /// As many orders hold an invoice suffix as `MAX_OPEN_ORDERS` allows.
    TooManyOpen,
}

/// How many orders hold an invoice suffix, kept in memory so a checkout need not count them:
/// an insert adds one, the maintenance task recounts after it releases suffixes.
#[derive(Debug, Default)]
pub struct OpenOrders {
    held: AtomicU64,
    max: u64,
}

impl OpenOrders {
    pub fn new(held: u64, max: u64) -> OpenOrders {
        OpenOrders { held: AtomicU64::new(held), max }
    }

    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    fn is_full(&self) -> bool {
        self.held() >= self.max
    }

    fn added(&self) {
        self.held.fetch_add(1, Ordering::Relaxed);
    }

    pub fn recounted(&self, held: u64) {
        self.held.store(held, Ordering::Relaxed);
    }
}

/// A token this close to expiry is replaced rather than handed out again.
const TOKEN_REUSE_MARGIN_SECS: i64 = 120;
/// Random draws before giving up on a unique invoice id (each collides with p < 1e-3).
const INVOICE_ATTEMPTS: usize = 32;

const ORDER_COLUMNS: &str = "*";

/// Finds or creates the order for a checkout request. Runs on the writer, so the lookup and
/// the insert cannot interleave with another checkout.
pub async fn begin_checkout(conn: &mut SqliteConnection, new: NewOrder, open: &OpenOrders) -> Result<Begin, StoreError> {
    if let Some(key) = &new.idempotency_key {
        let existing: Option<OrderRow> = sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE idempotency_key = ?"))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(order) = existing {
            if order.request_fingerprint.as_deref() != Some(new.request_fingerprint.as_str()) {
                return Ok(Begin::KeyReused);
            }
            let token_fresh = order.token_expires_at.is_some_and(|at| at > now() + TOKEN_REUSE_MARGIN_SECS);
            return Ok(match order.status {
                OrderState::Created => Begin::InProgress(order),
                OrderState::Pending if token_fresh => Begin::Ready(order),
                OrderState::Pending | OrderState::StartFailed => Begin::Start(restart(conn, order).await?),
                _ => Begin::Finished(order),
            });
        }
    }
    if open.is_full() {
        return Ok(Begin::TooManyOpen);
    }
    let order = insert_with_unique_invoice(conn, &new).await?;
    open.added();
    Ok(Begin::Start(order))
}

/// Moves an order back to `created` so this request can obtain a (new) token for it.
async fn restart(conn: &mut SqliteConnection, order: OrderRow) -> Result<OrderRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE orders SET status = 'created', start_error = NULL, updated_at = ?, version = version + 1 WHERE id = ? RETURNING {ORDER_COLUMNS}"
    ))
    .bind(now())
    .bind(order.id)
    .fetch_one(conn)
    .await?)
}

async fn insert_with_unique_invoice(conn: &mut SqliteConnection, new: &NewOrder) -> Result<OrderRow, StoreError> {
    let created_at = now();
    for _ in 0..INVOICE_ATTEMPTS {
        let invoice_id = invoice::new_invoice_id();
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO orders (invoice_id, invoice_suffix, reserved_suffix, order_key, secret_hash, idempotency_key,
                request_fingerprint, amount_minor, currency, terminal, method, description, account_id,
                email, phone, language, card_save, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)
             RETURNING id",
        )
        .bind(&invoice_id)
        .bind(invoice::suffix(&invoice_id))
        .bind(invoice::suffix(&invoice_id))
        .bind(&new.order_key)
        .bind(&new.secret_hash)
        .bind(&new.idempotency_key)
        .bind(&new.request_fingerprint)
        .bind(new.amount.minor() as i64)
        .bind(&new.currency)
        .bind(&new.terminal)
        .bind(&new.method)
        .bind(&new.description)
        .bind(&new.account_id)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(&new.language)
        .bind(new.card_save)
        .bind(created_at)
        .bind(created_at)
        .fetch_one(&mut *conn)
        .await;
        match inserted {
            Ok(id) => return Ok(OrderRow::created(id, invoice_id, new, created_at)),
            // The invoice id or its last six digits are taken: draw again.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::InvoiceIdsExhausted)
}

/// Records the token ePay issued: the order is now waiting for the payer, and the status API
/// is asked about it at `first_check_ms` unless a postLink comes first. Only a `created` order
/// takes it: one that moved on meanwhile (a postLink, the status API) never goes back to
/// `pending`. Returns whether it did.
pub async fn record_token(
    conn: &mut SqliteConnection,
    id: i64,
    raw_token: &str,
    expires_at: i64,
    first_check_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'pending', token_response = ?, token_expires_at = ?, updated_at = ?,
            next_check_ms = ?, check_attempts = 0, version = version + 1
         WHERE id = ? AND status = 'created'",
    )
    .bind(raw_token)
    .bind(expires_at)
    .bind(now())
    .bind(first_check_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records why the token request failed; the order cannot be paid until a retry. Unless one
/// comes, reconciliation looks it up at `check_ms` (a token ePay issued after all?) and lets it
/// expire, which frees its invoice suffix.
pub async fn record_start_failure(conn: &mut SqliteConnection, id: i64, error: &str, check_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET status = 'start_failed', start_error = ?, updated_at = ?, next_check_ms = ?, check_attempts = 0,
            version = version + 1
         WHERE id = ? AND status = 'created'",
    )
    .bind(error)
    .bind(now())
    .bind(check_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a restart no token request is in flight: orders still `created` were interrupted.
/// They are reconciled like any failed start.
pub async fn fail_interrupted_starts(conn: &mut SqliteConnection, check_ms: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'start_failed', start_error = 'interrupted by a restart', updated_at = ?,
            next_check_ms = ?, check_attempts = 0, version = version + 1
         WHERE status = 'created'",
    )
    .bind(now())
    .bind(check_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn find_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<OrderRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?")).bind(id).fetch_optional(conn).await?)
}

pub async fn find_by_invoice(conn: &mut SqliteConnection, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE invoice_id = ?"))
        .bind(invoice_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn read_by_invoice(pool: &SqlitePool, invoice_id: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE invoice_id = ?"))
        .bind(invoice_id)
        .fetch_optional(pool)
        .await?)
}

pub async fn read_by_idempotency_key(pool: &SqlitePool, key: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE idempotency_key = ?"))
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

/// The fields an outcome (postLink or status API) sets on an order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_code: Option<i64>,
    pub fee: Option<Amount>,
    /// A saved card's id and type (only when the order asked for cardSave).
    pub card_id: Option<String>,
    pub card_type: Option<String>,
}

/// Moves an order to `state`, recording what ePay said about it. A `confirming` order is due
/// for the status API at once; every other state asks nothing more.
pub async fn set_outcome(conn: &mut SqliteConnection, id: i64, state: OrderState, outcome: &Outcome) -> Result<(), StoreError> {
    let next_check_ms = (state == OrderState::Confirming).then(now_ms);
    sqlx::query(
        "UPDATE orders SET status = ?, transaction_id = COALESCE(?, transaction_id), card_mask = COALESCE(?, card_mask),
            approval_code = COALESCE(?, approval_code), reference = COALESCE(?, reference),
            failure_reason = ?, failure_code = ?, fee_minor = COALESCE(?, fee_minor), card_id = COALESCE(?, card_id),
            card_type = COALESCE(?, card_type), updated_at = ?, next_check_ms = ?, check_attempts = 0,
            version = version + 1
         WHERE id = ?",
    )
    .bind(state)
    .bind(&outcome.transaction_id)
    .bind(&outcome.card_mask)
    .bind(&outcome.approval_code)
    .bind(&outcome.reference)
    .bind(&outcome.failure_reason)
    .bind(outcome.failure_code)
    .bind(outcome.fee.map(|fee| fee.minor() as i64))
    .bind(&outcome.card_id)
    .bind(&outcome.card_type)
    .bind(now())
    .bind(next_check_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The payment window closed with no transaction at ePay; `last_check` is what it answered.
pub async fn expire(conn: &mut SqliteConnection, id: i64, last_check: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET status = 'expired', last_check = ?, updated_at = ?, next_check_ms = NULL, version = version + 1 WHERE id = ?")
        .bind(last_check)
        .bind(now())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Hands an order to a human: it stops being asked about and is never paid by itself.
pub async fn send_to_review(conn: &mut SqliteConnection, id: i64, reason: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET status = 'review', review_reason = ?, updated_at = ?, next_check_ms = NULL, version = version + 1 WHERE id = ?")
        .bind(reason)
        .bind(now())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Asks the status API about the order again at `at_ms`, remembering what it said last.
pub async fn schedule_check(conn: &mut SqliteConnection, id: i64, at_ms: i64, last_check: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET next_check_ms = ?, check_attempts = check_attempts + 1, last_check = ?, version = version + 1 WHERE id = ?")
        .bind(at_ms)
        .bind(last_check)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The states the confirmation worker asks about: open ones, and a failed or expired order a
/// postLink without secret_hash said may have been paid after all.
const ASKED_ABOUT: &str = "'pending', 'start_failed', 'confirming', 'failed', 'expired'";

/// Orders the confirmation worker should ask about now, the longest-waiting first.
pub async fn due_for_check(pool: &SqlitePool, now_ms: i64, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE next_check_ms IS NOT NULL AND next_check_ms <= ? AND status IN ({ASKED_ABOUT})
         ORDER BY next_check_ms LIMIT ?"
    ))
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// When the next question is due, if any.
pub async fn next_check_ms(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(&format!("SELECT MIN(next_check_ms) FROM orders WHERE next_check_ms IS NOT NULL AND status IN ({ASKED_ABOUT})"))
        .fetch_one(pool)
        .await?)
}

/// Flags an order for a human, keeping its state (a paid order stays paid).
pub async fn flag_for_review(conn: &mut SqliteConnection, id: i64, reason: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET review_reason = ?, updated_at = ?, version = version + 1 WHERE id = ?")
        .bind(reason)
        .bind(now())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stops asking the status API about an order (a failed or expired order that a hint made the
/// worker ask about, and that is still not paid), remembering what it said last.
pub async fn stop_checking(conn: &mut SqliteConnection, id: i64, last_check: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET next_check_ms = NULL, last_check = ?, version = version + 1 WHERE id = ?")
        .bind(last_check)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A postLink without secret_hash named this order: ask the status API now (`at_ms`), on the
/// fast schedule of a fresh hint. Waiting orders start their pauses over; a confirming order
/// keeps its count of questions, so hints cannot keep it from review.
pub async fn schedule_hinted_check(conn: &mut SqliteConnection, id: i64, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET next_check_ms = ?, last_hint_ms = ?, version = version + 1,
            check_attempts = CASE WHEN status = 'confirming' THEN check_attempts ELSE 0 END
         WHERE id = ?",
    )
    .bind(at_ms)
    .bind(at_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes sure `order` holds its invoice suffix before it can be paid. A suffix released after
/// the order's token ran out may since have gone to a newer order: then `Err` names that
/// order's invoice, and the caller hands this one to a human instead (ePay tells orders apart
/// by those six digits too).
pub async fn reclaim_suffix(conn: &mut SqliteConnection, order: &OrderRow) -> Result<Result<(), String>, StoreError> {
    if order.reserved_suffix.is_some() {
        return Ok(Ok(()));
    }
    let suffix = invoice::suffix(&order.invoice_id);
    let holder: Option<String> = sqlx::query_scalar("SELECT invoice_id FROM orders WHERE reserved_suffix = ? AND id <> ?")
        .bind(suffix)
        .bind(order.id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(holder) = holder {
        return Ok(Err(holder));
    }
    sqlx::query("UPDATE orders SET reserved_suffix = ?, version = version + 1 WHERE id = ?").bind(suffix).bind(order.id).execute(conn).await?;
    Ok(Ok(()))
}

/// Releases the invoice suffixes of finished orders whose token can no longer be used
/// (`grace_secs` after it expired), so new orders may draw them. Returns how many orders
/// still hold one.
pub async fn release_suffixes(conn: &mut SqliteConnection, now: i64, grace_secs: i64) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE orders SET reserved_suffix = NULL
         WHERE reserved_suffix IS NOT NULL AND status IN ('paid', 'failed', 'expired', 'review')
           AND COALESCE(token_expires_at, created_at) + ? <= ?",
    )
    .bind(grace_secs)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    count_holding_suffix(conn).await
}

pub async fn count_holding_suffix(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE reserved_suffix IS NOT NULL").fetch_one(conn).await?;
    Ok(held as u64)
}
