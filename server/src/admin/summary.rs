//! The console's home page: today's and this week's orders by what became of them, and what
//! waits for a person or for the shop. Days are Almaty's (UTC+5, all of Kazakhstan since
//! March 2024).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use epay_api_types::{AdminSummary, Amount, Figure, PeriodFigures};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::admin::{StateTotals, totals_since};
use crate::store::orders::OrderState;
use crate::store::{backlog, now};
use crate::views::order::rfc3339;

/// Kazakhstan's offset from UTC.
pub const UTC_OFFSET_SECS: i64 = 5 * 3600;
const DAY: i64 = 86_400;

/// Midnight of `now`'s day and of the Monday of its week, in Almaty (unix seconds). Pure.
pub fn period_starts(now: i64) -> (i64, i64) {
    let local = now + UTC_OFFSET_SECS;
    let today = local - local.rem_euclid(DAY) - UTC_OFFSET_SECS;
    // 1970-01-01 was a Thursday: days since a Monday are (days + 3) mod 7.
    let weekday = (local.div_euclid(DAY) + 3).rem_euclid(7);
    (today, today - weekday * DAY)
}

/// Groups the states as a person reads them. Pure.
pub fn figures(from: i64, totals: &[StateTotals]) -> PeriodFigures {
    let sum = |states: &[OrderState]| {
        let chosen = totals.iter().filter(|t| states.iter().any(|s| s.as_str() == t.state));
        let (count, minor) = chosen.fold((0, 0), |(n, a), t| (n + t.count, a + t.amount_minor));
        Figure { count, amount: Amount::from_minor(minor as u64).to_string() }
    };
    let (refunded_orders, refunded_minor) = totals.iter().fold((0, 0), |(n, a), t| (n + t.refunded_orders, a + t.refunded_minor));
    PeriodFigures {
        from: rfc3339(from),
        paid: sum(&[OrderState::Paid, OrderState::Authorized, OrderState::Refunded]),
        failed: sum(&[OrderState::Failed, OrderState::StartFailed, OrderState::Cancelled]),
        refunded: Figure { count: refunded_orders, amount: Amount::from_minor(refunded_minor as u64).to_string() },
        waiting: sum(&[OrderState::Open, OrderState::Created, OrderState::Pending, OrderState::Confirming]),
        review: sum(&[OrderState::Review]),
        expired: sum(&[OrderState::Expired]),
    }
}

/// `GET /api/admin/summary`.
pub async fn show(State(app): State<Arc<AppState>>) -> Result<Json<AdminSummary>, AppError> {
    let (today, week) = period_starts(now());
    let (today_totals, week_totals, waiting) =
        app.store.read(move |db| Ok((totals_since(db, today)?, totals_since(db, week)?, backlog::read_now(db)?))).await?;
    let reviews_open = waiting.orders_by_state.iter().find(|(s, _)| *s == OrderState::Review).map_or(0, |(_, n)| *n);
    Ok(Json(AdminSummary {
        today: figures(today, &today_totals),
        week: figures(week, &week_totals),
        reviews_open,
        webhook_backlog: waiting.webhook_backlog,
        oldest_undelivered_secs: waiting.oldest_undelivered_secs,
        receipts: app.config.fiscal.enabled().then_some(epay_api_types::ReceiptFigures {
            due: waiting.receipts_due,
            failed: waiting.receipts_failed,
            oldest_due_secs: waiting.oldest_due_receipt_secs,
            register_alerts: waiting.register_alerts,
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_weeks_start_at_midnight_in_almaty() {
        // Thursday 2026-12-03 20:30 UTC is Friday 01:30 in Almaty.
        let now = 1_796_329_800;
        let (today, week) = period_starts(now);
        assert_eq!(rfc3339(today), "2026-12-03T19:00:00Z", "Friday 00:00 +05:00");
        assert_eq!(rfc3339(week), "2026-11-29T19:00:00Z", "Monday 2026-11-30 00:00 +05:00");
        // Monday 00:00 in Almaty is its own week's start.
        assert_eq!(period_starts(week), (week, week));
    }

    #[test]
    fn states_are_grouped_as_people_read_them() {
        let t = |state: &str, count, amount_minor, refunded_minor, refunded_orders| StateTotals {
            state: state.into(),
            count,
            amount_minor,
            refunded_minor,
            refunded_orders,
        };
        let figures = figures(
            0,
            &[
                t("paid", 2, 300_000, 50_000, 1),
                t("refunded", 1, 100_000, 100_000, 1),
                t("confirming", 1, 5_000, 0, 0),
                t("review", 1, 700, 0, 0),
                t("start_failed", 3, 900, 0, 0),
            ],
        );
        assert_eq!((figures.paid.count, figures.paid.amount.as_str()), (3, "4000"));
        assert_eq!((figures.refunded.count, figures.refunded.amount.as_str()), (2, "1500"));
        assert_eq!((figures.waiting.count, figures.review.count, figures.failed.count, figures.expired.count), (1, 1, 3, 0));
    }
}
