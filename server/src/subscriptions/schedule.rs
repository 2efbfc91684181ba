//! What a subscription does next, given how its latest charge stands and the test clock's now.
//! Pure: the worker (`mod.rs`) does the I/O around it.
//!
//! Every time is computed from the subscription's anchor and counts, never from when the worker
//! happened to look: a clock moved a year ahead bills the year as it would have happened (each
//! period once, each retry after its days), only sooner.

use epay_api_types::{EventType, SubscriptionStatus};

use crate::epay::decline::worth_retrying;
use crate::periods;
use crate::store::subscriptions::SubscriptionRow;

/// The default retries of a declined charge: after 1, 3 and 5 days.
pub const DEFAULT_RETRY_DAYS: [i64; 3] = [1, 3, 5];

/// How the charge of the current attempt stands (the order's state, as ePay's status API made it).
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// Not made yet.
    None,
    /// Made; ePay has not said yet.
    Pending,
    Paid,
    /// Declined (or expired unpaid: `declined`), with ePay's reason as a decline code.
    Declined(String),
}

/// What happens next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Charge (`period`, `attempt`), the period running from `start` to `end`.
    Charge { period: i64, attempt: i64, start: i64, end: i64 },
    /// Store `row` (its state, and when it is due next) and announce `events`, in one transaction.
    Save { row: Box<SubscriptionRow>, events: Vec<EventType> },
    /// Nothing to do until the row's `due_ms`.
    Rest,
}

/// How long a charge ePay has not answered yet is left before it is looked at again.
pub const PENDING_RECHECK_MS: i64 = 30_000;

pub fn retry_days(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|day| day.trim().parse().ok()).collect()
}

/// The next step for `sub` at `now_ms` (test clock), its current attempt standing at `latest`,
/// `card_problem` saying why its card cannot pay (deleted), if it cannot.
pub fn next_step(sub: &SubscriptionRow, latest: &Attempt, card_problem: Option<&str>, now_ms: i64) -> Step {
    let bounds = |k: i64| periods::bounds(sub.anchor_at, sub.interval_unit, sub.interval_count, k);
    let (start, end) = bounds(sub.next_period);
    let due = |row: SubscriptionRow, due_secs: i64| SubscriptionRow { due_ms: Some(due_secs.saturating_mul(1000)), ..row };
    let rested = sub.due_ms.is_some_and(|due_ms| due_ms > now_ms);
    match sub.status {
        SubscriptionStatus::Paused | SubscriptionStatus::Cancelled if sub.due_ms.is_none() => Step::Rest,
        SubscriptionStatus::Paused | SubscriptionStatus::Cancelled => {
            Step::Save { row: Box::new(SubscriptionRow { due_ms: None, ..sub.clone() }), events: vec![] }
        }
        _ if rested => Step::Rest,
        // The unpaid period ran out: the subscription ends.
        SubscriptionStatus::PastDue if now_ms >= end * 1000 => {
            Step::Save { row: Box::new(cancelled(sub, "unpaid", end)), events: vec![EventType::SubscriptionCancelled] }
        }
        SubscriptionStatus::PastDue => Step::Save { row: Box::new(due(sub.clone(), end)), events: vec![] },
        SubscriptionStatus::Active => {
            let attempt = sub.attempt + 1;
            match latest {
                // The paid period ended; no other is charged.
                Attempt::None if sub.cancel_at_period_end => Step::Save {
                    row: Box::new(cancelled(sub, "cancelled_by_merchant", start)),
                    events: vec![EventType::SubscriptionCancelled],
                },
                Attempt::None => match card_problem {
                    Some(problem) => past_due(sub, problem, end),
                    None => Step::Charge { period: sub.next_period, attempt, start, end },
                },
                Attempt::Pending => Step::Save {
                    row: Box::new(SubscriptionRow { due_ms: Some(now_ms + PENDING_RECHECK_MS), ..sub.clone() }),
                    events: vec![],
                },
                Attempt::Paid => {
                    let next = SubscriptionRow { next_period: sub.next_period + 1, attempt: 0, status_reason: None, ..sub.clone() };
                    let (next_start, _) = bounds(next.next_period);
                    Step::Save { row: Box::new(due(next, next_start)), events: vec![EventType::SubscriptionRenewed] }
                }
                Attempt::Declined(code) => {
                    let retries = retry_days(&sub.retry_days);
                    let failed = SubscriptionRow { attempt, status_reason: Some(code.clone()), ..sub.clone() };
                    if worth_retrying(code) && attempt <= retries.len() as i64 {
                        let retry_at = periods::attempt_due(start, &retries, attempt + 1);
                        Step::Save { row: Box::new(due(failed, retry_at)), events: vec![EventType::SubscriptionPaymentFailed] }
                    } else {
                        match past_due(&failed, code, end) {
                            Step::Save { row, mut events } => {
                                events.insert(0, EventType::SubscriptionPaymentFailed);
                                Step::Save { row, events }
                            }
                            other => other,
                        }
                    }
                }
            }
        }
    }
}

