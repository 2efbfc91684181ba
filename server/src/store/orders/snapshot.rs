//! The order as it stood when a webhook event was made: everything about an order that
//! changes, kept with the event (`webhook_events.snapshot`, JSON) so that its `data` is the
//! order then, however late it is first sent. Written by `change::announce`, read back by
//! `views::snapshot`. Events made before migration 0010 have none. (Until migration 0015 the
//! triggers wrote the same keys; those snapshots read alike.)

use epay_api_types::OperationStatus;
use serde::{Deserialize, Serialize};

use super::reads::{ORDER_COLUMNS, order_from_row};
use super::row::OrderRow;
use super::state::OrderState;
use crate::store::{Conn, StoreError, params};

/// The snapshot: `OrderSnapshot` with the fields of `OrderRow` that change, each named once
/// here, and the two ways between them (`of` keeps them, `order_then` gives them back).
macro_rules! kept_fields {
    ($($field:ident: $type:ty,)+) => {
        #[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
        pub struct OrderSnapshot {
            $(pub $field: $type,)+
            /// The order's operations then, with their statuses then.
            #[serde(default)]
            pub operations: Vec<OperationSnapshot>,
            /// The last postLink the order had received.
            pub post_links_up_to: Option<i64>,
        }

        impl OrderSnapshot {
            /// What changes of `order`. Pure.
            pub fn of(order: &OrderRow, operations: Vec<OperationSnapshot>, post_links_up_to: Option<i64>) -> OrderSnapshot {
                OrderSnapshot { $($field: Clone::clone(&order.$field),)+ operations, post_links_up_to }
            }

            /// `current` with what changes taken back to this snapshot: `of`'s inverse. Pure.
            pub fn order_then(&self, current: &OrderRow) -> OrderRow {
                OrderRow { $($field: Clone::clone(&self.$field),)+ ..current.clone() }
            }
        }
    };
}

kept_fields! {
    version: i64,
    status: OrderState,
    updated_at: i64,
    transaction_id: Option<String>,
    card_mask: Option<String>,
    approval_code: Option<String>,
    reference: Option<String>,
    failure_reason: Option<String>,
    failure_code: Option<i64>,
    review_reason: Option<String>,
    fee_minor: Option<i64>,
    card_id: Option<String>,
    card_type: Option<String>,
    captured_minor: Option<i64>,
    refunded_minor: i64,
    amount_bonus_minor: Option<i64>,
    org_amount_minor: Option<i64>,
    payout_amount_minor: Option<i64>,
    check_attempts: i64,
    next_check_ms: Option<i64>,
    last_check: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OperationSnapshot {
    pub id: i64,
    pub status: OperationStatus,
    pub epay_answer: Option<String>,
}

impl OrderSnapshot {
    /// Order `id` as it stands now in `db` (locked, inside a write job), with its operations
    /// and postLinks: one statement, and a second only for an order that has operations (an
    /// announcement is one round trip more for every paid order; docs/performance.md).
    pub(crate) fn now(db: &mut Conn, id: i64) -> Result<Option<OrderSnapshot>, StoreError> {
        let order_columns = ORDER_COLUMNS.matches(',').count() + 1;
        let lock = db.for_update();
        let read = db.query_optional(
            &format!(
                "SELECT {ORDER_COLUMNS},
                        (SELECT MAX(id) FROM notifications WHERE order_id = orders.id),
                        (SELECT COUNT(*) FROM operations WHERE order_id = orders.id)
                 FROM orders WHERE id = ? {lock}"
            ),
            params![id],
            |row| Ok((order_from_row(row)?, row.get::<Option<i64>>(order_columns)?, row.get::<i64>(order_columns + 1)?)),
        )?;
        let Some((order, post_links_up_to, operation_count)) = read else { return Ok(None) };
        let operations = match operation_count {
            0 => Vec::new(),
            _ => db.query_all("SELECT id, status, epay_answer FROM operations WHERE order_id = ? ORDER BY id", params![id], |row| {
                Ok(OperationSnapshot { id: row.get(0)?, status: row.get(1)?, epay_answer: row.get(2)? })
            })?,
        };
        Ok(Some(OrderSnapshot::of(&order, operations, post_links_up_to)))
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
