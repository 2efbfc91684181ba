//! Requests by route and status, with their latency. The route is axum's pattern
//! (`/api/orders/{invoice_id}`), never the path itself: ids would make a series per order.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub const REQUESTS: &str = "epay_proxy_http_requests_total";
pub const DURATION: &str = "epay_proxy_http_request_duration_seconds";

/// Paths no route matched (files, probes, 404s) share one label.
const UNMATCHED: &str = "unmatched";

/// The route pattern a request matched, handed from `mark_route` (inside the router, where
/// axum knows it) to `track` (outside, where the whole time is seen) on the response.
#[derive(Clone)]
struct RouteLabel(String);

/// A `route_layer`: labels the response with the route that answered it.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|path| RouteLabel(path.as_str().to_owned()));
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// The outermost layer: counts and times every request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = static_or_unmatched(request.uri().path());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let route = response.extensions().get::<RouteLabel>().map_or_else(|| path.to_owned(), |label| label.0.clone());
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
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
