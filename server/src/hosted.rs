//! `GET /pay/{invoiceId}`: the hosted payment page, for merchants that only redirect or send
//! a link (e-mail, messenger, QR). It is the built `hosted.html` with the invoice id filled
//! in; the order's key stays in the link's fragment, which browsers never send, so this page
//! is the same for anyone and reveals nothing about the order.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use epay_api_types::is_valid_invoice_id;

use crate::AppState;

pub const TEMPLATE: &str = "hosted.html";
const PLACEHOLDER: &str = "{{invoiceId}}";

pub async fn page(State(app): State<Arc<AppState>>, Path(invoice_id): Path<String>) -> Response {
    // Digits only: nothing else is ever written into the page.
    if !is_valid_invoice_id(&invoice_id) {
        return (StatusCode::NOT_FOUND, "no such payment page").into_response();
    }
    let template = app.config.server.widget_dir.join(TEMPLATE);
    match tokio::fs::read_to_string(&template).await {
        Ok(html) => {
            let mut response = Html(html.replace(PLACEHOLDER, &invoice_id)).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, path = %template.display(), "the hosted payment page is not built");
            (StatusCode::SERVICE_UNAVAILABLE, "the payment page is not built yet (trunk build)").into_response()
        }
    }
}
