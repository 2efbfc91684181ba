//! Saved cards (migration 0017): a card ePay saved for a customer (the shop's `accountId`) once
//! the payer agreed, the payer's answer per order, and the payments the shop starts with a card
//! (`card_charges`, one request each, never sent twice). docs/saved-cards.md.
//!
//! A card is written by the success postLink that carries its `cardId` (the only place ePay
//! reports it), as `pending`, and becomes `active` in the transaction that makes its order paid
//! (`orders::change`), whichever of the two comes first: only ePay's status API makes an order
//! paid, and only a paid order's card may be charged. Nothing here holds a card number: ePay's
//! `cardId`, its mask, scheme and issuer.

use epay_api_types::{CardStatus, OrderSource};

use super::orders::{OrderRow, OrderState};
use super::{Conn, StoreError, Tx};
use crate::params;

/// A saved card as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CardRow {
    pub id: i64,
    /// The id the merchant API shows (`card_…`); ePay's `cardId` never leaves the proxy.
    pub card_ref: String,
    pub account_id: String,
    pub epay_card_id: String,
    pub terminal: String,
    pub card_mask: Option<String>,
    pub card_type: Option<String>,
    pub issuer: Option<String>,
    pub saved_by_order: i64,
    /// That order's invoice id.
    pub saved_by_invoice_id: String,
    pub status: CardStatus,
    pub saved_at: i64,
    pub last_used_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    /// When ePay's deactivation is tried next (unix ms); NULL: not due, or done.
    pub deactivate_next_ms: Option<i64>,
    pub deactivate_attempts: i64,
    pub deactivated_at: Option<i64>,
    pub deactivate_error: Option<String>,
}

const COLUMNS: &str = "id, card_ref, account_id, epay_card_id, terminal, card_mask, card_type, issuer, saved_by_order, status, saved_at,
    last_used_at, deleted_at, deleted_by, deactivate_next_ms, deactivate_attempts, deactivated_at, deactivate_error,
    (SELECT invoice_id FROM orders WHERE orders.id = saved_by_order)";

fn card_from_row(row: &super::db::Row<'_>) -> Result<CardRow, StoreError> {
    Ok(CardRow {
        id: row.get(0)?,
        card_ref: row.get(1)?,
        account_id: row.get(2)?,
        epay_card_id: row.get(3)?,
        terminal: row.get(4)?,
        card_mask: row.get(5)?,
        card_type: row.get(6)?,
        issuer: row.get(7)?,
        saved_by_order: row.get(8)?,
        status: row.get(9)?,
        saved_at: row.get(10)?,
        last_used_at: row.get(11)?,
        deleted_at: row.get(12)?,
        deleted_by: row.get(13)?,
        deactivate_next_ms: row.get(14)?,
        deactivate_attempts: row.get(15)?,
        deactivated_at: row.get(16)?,
        deactivate_error: row.get(17)?,
        saved_by_invoice_id: row.get(18)?,
    })
}

/// What a success postLink says of the card it saved.
#[derive(Clone, Debug, Default)]
pub struct SeenCard {
    pub epay_card_id: String,
    pub card_mask: Option<String>,
    pub card_type: Option<String>,
    pub issuer: Option<String>,
}

/// States of an order whose payment went through: its saved card may be charged.
fn paid(state: OrderState) -> bool {
    matches!(state, OrderState::Paid | OrderState::Authorized | OrderState::Refunded)
}

/// Whether a card ePay reports for `order` is the customer's to keep: a merchant order (its
/// `accountId` is the shop's, not a browser's) that allowed saving, whose payer agreed. Pure.
pub fn may_keep(order: &OrderRow, consent: bool) -> bool {
    order.source == OrderSource::Merchant && order.card_save && consent && !order.account_id.trim().is_empty()
}

/// Keeps the card a success postLink reported for `order`, when `may_keep` says so: `pending`
/// until the order is paid (at once when it already is). A card ePay reported before is left
/// as it is. Returns whether a card was written.
pub fn remember(tx: &mut Tx, order: &OrderRow, seen: &SeenCard, now: i64) -> Result<bool, StoreError> {
    if !may_keep(order, consent_given(tx, order.id)?) {
        return Ok(false);
    }
    let status = if paid(order.status) { CardStatus::Active } else { CardStatus::Pending };
    let card_ref = format!("card_{}", crate::secrets::random_hex(12));
    let written = tx.execute(
        "INSERT INTO saved_cards (card_ref, account_id, epay_card_id, terminal, card_mask, card_type, issuer, saved_by_order, status, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (epay_card_id) DO NOTHING",
        params![card_ref, order.account_id, seen.epay_card_id, order.terminal, seen.card_mask, seen.card_type, seen.issuer, order.id, status, now],
    )?;
    Ok(written == 1)
}

