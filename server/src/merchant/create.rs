//! `POST /api/merchant/orders`: the shop's backend fixes an order's price and terms, once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::{ApiError, ErrorCode, MerchantOrder, MerchantOrderRequest};

use super::auth::MerchantAuthErrors;
use super::validate;
use crate::error::AppError;
use crate::idempotency::REPLAYED_HEADER;
use crate::json::JsonBody;
use crate::state::AppState;
use crate::store::cards;
use crate::store::orders::{self, Created, MerchantTerms, NewOrder};
use crate::views::order as view;
use crate::{checkout, fiscal};

/// Create a merchant order.
///
/// The amount, currency and description are fixed here and never change. The answer's
/// `orderKey` (or `checkoutUrl`) lets the payer pay it. Repeating the request with the same
/// `Idempotency-Key` and body returns the same order (with `Idempotent-Replayed: true`).
/// With `savedCard` the order is paid at once with that saved card of `accountId`, server to
/// server: the answer shows it `paid`, `failed` (with `payment.declineCode`), or `pending`
/// while ePay's status API cannot tell yet; its payment is sent to ePay once, whatever is
/// repeated.
#[utoipa::path(
    post,
    path = "/api/merchant/orders",
    operation_id = "createMerchantOrder",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required: 1 to 255 visible ASCII characters; a retry with the same key and body returns the same order")),
    request_body = MerchantOrderRequest,
    responses(
        (status = 201, description = "The order (new, or the one this Idempotency-Key made before)", body = MerchantOrder),
        (status = 400, description = "`invalid_json`, `idempotency_key_required`, `invalid_idempotency_key`", body = ApiError),
        MerchantAuthErrors,
        (status = 409, description = "`duplicate_reference`: another order has this reference; the message names its invoice", body = ApiError),
        (status = 413, description = "`body_too_large`", body = ApiError),
        (status = 415, description = "`unsupported_media_type`", body = ApiError),
        (status = 422, description = "`invalid_amount`, `amount_too_small`, `amount_too_large`, `invalid_field`, `idempotency_key_reused`, `card_not_usable` (`savedCard` is not an active card of `accountId`)", body = ApiError),
        (status = 429, description = "`too_many_open_merchant_orders` (`Retry-After`)", body = ApiError),
        (status = 502, description = "`upstream_error`: a payment by `savedCard` could not reach ePay (nothing was sent); retry with the same Idempotency-Key", body = ApiError),
        (status = 503, description = "`too_many_open_orders`, `token_rate_exceeded`, `timeout`", body = ApiError),
        (status = 504, description = "`upstream_timeout`: ePay gave no payment token in time (nothing was charged); retry with the same Idempotency-Key", body = ApiError),
    )
)]
pub async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<MerchantOrderRequest>,
) -> Result<Response, AppError> {
    let idempotency_key = crate::idempotency::required_idempotency_key(
        &headers,
        " (e.g. a UUID, or your own order id): a retry with the same key cannot create a second order",
    )?;
    let server = &app.config.server;
    let return_origins: Vec<String> =
        server.allowed_origins.iter().cloned().chain([server.public_url.origin().ascii_serialization()]).collect();
    let reach = validate::Reach { https_only: app.config.epay.env == crate::config::EpayEnv::Prod, return_origins: &return_origins };
    let valid = validate::order(&request, &app.config.checkout, &reach)?;
    let terms = MerchantTerms {
        reference: valid.reference.clone(),
        idempotency_key,
        fingerprint: valid.fingerprint(),
        metadata: valid.metadata.clone(),
        return_url: valid.return_url.clone(),
        lifetime_secs: valid.lifetime_secs() as i64,
    };
    let items = request.items.as_deref().unwrap_or_default();
    let receipt_lines = fiscal::items::receipt_lines(&app.config.fiscal, &checkout::receipt_sale(&valid.checkout), items)
        .map_err(|message| AppError::unprocessable(ErrorCode::InvalidField, message))?;
    let new = NewOrder { merchant: Some(terms), receipt_lines, ..checkout::new_order(&app, &valid.checkout, None) };
    // A replay is answered whatever became of the card since (a paid order stays paid).
    let key = terms_key(&new);
    let made_before = app.store.read(move |db| orders::find_by_merchant_idempotency_key(db, &key)).await?.is_some();
    let card = match &valid.saved_card {
        Some(card_ref) if !made_before => Some(super::cards::usable_card(&app, &valid.checkout.account_id, card_ref).await?),
        _ => None,
    };
    let (open, merchant_open) = (app.open_orders.clone(), app.merchant_open_orders.clone());
    // Whether the job counted a new order (it may run more than once): settled once it is done.
    let counted = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let counts = counted.clone();
    let created = app
        .store
        .write(move |tx| {
            let created = orders::create_merchant_order(tx, new.clone(), &open, &merchant_open, &counts)?;
            // The card that pays it, in the order's own transaction.
            if let (Created::New(order), Some(card)) = (&created, &card) {
                cards::create_charge(tx, order.id, card.id)?;
            }
            Ok(created)
        })
        .await;
    for (flag, quota) in counted.iter().zip([&app.open_orders, &app.merchant_open_orders]) {
        if flag.load(Ordering::SeqCst) {
            quota.settled();
        }
    }
    let created = created?;
    let (order, replayed) = match created {
        Created::New(order) => (order, false),
        Created::Replayed(order) => (order, true),
        Created::KeyReused => {
            return Err(AppError::unprocessable(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key already created an order with a different body; use a new key for a new order",
            ));
        }
        Created::DuplicateReference(invoice_id) => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::DuplicateReference,
                format!("an order with reference `{}` already exists: invoice {invoice_id}", valid.reference),
            ));
        }
        Created::TooManyOpen => return Err(checkout::too_many_open(&app)),
        Created::TooManyOpenMerchant => {
            tracing::warn!(
                held = app.merchant_open_orders.held(),
                max = app.config.limits.max_open_merchant_orders,
                "merchant order refused: MAX_OPEN_MERCHANT_ORDERS reached"
            );
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyOpenMerchantOrders,
                format!(
                    "{} merchant orders are open (MAX_OPEN_MERCHANT_ORDERS): wait until some are paid or expire (shorter expiresInSecs frees them sooner), then retry",
                    app.config.limits.max_open_merchant_orders
                ),
            )
            .retry_after(60));
        }
    };
    tracing::info!(invoice_id = %order.invoice_id, replayed, "merchant order created");
    // A payment by a saved card starts now (a replay of a request whose payment never left
    // starts it again; one that left is never sent twice).
    let order = match valid.saved_card {
        Some(_) => checkout::charge::pay_with_saved_card(&app, order.id).await?,
        None => order,
    };
    let body = view::summary(&app.config.server, &order);
    let location = HeaderValue::from_str(&format!("/api/merchant/orders/{}", order.invoice_id)).map_err(AppError::internal)?;
    let mut response = (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn terms_key(new: &NewOrder) -> String {
    new.merchant.as_ref().map(|terms| terms.idempotency_key.clone()).unwrap_or_default()
}
