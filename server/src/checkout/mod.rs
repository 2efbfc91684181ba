//! `POST /api/checkout`: store the order, mint one ePay token for it, hand the widget what it
//! needs to call `halyk.p2p`.

pub mod charge;
pub mod order;
pub mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use epay_api_types::{ApiError, CheckoutRequest, CheckoutResponse, ErrorCode, OrderSource};
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::confirm;
use crate::epay::PaymentTokenRequest;
use crate::error::AppError;
use crate::json::JsonBody;
use crate::secrets;
use crate::state::AppState;
use crate::store::now;
use crate::store::orders::{self, Begin, NewOrder, OrderKey, OrderRow, OrderState};
use crate::views::order::rfc3339;
use validate::ValidCheckout;

pub type CheckoutBody = CheckoutResponse<Box<RawValue>>;

/// Prefixes of `orders.start_error`, so a concurrent duplicate can answer like the original.
const TIMEOUT_PREFIX: &str = "upstream_timeout: ";
const UPSTREAM_PREFIX: &str = "upstream_error: ";
const TOKEN_RATE_PREFIX: &str = "token_rate: ";
const OUTLIVES_PREFIX: &str = "token_outlives_order: ";

/// Start a payment of an amount the payer chose.
///
/// Served only with `CHECKOUT_OPEN_AMOUNTS=true` (transfers, donations); a shop that sells
/// things creates its orders through the merchant API instead.
#[utoipa::path(
    post,
    path = "/api/checkout",
    operation_id = "createCheckout",
    tag = "widget",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; a retry with the same key and body gets the same order")),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "The order and ePay's token: what the widget hands to halyk", body = CheckoutBody),
        (status = 400, description = "`invalid_json`, `invalid_idempotency_key`", body = ApiError),
        (status = 403, description = "`open_amounts_disabled`: amounts come from the merchant API", body = ApiError),
        (status = 409, description = "`checkout_in_progress`, `checkout_finished`", body = ApiError),
        (status = 413, description = "`body_too_large`", body = ApiError),
        (status = 415, description = "`unsupported_media_type`", body = ApiError),
        (status = 422, description = "`invalid_amount`, `amount_too_small`, `amount_too_large`, `invalid_field`, `idempotency_key_reused`", body = ApiError),
        (status = 429, description = "`rate_limited`", body = ApiError),
        (status = 502, description = "`upstream_error`: ePay could not issue a token", body = ApiError),
        (status = 503, description = "`too_many_open_orders`, `token_rate_exceeded`, `timeout`", body = ApiError),
        (status = 504, description = "`upstream_timeout`", body = ApiError),
    )
)]
pub async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CheckoutRequest>,
) -> Result<Json<CheckoutBody>, AppError> {
    if !app.config.checkout.open_amounts {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OpenAmountsDisabled,
            "amounts come from the merchant API here: the shop creates the order (POST /api/merchant/orders) and the widget pays it with data-order; CHECKOUT_OPEN_AMOUNTS=true lets payers choose amounts",
        ));
    }
    let idempotency_key = crate::idempotency::idempotency_key(&headers)?;
    let valid = validate::checkout(&request, &app.config.checkout)?;
    let new_order = new_order(&app, &valid, idempotency_key.clone());

    let open = app.open_orders.clone();
    // Whether the job counted a new order (it may run more than once): settled once it is done.
    let counted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts = counted.clone();
    let begin = app.store.write(move |conn| orders::begin_checkout(conn, new_order.clone(), &open, &counts)).await;
    if counted.load(std::sync::atomic::Ordering::SeqCst) {
        app.open_orders.settled();
    }
    let begin = begin?;
    answer(&app, begin).await
}

/// What a request gets for `begin`: the token (new or reused), or why not.
pub(crate) async fn answer(app: &Arc<AppState>, begin: Begin) -> Result<Json<CheckoutBody>, AppError> {
    match begin {
        Begin::Start(order) => {
            // The token step runs on its own task: a client that disconnects (hyper then drops
            // this handler) must not leave the order `created`, holding its suffix, for ever.
            let span = tracing::info_span!("checkout", invoice_id = %order.invoice_id);
            let task = tokio::spawn(start(app.clone(), order).instrument(span));
            task.await.map_err(AppError::internal)?
        }
        Begin::Ready(order) => {
            tracing::info!(invoice_id = %order.invoice_id, "idempotent replay of a checkout");
            respond(app, &order)
        }
        Begin::InProgress(order) => wait_for_concurrent_start(app, order).await,
        Begin::Finished(order) => Err(finished(&order)),
        Begin::KeyReused => Err(AppError::unprocessable(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request; use a new key for a new payment",
        )),
        Begin::Expired(order) => Err(expired(&order)),
        Begin::TooManyOpen => Err(too_many_open(app)),
    }
}

pub(crate) fn too_many_open(app: &AppState) -> AppError {
    tracing::warn!(held = app.open_orders.held(), max = app.config.limits.max_open_orders, "order refused: MAX_OPEN_ORDERS reached");
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::TooManyOpenOrders,
        "too many payments are open at once; retry in a few minutes",
    )
    .retry_after(60)
}

