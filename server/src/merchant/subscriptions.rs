//! `/api/merchant/subscriptions`: bill a customer's saved card every period (docs/saved-cards.md),
//! and `/api/merchant/test-clock` (sandbox only), the clock they are billed by.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::{
    ApiError, ErrorCode, EventType, IntervalUnit, METADATA_MAX_BYTES, PaymentMethod, Subscription, SubscriptionCancel, SubscriptionChange,
    SubscriptionList, SubscriptionRequest, SubscriptionStatus, TestClock, TestClockAdvance,
};

use super::auth::MerchantAuthErrors;
use crate::checkout::validate::{self, Terms};
use crate::error::AppError;
use crate::idempotency::REPLAYED_HEADER;
use crate::json::JsonBody;
use crate::state::AppState;
use crate::store::cards::CardRow;
use crate::store::subscriptions::{self as stored, Inserted, SubscriptionRow};
use crate::store::{clock, now};
use crate::subscriptions::{self as engine, schedule};
use crate::views::order::rfc3339;
use crate::views::subscription::subscription as view;

/// Start billing a customer's saved card every period.
///
/// The first charge is at `start` (now when absent), then one per period, each once, on any
/// number of instances; declines are retried after `retryDays`, then the subscription is
/// `past_due` until its unpaid period ends, and then `cancelled`. Webhooks:
/// `subscription.created`, `.renewed`, `.payment_failed`, `.past_due`, `.cancelled`.
#[utoipa::path(
    post,
    path = "/api/merchant/subscriptions",
    operation_id = "createSubscription",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required: a retry with the same key and body returns the same subscription")),
    request_body = SubscriptionRequest,
    responses(
        (status = 201, description = "The subscription (new, or the one this Idempotency-Key made before)", body = Subscription),
        (status = 400, description = "`invalid_json`, `idempotency_key_required`, `invalid_idempotency_key`", body = ApiError),
        MerchantAuthErrors,
        (status = 413, description = "`body_too_large`", body = ApiError),
        (status = 415, description = "`unsupported_media_type`", body = ApiError),
        (status = 422, description = "`invalid_amount`, `amount_too_small`, `amount_too_large`, `invalid_field`, `idempotency_key_reused`, `card_not_usable`", body = ApiError),
        (status = 503, description = "`timeout`", body = ApiError),
    )
)]
pub async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SubscriptionRequest>,
) -> Result<Response, AppError> {
    let idempotency_key =
        crate::idempotency::required_idempotency_key(&headers, ": a retry with the same key cannot start a second subscription")?;
    let clock_now = engine::clock_now_ms(&app).await? / 1000;
    let valid = validate(&request, &app, clock_now)?;
    let card = super::cards::usable_card(&app, &valid.account_id, &request.card).await?;
    let row = SubscriptionRow {
        id: 0,
        sub_ref: format!("sub_{}", crate::secrets::random_hex(12)),
        account_id: valid.account_id.clone(),
        card_id: card.id,
        amount_minor: valid.amount_minor,
        currency: valid.currency.clone(),
        interval_unit: request.interval,
        interval_count: valid.interval_count,
        anchor_at: valid.start,
        description: valid.description.clone(),
        metadata: valid.metadata.clone(),
        retry_days: valid.retry_days.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        status: SubscriptionStatus::Active,
        status_reason: None,
        next_period: 1,
        attempt: 0,
        due_ms: Some(valid.start * 1000),
        cancel_at_period_end: false,
        cancelled_at: None,
        idempotency_key,
        fingerprint: valid.fingerprint(&request.card),
        created_at: now(),
        updated_at: now(),
        version: 0,
        card_ref: card.card_ref.clone(),
    };
    let inserted = app
        .store
        .write(move |tx| {
            let inserted = stored::insert(tx, &row)?;
            if let Inserted::New(sub) = &inserted {
                engine::announce(tx, sub.id, &[EventType::SubscriptionCreated], None)?;
            }
            Ok(inserted)
        })
        .await?;
    let (sub, replayed) = match inserted {
        Inserted::New(sub) => (sub, false),
        Inserted::Replayed(sub) => (sub, true),
        Inserted::KeyReused => {
            return Err(AppError::unprocessable(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key already started a subscription with a different body; use a new key for a new subscription",
            ));
        }
    };
    tracing::info!(subscription = %sub.sub_ref, replayed, "subscription created");
    app.subscriptions.notify_one();
    let body = single(&app, sub.id).await?;
    let location = HeaderValue::from_str(&format!("/api/merchant/subscriptions/{}", body.id)).map_err(AppError::internal)?;
    let mut response = (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A subscription request that passed every rule.
struct ValidSubscription {
    account_id: String,
    amount_minor: i64,
    currency: String,
    description: String,
    interval_count: i64,
    start: i64,
    metadata: Option<String>,
    retry_days: Vec<i64>,
    interval: IntervalUnit,
}

impl ValidSubscription {
    fn fingerprint(&self, card: &str) -> String {
        let canonical = [
            self.account_id.clone(),
            card.to_owned(),
            self.amount_minor.to_string(),
            self.currency.clone(),
            self.description.clone(),
            self.interval.as_str().to_owned(),
            self.interval_count.to_string(),
            self.metadata.clone().unwrap_or_default(),
            format!("{:?}", self.retry_days),
        ]
        .join("\u{1f}");
        crate::secrets::sha256_hex(canonical.as_bytes())
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable(ErrorCode::InvalidField, message)
}

/// The request's rules, with the test clock's `now` (unix seconds). Pure.
fn validate(request: &SubscriptionRequest, app: &AppState, now: i64) -> Result<ValidSubscription, AppError> {
    let account_id = request.account_id.trim().to_owned();
    if account_id.is_empty() {
        return Err(invalid("accountId is required: the customer whose saved card pays"));
    }
    let terms = Terms {
        amount: &request.amount,
        currency: request.currency.as_deref(),
        description: Some(&request.description),
        account_id: Some(&account_id),
        email: None,
        phone: None,
        language: None,
        card_save: Some(false),
        method: Some(PaymentMethod::Pay),
    };
    let checkout = validate::terms(terms, &app.config.checkout)?;
    if checkout.description.is_empty() {
        return Err(invalid("description is required: it tells the customer what each charge is for"));
    }
    let interval_count = i64::from(request.interval_count.unwrap_or(1));
    if !(1..=366).contains(&interval_count) {
        return Err(invalid("intervalCount must be 1 to 366 (every 3 months: interval month, intervalCount 3)"));
    }
    let start = match request.start.as_deref() {
        None => now,
        Some(text) => {
            let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid(format!("start `{text}` is not an RFC 3339 time (2026-12-31T09:00:00+05:00)")))?
                .unix_timestamp();
            if at < now - 60 {
                return Err(invalid(format!("start {text} is in the past (now is {}): a subscription starts now or later", rfc3339(now))));
            }
            at.max(now)
        }
    };
    let metadata = match &request.metadata {
        None => None,
        Some(raw) if raw.get().len() > METADATA_MAX_BYTES => {
            return Err(invalid(format!("metadata is {} bytes of JSON; at most {METADATA_MAX_BYTES} are kept", raw.get().len())));
        }
        Some(raw) if !raw.get().trim_start().starts_with('{') => return Err(invalid("metadata must be a JSON object")),
        Some(raw) => Some(raw.get().to_owned()),
    };
    let retry_days: Vec<i64> = match &request.retry_days {
        None => schedule::DEFAULT_RETRY_DAYS.to_vec(),
        Some(days) if days.len() > 10 || days.iter().any(|d| !(1..=60).contains(d)) => {
            return Err(invalid("retryDays: at most 10 retries, each 1 to 60 days after the one before (e.g. [1, 3, 5])"));
        }
        Some(days) => days.iter().map(|&d| i64::from(d)).collect(),
    };
    Ok(ValidSubscription {
        account_id,
        amount_minor: checkout.amount.minor() as i64,
        currency: checkout.currency,
        description: checkout.description,
        interval_count,
        start,
        metadata,
        retry_days,
        interval: request.interval,
    })
}

/// The subscription with every charge.
async fn single(app: &AppState, id: i64) -> Result<Subscription, AppError> {
    let (sub, charges) = app.store.read(move |db| Ok((stored::find_by_id(db, id)?, stored::charges(db, id)?))).await?;
    let sub = sub.ok_or_else(|| AppError::internal("the subscription vanished"))?;
    Ok(view(&sub, &charges, true))
}

async fn found(app: &AppState, sub_ref: &str) -> Result<SubscriptionRow, AppError> {
    let reference = sub_ref.to_owned();
    app.store.read(move |db| stored::find(db, &reference)).await?.ok_or_else(|| AppError::not_found(format!("no subscription `{sub_ref}`")))
}

/// One subscription, with every charge (period, attempt, order, outcome).
#[utoipa::path(
    get,
    path = "/api/merchant/subscriptions/{subscriptionId}",
    operation_id = "getSubscription",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("subscriptionId" = String, Path, description = "`sub_…`")),
    responses(
        (status = 200, description = "The subscription", body = Subscription),
        MerchantAuthErrors,
        (status = 404, description = "`not_found`", body = ApiError),
    )
)]
pub async fn show(State(app): State<Arc<AppState>>, Path(sub_ref): Path<String>) -> Result<Json<Subscription>, AppError> {
    let sub = found(&app, &sub_ref).await?;
    Ok(Json(single(&app, sub.id).await?))
}

