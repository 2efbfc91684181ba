//! Housekeeping that keeps the store bounded, once a minute: expires merchant orders nobody
//! started before their `expiresAt`, releases the invoice suffixes of
//! finished orders whose token can no longer be used, deletes rejected postLinks past their
//! retention (and the attempts of settled webhook events with them), recounts the orders
//! holding a suffix (`MAX_OPEN_ORDERS`), and forgets quiet
//! sources of the postLink limiter.

use std::sync::Arc;
use std::time::Duration;

use crate::AppState;
use crate::store::{StoreError, notifications, now, orders, webhooks};

pub const INTERVAL: Duration = Duration::from_secs(60);

pub async fn run(app: Arc<AppState>) {
    loop {
        if let Err(err) = run_once(&app).await {
            tracing::error!(error = %err, "maintenance failed; trying again in a minute");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// One round; returns what it did.
pub async fn run_once(app: &AppState) -> Result<Round, StoreError> {
    let grace = app.config.confirmation.expiry_grace.as_secs() as i64;
    let before = now() - app.config.limits.rejected_postlink_retention.as_secs() as i64;
    let open_orders = app.open_orders.clone();
    let round = app
        .store
        .write(move |conn| {
            let expired = orders::expire_open_orders(conn, now())?;
            let held = orders::release_suffixes(conn, now(), grace)?;
            // Set on the writer, where every insert counts itself too: no insert can slip in
            // between this count and its store.
            open_orders.recounted(held);
            let pruned = notifications::prune_rejected(conn, before)?;
            // Delivery attempts of settled events are kept as long as rejected postLinks.
            webhooks::prune_attempts(conn, before * 1000)?;
            Ok(Round { held, pruned, expired })
        })
        .await?;
    app.postlink_limiter.forget_idle();
    if round.expired > 0 {
        tracing::info!(expired = round.expired, "merchant orders past their expiry are now expired");
    }
    if round.pruned > 0 {
        tracing::info!(pruned = round.pruned, "rejected postLinks past their retention deleted");
    }
    Ok(round)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    /// Orders still holding an invoice suffix.
    pub held: u64,
    /// Rejected notifications deleted.
    pub pruned: u64,
    /// Merchant orders nobody started paying before their expiry, now `expired`.
    pub expired: u64,
}