pub(crate) fn new_order(app: &AppState, valid: &ValidCheckout, idempotency_key: Option<String>) -> NewOrder {
    NewOrder {
        order_key: secrets::new_order_key(),
        secret_hash: secrets::new_secret_hash(),
        idempotency_key,
        request_fingerprint: valid.fingerprint(),
        amount: valid.amount,
        currency: valid.currency.clone(),
        terminal: app.config.epay.terminal_for(valid.method).to_owned(),
        method: valid.method,
        description: valid.description.clone(),
        account_id: valid.account_id.clone(),
        email: valid.email.clone(),
        phone: valid.phone.clone(),
        language: valid.language,
        card_save: valid.card_save,
        merchant: None,
        // One line, the description for the amount, when receipts are issued (no items: no error).
        receipt_lines: crate::fiscal::items::receipt_lines(&app.config.fiscal, &receipt_sale(valid), &[]).ok().flatten(),
    }
}

/// What of a checkout its fiscal receipt depends on.
pub(crate) fn receipt_sale(valid: &ValidCheckout) -> crate::fiscal::items::Sale<'_> {
    crate::fiscal::items::Sale { method: valid.method, currency: &valid.currency, description: &valid.description, amount: valid.amount }
}

/// The order is stored as `created`: obtain its token, then record the result either way.
async fn start(app: Arc<AppState>, order: OrderRow) -> Result<Json<CheckoutBody>, AppError> {
    let scope = order.method.token_scope();
    let first_check_ms = confirm::first_check_ms(&app.config.confirmation);
    let order = obtain_token(&app, order, scope, first_check_ms).await?;
    respond(&app, &order)
}

/// The token step of a `created` order: the token for `scope`, recorded (the order becomes
/// `pending`, its first status question at `first_check_ms`), or the failure recorded and
/// answered. The pending order.
pub(crate) async fn obtain_token(app: &AppState, order: OrderRow, scope: &'static str, first_check_ms: i64) -> Result<OrderRow, AppError> {
    if let Err(wait) = app.token_budget.take() {
        let wait_secs = wait.as_secs().max(1);
        tracing::warn!(wait_secs, "checkout refused: EPAY_TOKEN_RATE_PER_MINUTE reached");
        record_start_failure(app, &order, format!("{TOKEN_RATE_PREFIX}EPAY_TOKEN_RATE_PER_MINUTE reached")).await?;
        return Err(token_rate_error().retry_after(wait_secs));
    }
    let request = PaymentTokenRequest {
        scope,
        terminal: order.terminal.clone(),
        invoice_id: order.invoice_id.clone(),
        amount: order.amount(),
        currency: order.currency.clone(),
        secret_hash: order.secret_hash.expose().to_owned(),
    };
    let started = Instant::now();
    match app.epay.payment_token(&request).await {
        Ok(token) => {
            let raw = token.raw.get().to_owned();
            let expires_at = now() + token.expires_in as i64;
            if order.expires_at.is_some_and(|order_end| expires_at > order_end) {
                // ePay gave a token that would still work after the order ended: the payer
                // never sees it, so no payment can complete after `expiresAt`.
                tracing::warn!(expires_in = token.expires_in, "the payment token would outlive its order; not handed out");
                record_start_failure(app, &order, format!("{OUTLIVES_PREFIX}the token lives {} s", token.expires_in)).await?;
                return Err(expired(&order));
            }
            // Without a postLink by then, the status API is asked (reconciliation).
            let id = order.id;
            let recorded = raw.clone();
            let taken = app
                .store
                .write_locking(Some(OrderKey::Id(id)), move |tx| orders::record_token(tx, id, &recorded, expires_at, first_check_ms))
                .await?;
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "payment token issued");
            if !taken {
                // The order moved on while ePay was asked (a notification, the status API):
                // it keeps its state; the payer is told as a concurrent duplicate would be.
                tracing::warn!("the order left `created` while its token was requested; the token is not recorded");
                return Err(finished(&order));
            }
            Ok(OrderRow { status: OrderState::Pending, token_response: Some(raw), token_expires_at: Some(expires_at), ..order })
        }
        Err(err) => {
            tracing::warn!(error = %err, elapsed_ms = started.elapsed().as_millis() as u64, "ePay token request failed");
            let prefix = if err.is_timeout() { TIMEOUT_PREFIX } else { UPSTREAM_PREFIX };
            record_start_failure(app, &order, format!("{prefix}{err}")).await?;
            Err(upstream_error(err.is_timeout()))
        }
    }
}

/// The order could not start: `recorded` (a prefix that says why, then details) is kept so a
/// concurrent duplicate answers alike, and reconciliation looks the order up later.
async fn record_start_failure(app: &AppState, order: &OrderRow, recorded: String) -> Result<(), AppError> {
    let (id, check_ms) = (order.id, confirm::first_check_ms(&app.config.confirmation));
    app.store.write(move |tx| orders::record_start_failure(tx, id, &recorded, check_ms)).await?;
    Ok(())
}

