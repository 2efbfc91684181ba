//! What every handler and worker shares: the configuration, the store, ePay's client and the
//! limits. Built once by `AppState::new` (lib.rs), which opens the store and recovers it;
//! every field's type comes from a room below this one.

use std::sync::Arc;

use axum::Router;

use crate::config::Config;
use crate::epay::EpayClient;
use crate::rate_limit;
use crate::store::{Store, orders};

pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub epay: EpayClient,
    /// The built-in ePay emulator's routes, when `EPAY_ENV=sandbox`.
    pub sandbox: Option<Router>,
    /// Wakes the confirmation worker (a postLink made an order `confirming`).
    pub confirmations: Arc<tokio::sync::Notify>,
    /// Wakes the subscriptions' worker (one was created or changed, or the test clock moved).
    pub subscriptions: Arc<tokio::sync::Notify>,
    /// The per-client checkout limit, unless `CHECKOUT_RATE_PER_MINUTE=0`.
    pub checkout_limiter: Option<rate_limit::CheckoutLimiter>,
    /// Per source: postLinks that change nothing and would still be stored.
    pub postlink_limiter: rate_limit::SourceLimiter,
    /// Console sign-in attempts per client (`ADMIN_SIGN_IN_RATE_PER_MINUTE`).
    pub admin_sign_ins: rate_limit::SourceLimiter,
    /// Sign-in attempts from addresses already failing, all together.
    pub sign_in_retries: rate_limit::TokenBudget,
    pub password_checks: crate::passwords::PasswordChecks,
    /// Payment tokens per minute, all clients together.
    pub token_budget: rate_limit::TokenBudget,
    /// Orders holding an invoice suffix (`MAX_OPEN_ORDERS`).
    pub open_orders: Arc<orders::OpenOrders>,
    /// Merchant orders holding an invoice suffix (their own quota).
    pub merchant_open_orders: Arc<orders::OpenOrders>,
    /// This process among the instances sharing the store (the holder of its leases).
    pub instance: String,
}

impl axum::extract::FromRef<Arc<AppState>> for rate_limit::ClientAddressRules {
    fn from_ref(app: &Arc<AppState>) -> Self {
        rate_limit::ClientAddressRules { public: app.config.limits.client_address, console: app.config.admin.client_address }
    }
}
