//! The store's state as gauges, read when `/metrics` is scraped: what is waiting, and how long
//! the oldest of it has waited. Every instance on one PostgreSQL database reports the same
//! figures (a dashboard takes `max` over instances).

pub use crate::store::backlog::{Backlog, read_now};
use crate::store::orders::OrderState;

pub const ORDERS: &str = "epay_proxy_orders";
pub const OLDEST_UNCONFIRMED: &str = "epay_proxy_oldest_unconfirmed_payment_age_seconds";
pub const CONFIRMATIONS_DUE: &str = "epay_proxy_confirmations_due";
pub const OPERATIONS_WAITING: &str = "epay_proxy_operations_awaiting_lookup";
pub const WEBHOOK_BACKLOG: &str = "epay_proxy_webhook_backlog";
pub const OLDEST_UNDELIVERED: &str = "epay_proxy_oldest_undelivered_webhook_age_seconds";
pub const REVIEWS_OPEN: &str = "epay_proxy_reviews_open";
pub const RECEIPTS: &str = "epay_proxy_receipts";
pub const OLDEST_DUE_RECEIPT: &str = "epay_proxy_oldest_due_receipt_age_seconds";
pub const REGISTER_ALERTS: &str = "epay_proxy_cash_register_alerts";

pub fn describe() {
    use metrics::{Unit, describe_gauge};
    describe_gauge!(ORDERS, "Orders in each state (the proxy's states, e.g. confirming, review)");
    describe_gauge!(OLDEST_UNCONFIRMED, Unit::Seconds, "How long the oldest order in `confirming` has waited for ePay's status API");
    describe_gauge!(CONFIRMATIONS_DUE, "Orders whose next status check is due now or overdue");
    describe_gauge!(OPERATIONS_WAITING, "Captures, cancels and refunds not yet settled (pending, accepted or unknown)");
    describe_gauge!(WEBHOOK_BACKLOG, "Webhook events not yet delivered that will be tried again");
    describe_gauge!(OLDEST_UNDELIVERED, Unit::Seconds, "Age of the oldest webhook event not yet delivered (0 when none)");
    describe_gauge!(REVIEWS_OPEN, "Orders in review: a person must look (docs/operations.md)");
    describe_gauge!(RECEIPTS, "Fiscal receipts due (waiting for the registrar) and failed (refused: a person looks)");
    describe_gauge!(OLDEST_DUE_RECEIPT, Unit::Seconds, "How long the oldest fiscal receipt due has waited (0 when none)");
    describe_gauge!(
        REGISTER_ALERTS,
        "Cash registers with an alert a person must act on (blocked, not activated, offline over 72 h, wrong credentials)"
    );
}

impl Backlog {
    /// Sets the gauges to this reading.
    pub fn publish(&self) {
        for (state, count) in &self.orders_by_state {
            metrics::gauge!(ORDERS, "state" => state.as_str()).set(*count as f64);
        }
        let review = self.orders_by_state.iter().find(|(state, _)| *state == OrderState::Review).map_or(0, |(_, n)| *n);
        metrics::gauge!(REVIEWS_OPEN).set(review as f64);
        metrics::gauge!(OLDEST_UNCONFIRMED).set(self.oldest_unconfirmed_secs as f64);
        metrics::gauge!(CONFIRMATIONS_DUE).set(self.confirmations_due as f64);
        metrics::gauge!(OPERATIONS_WAITING).set(self.operations_waiting as f64);
        metrics::gauge!(WEBHOOK_BACKLOG).set(self.webhook_backlog as f64);
        metrics::gauge!(OLDEST_UNDELIVERED).set(self.oldest_undelivered_secs as f64);
        metrics::gauge!(RECEIPTS, "status" => "due").set(self.receipts_due as f64);
        metrics::gauge!(RECEIPTS, "status" => "failed").set(self.receipts_failed as f64);
        metrics::gauge!(OLDEST_DUE_RECEIPT).set(self.oldest_due_receipt_secs as f64);
        metrics::gauge!(REGISTER_ALERTS).set(self.register_alerts as f64);
    }
}
