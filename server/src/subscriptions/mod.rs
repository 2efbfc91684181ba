//! Subscriptions: a customer's saved card billed every period, on any number of instances
//! (docs/saved-cards.md). The worker claims due subscriptions (on the test clock, `clock_now_ms`)
//! and walks each through `schedule::next_step` until it rests: a period's attempt is one
//! merchant order made once (its key is the subscription, the period and the attempt) and paid
//! by `checkout::charge`, whose one request is never sent twice; a state and the events that
//! announce it are written together (`store::subscriptions::save`, compared on the version).

pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use epay_api_types::{CardStatus, EventType, OrderSource, PaymentMethod, SubscriptionStatus};

use crate::checkout::{self, validate::Terms};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::orders::{self, Created, MerchantTerms, OrderState};
use crate::store::subscriptions::{self as stored, SubscriptionRow};
use crate::store::{StoreError, Tx, cards, clock, now, now_ms};
use crate::views::subscription::subscription as view;
use schedule::{Attempt, Step};

/// How long the worker sleeps when nothing is due (a change or a clock move wakes it sooner).
const IDLE: Duration = Duration::from_secs(5);
/// The most steps one claim takes (a year of a daily subscription's catch-up takes several claims).
const STEPS_PER_CLAIM: usize = 64;
/// How long a period's order lives, like a merchant order by default: it settles after a day.
const CHARGE_ORDER_LIFETIME_SECS: i64 = 86_400;
/// How long an attempt that could not reach ePay waits before it is tried again.
const UNREACHABLE_RETRY_MS: i64 = 60_000;

/// The test clock's now (unix ms): the real one plus what tests moved it.
pub async fn clock_now_ms(app: &AppState) -> Result<i64, StoreError> {
    let offset = app.store.read(clock::offset_secs).await?;
    Ok(now_ms() + offset * 1000)
}

pub async fn run(app: Arc<AppState>) {
    loop {
        match run_once(&app).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::error!(error = %err, "subscriptions: cannot bill; trying again shortly"),
        }
        let _ = tokio::time::timeout(IDLE, app.subscriptions.notified()).await;
    }
}

/// Claims what is due and bills it; whether anything was.
pub async fn run_once(app: &Arc<AppState>) -> Result<bool, StoreError> {
    let clock_now = clock_now_ms(app).await?;
    let now = now_ms();
    let next = app.store.read(move |db| stored::next_due_ms(db, now)).await?;
    if next.is_none_or(|at| at > clock_now) {
        return Ok(false);
    }
    let lease = crate::store::leases::lease_ms(app.config.epay.timeout) + 5_000;
    let claimed = app.store.write(move |tx| stored::claim_due(tx, clock_now, now, now + lease, 8)).await?;
    for sub in &claimed {
        if let Err(err) = bill(app, sub.id).await {
            tracing::error!(subscription = %sub.sub_ref, error = %err.message, "subscription not billed; its claim runs out and it is tried again");
            continue;
        }
        let id = sub.id;
        app.store.write(move |tx| stored::release(tx, id)).await?;
    }
    Ok(!claimed.is_empty())
}

/// Walks subscription `id` until it rests (or `STEPS_PER_CLAIM` steps).
async fn bill(app: &Arc<AppState>, id: i64) -> Result<(), AppError> {
    for _ in 0..STEPS_PER_CLAIM {
        let Some(sub) = app.store.read(move |db| stored::find_by_id(db, id)).await? else { return Ok(()) };
        let now = clock_now_ms(app).await?;
        let (latest, card_problem) = standing(app, &sub).await?;
        match schedule::next_step(&sub, &latest, card_problem, now) {
            Step::Rest => return Ok(()),
            Step::Charge { period, attempt, start, end } => {
                if !charge(app, &sub, period, attempt, (start, end)).await? {
                    // ePay could not be reached and nothing was sent: later, not in a loop.
                    let row = SubscriptionRow { due_ms: Some(now + UNREACHABLE_RETRY_MS), ..sub };
                    save(app, row, vec![], None).await?;
                    return Ok(());
                }
            }
            Step::Save { row, events } => {
                let order = events.iter().any(|e| matches!(e, EventType::SubscriptionRenewed | EventType::SubscriptionPaymentFailed));
                let about = if order { latest_order(app, &sub).await? } else { None };
                if !save(app, *row, events, about).await? {
                    return Ok(()); // someone else changed it: their change stands; it is due again as they left it
                }
            }
        }
    }
    Ok(())
}

/// How the current attempt stands, and why the card cannot pay (if it cannot).
async fn standing(app: &AppState, sub: &SubscriptionRow) -> Result<(Attempt, Option<&'static str>), AppError> {
    let (id, period, attempt, card_id) = (sub.id, sub.next_period, sub.attempt + 1, sub.card_id);
    let (charge, card) = app
        .store
        .read(move |db| {
            let charge = stored::charge(db, id, period, attempt)?;
            let sent = match &charge {
                Some(c) => cards::charge_of(db, c.order_id)?.and_then(|row| row.sent_ms).is_some(),
                None => false,
            };
            Ok((charge.map(|c| (c, sent)), cards::find_by_id(db, card_id)?))
        })
        .await?;
    let card_problem = match card.map(|c| c.status) {
        Some(CardStatus::Active) => None,
        _ => Some("card_deleted"),
    };
    let latest = match charge {
        None => Attempt::None,
        Some((c, sent)) => match c.order_state {
            OrderState::Paid | OrderState::Authorized | OrderState::Refunded => Attempt::Paid,
            OrderState::Failed => Attempt::Declined(crate::epay::decline::decline_code(c.failure_code).to_owned()),
            // Nothing reached ePay, or it shows nothing: the attempt did not pay.
            OrderState::Expired | OrderState::Cancelled => Attempt::Declined("declined".to_owned()),
            // Made but never sent (an instance died before): sent now, under the same order.
            OrderState::Open | OrderState::Created | OrderState::StartFailed | OrderState::Pending if !sent => Attempt::None,
            // On its way, or with a person (review): never a second attempt meanwhile.
            _ => Attempt::Pending,
        },
    };
    Ok((latest, card_problem))
}

