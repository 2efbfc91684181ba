//! How failed sign-ins slow down the next ones. Failures are counted per (name as typed,
//! client address bucket), never per name alone: a stranger who types someone's name wrong
//! slows down only their own address, and the person signing in from anywhere else is let
//! straight through. Every attempt is counted before its password is checked (so concurrent
//! guesses cannot all slip past the count) and the count goes when that name signs in from
//! that address. Pure: the store keeps the record, `auth::sign_in` does the I/O.

use crate::config::admin::Throttle;
pub use crate::store::admin::Attempts;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Check the password. `failing`: this pair failed before within the window (such
    /// attempts also share one rate for the whole proxy).
    Check { failing: bool },
    /// Too soon after the last failures: answer 429 with this `Retry-After`.
    Wait { secs: i64 },
}

/// The wait before the attempt after `failures` failures: none for the first
/// `free_failures`, then 2 s, doubling with each failure, at most `longest_wait`.
pub fn wait_after(failures: i64, throttle: &Throttle) -> i64 {
    let beyond_free = failures - i64::from(throttle.free_failures);
    if beyond_free < 0 {
        return 0;
    }
    let longest = throttle.longest_wait.as_secs() as i64;
    1i64.checked_shl((beyond_free + 1).min(62) as u32).unwrap_or(longest).min(longest)
}

/// Whether an attempt made at `now` is checked, and the record it leaves: the attempt counted
/// as a failure (the sign-in, if it happens, deletes the record). An attempt refused for
/// waiting is counted too, without moving the end of the wait. A record idle for longer than
/// the window is forgotten.
pub fn admit(before: Option<Attempts>, now: i64, throttle: &Throttle) -> (Admission, Attempts) {
    let window = throttle.window.as_secs() as i64;
    let current = before.filter(|before| now - before.last_at < window).unwrap_or_default();
    let failures = current.failures + 1;
    if now < current.next_at {
        return (Admission::Wait { secs: current.next_at - now }, Attempts { failures, last_at: now, next_at: current.next_at });
    }
    let next_at = now + wait_after(failures, throttle);
    (Admission::Check { failing: current.failures > 0 }, Attempts { failures, last_at: now, next_at })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const THROTTLE: Throttle = Throttle { free_failures: 3, longest_wait: Duration::from_secs(900), window: Duration::from_secs(3600) };

    #[test]
    fn the_free_failures_cost_nothing_then_each_one_doubles_the_wait_up_to_the_longest() {
        let waits: Vec<i64> = (0..=15).map(|failures| wait_after(failures, &THROTTLE)).collect();
        assert_eq!(waits, [0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]);
        assert_eq!(wait_after(i64::MAX / 2, &THROTTLE), 900, "no overflow");
    }

    #[test]
    fn attempts_are_counted_before_the_check_and_a_waiting_one_is_refused_and_counted() {
        let mut record = None;
        let mut admissions = Vec::new();
        for _ in 0..5 {
            let (admission, after) = admit(record, 1_000, &THROTTLE);
            admissions.push(admission);
            record = Some(after);
        }
        assert_eq!(
            admissions,
            [
                Admission::Check { failing: false },
                Admission::Check { failing: true },
                Admission::Check { failing: true },
                Admission::Wait { secs: 2 },
                Admission::Wait { secs: 2 },
            ]
        );
        assert_eq!(record, Some(Attempts { failures: 5, last_at: 1_000, next_at: 1_002 }));
        // Once the wait is over the attempt is checked, and the next wait is longer.
        let (admission, after) = admit(record, 1_002, &THROTTLE);
        assert_eq!((admission, after.next_at), (Admission::Check { failing: true }, 1_002 + 16));
    }

    #[test]
    fn a_record_idle_for_the_window_is_forgotten() {
        let old = Attempts { failures: 40, last_at: 1_000, next_at: 1_900 };
        let (admission, after) = admit(Some(old), 1_000 + 3_599, &THROTTLE);
        assert_eq!((admission, after.failures, after.next_at), (Admission::Check { failing: true }, 41, 4_599 + 900));
        let (admission, after) = admit(Some(old), 1_000 + 3_600, &THROTTLE);
        assert_eq!((admission, after.failures), (Admission::Check { failing: false }, 1));
    }
}