/// Subscriptions, oldest first: a customer's (`accountId`), or all (500 at most).
#[utoipa::path(
    get,
    path = "/api/merchant/subscriptions",
    operation_id = "listSubscriptions",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("accountId" = Option<String>, Query, description = "The customer")),
    responses(
        (status = 200, description = "The subscriptions", body = SubscriptionList),
        MerchantAuthErrors,
    )
)]
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<SubscriptionList>, AppError> {
    let account = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "accountId")
        .map(|(_, value)| value.into_owned());
    let rows = app
        .store
        .read(move |db| {
            let subs = stored::list(db, account.as_deref(), 500)?;
            subs.into_iter().map(|sub| Ok((stored::charges(db, sub.id)?, sub))).collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Json(SubscriptionList { data: rows.iter().map(|(charges, sub)| view(sub, charges, false)).collect() }))
}

/// What a shop's change does to a subscription. Pure: `Err` says why it may not.
fn changed(sub: &SubscriptionRow, change: &Change, clock_now: i64) -> Result<(SubscriptionRow, Vec<EventType>), AppError> {
    let over = || {
        AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::OperationNotAllowed,
            format!("subscription {} is cancelled: it cannot change", sub.sub_ref),
        )
    };
    if sub.status == SubscriptionStatus::Cancelled {
        return Err(over());
    }
    let mut row = sub.clone();
    let mut events = vec![];
    match change {
        // Paused and resumed, it would be charged again past its retries: a new card or a
        // cancel is what a past-due subscription needs.
        Change::Pause if sub.status == SubscriptionStatus::PastDue => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::OperationNotAllowed,
                format!(
                    "subscription {} is past due ({}): give it another card (PATCH card) or cancel it",
                    sub.sub_ref,
                    sub.status_reason.as_deref().unwrap_or("unpaid")
                ),
            ));
        }
        Change::Pause => {
            row.status = SubscriptionStatus::Paused;
            row.due_ms = None;
        }
        Change::Resume if sub.status != SubscriptionStatus::Paused => {
            return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, "only a paused subscription resumes"));
        }
        Change::Resume => row = schedule::resumed(sub, clock_now),
        Change::Cancel { at_period_end: true } => row.cancel_at_period_end = true,
        Change::Cancel { at_period_end: false } => {
            row.status = SubscriptionStatus::Cancelled;
            row.status_reason = Some("cancelled_by_merchant".to_owned());
            row.cancelled_at = Some(clock_now);
            row.due_ms = None;
            events.push(EventType::SubscriptionCancelled);
        }
        Change::Edit { amount_minor, card, description } => {
            if let Some(amount) = amount_minor {
                row.amount_minor = *amount;
            }
            if let Some(description) = description {
                row.description = description.clone();
            }
            if let Some(card) = card {
                row.card_id = card.id;
                row.card_ref = card.card_ref.clone();
                // A new card pays the unpaid period at once.
                if sub.status == SubscriptionStatus::PastDue {
                    row.status = SubscriptionStatus::Active;
                    row.status_reason = None;
                    row.due_ms = Some(clock_now * 1000);
                }
            }
        }
    }
    Ok((row, events))
}