/// The period stays unpaid (`reason`): `past_due` until it ends at `end`.
fn past_due(sub: &SubscriptionRow, reason: &str, end: i64) -> Step {
    let row = SubscriptionRow {
        status: SubscriptionStatus::PastDue,
        status_reason: Some(reason.to_owned()),
        due_ms: Some(end.saturating_mul(1000)),
        ..sub.clone()
    };
    Step::Save { row: Box::new(row), events: vec![EventType::SubscriptionPastDue] }
}

fn cancelled(sub: &SubscriptionRow, reason: &str, at: i64) -> SubscriptionRow {
    SubscriptionRow {
        status: SubscriptionStatus::Cancelled,
        status_reason: Some(reason.to_owned()),
        cancelled_at: Some(at),
        due_ms: None,
        ..sub.clone()
    }
}

/// `sub` resumed at `now` (test clock): periods that began while it was paused are not
/// charged; the current one is, at once, unless it was paid.
pub fn resumed(sub: &SubscriptionRow, now: i64) -> SubscriptionRow {
    let current = periods::period_at(sub.anchor_at, sub.interval_unit, sub.interval_count, now);
    let (next_period, attempt) = if sub.next_period < current { (current, 0) } else { (sub.next_period, sub.attempt) };
    let start = periods::period_start(sub.anchor_at, sub.interval_unit, sub.interval_count, next_period);
    SubscriptionRow {
        status: SubscriptionStatus::Active,
        status_reason: None,
        next_period,
        attempt,
        due_ms: Some(start.max(now).saturating_mul(1000)),
        ..sub.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use epay_api_types::IntervalUnit;

    const DAY: i64 = 86_400;
    const ANCHOR: i64 = 1_800_000_000;

    fn sub() -> SubscriptionRow {
        SubscriptionRow {
            id: 1,
            sub_ref: "sub_1".into(),
            account_id: "c".into(),
            card_id: 1,
            amount_minor: 100_000,
            currency: "KZT".into(),
            interval_unit: IntervalUnit::Day,
            interval_count: 30,
            anchor_at: ANCHOR,
            description: "Plan".into(),
            metadata: None,
            retry_days: "1,3,5".into(),
            status: SubscriptionStatus::Active,
            status_reason: None,
            next_period: 1,
            attempt: 0,
            due_ms: Some(ANCHOR * 1000),
            cancel_at_period_end: false,
            cancelled_at: None,
            idempotency_key: "k".into(),
            fingerprint: "f".into(),
            created_at: ANCHOR,
            updated_at: ANCHOR,
            version: 0,
            card_ref: "card_1".into(),
        }
    }

    fn saved(step: Step) -> (SubscriptionRow, Vec<EventType>) {
        match step {
            Step::Save { row, events } => (*row, events),
            other => panic!("expected a save, got {other:?}"),
        }
    }

    #[test]
    fn a_due_period_is_charged_then_the_next_one_is_due_at_its_start() {
        let now = ANCHOR * 1000;
        assert_eq!(
            next_step(&sub(), &Attempt::None, None, now),
            Step::Charge { period: 1, attempt: 1, start: ANCHOR, end: ANCHOR + 30 * DAY }
        );
        let (row, events) = saved(next_step(&sub(), &Attempt::Paid, None, now));
        assert_eq!((row.next_period, row.attempt, row.due_ms), (2, 0, Some((ANCHOR + 30 * DAY) * 1000)));
        assert_eq!(events, vec![EventType::SubscriptionRenewed]);
        assert_eq!(next_step(&row, &Attempt::None, None, now), Step::Rest, "not before its start");
    }

    #[test]
    fn declines_are_retried_on_their_days_from_the_period_start_then_the_subscription_is_past_due_and_ends() {
        let mut row = sub();
        let mut dues = vec![];
        for _ in 0..3 {
            let (next, events) = saved(next_step(&row, &Attempt::Declined("insufficient_funds".into()), None, i64::MAX / 2));
            assert_eq!(events, vec![EventType::SubscriptionPaymentFailed]);
            dues.push(next.due_ms.unwrap() / 1000 - ANCHOR);
            row = next;
        }
        assert_eq!(dues, vec![DAY, 4 * DAY, 9 * DAY], "after 1, 3 and 5 days, counted from the period's start");
        let (past_due, events) = saved(next_step(&row, &Attempt::Declined("insufficient_funds".into()), None, (ANCHOR + 9 * DAY) * 1000));
        assert_eq!(events, vec![EventType::SubscriptionPaymentFailed, EventType::SubscriptionPastDue]);
        assert_eq!((past_due.status, past_due.status_reason.as_deref()), (SubscriptionStatus::PastDue, Some("insufficient_funds")));
        assert_eq!(past_due.due_ms, Some((ANCHOR + 30 * DAY) * 1000), "until the unpaid period ends");
        assert_eq!(next_step(&past_due, &Attempt::None, None, (ANCHOR + 10 * DAY) * 1000), Step::Rest);
        let (ended, events) = saved(next_step(&past_due, &Attempt::None, None, (ANCHOR + 30 * DAY) * 1000));
        assert_eq!((ended.status, ended.status_reason.as_deref(), ended.due_ms), (SubscriptionStatus::Cancelled, Some("unpaid"), None));
        assert_eq!(events, vec![EventType::SubscriptionCancelled]);
    }

    #[test]
    fn a_card_that_cannot_pay_is_past_due_at_once_with_its_reason() {
        let (row, events) = saved(next_step(&sub(), &Attempt::Declined("card_expired".into()), None, ANCHOR * 1000));
        assert_eq!((row.status, row.status_reason.as_deref()), (SubscriptionStatus::PastDue, Some("card_expired")));
        assert_eq!(events, vec![EventType::SubscriptionPaymentFailed, EventType::SubscriptionPastDue]);
        let (row, events) = saved(next_step(&sub(), &Attempt::None, Some("card_deleted"), ANCHOR * 1000));
        assert_eq!((row.status, row.status_reason.as_deref()), (SubscriptionStatus::PastDue, Some("card_deleted")));
        assert_eq!(events, vec![EventType::SubscriptionPastDue], "nothing was charged: no failed payment");
    }

    #[test]
    fn a_pending_charge_is_looked_at_again_and_never_charged_twice() {
        let (row, events) = saved(next_step(&sub(), &Attempt::Pending, None, ANCHOR * 1000));
        assert_eq!((row.attempt, row.due_ms, events), (0, Some(ANCHOR * 1000 + PENDING_RECHECK_MS), vec![]));
    }

    #[test]
    fn cancelling_at_the_period_end_charges_nothing_more() {
        let paid = SubscriptionRow { next_period: 2, cancel_at_period_end: true, due_ms: Some((ANCHOR + 30 * DAY) * 1000), ..sub() };
        let (row, events) = saved(next_step(&paid, &Attempt::None, None, (ANCHOR + 30 * DAY) * 1000));
        assert_eq!((row.status, row.status_reason.as_deref()), (SubscriptionStatus::Cancelled, Some("cancelled_by_merchant")));
        assert_eq!(events, vec![EventType::SubscriptionCancelled]);
    }

    #[test]
    fn resuming_skips_the_periods_of_the_pause_and_charges_the_current_one() {
        let paused = SubscriptionRow { status: SubscriptionStatus::Paused, next_period: 2, due_ms: None, ..sub() };
        let now = ANCHOR + 95 * DAY;
        let row = resumed(&paused, now);
        assert_eq!((row.status, row.next_period, row.due_ms), (SubscriptionStatus::Active, 4, Some(now * 1000)));
        let early = resumed(&paused, ANCHOR + 10 * DAY);
        assert_eq!((early.next_period, early.due_ms), (2, Some((ANCHOR + 30 * DAY) * 1000)), "period 2 has not begun");
    }
}
