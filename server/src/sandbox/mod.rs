//! The built-in ePay emulator (`EPAY_ENV=sandbox`, the default): OAuth token endpoint,
//! payment-api.js, payment page with test cards, postLink delivery and the status API,
//! mounted under `/sandbox`. It mirrors epay-reference.md and is as strict as ePay.

mod cards;
mod control;
mod delivery;
mod form;
mod oauth;
mod page;
mod params;
mod payform;
mod script;
mod state;
mod status_api;

pub use cards::TEST_CARDS;
pub use state::Control;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use epay_api_types::Amount;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::config::Config;
use state::{Registry, SandboxState};

/// The merchant the sandbox knows: the proxy's own configured credentials.
pub struct Merchant {
    pub client_id: String,
    pub client_secret: SecretString,
    pub terminal: String,
}

pub struct Sandbox {
    merchant: Merchant,
    state: SandboxState,
    /// Delivers postLinks.
    http: reqwest::Client,
}

impl Sandbox {
    pub fn new(config: &Config) -> Sandbox {
        Sandbox {
            merchant: Merchant {
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                terminal: config.terminal_id.clone(),
            },
            state: SandboxState { registry: Mutex::new(Registry::default()), control: Mutex::new(Control::default()) },
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("HTTP client builds with static settings"),
        }
    }
}

impl Sandbox {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.state.registry.lock().expect("registry lock")
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.state.control.lock().expect("control lock")
    }
}

/// Routes, relative to where the sandbox is mounted (`/sandbox`).
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
        .route("/control", get(control::show).post(control::replace))
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
    if minor % 100 == 0 { json!(minor / 100) } else { json!(minor as f64 / 100.0) }
}
