//! The merchant's console: a Leptos app (the `console/` crate, served at `/admin/`) and its
//! API, `/api/admin/*`, for people signed in with a name and a password (`auth.rs`). The
//! routes reuse the merchant API's code (orders, views, operations): one implementation, two
//! doors. Money actions, resends and review decisions are for operators (`actions.rs`).

pub mod actions;
pub mod auth;
pub mod customers;
pub mod export;
pub mod orders;
pub mod receipts;
pub mod second_factor;
pub mod staff;
pub mod summary;
pub mod throttle;
pub mod timeline;
pub mod totp;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::epay::OperationKind;
use crate::state::AppState;

/// Sign-in and decisions are short JSON objects.
const BODY_LIMIT: usize = 16 * 1024;

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let signed_in = Router::new()
        .route("/api/admin/summary", get(summary::show))
        .route("/api/admin/orders", get(orders::list))
        .route("/api/admin/orders/{invoice_id}", get(orders::show))
        .route("/api/admin/orders/{invoice_id}/refunds", actions::operation(OperationKind::Refund))
        .route("/api/admin/orders/{invoice_id}/capture", actions::operation(OperationKind::Capture))
        .route("/api/admin/orders/{invoice_id}/cancel", actions::operation(OperationKind::Cancel))
        .route("/api/admin/orders/{invoice_id}/review", post(actions::resolve_review))
        .route("/api/admin/events/{event_id}/resend", post(actions::resend))
        .route("/api/admin/export.csv", get(export::csv))
        .route("/api/admin/customers", get(customers::list))
        .route("/api/admin/customers/{account_id}", get(customers::show))
        .route("/api/admin/customers/{account_id}/cards/{card_id}", delete(customers::delete))
        .route("/api/admin/subscriptions/{subscription_id}/cancel", post(customers::cancel))
        .route("/api/admin/receipts", get(receipts::list))
        .route("/api/admin/receipts/{receipt_id}/retry", post(receipts::retry))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_staff));
    // A session that must enrol a second factor may use these (and sign out), nothing else.
    let enrolling = Router::new()
        .route("/api/admin/second-factor", post(second_factor::enrol))
        .route("/api/admin/second-factor/confirm", post(second_factor::confirm))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_session));
    Router::new()
        .route("/api/admin/session", get(auth::current).post(auth::sign_in).delete(auth::sign_out))
        .merge(signed_in)
        .merge(enrolling)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}