pub(crate) enum Change {
    Pause,
    Resume,
    Cancel { at_period_end: bool },
    Edit { amount_minor: Option<i64>, card: Option<Box<CardRow>>, description: Option<String> },
}

/// Applies `change` to subscription `sub_ref`, with its events, in one transaction.
pub(crate) async fn apply(app: &AppState, sub_ref: &str, change: Change) -> Result<Json<Subscription>, AppError> {
    for _ in 0..5 {
        let sub = found(app, sub_ref).await?;
        let clock_now = engine::clock_now_ms(app).await? / 1000;
        let (row, events) = changed(&sub, &change, clock_now)?;
        let saved = app.store.write(move |tx| engine::save_with_events(tx, &row, &events, None)).await?;
        if saved {
            app.subscriptions.notify_one();
            return Ok(Json(single(app, sub.id).await?));
        }
        // The worker moved it meanwhile: the change applies to what it left.
    }
    Err(AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, "the subscription is changing right now; retry in a moment"))
}

/// Pause: no charge until resumed (periods that begin meanwhile are not charged).
#[utoipa::path(post, path = "/api/merchant/subscriptions/{subscriptionId}/pause", operation_id = "pauseSubscription", tag = "merchant",
    security(("merchantKey" = [])), params(("subscriptionId" = String, Path, description = "`sub_…`")),
    responses((status = 200, description = "The subscription, paused", body = Subscription), MerchantAuthErrors,
        (status = 404, description = "`not_found`", body = ApiError), (status = 409, description = "`operation_not_allowed`: it is cancelled, or past due", body = ApiError)))]