/// The card order `order_id` saved becomes chargeable: the order is paid (`orders::change`).
pub(crate) fn activate_saved_by(tx: &mut Tx, order_id: i64) -> Result<(), StoreError> {
    tx.execute_later(
        "UPDATE saved_cards SET status = ? WHERE saved_by_order = ? AND status = ?",
        params![CardStatus::Active, order_id, CardStatus::Pending],
    )
}

/// Records the payer's answer for `order_id` (the latest start's answer counts).
pub fn record_consent(tx: &mut Tx, order_id: i64, given: bool, now: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO card_consents (order_id, given, at) VALUES (?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET given = excluded.given, at = excluded.at",
        params![order_id, i64::from(given), now],
    )?;
    Ok(())
}

/// Whether the payer of `order_id` agreed to save the card.
pub fn consent_given(db: &mut Conn, order_id: i64) -> Result<bool, StoreError> {
    let given: Option<i64> =
        db.query_optional("SELECT given FROM card_consents WHERE order_id = ?", params![order_id], |row| row.get(0))?;
    Ok(given == Some(1))
}

/// A customer's cards, oldest first (deleted ones too: the shop sees what happened).
pub fn for_account(db: &mut Conn, account_id: &str) -> Result<Vec<CardRow>, StoreError> {
    db.query_all(&format!("SELECT {COLUMNS} FROM saved_cards WHERE account_id = ? ORDER BY id"), params![account_id], card_from_row)
}

/// One card of a customer, by the id the merchant API shows.
pub fn find(db: &mut Conn, account_id: &str, card_ref: &str) -> Result<Option<CardRow>, StoreError> {
    db.query_optional(
        &format!("SELECT {COLUMNS} FROM saved_cards WHERE account_id = ? AND card_ref = ?"),
        params![account_id, card_ref],
        card_from_row,
    )
}

pub fn find_by_id(db: &mut Conn, id: i64) -> Result<Option<CardRow>, StoreError> {
    db.query_optional(&format!("SELECT {COLUMNS} FROM saved_cards WHERE id = ?"), params![id], card_from_row)
}

/// The card order `order_id` saved, if it saved one.
pub fn saved_by(db: &mut Conn, order_id: i64) -> Result<Option<CardRow>, StoreError> {
    db.query_optional(&format!("SELECT {COLUMNS} FROM saved_cards WHERE saved_by_order = ?"), params![order_id], card_from_row)
}

/// Deletes a card: it is never charged again from this transaction on, and its deactivation at
/// ePay is claimed by the caller until `claimed_until_ms` (then due, should the caller not
/// record it). `None`: no such card; a card deleted before stays as it was (`false`).
pub fn delete(tx: &mut Tx, id: i64, by: &str, now_ms: i64, claimed_until_ms: i64) -> Result<Option<(CardRow, bool)>, StoreError> {
    let deleted = tx.execute(
        "UPDATE saved_cards SET status = ?, deleted_at = ?, deleted_by = ?, deactivate_next_ms = ? WHERE id = ? AND status <> ?",
        params![CardStatus::Deleted, now_ms / 1000, by, claimed_until_ms, id, CardStatus::Deleted],
    )?;
    Ok(find_by_id(tx, id)?.map(|card| (card, deleted == 1)))
}

/// Cards whose deactivation at ePay is due, claimed until `lease_until_ms` (another instance
/// skips them meanwhile).
pub fn claim_due_deactivations(tx: &mut Tx, now_ms: i64, lease_until_ms: i64, limit: i64) -> Result<Vec<CardRow>, StoreError> {
    super::leases::DEACTIVATIONS.claim(tx, now_ms, lease_until_ms, limit, COLUMNS, card_from_row)
}

/// What ePay answered a deactivation: done (`Ok`, at that time), or the error and when to try
/// again (`None`: no more; the card stays deleted, and the console shows the error).
pub fn record_deactivation(tx: &mut Tx, id: i64, outcome: Result<i64, (String, Option<i64>)>) -> Result<(), StoreError> {
    match outcome {
        Ok(now) => tx.execute(
            "UPDATE saved_cards SET deactivated_at = ?, deactivate_next_ms = NULL, deactivate_error = NULL, deactivate_attempts = deactivate_attempts + 1 WHERE id = ?",
            params![now, id],
        )?,
        Err((error, retry_ms)) => tx.execute(
            "UPDATE saved_cards SET deactivate_error = ?, deactivate_next_ms = ?, deactivate_attempts = deactivate_attempts + 1 WHERE id = ?",
            params![error, retry_ms, id],
        )?,
    };
    Ok(())
}

