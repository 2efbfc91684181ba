//! The built-in ePay emulator (crate `epay-sandbox`), mounted under `/sandbox` when
//! `EPAY_ENV=sandbox`. Only with the default cargo feature `sandbox`: a production build
//! without it (`--no-default-features`) has no sandbox code at all.

use axum::Router;

use crate::config::{Config, EpayEnv};

/// The sandbox's routes for `config`, or `None` when it talks to the real ePay.
#[cfg(feature = "sandbox")]
pub fn router(config: &Config) -> Option<Router> {
    use std::sync::Arc;
    if config.epay.env != EpayEnv::Sandbox {
        return None;
    }
    let own = config.server.public_url.origin().ascii_serialization();
    // The payer goes back to the storefronts and to the proxies this sandbox is ePay for.
    let mut return_origins = config.server.allowed_origins.clone();
    return_origins.push(own.clone());
    return_origins.extend(config.epay.sandbox_proxies.iter().cloned());
    let settings = epay_sandbox::Settings {
        merchant: epay_sandbox::Merchant {
            client_id: config.epay.client_id.clone(),
            client_secret: config.epay.client_secret.clone(),
            terminals: vec![config.epay.terminal_id.clone(), config.epay.p2p_terminal_id.clone()],
        },
        notify_origins: std::iter::once(own).chain(config.epay.sandbox_proxies.iter().cloned()).collect(),
        return_origins,
    };
    Some(epay_sandbox::router(Arc::new(epay_sandbox::Sandbox::new(settings))))
}

#[cfg(not(feature = "sandbox"))]
pub fn router(config: &Config) -> Option<Router> {
    // Configuration refuses EPAY_ENV=sandbox in such a build.
    debug_assert!(config.epay.env != EpayEnv::Sandbox);
    None
}

/// The CSP hash of the `<style>` the sandbox's payment-api.js adds for its overlay.
pub fn overlay_style_hash(env: EpayEnv) -> Option<String> {
    #[cfg(feature = "sandbox")]
    if env == EpayEnv::Sandbox {
        return Some(epay_sandbox::overlay_style_hash());
    }
    let _ = env;
    None
}
