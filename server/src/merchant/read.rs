//! `GET /api/merchant/orders/{invoiceId}` and `GET /api/merchant/orders`: what became of the
//! merchant's orders.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use epay_api_types::{ApiError, ErrorCode, MerchantOrder, MerchantOrderPage};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::MerchantAuthErrors;
use super::paging::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::orders::{self, OrderFilter, OrderState};
use crate::views::order as view;

/// One order, with its status history, the postLinks received and the confirmation.
#[utoipa::path(
    get,
    path = "/api/merchant/orders/{invoiceId}",
    operation_id = "getMerchantOrder",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("invoiceId" = String, Path, description = "The order's invoice id")),
    responses(
        (status = 200, description = "The order", body = MerchantOrder),
        MerchantAuthErrors,
        (status = 404, description = "`not_found`: no order with this invoice id", body = ApiError),
    )
)]
pub async fn show(State(app): State<Arc<AppState>>, Path(invoice_id): Path<String>) -> Result<Json<MerchantOrder>, AppError> {
    let invoice = invoice_id.clone();
    let Some(order) = app.store.read(move |db| orders::find_by_invoice(db, &invoice)).await? else {
        return Err(AppError::not_found(format!("no order with invoice id `{invoice_id}`")));
    };
    Ok(Json(crate::views::order_view(&app.store, &app.config.server, &order).await?))
}

/// Orders, newest first, filtered by `reference`, `status` and creation time, a page at a time.
#[utoipa::path(
    get,
    path = "/api/merchant/orders",
    operation_id = "listMerchantOrders",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(
        ("reference" = Option<String>, Query, description = "The shop's own order id"),
        ("status" = Option<String>, Query, description = "Comma-separated: open, pending, authorized, paid, refunded, cancelled, failed, expired (or the proxy's states: created, confirming, review, start_failed)"),
        ("createdFrom" = Option<String>, Query, description = "RFC 3339: created at or after"),
        ("createdTo" = Option<String>, Query, description = "RFC 3339: created before"),
        ("limit" = Option<i64>, Query, description = "1 to 100; 20 by default"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of orders", body = MerchantOrderPage),
        (status = 400, description = "`invalid_field` (a filter), `invalid_cursor`", body = ApiError),
        MerchantAuthErrors,
    )
)]
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<MerchantOrderPage>, AppError> {
    let (filter, page) = filter(query.as_deref().unwrap_or(""))?;
    let (before_id, fetch) = (page.before_id, page.fetch());
    let rows = app.store.read(move |db| orders::list(db, &filter, before_id, fetch)).await?;
    let (rows, next_cursor) = page.cut(rows, |order| order.id);
    Ok(Json(MerchantOrderPage { orders: rows.iter().map(|order| view::summary(&app.config.server, order)).collect(), next_cursor }))
}

fn bad(message: String) -> AppError {
    AppError::bad_request(ErrorCode::InvalidField, message)
}

/// The list's query string, read leniently (unknown parameters are ignored) and checked
/// strictly (a bad value is a 400 naming it). Pure.
pub fn filter(query: &str) -> Result<(OrderFilter, Page), AppError> {
    let mut filter = OrderFilter::default();
    let mut page = Page::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim();
        if page.read(&name, value)? {
            continue;
        }
        match name.as_ref() {
            "reference" => filter.reference = Some(value.to_owned()),
            "status" => filter.status = Some(states(value)?),
            "createdFrom" => filter.created_from = Some(time(value, "createdFrom")?),
            "createdTo" => filter.created_to = Some(time(value, "createdTo")?),
            _ => {}
        }
    }
    Ok((filter, page))
}

fn time(value: &str, name: &str) -> Result<i64, AppError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|at| at.unix_timestamp())
        .map_err(|_| bad(format!("{name} must be an RFC 3339 time such as 2026-11-28T10:00:00Z")))
}

/// The stored states a `status` filter names: public statuses and the proxy's own states.
fn states(value: &str) -> Result<Vec<&'static str>, AppError> {
    let mut chosen = Vec::new();
    for name in value.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let matching: Vec<&'static str> = OrderState::ALL
            .iter()
            .filter(|state| state.as_str() == name || state.merchant_status().as_str() == name)
            .map(|state| state.as_str())
            .collect();
        if matching.is_empty() {
            return Err(bad(format!(
                "status `{name}` is none of open, pending, authorized, paid, refunded, cancelled, failed, expired (or a state such as review)"
            )));
        }
        chosen.extend(matching);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_and_bad_values_named() {
        let (filter, page) = filter("reference=42&status=pending,review&createdFrom=2026-11-28T00:00:00Z&limit=5&x=y").unwrap();
        assert_eq!(filter.reference.as_deref(), Some("42"));
        assert_eq!(filter.status.unwrap(), ["created", "pending", "confirming", "review", "review"]);
        assert_eq!(filter.created_from, Some(1_795_824_000));
        assert_eq!(page.limit, 5);
        for (query, named) in [("limit=0", "limit"), ("limit=101", "limit"), ("status=sold", "sold"), ("createdTo=yesterday", "createdTo")]
        {
            assert!(super::filter(query).unwrap_err().message.contains(named), "{query}");
        }
        assert_eq!(super::filter("cursor=bm9wZQ").unwrap_err().code, ErrorCode::InvalidCursor);
        let (_, next) = Page { limit: 1, before_id: None }.cut(vec![78, 77], |n| *n);
        assert_eq!(super::filter(&format!("cursor={}", next.unwrap())).unwrap().1.before_id, Some(78));
    }
}
