//! When an event is sent again after a failed attempt. Pure.
//!
//! Pauses grow from the first retry (`WEBHOOK_FIRST_RETRY_MS`, 5 s by default) as Standard
//! Webhooks suggests: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 24 h, and an event is
//! given up 3 days after it was created.

/// Each pause, in multiples of the first retry (5 s: 5 s, 5 min, 30 min, 2 h...).
const PAUSES: [i64; 9] = [1, 60, 360, 1_440, 3_600, 7_200, 7_200, 10_080, 17_280];
/// An event is not sent after this long, in multiples of the first retry (3 days at 5 s).
pub const GIVE_UP_AFTER: i64 = 51_840;

/// The next attempt after `attempts` failed ones of an event created at `created_ms`, or
/// `None`: give up.
pub fn next_attempt_ms(attempts: i64, created_ms: i64, now_ms: i64, first_retry_ms: i64) -> Option<i64> {
    let pause = PAUSES.get((attempts.max(1) - 1) as usize).copied().unwrap_or(PAUSES[PAUSES.len() - 1]) * first_retry_ms;
    let at = now_ms + pause;
    (at <= created_ms + GIVE_UP_AFTER * first_retry_ms).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_S: i64 = 5_000;

    #[test]
    fn pauses_grow_and_the_event_is_given_up_after_three_days() {
        let created = 1_000_000;
        let mut now = created;
        let mut pauses = Vec::new();
        let mut attempts = 1;
        while let Some(at) = next_attempt_ms(attempts, created, now, FIVE_S) {
            pauses.push((at - now) / 1_000);
            now = at;
            attempts += 1;
        }
        assert_eq!(pauses[..4], [5, 300, 1_800, 7_200]);
        let total_hours = (now - created) as f64 / 3_600_000.0;
        assert!((48.0..=72.0).contains(&total_hours), "retried for {total_hours:.1} h");
        assert_eq!(GIVE_UP_AFTER * FIVE_S, 3 * 86_400_000, "three days");
        assert_eq!(next_attempt_ms(1, created, created + 3 * 86_400_000, FIVE_S), None);
    }
}
