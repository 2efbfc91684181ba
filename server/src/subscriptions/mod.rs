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
    // One at a time, the claim renewed at every step: a long catch-up keeps it.
    let lease = lease_ms(app);
    let claimed = app.store.write(move |tx| stored::claim_due(tx, clock_now, now, now + lease, 1)).await?;
    for sub in &claimed {
        let mut held = now + lease;
        if let Err(err) = bill(app, sub.id, &mut held).await {
            tracing::error!(subscription = %sub.sub_ref, error = %err.message, "subscription not billed; its claim runs out and it is tried again");
            continue;
        }
        let (id, held) = (sub.id, held);
        app.store.write(move |tx| stored::release(tx, id, held)).await?;
    }
    Ok(!claimed.is_empty())
}

/// How long a worker holds a subscription between two steps: a step's requests all time out
/// within it.
fn lease_ms(app: &AppState) -> i64 {
    crate::store::leases::lease_ms(app.config.epay.timeout) + 5_000
}

/// Walks subscription `id` until it rests (or `STEPS_PER_CLAIM` steps), renewing this worker's
/// claim (`held`: until when) before each step; stops when another worker has it.
async fn bill(app: &Arc<AppState>, id: i64, held: &mut i64) -> Result<(), AppError> {
    for _ in 0..STEPS_PER_CLAIM {
        let (was, until) = (*held, now_ms() + lease_ms(app));
        if !app.store.write(move |tx| stored::renew(tx, id, was, until)).await? {
            return Ok(());
        }
        *held = until;
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
    let (charges, card) = app
        .store
        .read(move |db| {
            let mut charges = Vec::new();
            for charge in stored::charges_of_period(db, id, period)? {
                let sent = cards::charge_of(db, charge.order_id)?.and_then(|row| row.sent_ms).is_some();
                charges.push((charge, sent));
            }
            Ok((charges, cards::find_by_id(db, card_id)?))
        })
        .await?;
    let card_problem = match card.map(|c| c.status) {
        Some(CardStatus::Active) => None,
        _ => Some("card_deleted"),
    };
    Ok((attempt_standing(&charges, attempt), card_problem))
}

/// How attempt `attempt` of a period stands, given every attempt of it made so far (and
/// whether each was sent). Pure.
fn attempt_standing(charges: &[(stored::ChargeRow, bool)], attempt: i64) -> Attempt {
    // An earlier attempt that was paid after all (late, after it looked lost): the period is paid.
    if charges.iter().any(|(c, _)| paid(c.order_state)) {
        return Attempt::Paid;
    }
    let Some((c, sent)) = charges.iter().find(|(c, _)| c.attempt == attempt) else { return Attempt::None };
    match c.order_state {
        OrderState::Failed => {
            Attempt::Declined(crate::epay::decline::decline_code_of(c.failure_code, c.failure_reason.as_deref()).to_owned())
        }
        // Sent, and ePay never showed it: it may still appear. Another attempt could charge the
        // period twice; a person decides (past due, "charge_unconfirmed").
        OrderState::Expired | OrderState::Cancelled if *sent => Attempt::Declined("charge_unconfirmed".to_owned()),
        // Never sent: nothing could have moved.
        OrderState::Expired | OrderState::Cancelled => Attempt::Declined("declined".to_owned()),
        // Made but never sent (an instance died before): sent now, under the same order.
        OrderState::Open | OrderState::Created | OrderState::StartFailed | OrderState::Pending if !sent => Attempt::None,
        // On its way, or with a person (review): never a second attempt meanwhile.
        _ => Attempt::Pending,
    }
}

fn paid(state: OrderState) -> bool {
    matches!(state, OrderState::Paid | OrderState::Authorized | OrderState::Refunded)
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
    // A retry charges what the period's first attempt did: a new amount starts with a new period.
    let id = sub.id;
    let first = if attempt > 1 { app.store.read(move |db| stored::charge(db, id, period, 1)).await? } else { None };
    let amount_minor = first.map_or(sub.amount_minor, |first| first.amount_minor);
    let amount = epay_api_types::Amount::from_minor(amount_minor as u64).to_string();
    let valid = checkout::validate::terms(charge_terms(sub, &amount, &description), &app.config.checkout)?;
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
    let (card_id, version, open, merchant_open) = (sub.card_id, sub.version, app.open_orders.clone(), app.merchant_open_orders.clone());
    let counted = Arc::new([std::sync::atomic::AtomicBool::new(false), std::sync::atomic::AtomicBool::new(false)]);
    let counts = counted.clone();
    let created = app
        .store
        .write(move |tx| {
            // Cancelled, paused or changed since it was read: its change stands, nothing is made.
            if stored::find_by_id(tx, id)?.is_none_or(|now| now.version != version || now.status != SubscriptionStatus::Active) {
                return Ok(None);
            }
            let created = orders::create_merchant_order(tx, new.clone(), &open, &merchant_open, &counts)?;
            if let Created::New(order) = &created {
                cards::create_charge(tx, order.id, card_id)?;
                stored::record_charge(tx, id, (period, bounds.0, bounds.1), attempt, order.id, now())?;
            }
            Ok(Some(created))
        })
        .await;
    for (flag, quota) in counted.iter().zip([&app.open_orders, &app.merchant_open_orders]) {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            quota.settled();
        }
    }
    let order = match created? {
        None => return Ok(true),
        Some(Created::New(order) | Created::Replayed(order)) => order,
        Some(other) => {
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

/// What one of `sub`'s charges pays for: `amount` for `description`, a card payment of its
/// customer. The same rules as any order's (`checkout::validate`).
pub fn charge_terms<'a>(sub: &'a SubscriptionRow, amount: &'a str, description: &'a str) -> Terms<'a> {
    Terms {
        amount,
        currency: Some(&sub.currency),
        description: Some(description),
        account_id: Some(&sub.account_id),
        email: None,
        phone: None,
        language: None,
        card_save: Some(false),
        method: Some(PaymentMethod::Pay),
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

#[cfg(test)]
mod tests {
    use super::*;
    use stored::ChargeRow;

    fn attempt(n: i64, state: OrderState) -> ChargeRow {
        ChargeRow {
            period: 1,
            attempt: n,
            order_id: n,
            period_start: 0,
            period_end: 1,
            created_at: 0,
            invoice_id: format!("{n}"),
            amount_minor: 100,
            order_state: state,
            failure_code: None,
            failure_reason: None,
        }
    }

    #[test]
    fn an_attempt_stands_as_its_order_says_and_a_lost_one_is_never_tried_again_on_a_guess() {
        assert_eq!(attempt_standing(&[], 1), Attempt::None);
        let declined = ChargeRow { failure_code: Some(484), ..attempt(1, OrderState::Failed) };
        assert_eq!(attempt_standing(&[(declined.clone(), true)], 1), Attempt::Declined("insufficient_funds".into()));
        // Sent and never shown by ePay: it may still appear; a person decides.
        assert_eq!(attempt_standing(&[(attempt(1, OrderState::Expired), true)], 1), Attempt::Declined("charge_unconfirmed".into()));
        assert_eq!(attempt_standing(&[(attempt(1, OrderState::Expired), false)], 1), Attempt::Declined("declined".into()));
        // Made but never sent: sent under the same order; sent and unanswered: waited for.
        assert_eq!(attempt_standing(&[(attempt(1, OrderState::Pending), false)], 1), Attempt::None);
        assert_eq!(attempt_standing(&[(attempt(1, OrderState::Pending), true)], 1), Attempt::Pending);
        assert_eq!(attempt_standing(&[(attempt(1, OrderState::Review), true)], 1), Attempt::Pending);
        // An earlier attempt paid after all pays the period: no further attempt.
        let late = [(declined, true), (attempt(2, OrderState::Paid), true), (attempt(3, OrderState::Pending), true)];
        assert_eq!(attempt_standing(&late, 3), Attempt::Paid);
        let deleted = ChargeRow {
            failure_reason: Some("the saved card was deleted before the payment was sent".into()),
            ..attempt(1, OrderState::Failed)
        };
        assert_eq!(attempt_standing(&[(deleted, false)], 1), Attempt::Declined("card_deleted".into()));
    }
}