fn token_rate_error() -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::TokenRateExceeded,
        "the proxy is asking ePay for as many payment tokens as it may this minute; retry with the same Idempotency-Key shortly",
    )
}

/// The answer a request gets for a failed start it did not make itself, from the order's
/// recorded `start_error`.
fn start_failure_answer(order: &OrderRow) -> AppError {
    match order.start_error.as_deref() {
        Some(e) if e.starts_with(OUTLIVES_PREFIX) => expired(order),
        Some(e) if e.starts_with(TOKEN_RATE_PREFIX) => token_rate_error().retry_after(60),
        Some(e) if e.starts_with(TIMEOUT_PREFIX) => upstream_error(true),
        _ => upstream_error(false),
    }
}

/// A merchant order that hands out no new token: it ended, or a token would outlive it.
pub(crate) fn expired(order: &OrderRow) -> AppError {
    let message = match (order.expires_at, order.payable_until()) {
        (Some(end), Some(until)) if now() < end => format!(
            "order {} can no longer be started: payments could start until {} (an ePay token lives two hours and the order \
             ends at {}); the shop can create a new one",
            order.invoice_id,
            rfc3339(until),
            rfc3339(end)
        ),
        _ => format!("order {} can no longer be paid: its time ran out; the shop can create a new one", order.invoice_id),
    };
    AppError::new(StatusCode::GONE, ErrorCode::OrderExpired, message)
}

pub(crate) fn finished(order: &OrderRow) -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        ErrorCode::CheckoutFinished,
        format!("the checkout for this Idempotency-Key has already ended (order {}); start a new payment with a new key", order.invoice_id),
    )
}

pub(crate) fn upstream_error(timed_out: bool) -> AppError {
    if timed_out {
        AppError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::UpstreamTimeout,
            "ePay did not answer in time; retry with the same Idempotency-Key",
        )
    } else {
        AppError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::UpstreamError,
            "ePay could not issue a payment token; retry with the same Idempotency-Key",
        )
    }
}

/// A request with the same Idempotency-Key (or for the same merchant order) is obtaining the token: wait for its result
/// instead of minting a second token (a double click must not create two payments).
async fn wait_for_concurrent_start(app: &Arc<AppState>, order: OrderRow) -> Result<Json<CheckoutBody>, AppError> {
    let order = wait_until_started(app, order).await?;
    respond(app, &order)
}

/// The order another request is starting, once it is `pending` (or why it is not).
pub(crate) async fn wait_until_started(app: &AppState, order: OrderRow) -> Result<OrderRow, AppError> {
    let deadline = Instant::now() + app.config.epay.timeout + Duration::from_secs(2);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let id = order.id;
        let Some(order) = app.store.read(move |db| orders::find_by_id(db, id)).await? else { break };
        match order.status {
            OrderState::Created => continue,
            OrderState::Pending => return Ok(order),
            OrderState::StartFailed => return Err(start_failure_answer(&order)),
            _ => break,
        }
    }
    Err(AppError::new(
        StatusCode::CONFLICT,
        ErrorCode::CheckoutInProgress,
        "a checkout with this Idempotency-Key is still being started; retry in a moment",
    ))
}

/// Where ePay sends the payer of a merchant order back: the shop's `returnUrl` with the order
/// added to its query, or the hosted payment page (with the key in its fragment). Either
/// shows the order's outcome.
fn merchant_back_link(config: &crate::config::Config, order: &OrderRow) -> String {
    match &order.return_url {
        Some(url) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}order={}", order.invoice_id)
        }
        None => config.server.public_link(&format!("/pay/{id}?order={id}#key={}", order.order_key.expose(), id = order.invoice_id)),
    }
}

fn respond(app: &AppState, order: &OrderRow) -> Result<Json<CheckoutBody>, AppError> {
    let config = &app.config;
    let raw = order.token_response.clone().ok_or_else(|| AppError::internal("pending order without a token"))?;
    let auth = RawValue::from_string(raw).map_err(AppError::internal)?;
    let language = order.language;
    let link = |template: &str| match order.source {
        OrderSource::Merchant => merchant_back_link(config, order),
        OrderSource::Payer => {
            template.replace("{order}", &order.invoice_id).replace("{key}", order.order_key.expose()).replace("{lang}", language.tag())
        }
    };
    Ok(Json(CheckoutResponse {
        invoice_id: order.invoice_id.clone(),
        order_key: order.order_key.expose().to_owned(),
        amount: order.amount().to_string(),
        currency: order.currency.clone(),
        terminal: order.terminal.clone(),
        description: order.description.clone(),
        language: config.epay.language_codes.code(language).to_owned(),
        account_id: order.account_id.clone(),
        email: order.email.clone(),
        phone: order.phone.clone(),
        card_save: order.card_save,
        method: order.method,
        back_link: link(&config.checkout.back_link),
        failure_back_link: link(&config.checkout.failure_back_link),
        post_link: config.epay.post_link.clone(),
        failure_post_link: config.epay.failure_post_link.clone(),
        script_url: config.epay.script_url.to_string(),
        payform_origin: config.epay.payform_origin.clone(),
        auth,
    }))
}
