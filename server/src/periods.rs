//! A subscription's periods: where period `k` starts, counted from its anchor each time (so
//! the 31st stays the 31st where a month has one: Jan 31, Feb 28, Mar 31), and when each attempt
//! to charge it is due. Pure; the subscription's decisions are `subscriptions::schedule`'s.

use epay_api_types::IntervalUnit;
use time::{Month, OffsetDateTime};

/// Unix seconds where period `k` (1 is the first) of a subscription anchored at `anchor`
/// starts, every `count` `unit`s.
pub fn period_start(anchor: i64, unit: IntervalUnit, count: i64, k: i64) -> i64 {
    let steps = count.saturating_mul(k.max(1) - 1);
    match unit {
        IntervalUnit::Day => anchor.saturating_add(steps.saturating_mul(86_400)),
        IntervalUnit::Week => anchor.saturating_add(steps.saturating_mul(7 * 86_400)),
        IntervalUnit::Month => add_months(anchor, steps),
        IntervalUnit::Year => add_months(anchor, steps.saturating_mul(12)),
    }
}

/// Period `k`'s start and end (the next one's start).
pub fn bounds(anchor: i64, unit: IntervalUnit, count: i64, k: i64) -> (i64, i64) {
    (period_start(anchor, unit, count, k), period_start(anchor, unit, count, k + 1))
}

/// The period that contains `at` (1 before the anchor).
pub fn period_at(anchor: i64, unit: IntervalUnit, count: i64, at: i64) -> i64 {
    if at < anchor {
        return 1;
    }
    // A first guess from the average length, then a step or two to the exact one.
    let average = match unit {
        IntervalUnit::Day => 86_400,
        IntervalUnit::Week => 7 * 86_400,
        IntervalUnit::Month => 2_629_746,
        IntervalUnit::Year => 31_556_952,
    } * count.max(1);
    let mut k = ((at - anchor) / average + 1).max(1);
    while k > 1 && period_start(anchor, unit, count, k) > at {
        k -= 1;
    }
    while period_start(anchor, unit, count, k + 1) <= at {
        k += 1;
    }
    k
}

/// When attempt `attempt` (1 is the first) of a period starting at `start` is due: after the
/// retries before it (`retry_days`, one entry per retry).
pub fn attempt_due(start: i64, retry_days: &[i64], attempt: i64) -> i64 {
    let waited: i64 = retry_days.iter().take((attempt - 1).max(0) as usize).sum();
    start.saturating_add(waited.saturating_mul(86_400))
}

/// `at` plus `months` calendar months, the day of the month clamped to the month's last.
fn add_months(at: i64, months: i64) -> i64 {
    let Ok(start) = OffsetDateTime::from_unix_timestamp(at) else { return at };
    let total = i64::from(start.year()) * 12 + i64::from(u8::from(start.month()) - 1) + months;
    let (year, month) = (total.div_euclid(12) as i32, Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::January));
    let last_day = month.length(year);
    let day = start.day().min(last_day);
    match time::Date::from_calendar_date(year, month, day) {
        Ok(date) => (date.with_time(start.time()).assume_utc() - OffsetDateTime::UNIX_EPOCH).whole_seconds(),
        Err(_) => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
    }

    #[test]
    fn months_keep_their_day_where_the_month_has_it() {
        let anchor = at("2026-01-31T10:00:00Z");
        let starts: Vec<i64> = (1..=4).map(|k| period_start(anchor, IntervalUnit::Month, 1, k)).collect();
        assert_eq!(starts, vec![anchor, at("2026-02-28T10:00:00Z"), at("2026-03-31T10:00:00Z"), at("2026-04-30T10:00:00Z")]);
        assert_eq!(period_start(at("2028-02-29T00:00:00Z"), IntervalUnit::Year, 1, 2), at("2029-02-28T00:00:00Z"));
        assert_eq!(period_start(anchor, IntervalUnit::Month, 3, 2), at("2026-04-30T10:00:00Z"), "every 3 months");
        assert_eq!(period_start(anchor, IntervalUnit::Week, 2, 3), anchor + 28 * 86_400);
        assert_eq!(period_start(anchor, IntervalUnit::Month, 1, 13), at("2027-01-31T10:00:00Z"), "a year later, the same day");
    }

    #[test]
    fn the_period_of_a_moment_and_the_due_time_of_each_retry() {
        let anchor = at("2026-01-31T10:00:00Z");
        assert_eq!(period_at(anchor, IntervalUnit::Month, 1, anchor - 1), 1);
        assert_eq!(period_at(anchor, IntervalUnit::Month, 1, anchor), 1);
        assert_eq!(period_at(anchor, IntervalUnit::Month, 1, at("2026-02-28T09:59:59Z")), 1);
        assert_eq!(period_at(anchor, IntervalUnit::Month, 1, at("2026-02-28T10:00:00Z")), 2);
        assert_eq!(period_at(anchor, IntervalUnit::Month, 1, at("2027-06-01T00:00:00Z")), 17);
        let retries = [1, 3, 5];
        assert_eq!(attempt_due(anchor, &retries, 1), anchor);
        assert_eq!(attempt_due(anchor, &retries, 2), anchor + 86_400);
        assert_eq!(attempt_due(anchor, &retries, 4), anchor + 9 * 86_400);
    }
}
