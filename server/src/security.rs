//! Security headers on everything the proxy serves, and a Content-Security-Policy per kind
//! of response: the storefront's pages, and everything else (JSON, scripts, wasm), which
//! needs none of a page's powers. A response that brings its own policy (the sandbox's
//! payment pages) keeps it, and its framing rules with it.
//!
//! A `304 Not Modified` carries the policy of the resource it validates: browsers merge a
//! 304's headers into the cached response, so a resource policy on the 304 of a page would
//! make the reloaded page load nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;

use crate::config::{EpaySettings, ServerSettings};

pub struct Policies {
    /// The demo storefront (and any page served from WIDGET_DIR).
    storefront: HeaderValue,
    /// The console (`/admin/`): its own scripts and styles, its own API, nothing from ePay.
    console: HeaderValue,
    /// JSON, scripts, styles, wasm.
    resource: HeaderValue,
    hsts: Option<HeaderValue>,
}

impl Policies {
    pub fn new(server: &ServerSettings, epay: &EpaySettings) -> Policies {
        let script_origin = epay.script_url.origin().ascii_serialization();
        let storefront = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {script_origin}; style-src 'self'{overlay}; \
             img-src 'self' data:; connect-src 'self'; frame-src {payform}; form-action 'self'; \
             base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
            overlay = overlay_style_sources(epay),
            payform = epay.payform_origin,
        );
        Policies {
            storefront: HeaderValue::from_str(&storefront).expect("URL origins are valid header text"),
            console: HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
            ),
            resource: HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            hsts: (server.public_url.scheme() == "https").then(|| HeaderValue::from_static("max-age=31536000")),
        }
    }
}

/// `'sha256-…'` sources for the `<style>` element ePay's payment-api.js adds for its overlay
/// (`showPaymentWidget`): the configured ones, and the sandbox script's own in sandbox mode.
/// Exactly that style, not `'unsafe-inline'`.
pub fn overlay_style_sources(epay: &EpaySettings) -> String {
    let mut hashes = epay.overlay_style_hashes.clone();
    hashes.extend(crate::emulator::overlay_style_hash(epay.env));
    hashes.iter().map(|hash| format!(" '{hash}'")).collect()
}

/// Whether `path` names a page of the storefront (what a 304 without a content type
/// validates): a directory (its index.html) or an .html file.
fn names_a_page(path: &str) -> bool {
    path.ends_with('/') || path.ends_with(".html")
}

pub async fn headers(State(policies): State<Arc<Policies>>, request: Request, next: Next) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let html = match response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(content_type) => content_type.starts_with("text/html"),
        None => response.status() == axum::http::StatusCode::NOT_MODIFIED && names_a_page(&path),
    };
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Back links carry the order number: never send a page's address to another site.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = match (html, path.starts_with("/admin/")) {
            (true, true) => &policies.console,
            (true, false) => &policies.storefront,
            (false, _) => &policies.resource,
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if path.starts_with("/api/") {
        // Checkouts carry a payment token, order statuses are personal: never cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(hsts) = &policies.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    response
}