/// The order of the current attempt (for the events about it).
async fn latest_order(app: &AppState, sub: &SubscriptionRow) -> Result<Option<i64>, AppError> {
    let (id, period, attempt) = (sub.id, sub.next_period, sub.attempt + 1);
    Ok(app.store.read(move |db| stored::charge(db, id, period, attempt)).await?.map(|c| c.order_id))
}

/// Makes (or finds) the order of (`period`, `attempt`) and pays it with the subscription's card.
/// `false` when ePay could not be reached and nothing was sent.
async fn charge(app: &Arc<AppState>, sub: &SubscriptionRow, period: i64, attempt: i64, bounds: (i64, i64)) -> Result<bool, AppError> {
    let key = format!("{}/p{period}/a{attempt}", sub.sub_ref);
    let description = format!("{} ({period})", sub.description);
    let amount = epay_api_types::Amount::from_minor(sub.amount_minor as u64).to_string();
    let terms = Terms {
        amount: &amount,
        currency: Some(&sub.currency),
        description: Some(&description),
        account_id: Some(&sub.account_id),
        email: None,
        phone: None,
        language: None,
        card_save: Some(false),
        method: Some(PaymentMethod::Pay),
    };
    let valid = checkout::validate::terms(terms, &app.config.checkout)?;
    let metadata = serde_json::json!({"subscription": sub.sub_ref, "period": period, "attempt": attempt}).to_string();
    let merchant = MerchantTerms {
        reference: key.clone(),
        idempotency_key: key.clone(),
        fingerprint: crate::secrets::sha256_hex(key.as_bytes()),
        metadata: Some(metadata),
        return_url: None,
        lifetime_secs: CHARGE_ORDER_LIFETIME_SECS,
    };
    let new = orders::NewOrder { merchant: Some(merchant), ..checkout::new_order(app, &valid, None) };
    let (id, card_id, open, merchant_open) = (sub.id, sub.card_id, app.open_orders.clone(), app.merchant_open_orders.clone());
    let counted = Arc::new([std::sync::atomic::AtomicBool::new(false), std::sync::atomic::AtomicBool::new(false)]);
    let counts = counted.clone();
    let created = app
        .store
        .write(move |tx| {
            let created = orders::create_merchant_order(tx, new.clone(), &open, &merchant_open, &counts)?;
            if let Created::New(order) = &created {
                cards::create_charge(tx, order.id, card_id)?;
                stored::record_charge(tx, id, (period, bounds.0, bounds.1), attempt, order.id, now())?;
            }
            Ok(created)
        })
        .await;
    for (flag, quota) in counted.iter().zip([&app.open_orders, &app.merchant_open_orders]) {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            quota.settled();
        }
    }
    let order = match created? {
        Created::New(order) | Created::Replayed(order) => order,
        other => {
            tracing::warn!(subscription = %sub.sub_ref, ?other, "a period's order could not be made now");
            return Ok(false);
        }
    };
    debug_assert_eq!(order.source, OrderSource::Merchant);
    tracing::info!(subscription = %sub.sub_ref, period, attempt, invoice_id = %order.invoice_id, "charging a subscription's period");
    match checkout::charge::pay_with_saved_card(app, order.id).await {
        Ok(_) => Ok(true),
        Err(err) => {
            tracing::warn!(subscription = %sub.sub_ref, period, attempt, error = %err.message, "the period's payment could not be sent now");
            Ok(false)
        }
    }
}

/// Stores `row` if nobody changed the subscription since it was read, with `events` (about
/// the order `about`, if any) in the same transaction. Whether it was stored.
async fn save(app: &AppState, row: SubscriptionRow, events: Vec<EventType>, about: Option<i64>) -> Result<bool, AppError> {
    let saved = app.store.write(move |tx| save_with_events(tx, &row, &events, about)).await?;
    Ok(saved)
}

/// `store::subscriptions::save`, then each event with the subscription as it now stands.
pub(crate) fn save_with_events(tx: &mut Tx, row: &SubscriptionRow, events: &[EventType], about: Option<i64>) -> Result<bool, StoreError> {
    if !stored::save(tx, row, now())? {
        return Ok(false);
    }
    announce(tx, row.id, events, about)?;
    Ok(true)
}

/// Writes `events` about subscription `id`, each with it as it stands in this transaction.
pub(crate) fn announce(tx: &mut Tx, id: i64, events: &[EventType], about: Option<i64>) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let sub = stored::find_by_id(tx, id)?.ok_or(StoreError::Vanished(id))?;
    let charges = stored::charges(tx, id)?;
    let data = serde_json::to_string(&view(&sub, &charges, false)).expect("a subscription serializes");
    for &kind in events {
        orders::announce_subscription(tx, id, kind, about, &data)?;
    }
    Ok(())
}

/// Whether a subscription in `status` may still be changed by the shop.
pub fn is_over(status: SubscriptionStatus) -> bool {
    status == SubscriptionStatus::Cancelled
}
