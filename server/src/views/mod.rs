//! The order as the outside sees it: the merchant API's single view (the console's too) and
//! list rows (`order.rs`), its operations, the review decisions people made, and the same as
//! it stood when a webhook event was made (`snapshot.rs`). One room, below every door that
//! shows an order (merchant, admin, webhooks, checkout); it reads the store and nothing else.

pub mod card;
pub mod order;
pub mod receipt;
pub mod snapshot;
pub mod subscription;

use epay_api_types::{Action, Amount, MerchantOperation, ReviewResolution};

use crate::config::ServerSettings;
use crate::store::admin::ActionRow;
use crate::store::notifications;
use crate::store::operations::{self, OperationRow};
use crate::store::orders::{self, OrderRow, OrderSnapshot};
use crate::store::{Store, StoreError};

/// The order as the merchant API shows it, with its operations (single reads and webhooks).
pub async fn order_view(store: &Store, server: &ServerSettings, order: &OrderRow) -> Result<epay_api_types::MerchantOrder, StoreError> {
    order_view_as_it_stood(store, server, order, None).await
}

/// What an order's single view is made of, besides the order itself.
pub struct OrderRows {
    pub history: Vec<orders::HistoryRow>,
    pub post_links: Vec<notifications::NotificationRow>,
    /// How many postLinks it had received, up to the one asked for.
    pub post_links_count: i64,
    pub operations: Vec<OperationRow>,
    pub actions: Vec<ActionRow>,
    /// Its fiscal receipts, as they are now.
    pub receipts: Vec<crate::store::receipts::ReceiptRow>,
}

impl OrderRows {
    /// The rows of order `order_id`, counting its postLinks up to the one `up_to`.
    /// Only the lists the order has are read: a webhook's payload reads a paid order in three
    /// statements, not six (docs/performance.md).
    pub fn read(db: &mut crate::store::Conn, order_id: i64, up_to: i64) -> Result<OrderRows, StoreError> {
        let has = orders::related(db, order_id, up_to)?;
        let mut rows = OrderRows {
            history: orders::history(db, order_id)?,
            post_links: Vec::new(),
            post_links_count: has.post_links,
            operations: Vec::new(),
            actions: Vec::new(),
            receipts: Vec::new(),
        };
        // A snapshot's view shows only the postLinks up to its own (`snapshot::as_it_stood`).
        if has.post_links > 0 {
            rows.post_links = notifications::read_for_order(db, order_id)?;
        }
        if has.operations > 0 {
            rows.operations = operations::for_order(db, order_id)?;
        }
        if has.actions > 0 {
            rows.actions = crate::store::admin::actions_for_order(db, order_id)?;
        }
        if has.receipts > 0 {
            rows.receipts = crate::store::receipts::for_order(db, order_id)?;
        }
        Ok(rows)
    }

    /// The order as the merchant API shows it on its own (the console too), with the review
    /// decisions made by `as_of` (unix seconds). Pure.
    pub fn view(&self, server: &ServerSettings, order: &OrderRow, as_of: i64) -> epay_api_types::MerchantOrder {
        let mut view = order::detailed(server, order, &self.history, &self.post_links, self.post_links_count);
        view.operations = Some(self.operations.iter().map(operation_view).collect());
        view.review_resolution = resolution(&self.actions, as_of);
        view.receipts = (!self.receipts.is_empty()).then(|| self.receipts.iter().map(receipt::receipt_view).collect());
        // Made late, as the confirmation recorded it (`confirm::late`).
        if self.actions.iter().any(|a| a.action == Action::LatePayment && a.at <= as_of) {
            view.paid_after_expiry = Some(true);
        }
        view
    }
}

/// The same, as it stood when `snapshot` was taken (a webhook event's), from the order as it
/// is now (`current`).
pub async fn order_view_as_it_stood(
    store: &Store,
    server: &ServerSettings,
    current: &OrderRow,
    snapshot: Option<&OrderSnapshot>,
) -> Result<epay_api_types::MerchantOrder, StoreError> {
    let order_id = current.id;
    // As it stood: the postLinks it had received then.
    let up_to = snapshot.map_or(i64::MAX, |s| s.post_links_up_to.unwrap_or(0));
    let rows = store.read(move |db| OrderRows::read(db, order_id, up_to)).await?;
    let Some(snapshot) = snapshot else { return Ok(rows.view(server, current, i64::MAX)) };
    let OrderRows { history, post_links, post_links_count, operations, actions, receipts } = rows;
    let (order, history, post_links, operations) = snapshot::as_it_stood(snapshot, current, history, post_links, operations);
    let rows = OrderRows { history, post_links, post_links_count, operations, actions, receipts };
    // As it stood: a decision made after the snapshot is not part of it.
    Ok(rows.view(server, &order, order.updated_at))
}

pub fn operation_view(op: &OperationRow) -> MerchantOperation {
    MerchantOperation {
        id: format!("op_{}", op.id),
        kind: op.kind,
        status: op.status,
        amount: op.amount_minor.map(|minor| Amount::from_minor(minor as u64).to_string()),
        reason: op.reason.clone(),
        message: op.epay_answer.clone(),
        // Stored as `{invoiceId}/{kind}/{key}`, so that a key means one thing per order and kind.
        idempotency_key: op.idempotency_key.splitn(3, '/').nth(2).unwrap_or(&op.idempotency_key).to_owned(),
        created_at: order::rfc3339(op.created_at),
    }
}

/// The latest review decision made by `as_of` (unix seconds), for the order's view. Pure.
pub fn resolution(actions: &[ActionRow], as_of: i64) -> Option<ReviewResolution> {
    actions.iter().rev().filter(|a| a.action == Action::ResolveReview && a.at <= as_of).find_map(|a| {
        Some(ReviewResolution {
            decision: a.decision?,
            checked: a.checked.clone().unwrap_or_default(),
            note: a.note.clone(),
            by: a.actor.clone(),
            at: order::rfc3339(a.at),
        })
    })
}
