//! The store's state as gauges, read when `/metrics` is scraped: what is waiting, and how long
//! the oldest of it has waited. Every instance on one PostgreSQL database reports the same
//! figures (a dashboard takes `max` over instances).

use crate::params;
use crate::store::orders::OrderState;
use crate::store::{Conn, StoreError, now, now_ms};

pub const ORDERS: &str = "epay_proxy_orders";
pub const OLDEST_UNCONFIRMED: &str = "epay_proxy_oldest_unconfirmed_payment_age_seconds";
pub const CONFIRMATIONS_DUE: &str = "epay_proxy_confirmations_due";
pub const OPERATIONS_WAITING: &str = "epay_proxy_operations_awaiting_lookup";
pub const WEBHOOK_BACKLOG: &str = "epay_proxy_webhook_backlog";
pub const OLDEST_UNDELIVERED: &str = "epay_proxy_oldest_undelivered_webhook_age_seconds";
pub const REVIEWS_OPEN: &str = "epay_proxy_reviews_open";

pub fn describe() {
    use metrics::{Unit, describe_gauge};
    describe_gauge!(ORDERS, "Orders in each state (the proxy's states, e.g. confirming, review)");
    describe_gauge!(OLDEST_UNCONFIRMED, Unit::Seconds, "How long the oldest order in `confirming` has waited for ePay's status API");
    describe_gauge!(CONFIRMATIONS_DUE, "Orders whose next status check is due now or overdue");
    describe_gauge!(OPERATIONS_WAITING, "Captures, cancels and refunds not yet settled (pending, accepted or unknown)");
    describe_gauge!(WEBHOOK_BACKLOG, "Webhook events not yet delivered that will be tried again");
    describe_gauge!(OLDEST_UNDELIVERED, Unit::Seconds, "Age of the oldest webhook event not yet delivered (0 when none)");
    describe_gauge!(REVIEWS_OPEN, "Orders in review: a person must look (docs/operations.md)");
}

/// One reading of the store.
#[derive(Debug, Default, PartialEq)]
pub struct Backlog {
    pub orders_by_state: Vec<(OrderState, i64)>,
    pub oldest_unconfirmed_secs: i64,
    pub confirmations_due: i64,
    pub operations_waiting: i64,
    pub webhook_backlog: i64,
    pub oldest_undelivered_secs: i64,
}

/// Reads the figures; every query runs on an index (status, next_check_ms, next_attempt_ms).
pub fn read_now(db: &mut Conn) -> Result<Backlog, StoreError> {
    let (now, now_ms) = (now(), now_ms());
    let counted = db.query_all("SELECT status, COUNT(*) FROM orders GROUP BY status", params![], |row| {
        Ok((row.get::<String>(0)?, row.get::<i64>(1)?))
    })?;
    let orders_by_state = OrderState::ALL
        .iter()
        .map(|state| (*state, counted.iter().find(|(name, _)| name == state.name()).map_or(0, |(_, n)| *n)))
        .collect();
    let oldest_confirming: Option<i64> =
        db.query_one("SELECT MIN(updated_at) FROM orders WHERE status = 'confirming'", params![], |row| row.get(0))?;
    let confirmations_due: i64 =
        db.query_one("SELECT COUNT(*) FROM orders WHERE next_check_ms IS NOT NULL AND next_check_ms <= ?", params![now_ms], |row| {
            row.get(0)
        })?;
    let operations_waiting: i64 =
        db.query_one("SELECT COUNT(*) FROM operations WHERE status IN ('pending', 'accepted', 'unknown')", params![], |row| row.get(0))?;
    let (webhook_backlog, oldest_pending_ms): (i64, Option<i64>) =
        db.query_one("SELECT COUNT(*), MIN(created_ms) FROM webhook_events WHERE status = 'pending'", params![], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(Backlog {
        orders_by_state,
        oldest_unconfirmed_secs: oldest_confirming.map_or(0, |at| (now - at).max(0)),
        confirmations_due,
        operations_waiting,
        webhook_backlog,
        oldest_undelivered_secs: oldest_pending_ms.map_or(0, |at| ((now_ms - at) / 1000).max(0)),
    })
}

impl Backlog {
    /// Sets the gauges to this reading.
    pub fn publish(&self) {
        for (state, count) in &self.orders_by_state {
            metrics::gauge!(ORDERS, "state" => state.name()).set(*count as f64);
        }
        let review = self.orders_by_state.iter().find(|(state, _)| *state == OrderState::Review).map_or(0, |(_, n)| *n);
        metrics::gauge!(REVIEWS_OPEN).set(review as f64);
        metrics::gauge!(OLDEST_UNCONFIRMED).set(self.oldest_unconfirmed_secs as f64);
        metrics::gauge!(CONFIRMATIONS_DUE).set(self.confirmations_due as f64);
        metrics::gauge!(OPERATIONS_WAITING).set(self.operations_waiting as f64);
        metrics::gauge!(WEBHOOK_BACKLOG).set(self.webhook_backlog as f64);
        metrics::gauge!(OLDEST_UNDELIVERED).set(self.oldest_undelivered_secs as f64);
    }
}