pub async fn pause(State(app): State<Arc<AppState>>, Path(sub_ref): Path<String>) -> Result<Json<Subscription>, AppError> {
    apply(&app, &sub_ref, Change::Pause).await
}

/// Resume a paused subscription: the current period is charged at once unless it was paid.
#[utoipa::path(post, path = "/api/merchant/subscriptions/{subscriptionId}/resume", operation_id = "resumeSubscription", tag = "merchant",
    security(("merchantKey" = [])), params(("subscriptionId" = String, Path, description = "`sub_…`")),
    responses((status = 200, description = "The subscription, active", body = Subscription), MerchantAuthErrors,
        (status = 404, description = "`not_found`", body = ApiError), (status = 409, description = "`operation_not_allowed`: it is not paused", body = ApiError)))]
pub async fn resume(State(app): State<Arc<AppState>>, Path(sub_ref): Path<String>) -> Result<Json<Subscription>, AppError> {
    apply(&app, &sub_ref, Change::Resume).await
}

/// Cancel now (`subscription.cancelled`), or at the end of the paid period (`atPeriodEnd`).
#[utoipa::path(post, path = "/api/merchant/subscriptions/{subscriptionId}/cancel", operation_id = "cancelSubscription", tag = "merchant",
    security(("merchantKey" = [])), params(("subscriptionId" = String, Path, description = "`sub_…`")), request_body = SubscriptionCancel,
    responses((status = 200, description = "The subscription", body = Subscription), MerchantAuthErrors,
        (status = 400, description = "`invalid_json`: the body is not `{\"atPeriodEnd\": true|false}`", body = ApiError),
        (status = 404, description = "`not_found`", body = ApiError), (status = 409, description = "`operation_not_allowed`: it is cancelled already", body = ApiError)))]
pub async fn cancel(
    State(app): State<Arc<AppState>>,
    Path(sub_ref): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Subscription>, AppError> {
    let request = cancel_request(&body)?;
    let at_period_end = request.at_period_end;
    apply(&app, &sub_ref, Change::Cancel { at_period_end }).await
}

/// A cancel's body: none (or blanks) is a cancel now; else `{"atPeriodEnd": true|false}`.
/// The merchant API's and the console's.
pub(crate) fn cancel_request(body: &[u8]) -> Result<SubscriptionCancel, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SubscriptionCancel::default());
    }
    serde_json::from_slice(body)
        .map_err(|err| AppError::bad_request(ErrorCode::InvalidJson, format!("the body must be {{\"atPeriodEnd\": true|false}} ({err})")))
}

