//! Security headers on everything the proxy serves, and a Content-Security-Policy per kind
//! of response: the storefront's pages, the sandbox's payment pages, and everything else
//! (JSON, scripts, wasm), which needs none of a page's powers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;

use crate::config::Config;

pub struct Policies {
    /// The demo storefront (and any page served from WIDGET_DIR).
    storefront: HeaderValue,
    /// The sandbox's payment page: embeddable anywhere (the overlay), its form redirects to
    /// the shop's back links, wherever they are.
    sandbox_page: HeaderValue,
    /// JSON, scripts, styles, wasm.
    resource: HeaderValue,
    hsts: Option<HeaderValue>,
}

impl Policies {
    pub fn new(config: &Config) -> Policies {
        let script_origin = config.script_url.origin().ascii_serialization();
        let storefront = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {script_origin}; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; frame-src {payform}; form-action 'self'; \
             base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
            payform = config.payform_origin,
        );
        let sandbox_page = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                            base-uri 'none'; object-src 'none'; frame-ancestors *";
        Policies {
            storefront: HeaderValue::from_str(&storefront).expect("URL origins are valid header text"),
            sandbox_page: HeaderValue::from_static(sandbox_page),
            resource: HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            hsts: (config.public_url.scheme() == "https").then(|| HeaderValue::from_static("max-age=31536000")),
        }
    }
}

pub async fn headers(State(policies): State<Arc<Policies>>, request: Request, next: Next) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    let sandbox = path.starts_with("/sandbox/");
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Back links carry the order key in their query: never send it to another site.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin"));
    let policy = match (html, sandbox) {
        (true, true) => &policies.sandbox_page,
        (true, false) => &policies.storefront,
        (false, _) => &policies.resource,
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
    if !(html && sandbox) {
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
