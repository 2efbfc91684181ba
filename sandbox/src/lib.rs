//! An emulator of Halyk ePay: OAuth token endpoint, payment-api.js, payment page with test
//! cards, postLink delivery and the status API. It mirrors docs/epay-contract.md and is as
//! strict as ePay. It knows nothing of the proxy: it is given its merchant and the origins it
//! may talk to (`Settings`), and serves a `Router` that the proxy mounts under `/sandbox`
//! (`EPAY_ENV=sandbox`) and tests may serve on a port of their own.

mod cards;
mod control;
mod delivery;
mod form;
mod headers;
mod oauth;
mod operations;
mod page;
mod params;
mod payform;
mod saved_cards;
mod script;
mod state;
mod status_api;
pub mod webkassa;

pub use cards::TEST_CARDS;
pub use script::overlay_style_hash;
pub use state::{Control, OperationFault};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use epay_api_types::Amount;
use secrecy::SecretString;
use serde_json::{Value, json};

use state::{Registry, SandboxState};

/// The merchant the sandbox knows: the proxy's own configured credentials.
pub struct Merchant {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Its terminals: one for card payments, one for transfers (they may be the same).
    pub terminals: Vec<String>,
}

/// What the sandbox is told about the world.
pub struct Settings {
    pub merchant: Merchant,
    /// The only origins postLinks may go to (the proxy's own, and other proxies on this
    /// machine it is ePay for); no request goes anywhere else.
    pub notify_origins: Vec<String>,
    /// The only origins the payment page sends payers back to.
    pub return_origins: Vec<String>,
}

pub struct Sandbox {
    merchant: Merchant,
    state: SandboxState,
    /// Delivers postLinks.
    http: reqwest::Client,
    /// The only origins postLinks go to: the proxy's own (`PUBLIC_URL`), and the proxies on
    /// this machine it was told of (`SANDBOX_PROXIES`). The sandbox makes no request to any
    /// other host.
    notify_origins: Vec<String>,
    /// The only origins the payment page sends the payer back to (`ALLOWED_ORIGINS` and
    /// `PUBLIC_URL`'s).
    return_origins: Vec<String>,
    /// The fiscal registrar's emulator (`/sandbox/webkassa`).
    webkassa: webkassa::Webkassa,
}

impl Sandbox {
    pub fn new(settings: Settings) -> Sandbox {
        let Settings { mut merchant, notify_origins, return_origins } = settings;
        merchant.terminals.dedup();
        Sandbox {
            merchant,
            state: SandboxState { registry: Mutex::new(Registry::default()), control: Mutex::new(Control::default()) },
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                // A postLink is never sent anywhere a redirect points.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client builds with static settings"),
            notify_origins,
            return_origins,
            webkassa: webkassa::Webkassa::default(),
        }
    }

    /// Whether `link` is on a proxy's origin (postLink, failurePostLink).
    fn notifies_the_proxy(&self, link: &str) -> bool {
        origin_of(link).is_some_and(|origin| self.notify_origins.contains(&origin))
    }

    /// Whether the payer may be sent back to `link`.
    fn may_return_to(&self, link: &str) -> bool {
        origin_of(link).is_some_and(|origin| self.return_origins.contains(&origin))
    }
}

fn origin_of(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

impl Sandbox {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.state.registry.lock().expect("registry lock")
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.state.control.lock().expect("control lock")
    }
}

/// Routes, relative to where the sandbox is mounted (`/sandbox`). Every response carries
/// the sandbox's own Content-Security-Policy (`headers.rs`).
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/oauth2/token", post(oauth::token))
        .route("/payform/", get(payform::page))
        .route("/payform/pay", post(payform::pay))
        .route("/payform/payment-api.js", get(script::payment_api))
        .route("/payform/result.js", get(script::result))
        .route("/payform/payform.css", get(script::stylesheet))
        .route("/api/check-status/payment/transaction/{invoice_id}", get(status_api::check))
        .route("/api/check-status/p2p/transaction/{invoice_id}", get(status_api::check))
        .route("/status-questions", get(status_api::questions))
        .route("/operations-performed", get(operations::performed))
        .route("/operations", get(operations::list))
        .route("/api/operation/{transaction_id}/charge", post(operations::charge))
        .route("/api/operation/{transaction_id}/cancel", post(operations::cancel))
        .route("/api/operation/{transaction_id}/refund", post(operations::refund))
        .route("/api/payments/cards/auth", post(saved_cards::pay))
        .route("/api/card/deactivate/{card_id}", post(saved_cards::deactivate))
        .route("/cards", get(saved_cards::list))
        .route("/webkassa/api/v4/Authorize", post(webkassa::authorize))
        .route("/webkassa/api/v4/check", post(webkassa::check))
        .route("/webkassa/api/v4/ZReport", post(webkassa::zreport))
        .route("/webkassa/api/v4/Ticket/PrintFormat", post(webkassa::print_format))
        .route("/webkassa/control", get(webkassa::show_control).post(webkassa::replace_control))
        .route("/webkassa/receipts", get(webkassa::list_receipts))
        .route("/control", get(control::show).post(control::replace))
        .layer(axum::middleware::from_fn(headers::policy))
        .with_state(sandbox)
}

/// OAuth-style error body (ePay documents none for its token endpoint).
fn oauth_error(error: &str, description: &str) -> Value {
    json!({ "error": error, "error_description": description })
}

/// Amounts travel as JSON numbers, as in ePay's samples: 1500 or 1500.5.
fn amount_json(amount: Amount) -> Value {
    let minor = amount.minor();
    // minor / 100 is the double nearest the decimal, so it prints back as that decimal.
    if minor.is_multiple_of(100) { json!(minor / 100) } else { json!(minor as f64 / 100.0) }
}
