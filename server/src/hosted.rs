//! `GET /pay/{invoiceId}`: the hosted payment page, for merchants that only redirect or send
//! a link (e-mail, messenger, QR). It is the built `hosted.html` with the invoice id filled
//! in, and its method (for the widget's words: "pay" or "transfer"); the order's key stays in
//! the link's fragment, which browsers never send. The page reveals no more than whether an
//! invoice id exists (through that word), and ids are 12 random digits.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use epay_api_types::{PaymentMethod, is_valid_invoice_id};

use crate::state::AppState;
use crate::store::orders;

pub const TEMPLATE: &str = "hosted.html";
const PLACEHOLDER: &str = "{{invoiceId}}";
const METHOD_PLACEHOLDER: &str = "{{method}}";

pub async fn page(State(app): State<Arc<AppState>>, Path(invoice_id): Path<String>) -> Response {
    // Digits only: nothing else is ever written into the page.
    if !is_valid_invoice_id(&invoice_id) {
        return (StatusCode::NOT_FOUND, "no such payment page").into_response();
    }
    // The widget's words (pay or transfer) follow the order's method; an unknown invoice gets
    // the card payment's, and its widget then says the order was not found.
    let invoice = invoice_id.clone();
    let method = match app.store.read(move |db| orders::find_by_invoice(db, &invoice)).await {
        Ok(Some(order)) => order.method,
        _ => PaymentMethod::Pay,
    };
    let template = app.config.server.widget_dir.join(TEMPLATE);
    match tokio::fs::read_to_string(&template).await {
        Ok(html) => {
            let html = html.replace(PLACEHOLDER, &invoice_id).replace(METHOD_PLACEHOLDER, method.js_name());
            let mut response = Html(html).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, path = %template.display(), "the hosted payment page is not built");
            (StatusCode::SERVICE_UNAVAILABLE, "the payment page is not built yet (trunk build)").into_response()
        }
    }
}
