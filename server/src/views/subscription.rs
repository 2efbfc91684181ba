//! A subscription as the merchant API and its webhooks show it.

use epay_api_types::{Amount, OrderState, Subscription, SubscriptionCharge};
use serde_json::value::RawValue;

use super::order::rfc3339;
use crate::periods;
use crate::store::subscriptions::{ChargeRow, SubscriptionRow};

/// `sub` with its latest charge, and with every charge on single reads (`all`).
pub fn subscription(sub: &SubscriptionRow, charges: &[ChargeRow], all: bool) -> Subscription {
    let (start, end) = periods::bounds(sub.anchor_at, sub.interval_unit, sub.interval_count, sub.next_period);
    Subscription {
        id: sub.sub_ref.clone(),
        account_id: sub.account_id.clone(),
        card: sub.card_ref.clone(),
        status: sub.status,
        status_reason: sub.status_reason.clone(),
        amount: Amount::from_minor(sub.amount_minor as u64).to_string(),
        currency: sub.currency.clone(),
        interval: sub.interval_unit,
        interval_count: sub.interval_count as u32,
        description: sub.description.clone(),
        metadata: sub.metadata.clone().and_then(|text| RawValue::from_string(text).ok()),
        retry_days: sub.retry_days.split(',').filter_map(|day| day.trim().parse().ok()).collect(),
        start: rfc3339(sub.anchor_at),
        current_period: sub.next_period,
        current_period_start: rfc3339(start),
        current_period_end: rfc3339(end),
        next_charge_at: sub.due_ms.map(|ms| rfc3339(ms.div_euclid(1000))),
        failed_attempts: sub.attempt,
        cancel_at_period_end: sub.cancel_at_period_end,
        cancelled_at: sub.cancelled_at.map(rfc3339),
        created_at: rfc3339(sub.created_at),
        latest_charge: charges.last().map(charge),
        charges: all.then(|| charges.iter().map(charge).collect()),
    }
}

pub fn charge(row: &ChargeRow) -> SubscriptionCharge {
    SubscriptionCharge {
        period: row.period,
        attempt: row.attempt,
        invoice_id: row.invoice_id.clone(),
        amount: Amount::from_minor(row.amount_minor as u64).to_string(),
        status: row.order_state.merchant_status(),
        decline_code: (row.order_state == OrderState::Failed)
            .then(|| crate::epay::decline::decline_code_of(row.failure_code, row.failure_reason.as_deref()).to_owned()),
        period_start: rfc3339(row.period_start),
        period_end: rfc3339(row.period_end),
        created_at: rfc3339(row.created_at),
    }
}
