//! The order as it stood when a webhook event was made: the trigger that writes the event keeps
//! everything about the order that changes (`webhook_events.snapshot`, migration 0010), and the
//! event's `data` is built from it, however late it is first sent. Pure.

use serde::Deserialize;

use crate::store::named;
use crate::store::notifications::NotificationRow;
use crate::store::operations::{OperationRow, OperationStatus};
use crate::store::orders::{HistoryRow, OrderRow, OrderState};

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OrderSnapshot {
    pub version: i64,
    pub status: String,
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

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OperationSnapshot {
    pub id: i64,
    pub status: String,
    pub epay_answer: Option<String>,
}

impl OrderSnapshot {
    /// Reads a stored snapshot; `None` for an event made before snapshots (or one that does not
    /// read: its data is then the order as it is now, as before).
    pub fn read(text: Option<&str>) -> Option<OrderSnapshot> {
        serde_json::from_str(text?).map_err(|err| tracing::warn!(error = %err, "a webhook event's snapshot does not read")).ok()
    }

    /// The order, its history, postLinks and operations as they stood: the current order with
    /// what changes taken from the snapshot, history up to the snapshot's time, the postLinks
    /// received by then, and the operations that existed then, with their statuses then.
    pub fn as_it_stood(
        &self,
        current: &OrderRow,
        history: Vec<HistoryRow>,
        post_links: Vec<NotificationRow>,
        operations: Vec<OperationRow>,
    ) -> (OrderRow, Vec<HistoryRow>, Vec<NotificationRow>, Vec<OperationRow>) {
        let status = named(&OrderState::ALL, OrderState::name, &self.status).unwrap_or(current.status);
        let order = OrderRow {
            version: self.version,
            status,
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
        };
        let history = history.into_iter().filter(|step| step.at <= self.updated_at).collect();
        let post_links = post_links.into_iter().filter(|n| self.post_links_up_to.is_some_and(|last| n.id <= last)).collect();
        let operations = operations
            .into_iter()
            .filter_map(|op| {
                let then = self.operations.iter().find(|s| s.id == op.id)?;
                let status = named(&OperationStatus::ALL, OperationStatus::name, &then.status).unwrap_or(op.status);
                Some(OperationRow { status, epay_answer: then.epay_answer.clone(), ..op })
            })
            .collect();
        (order, history, post_links, operations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;

    #[test]
    fn the_order_then_is_the_order_now_with_what_changed_taken_back() {
        let new = NewOrder::example(150_000, epay_api_types::PaymentMethod::Pay);
        let now = OrderRow {
            status: OrderState::Refunded,
            version: 9,
            refunded_minor: 150_000,
            captured_minor: Some(150_000),
            updated_at: 2_000,
            ..OrderRow::created(1, "123456789012".into(), &new, 1_000)
        };
        let snapshot: OrderSnapshot = serde_json::from_str(
            r#"{"version":5,"status":"paid","updated_at":1500,"transaction_id":"t","card_mask":null,"approval_code":null,
                "reference":null,"failure_reason":null,"failure_code":null,"review_reason":null,"fee_minor":null,"card_id":null,
                "card_type":null,"captured_minor":150000,"refunded_minor":0,"amount_bonus_minor":null,"org_amount_minor":null,
                "payout_amount_minor":null,"check_attempts":0,"next_check_ms":null,"last_check":null,"operations":[],
                "post_links_up_to":null}"#,
        )
        .unwrap();
        let history = vec![HistoryRow { status: OrderState::Paid, at: 1_500 }, HistoryRow { status: OrderState::Refunded, at: 2_000 }];
        let (then, history, post_links, operations) = snapshot.as_it_stood(&now, history, Vec::new(), Vec::new());
        assert_eq!((then.status, then.version, then.refunded_minor, then.invoice_id.as_str()), (OrderState::Paid, 5, 0, "123456789012"));
        assert_eq!(history.iter().map(|h| h.status).collect::<Vec<_>>(), [OrderState::Paid]);
        assert!(post_links.is_empty() && operations.is_empty());
        assert_eq!(OrderSnapshot::read(Some("not json")), None);
    }
}
