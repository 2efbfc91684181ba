//! `GET /api/merchant/events` and `POST /api/merchant/events/{id}/resend`: the webhook events,
//! with every delivery attempt, and sending one again (same webhook-id, same body).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use epay_api_types::{ApiError, DeliveryAttempt, WebhookEvent, WebhookEventPage};
use serde_json::value::RawValue;

use super::auth::MerchantAuthErrors;
use super::paging::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::now_ms;
use crate::store::webhooks::{self, AttemptRow, EventRow};
use crate::views::order::rfc3339;

/// Webhook events, newest first, with their delivery attempts.
#[utoipa::path(
    get,
    path = "/api/merchant/events",
    operation_id = "listMerchantEvents",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(
        ("invoiceId" = Option<String>, Query, description = "Only this order's events"),
        ("limit" = Option<i64>, Query, description = "1 to 100; 20 by default"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of events", body = WebhookEventPage),
        (status = 400, description = "`invalid_field`, `invalid_cursor`", body = ApiError),
        MerchantAuthErrors,
    )
)]
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<WebhookEventPage>, AppError> {
    let (mut invoice_id, mut page) = (None, Page::default());
    for (name, value) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        if !page.read(&name, value.trim())? && name == "invoiceId" {
            invoice_id = Some(value.trim().to_owned());
        }
    }
    let (before_id, fetch) = (page.before_id, page.fetch());
    let (rows, attempts) = app.store.read(move |db| webhooks::page(db, invoice_id.as_deref(), before_id, fetch)).await?;
    let (rows, next_cursor) = page.cut(rows, |row| row.id);
    Ok(Json(WebhookEventPage { next_cursor, events: rows.iter().map(|row| view(row, &attempts)).collect() }))
}

/// Sends an event again now, whatever became of it (same webhook-id and body).
#[utoipa::path(
    post,
    path = "/api/merchant/events/{eventId}/resend",
    operation_id = "resendMerchantEvent",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("eventId" = String, Path, description = "The event's id (its webhook-id)")),
    responses(
        (status = 202, description = "Queued; the event as it stands", body = WebhookEvent),
        MerchantAuthErrors,
        (status = 404, description = "`not_found`", body = ApiError),
    )
)]
pub async fn resend(State(app): State<Arc<AppState>>, Path(event_id): Path<String>) -> Result<(StatusCode, Json<WebhookEvent>), AppError> {
    let id = event_id.clone();
    let found = app.store.write(move |tx| webhooks::resend(tx, &id, now_ms())).await?;
    let Some(found) = found else { return Err(AppError::not_found(format!("no event `{event_id}`"))) };
    tracing::info!(event = %event_id, "webhook event queued again");
    let id = event_id.clone();
    let (row, attempts) = app.store.read(move |db| Ok((webhooks::find(db, &id)?, webhooks::attempts(db, &[found])?))).await?;
    let row = row.ok_or_else(|| AppError::internal("a resent event vanished"))?;
    Ok((StatusCode::ACCEPTED, Json(view(&row, &attempts))))
}

pub fn view(row: &EventRow, attempts: &[AttemptRow]) -> WebhookEvent {
    WebhookEvent {
        id: row.event_id.clone(),
        r#type: row.r#type,
        invoice_id: row.invoice_id.clone(),
        subscription_id: row.subscription_ref.clone(),
        created_at: rfc3339(row.created_ms.div_euclid(1000)),
        status: row.status.clone(),
        delivered_at: row.delivered_ms.map(|ms| rfc3339(ms.div_euclid(1000))),
        next_attempt_at: row.next_attempt_ms.map(|ms| rfc3339(ms.div_euclid(1000))),
        payload: row.payload.clone().and_then(|text| RawValue::from_string(text).ok()),
        attempts: attempts
            .iter()
            .filter(|a| a.event_id == row.id)
            .map(|a| DeliveryAttempt {
                at: rfc3339(a.at_ms.div_euclid(1000)),
                status_code: a.status_code,
                error: a.error.clone(),
                response: a.response.clone(),
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}
