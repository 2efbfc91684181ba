//! The console's order list (the merchant API's filters, and a search) and an order's page
//! (the merchant API's view, its timeline and its webhook events).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use epay_api_types::{AdminOrder, MerchantOrderPage};

use super::timeline::{self, OrderRecords};
use crate::error::AppError;
use crate::merchant::{events, read};
use crate::state::AppState;
use crate::store::{orders, webhooks};
use crate::views::OrderRows;
use crate::views::order as view;

/// Every event of one order (a long life has a few dozen at most).
const EVENTS_PER_ORDER: i64 = 200;
const SEARCH_MAX_CHARS: usize = 100;

/// `GET /api/admin/orders`: as `GET /api/merchant/orders`, and `q` searches an invoice id, a
/// reference, an e-mail, a phone, or a part of a card mask or phone.
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<MerchantOrderPage>, AppError> {
    let query = query.unwrap_or_default();
    let (mut filter, page) = read::filter(&query)?;
    filter.search = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "q")
        .map(|(_, value)| value.trim().chars().take(SEARCH_MAX_CHARS).collect::<String>())
        .filter(|q| !q.is_empty());
    let (before_id, fetch) = (page.before_id, page.fetch());
    let rows = app.store.read(move |db| orders::list(db, &filter, before_id, fetch)).await?;
    let (rows, next_cursor) = page.cut(rows, |order| order.id);
    Ok(Json(MerchantOrderPage { orders: rows.iter().map(|order| view::summary(&app.config.server, order)).collect(), next_cursor }))
}

/// `GET /api/admin/orders/{invoiceId}`.
pub async fn show(State(app): State<Arc<AppState>>, Path(invoice_id): Path<String>) -> Result<Json<AdminOrder>, AppError> {
    let invoice = invoice_id.clone();
    let Some(order) = app.store.read(move |db| orders::find_by_invoice(db, &invoice)).await? else {
        return Err(AppError::not_found(format!("no order with invoice id `{invoice_id}`")));
    };
    let (id, invoice) = (order.id, order.invoice_id.clone());
    let (rows, (mut events, attempts)) = app
        .store
        .read(move |db| Ok((OrderRows::read(db, id, i64::MAX)?, webhooks::page(db, Some(&invoice), None, EVENTS_PER_ORDER)?)))
        .await?;
    events.reverse();
    let records = OrderRecords {
        order: &order,
        history: &rows.history,
        post_links: &rows.post_links,
        operations: &rows.operations,
        actions: &rows.actions,
        events: &events,
        attempts: &attempts,
    };
    let timeline = timeline::build(&records);
    let view = rows.view(&app.config.server, &order, i64::MAX);
    Ok(Json(AdminOrder { order: view, timeline, events: events.iter().map(|row| events::view(row, &attempts)).collect() }))
}
