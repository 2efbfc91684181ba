//! Requests by route and status, with their latency. The route is axum's pattern
//! (`/api/orders/{invoice_id}`), never the path itself: ids would make a series per order.
//!
//! Every label is a `&'static str` (patterns and status codes are few, and interned once), so
//! recording a request allocates nothing.

use std::collections::HashSet;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

pub const REQUESTS: &str = "epay_proxy_http_requests_total";
pub const DURATION: &str = "epay_proxy_http_request_duration_seconds";

/// Paths no route matched (files, probes, 404s) share one label.
const UNMATCHED: &str = "unmatched";

/// A `route_layer`: counts and times each request a route answered, by its pattern.
pub async fn track_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, |path| interned(path.as_str()));
    timed(route, request, next).await
}

/// Around the files and the fallback: counts and times what no route answered.
pub async fn track_files(request: Request, next: Next) -> Response {
    let route = static_or_unmatched(request.uri().path());
    timed(route, request, next).await
}

async fn timed(route: &'static str, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = status_label(response.status().as_u16());
    metrics::counter!(REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    metrics::histogram!(DURATION, "route" => route, "method" => method).record(started.elapsed().as_secs_f64());
    response
}

/// The served files a person asks for by name keep it (there are few); anything else is
/// `unmatched`.
fn static_or_unmatched(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/widget.js" => "/widget.js",
        _ if path.starts_with("/admin/") => "/admin/*",
        _ => UNMATCHED,
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// "200", "404"... as static text (made once for every code HTTP has).
fn status_label(code: u16) -> &'static str {
    static CODES: OnceLock<Vec<&'static str>> = OnceLock::new();
    let codes = CODES.get_or_init(|| (100..600u16).map(|c| &*Box::leak(c.to_string().into_boxed_str())).collect());
    codes.get(usize::from(code).wrapping_sub(100)).copied().unwrap_or("other")
}

/// A route pattern as static text: the router's patterns are a fixed, small set, each kept
/// once for the life of the process.
fn interned(route: &str) -> &'static str {
    static ROUTES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    if let Some(known) = routes.read().ok().and_then(|known| known.get(route).copied()) {
        return known;
    }
    let mut known = routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = known.get(route).copied() {
        return found;
    }
    let kept: &'static str = Box::leak(route.to_owned().into_boxed_str());
    known.insert(kept);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_static_and_few() {
        assert_eq!((status_label(200), status_label(599), status_label(99), status_label(600)), ("200", "599", "other", "other"));
        assert!(std::ptr::eq(interned("/api/orders/{invoice_id}"), interned("/api/orders/{invoice_id}")), "kept once");
        assert_eq!((static_or_unmatched("/admin/style.css"), static_or_unmatched("/favicon.ico")), ("/admin/*", "unmatched"));
        assert_eq!(method_label(&Method::from_bytes(b"PROPFIND").unwrap()), "other");
    }
}