/// Change the amount (from the next period on), the card (a `past_due` subscription is charged
/// with it at once) or the description.
#[utoipa::path(patch, path = "/api/merchant/subscriptions/{subscriptionId}", operation_id = "changeSubscription", tag = "merchant",
    security(("merchantKey" = [])), params(("subscriptionId" = String, Path, description = "`sub_…`")), request_body = SubscriptionChange,
    responses((status = 200, description = "The subscription", body = Subscription), MerchantAuthErrors, (status = 400, description = "`invalid_json`", body = ApiError), (status = 413, description = "`body_too_large`", body = ApiError), (status = 415, description = "`unsupported_media_type`", body = ApiError),
        (status = 404, description = "`not_found`", body = ApiError), (status = 409, description = "`operation_not_allowed`: it is cancelled", body = ApiError),
        (status = 422, description = "`invalid_amount`, `amount_too_small`, `amount_too_large`, `invalid_field`, `card_not_usable`", body = ApiError)))]
pub async fn change(
    State(app): State<Arc<AppState>>,
    Path(sub_ref): Path<String>,
    JsonBody(change): JsonBody<SubscriptionChange>,
) -> Result<Json<Subscription>, AppError> {
    let sub = found(&app, &sub_ref).await?;
    let amount_minor = match &change.amount {
        None => None,
        Some(amount) => {
            Some(validate::terms(engine::charge_terms(&sub, amount, &sub.description), &app.config.checkout)?.amount.minor() as i64)
        }
    };
    let description = match change.description.as_deref().map(str::trim) {
        Some("") => return Err(invalid("description cannot be empty")),
        other => other.map(str::to_owned),
    };
    let card = match &change.card {
        Some(card) => Some(Box::new(super::cards::usable_card(&app, &sub.account_id, card).await?)),
        None => None,
    };
    apply(&app, &sub_ref, Change::Edit { amount_minor, card, description }).await
}

/// The test clock subscriptions are billed by (`EPAY_ENV=sandbox` only).
#[utoipa::path(get, path = "/api/merchant/test-clock", operation_id = "getTestClock", tag = "merchant", security(("merchantKey" = [])),
    responses((status = 200, description = "The test clock", body = TestClock), MerchantAuthErrors,
        (status = 404, description = "`not_found`: not a sandbox", body = ApiError)))]
pub async fn test_clock(State(app): State<Arc<AppState>>) -> Result<Json<TestClock>, AppError> {
    sandbox_only(&app)?;
    let offset_secs = app.store.read(clock::offset_secs).await?;
    Ok(Json(TestClock { now: rfc3339(now() + offset_secs), offset_secs }))
}

/// Moves the test clock forward (`EPAY_ENV=sandbox` only): subscriptions bill what came due,
/// each period once, as if the time had passed.
#[utoipa::path(post, path = "/api/merchant/test-clock/advance", operation_id = "advanceTestClock", tag = "merchant",
    security(("merchantKey" = [])), request_body = TestClockAdvance,
    responses((status = 200, description = "The test clock, moved", body = TestClock), MerchantAuthErrors, (status = 400, description = "`invalid_json`", body = ApiError), (status = 413, description = "`body_too_large`", body = ApiError), (status = 415, description = "`unsupported_media_type`", body = ApiError),
        (status = 404, description = "`not_found`: not a sandbox", body = ApiError),
        (status = 422, description = "`invalid_field`: seconds must be 1 to 5 years' worth", body = ApiError)))]
pub async fn advance_test_clock(
    State(app): State<Arc<AppState>>,
    JsonBody(advance): JsonBody<TestClockAdvance>,
) -> Result<Json<TestClock>, AppError> {
    sandbox_only(&app)?;
    if !(1..=5 * 366 * 86_400).contains(&advance.seconds) {
        return Err(invalid("seconds must be 1 to 5 years' worth (158112000); the clock never goes back"));
    }
    let seconds = advance.seconds;
    let offset_secs = app.store.write(move |tx| clock::advance(tx, seconds)).await?;
    tracing::info!(offset_secs, "the test clock moved");
    app.subscriptions.notify_one();
    Ok(Json(TestClock { now: rfc3339(now() + offset_secs), offset_secs }))
}

fn sandbox_only(app: &AppState) -> Result<(), AppError> {
    if app.config.epay.env != crate::config::EpayEnv::Sandbox {
        return Err(AppError::not_found("the test clock exists in the sandbox only (EPAY_ENV=sandbox)"));
    }
    Ok(())
}
