//! Amounts and times as people read them. Pure.

use crate::i18n::Lang;

/// "1500.50" → "1 500,50 ₸" (ru, kk) or "1,500.50 ₸" (en); other currencies by code.
pub fn money(amount: &str, currency: &str, lang: Lang) -> String {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, ""));
    let (group, point) = match lang {
        Lang::En => (',', '.'),
        Lang::Ru | Lang::Kk => ('\u{a0}', ','),
    };
    let digits: Vec<char> = whole.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            grouped.push(group);
        }
        grouped.push(*c);
    }
    let symbol = if currency == "KZT" { "₸" } else { currency };
    if cents.is_empty() { format!("{grouped}\u{a0}{symbol}") } else { format!("{grouped}{point}{cents:0<2}\u{a0}{symbol}") }
}

/// An RFC 3339 UTC time ("2026-12-04T04:15:09Z") in Almaty's time (UTC+5): "04.12.2026 09:15".
pub fn local_time(rfc3339: &str) -> String {
    let parse = |range: std::ops::Range<usize>| rfc3339.get(range).and_then(|t| t.parse::<i64>().ok());
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi)) = (parse(0..4), parse(5..7), parse(8..10), parse(11..13), parse(14..16)) else {
        return rfc3339.to_owned();
    };
    let days = days_from_civil(y, mo, d) + (h + 5) / 24;
    let (y, mo, d) = civil_from_days(days);
    format!("{d:02}.{mo:02}.{y} {:02}:{mi:02}", (h + 5) % 24)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// A day picked in a date input ("2026-12-04") as the list filter's start of that day in
/// Almaty; `end`: the start of the next day.
pub fn day_bound(day: &str, end: bool) -> String {
    let parse = |range: std::ops::Range<usize>| day.get(range).and_then(|t| t.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d)) = (parse(0..4), parse(5..7), parse(8..10)) else { return String::new() };
    let (y, m, d) = civil_from_days(days_from_civil(y, m, d) + i64::from(end));
    format!("{y:04}-{m:02}-{d:02}T00:00:00+05:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_for_each_language() {
        assert_eq!(money("1500.5", "KZT", Lang::Ru), "1\u{a0}500,50\u{a0}₸");
        assert_eq!(money("1234567", "KZT", Lang::En), "1,234,567\u{a0}₸");
        assert_eq!(money("999", "USD", Lang::Kk), "999\u{a0}USD");
    }

    #[test]
    fn times_are_shown_in_almaty() {
        assert_eq!(local_time("2026-12-04T04:15:09Z"), "04.12.2026 09:15");
        assert_eq!(local_time("2026-12-31T20:00:00Z"), "01.01.2027 01:00", "past midnight, into the next year");
        assert_eq!(local_time("2028-02-28T19:30:00Z"), "29.02.2028 00:30", "a leap day");
        assert_eq!(local_time("soon"), "soon");
        assert_eq!(day_bound("2026-12-31", true), "2027-01-01T00:00:00+05:00");
        assert_eq!(day_bound("2026-12-04", false), "2026-12-04T00:00:00+05:00");
        assert_eq!(day_bound("", false), "");
    }
}
