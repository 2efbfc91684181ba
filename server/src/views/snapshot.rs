//! The order's view as it stood when a webhook event was made, from the snapshot the event
//! keeps (`store::orders::OrderSnapshot`): the event's `data`, however late it is first sent.
//! Pure.

use crate::store::notifications::NotificationRow;
use crate::store::operations::OperationRow;
use crate::store::orders::{HistoryRow, OrderRow, OrderSnapshot};

/// The order, its history, postLinks and operations as they stood when `snapshot` was taken:
/// the current order with what changes taken from the snapshot, history up to the snapshot's
/// time, the postLinks received by then, and the operations that existed then, with their
/// statuses then.
pub fn as_it_stood(
    snapshot: &OrderSnapshot,
    current: &OrderRow,
    history: Vec<HistoryRow>,
    post_links: Vec<NotificationRow>,
    operations: Vec<OperationRow>,
) -> (OrderRow, Vec<HistoryRow>, Vec<NotificationRow>, Vec<OperationRow>) {
    let order = snapshot.order_then(current);
    let history = history.into_iter().filter(|step| step.at <= snapshot.updated_at).collect();
    let post_links = post_links.into_iter().filter(|n| snapshot.post_links_up_to.is_some_and(|last| n.id <= last)).collect();
    let operations = operations
        .into_iter()
        .filter_map(|op| {
            let then = snapshot.operations.iter().find(|s| s.id == op.id)?;
            Some(OperationRow { status: then.status, epay_answer: then.epay_answer.clone(), ..op })
        })
        .collect();
    (order, history, post_links, operations)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::{NewOrder, OrderState};

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
        let (then, history, post_links, operations) = as_it_stood(&snapshot, &now, history, Vec::new(), Vec::new());
        assert_eq!((then.status, then.version, then.refunded_minor, then.invoice_id.as_str()), (OrderState::Paid, 5, 0, "123456789012"));
        assert_eq!(history.iter().map(|h| h.status).collect::<Vec<_>>(), [OrderState::Paid]);
        assert!(post_links.is_empty() && operations.is_empty());
    }
}