/// A payment the shop starts with a saved card: its card and its one request.
#[derive(Clone, Debug, PartialEq)]
pub struct ChargeRow {
    pub order_id: i64,
    pub card_id: i64,
    /// When its request left (unix ms); set before it leaves, so it never leaves twice.
    pub sent_ms: Option<i64>,
    pub answer: Option<String>,
    pub decline_code: Option<i64>,
    pub decline_reason: Option<String>,
}

/// Ties a new order to the card that pays it (in the order's own transaction).
pub fn create_charge(tx: &mut Tx, order_id: i64, card_id: i64) -> Result<(), StoreError> {
    tx.execute("INSERT INTO card_charges (order_id, card_id) VALUES (?, ?)", params![order_id, card_id])?;
    Ok(())
}

pub fn charge_of(db: &mut Conn, order_id: i64) -> Result<Option<ChargeRow>, StoreError> {
    db.query_optional(
        "SELECT order_id, card_id, sent_ms, answer, decline_code, decline_reason FROM card_charges WHERE order_id = ?",
        params![order_id],
        |row| {
            Ok(ChargeRow {
                order_id: row.get(0)?,
                card_id: row.get(1)?,
                sent_ms: row.get(2)?,
                answer: row.get(3)?,
                decline_code: row.get(4)?,
                decline_reason: row.get(5)?,
            })
        },
    )
}

/// Claims the one request of `order_id`'s charge: true when this caller may send it (it was
/// never sent, its card is still active, and a subscription it bills is still active). The card's
/// row is written first, conditioned on its status: on PostgreSQL that locks it, so a deletion
/// either commits before (and nothing is sent) or waits for this claim (and the request it
/// allowed is the last); the subscription's row is locked the same way against a cancel or a
/// pause.
pub fn claim_charge_request(tx: &mut Tx, order_id: i64, now_ms: i64) -> Result<bool, StoreError> {
    let Some(charge) = charge_of(tx, order_id)? else { return Ok(false) };
    if charge.sent_ms.is_some() {
        return Ok(false);
    }
    let card_active = tx.execute(
        "UPDATE saved_cards SET last_used_at = ? WHERE id = ? AND status = ?",
        params![now_ms / 1000, charge.card_id, CardStatus::Active],
    )?;
    if card_active != 1 || !super::subscriptions::bills_while_active(tx, order_id)? {
        return Ok(false);
    }
    let claimed = tx.execute("UPDATE card_charges SET sent_ms = ? WHERE order_id = ? AND sent_ms IS NULL", params![now_ms, order_id])?;
    Ok(claimed == 1)
}

/// Takes back the claim of a request that provably never reached ePay (its connection was
/// refused): it may be sent again.
pub fn release_charge_request(tx: &mut Tx, order_id: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE card_charges SET sent_ms = NULL WHERE order_id = ?", params![order_id])?;
    Ok(())
}

/// What ePay answered the charge's request (its HTTP status and body, or the transport error),
/// and the decline it reports, if any: kept for people and for the shop; the status API still
/// decides the order.
pub fn record_charge_answer(tx: &mut Tx, order_id: i64, answer: &str, decline: Option<(i64, String)>) -> Result<(), StoreError> {
    let (code, reason) = decline.map_or((None, None), |(code, reason)| (Some(code), Some(reason)));
    tx.execute(
        "UPDATE card_charges SET answer = ?, decline_code = ?, decline_reason = ? WHERE order_id = ?",
        params![answer, code, reason, order_id],
    )?;
    Ok(())
}

/// Customers with saved cards or subscriptions, the most recent first (at most `limit`), whose
/// `accountId` contains `search` (any when empty): the id, active cards, live subscriptions.
pub fn customers(db: &mut Conn, search: &str, limit: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let pattern = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    db.query_all(
        "SELECT account_id,
                (SELECT COUNT(*) FROM saved_cards c WHERE c.account_id = a.account_id AND c.status = 'active'),
                (SELECT COUNT(*) FROM subscriptions s WHERE s.account_id = a.account_id AND s.status <> 'cancelled')
         FROM (SELECT account_id, MAX(at) AS last FROM (
                   SELECT account_id, saved_at AS at FROM saved_cards
                   UNION ALL SELECT account_id, created_at AS at FROM subscriptions) every
               WHERE account_id LIKE ? ESCAPE '\\' GROUP BY account_id) a
         ORDER BY a.last DESC, a.account_id LIMIT ?",
        params![pattern, limit],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
}
