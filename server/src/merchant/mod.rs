//! The merchant API: the shop's backend creates priced orders and reads what became of them.
//! Server to server only: a bearer key (`auth.rs`), no CORS.

pub mod auth;
pub mod create;
pub mod read;
pub mod validate;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::AppState;

/// A merchant order body: 4 KiB of metadata and a few short fields.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/merchant/orders", get(read::list).post(create::create).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/api/merchant/orders/{invoice_id}", get(read::show))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_merchant))
}
