//! The sandbox's own Content-Security-Policy. Its payment page may be framed by any storefront
//! (the overlay) and sends its form only to itself; its scripts, styles and JSON need none of
//! a page's powers. The proxy keeps a policy a response already has.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const PAGE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                    base-uri 'none'; object-src 'none'; frame-ancestors *";
const RESOURCE: &str = "default-src 'none'; frame-ancestors 'none'";

pub async fn policy(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let page = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(if page { PAGE } else { RESOURCE }));
    if !page {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}
