//! A payment the shop starts with a customer's saved card: no payer, no payment page
//! (docs/saved-cards.md). The order is a merchant order like any other; only its start differs:
//! the token (the saved-card page's scope), then one request to ePay, claimed before it leaves
//! so that it never leaves twice (`cards::claim_charge_request`). What happened is decided as
//! for every payment, by the status API (`confirm`), asked at once.
//!
//! A request that provably never reached ePay (the connection was refused) is taken back and
//! may be sent again; after any other failure (a timeout, a reset, a 5xx) the payment may have
//! happened, so it is never sent again: the status API decides, and without a transaction there
//! the order expires like an unpaid one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use epay_api_types::CardStatus;

use super::{obtain_token, upstream_error, wait_until_started};
use crate::epay::{CardPayment, SERVICE_SCOPE};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::cards;
use crate::store::now_ms;
use crate::store::orders::{self, Begin, OrderRow, OrderState, Outcome};

/// Starts with `epay::decline::CARD_DELETED`, which reads it back as `card_deleted`.
const UNSENT_CARD_DELETED: &str = "the saved card was deleted before the payment was sent: nothing was charged";

/// How long a charge waits for the status API's verdict before it answers `pending`.
const VERDICT_WAIT: Duration = Duration::from_secs(5);

/// Pays merchant order `order_id` with its saved card, once. On its own task: a caller that
/// goes away does not stop a payment half-way. The order as it stands afterwards (settled, or
/// still `pending` when ePay has not said yet).
pub async fn pay_with_saved_card(app: &Arc<AppState>, order_id: i64) -> Result<OrderRow, AppError> {
    let task = tokio::spawn({
        let app = app.clone();
        async move { charge(&app, order_id).await }
    });
    task.await.map_err(AppError::internal)?
}

async fn charge(app: &Arc<AppState>, order_id: i64) -> Result<OrderRow, AppError> {
    let order = match app.store.write(move |tx| orders::begin_order_checkout(tx, order_id)).await? {
        // The status API is asked a second after the request at the latest.
        Begin::Start(order) => obtain_token(app, order, SERVICE_SCOPE, now_ms() + 1_000).await?,
        Begin::Ready(order) => order,
        // Another request is starting it: it sends the payment; this one waits for the verdict.
        Begin::InProgress(order) => match wait_until_started(app, order.clone()).await {
            Ok(order) => order,
            Err(_) => return await_verdict(app, order.id).await,
        },
        // Settled (or over) before: the order as it stands, whatever asked again.
        Begin::Finished(order) | Begin::Expired(order) => return current(app, order.id).await,
        Begin::KeyReused | Begin::TooManyOpen => return Err(AppError::internal("a merchant order's start cannot reuse a key")),
    };
    send_once(app, &order).await?;
    app.confirmations.notify_one();
    await_verdict(app, order.id).await
}

/// Sends the order's one request, unless it was sent before (then nothing: the status API
/// decides). A card deleted before it left fails the order without asking ePay.
async fn send_once(app: &Arc<AppState>, order: &OrderRow) -> Result<(), AppError> {
    let id = order.id;
    let claimed = app.store.write(move |tx| cards::claim_charge_request(tx, id, now_ms())).await?;
    let (charge, card) = app
        .store
        .read(move |db| {
            let Some(charge) = cards::charge_of(db, id)? else { return Ok(None) };
            Ok(cards::find_by_id(db, charge.card_id)?.map(|card| (charge, card)))
        })
        .await?
        .ok_or_else(|| AppError::internal("a charge without its row or its card"))?;
    if !claimed {
        if charge.sent_ms.is_none() && card.status != CardStatus::Active {
            fail_unsent(app, order, UNSENT_CARD_DELETED).await?;
        }
        return Ok(());
    }
    let token = access_token(order)?;
    let payment = CardPayment {
        epay_card_id: card.epay_card_id.clone(),
        invoice_id: order.invoice_id.clone(),
        amount: order.amount(),
        currency: order.currency.clone(),
        terminal: order.terminal.clone(),
        description: order.description.clone(),
        account_id: order.account_id.clone(),
        email: order.email.clone(),
        phone: order.phone.clone(),
        language: app.config.epay.language_codes.code(order.language).to_owned(),
    };
    let started = Instant::now();
    let answered = app.epay.pay_with_saved_card(&token, &payment).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let (answer, decline, sent_again_later) = match &answered {
        Ok(answer) => (format!("HTTP {}: {}", answer.status, answer.body), answer.declined(), false),
        Err(err) if err.never_sent() => (format!("not sent: {err}"), None, true),
        Err(err) => (format!("no answer, the status API decides: {err}"), None, false),
    };
    // ePay's answer carries the card's `cardID`: kept in the store, never logged.
    let status = answered.as_ref().ok().map(|a| a.status);
    let error = answered.as_ref().err().map(ToString::to_string);
    tracing::info!(invoice_id = %order.invoice_id, elapsed_ms, ?status, ?decline, ?error, "payment by a saved card sent");
    app.store
        .write(move |tx| {
            cards::record_charge_answer(tx, id, &answer, decline.clone())?;
            if sent_again_later {
                cards::release_charge_request(tx, id)?;
            } else {
                orders::schedule_check(tx, id, now_ms(), "asked at once after a payment by a saved card")?;
            }
            Ok(())
        })
        .await?;
    match answered {
        Err(err) if err.never_sent() => Err(upstream_error(false)),
        _ => Ok(()),
    }
}

/// The bearer token recorded for the order (the payment token of its invoice).
fn access_token(order: &OrderRow) -> Result<crate::epay::Token, AppError> {
    let raw = order.token_response.as_deref().ok_or_else(|| AppError::internal("a pending charge without its token"))?;
    crate::epay::token::parse_token(raw.as_bytes()).map_err(AppError::internal)
}

/// An order whose request never left, and never will (its card is gone): failed, with why.
async fn fail_unsent(app: &AppState, order: &OrderRow, why: &'static str) -> Result<(), AppError> {
    let id = order.id;
    app.store
        .write(move |tx| {
            let outcome = Outcome { failure_reason: Some(why.to_owned()), ..Outcome::default() };
            orders::set_outcome(tx, id, OrderState::Failed, &outcome)
        })
        .await?;
    Ok(())
}

/// The order once the status API settled it, or as it stands after `VERDICT_WAIT`.
async fn await_verdict(app: &AppState, id: i64) -> Result<OrderRow, AppError> {
    let deadline = Instant::now() + VERDICT_WAIT;
    loop {
        let order = current(app, id).await?;
        let waiting = matches!(order.status, OrderState::Created | OrderState::Pending | OrderState::Confirming);
        if !waiting || Instant::now() >= deadline {
            return Ok(order);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn current(app: &AppState, id: i64) -> Result<OrderRow, AppError> {
    app.store.read(move |db| orders::find_by_id(db, id)).await?.ok_or_else(|| AppError::internal("the order vanished"))
}
