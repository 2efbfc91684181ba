//! The order as it stood when a webhook event was made: everything about an order that
//! changes, kept with the event (`webhook_events.snapshot`, JSON) so that its `data` is the
//! order then, however late it is first sent. Written by `change::announce`, read back by
//! `views::snapshot`. Events made before migration 0010 have none. (Until migration 0015 the
//! triggers wrote the same keys; those snapshots read alike.)

use epay_api_types::OperationStatus;
use serde::{Deserialize, Serialize};

use super::row::OrderRow;
use super::state::OrderState;
use crate::store::{Conn, StoreError, params};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OrderSnapshot {
    pub version: i64,
    pub status: OrderState,
    pub updated_at: i64,
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_code: Option<i64>,
    pub review_reason: Option<String>,
    pub fee_minor: Option<i64>,
    pub card_id: Option<String>,
    pub card_type: Option<String>,
    pub captured_minor: Option<i64>,
    pub refunded_minor: i64,
    pub amount_bonus_minor: Option<i64>,
    pub org_amount_minor: Option<i64>,
    pub payout_amount_minor: Option<i64>,
    pub check_attempts: i64,
    pub next_check_ms: Option<i64>,
    pub last_check: Option<String>,
    /// The order's operations then, with their statuses then.
    #[serde(default)]
    pub operations: Vec<OperationSnapshot>,
    /// The last postLink the order had received.
    pub post_links_up_to: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OperationSnapshot {
    pub id: i64,
    pub status: OperationStatus,
    pub epay_answer: Option<String>,
}

impl OrderSnapshot {
    /// `order` as it is in `db` now, with its operations and postLinks.
    pub(crate) fn take(db: &mut Conn, order: &OrderRow) -> Result<OrderSnapshot, StoreError> {
        let operations =
            db.query_all("SELECT id, status, epay_answer FROM operations WHERE order_id = ? ORDER BY id", params![order.id], |row| {
                Ok(OperationSnapshot { id: row.get(0)?, status: row.get(1)?, epay_answer: row.get(2)? })
            })?;
        let post_links_up_to = db.query_one("SELECT MAX(id) FROM notifications WHERE order_id = ?", params![order.id], |row| row.get(0))?;
        Ok(OrderSnapshot::of(order, operations, post_links_up_to))
    }

    /// What changes of `order`. Pure.
    pub fn of(order: &OrderRow, operations: Vec<OperationSnapshot>, post_links_up_to: Option<i64>) -> OrderSnapshot {
        OrderSnapshot {
            version: order.version,
            status: order.status,
            updated_at: order.updated_at,
            transaction_id: order.transaction_id.clone(),
            card_mask: order.card_mask.clone(),
            approval_code: order.approval_code.clone(),
            reference: order.reference.clone(),
            failure_reason: order.failure_reason.clone(),
            failure_code: order.failure_code,
            review_reason: order.review_reason.clone(),
            fee_minor: order.fee_minor,
            card_id: order.card_id.clone(),
            card_type: order.card_type.clone(),
            captured_minor: order.captured_minor,
            refunded_minor: order.refunded_minor,
            amount_bonus_minor: order.amount_bonus_minor,
            org_amount_minor: order.org_amount_minor,
            payout_amount_minor: order.payout_amount_minor,
            check_attempts: order.check_attempts,
            next_check_ms: order.next_check_ms,
            last_check: order.last_check.clone(),
            operations,
            post_links_up_to,
        }
    }

    /// `current` with what changes taken back to this snapshot: `of`'s inverse. Pure.
    pub fn order_then(&self, current: &OrderRow) -> OrderRow {
        OrderRow {
            version: self.version,
            status: self.status,
            updated_at: self.updated_at,
            transaction_id: self.transaction_id.clone(),
            card_mask: self.card_mask.clone(),
            approval_code: self.approval_code.clone(),
            reference: self.reference.clone(),
            failure_reason: self.failure_reason.clone(),
            failure_code: self.failure_code,
            review_reason: self.review_reason.clone(),
            fee_minor: self.fee_minor,
            card_id: self.card_id.clone(),
            card_type: self.card_type.clone(),
            captured_minor: self.captured_minor,
            refunded_minor: self.refunded_minor,
            amount_bonus_minor: self.amount_bonus_minor,
            org_amount_minor: self.org_amount_minor,
            payout_amount_minor: self.payout_amount_minor,
            check_attempts: self.check_attempts,
            next_check_ms: self.next_check_ms,
            last_check: self.last_check.clone(),
            ..current.clone()
        }
    }

    /// Reads a stored snapshot; `None` for an event made before snapshots (or one that does not
    /// read: its data is then the order as it is now, as before).
    pub fn read(text: Option<&str>) -> Option<OrderSnapshot> {
        serde_json::from_str(text?).map_err(|err| tracing::warn!(error = %err, "a webhook event's snapshot does not read")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;

    /// Every field that `of` keeps, `order_then` gives back: an order changed in each of
    /// them is its old self again.
    #[test]
    fn the_order_then_is_what_was_kept_of_it() {
        let new = NewOrder::example(150_000, epay_api_types::PaymentMethod::Pay);
        let then = OrderRow {
            status: OrderState::Paid,
            version: 5,
            updated_at: 1_500,
            transaction_id: Some("t".into()),
            card_mask: Some("4405...1111".into()),
            approval_code: Some("a".into()),
            reference: Some("r".into()),
            failure_reason: Some("f".into()),
            failure_code: Some(7),
            review_reason: Some("why".into()),
            fee_minor: Some(10),
            card_id: Some("c".into()),
            card_type: Some("VISA".into()),
            captured_minor: Some(150_000),
            refunded_minor: 0,
            amount_bonus_minor: Some(1),
            org_amount_minor: Some(2),
            payout_amount_minor: Some(3),
            check_attempts: 4,
            next_check_ms: Some(9),
            last_check: Some("l".into()),
            ..OrderRow::created(1, "123456789012".into(), &new, 1_000)
        };
        let snapshot = OrderSnapshot::of(&then, Vec::new(), Some(3));
        let stored = serde_json::to_string(&snapshot).unwrap();
        let now = OrderRow { status: OrderState::Refunded, version: 9, refunded_minor: 150_000, updated_at: 2_000, ..then.clone() };
        let now = OrderRow {
            transaction_id: None,
            card_mask: None,
            approval_code: None,
            reference: None,
            failure_reason: None,
            failure_code: None,
            review_reason: None,
            fee_minor: None,
            card_id: None,
            card_type: None,
            captured_minor: None,
            amount_bonus_minor: None,
            org_amount_minor: None,
            payout_amount_minor: None,
            check_attempts: 0,
            next_check_ms: None,
            last_check: None,
            ..now
        };
        assert_eq!(format!("{:?}", OrderSnapshot::read(Some(&stored)).unwrap().order_then(&now)), format!("{then:?}"));
        assert_eq!(OrderSnapshot::read(Some("not json")), None);
    }
}
