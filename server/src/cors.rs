//! Who may call the browser API (`/api/checkout`, `/api/orders/*`, `/api/widget-config`): the
//! pages of `ALLOWED_ORIGINS` (CORS). A page of another origin gets no CORS headers, so its
//! browser refuses the answer and its widget can only say the payment service is out of
//! reach; the proxy says why in its log, once per origin.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use epay_api_types::{IDEMPOTENCY_KEY_HEADER, ORDER_KEY_HEADER};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::ServerSettings;

/// At most this many unlisted origins are remembered (and warned about): a stranger sending
/// made-up origins costs a bounded set, not memory without end.
const REMEMBERED: usize = 256;

pub fn layer(server: &ServerSettings) -> CorsLayer {
    let origins: Vec<HeaderValue> = server.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static(IDEMPOTENCY_KEY_HEADER), HeaderName::from_static(ORDER_KEY_HEADER)])
        .max_age(Duration::from_secs(600))
}

/// The origins not in `ALLOWED_ORIGINS` already warned about.
#[derive(Clone)]
pub struct Unlisted {
    allowed: Arc<Vec<String>>,
    warned: Arc<Mutex<HashSet<String>>>,
}

impl Unlisted {
    pub fn new(server: &ServerSettings) -> Unlisted {
        Unlisted { allowed: Arc::new(server.allowed_origins.clone()), warned: Arc::default() }
    }

    /// Whether `origin` is one to warn about now: not allowed, and not warned about before.
    fn first_time(&self, origin: &str) -> bool {
        if self.allowed.iter().any(|allowed| allowed == origin) {
            return false;
        }
        let mut warned = self.warned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        warned.len() < REMEMBERED && warned.insert(origin.to_owned())
    }
}

/// Logs a browser request from an origin not in `ALLOWED_ORIGINS` (a preflight or not), once
/// per origin, with the fix.
pub async fn warn_unlisted(State(unlisted): State<Unlisted>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(origin) = origin.filter(|origin| unlisted.first_time(origin)) {
        // The origin is the browser's word and may be anything: it goes to the log quoted.
        let origin: String = origin.chars().take(200).collect();
        tracing::warn!(
            origin = ?origin,
            path = %request.uri().path(),
            "a page of an origin not in ALLOWED_ORIGINS called the browser API: its browser refuses the answer, so a widget there cannot work; add the origin to ALLOWED_ORIGINS if it is the shop's"
        );
    }
    next.run(request).await
}
