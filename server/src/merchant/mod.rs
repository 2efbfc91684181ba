//! The merchant API: the shop's backend creates priced orders and reads what became of them.
//! Server to server only: a bearer key (`auth.rs`), no CORS.

pub mod auth;
pub mod cards;
pub mod create;
pub mod events;
pub mod operations;
pub mod paging;
pub mod read;
pub mod subscriptions;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// A merchant order body: 4 KiB of metadata and a few short fields.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/merchant/orders", get(read::list).post(create::create).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/api/merchant/orders/{invoice_id}", get(read::show))
        .route("/api/merchant/orders/{invoice_id}/capture", post(operations::capture))
        .route("/api/merchant/orders/{invoice_id}/cancel", post(operations::cancel))
        .route("/api/merchant/orders/{invoice_id}/refunds", post(operations::refund))
        .route("/api/merchant/customers/{account_id}/cards", get(cards::list))
        .route("/api/merchant/customers/{account_id}/cards/{card_id}", delete(cards::delete))
        .route("/api/merchant/subscriptions", get(subscriptions::list).post(subscriptions::create).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/api/merchant/subscriptions/{subscription_id}", get(subscriptions::show).patch(subscriptions::change))
        .route("/api/merchant/subscriptions/{subscription_id}/pause", post(subscriptions::pause))
        .route("/api/merchant/subscriptions/{subscription_id}/resume", post(subscriptions::resume))
        .route("/api/merchant/subscriptions/{subscription_id}/cancel", post(subscriptions::cancel))
        .route("/api/merchant/test-clock", get(subscriptions::test_clock))
        .route("/api/merchant/test-clock/advance", post(subscriptions::advance_test_clock))
        .route("/api/merchant/events", get(events::list))
        .route("/api/merchant/events/{event_id}/resend", post(events::resend))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_merchant))
}
