//! RFC 3339 timestamps as milliseconds since the Unix epoch. No clock is read here.
//!
//! Hand-written because it must build without the standard library (the wasm package); the
//! calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`.

use crate::prelude::*;

const MS_PER_DAY: i64 = 86_400_000;

/// Parses an RFC 3339 timestamp (e.g. `2026-11-22T10:00:00Z`, `2026-11-22T11:00:00.250+01:00`)
/// into Unix milliseconds (fractions below a millisecond are dropped). Times before 1970 and
/// leap seconds are refused.
#[expect(
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "`sep(at, ..)` just found a byte at `at`, so `at + 1..` is in range; narrowing: `digits.min(3)` is at most 3"
)]
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if sep(at, b".") {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let first3 = num(at + 1, digits.min(3))?;
        millis = first3 * 10i64.pow(3 - digits.min(3) as u32);
        at += 1 + digits;
    }
    let offset_min = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    let seconds = ((hour * 60 + minute - offset_min) * 60) + second;
    let ms = days_from_civil(year, month, day) * MS_PER_DAY + seconds * 1000 + millis;
    (ms >= 0).then_some(ms)
}

/// Formats Unix milliseconds as RFC 3339 UTC with second precision (negative values as the epoch).
pub fn format_rfc3339(ms: i64) -> String {
    let ms = ms.max(0);
    let (year, month, day) = civil_from_days(ms / MS_PER_DAY);
    let secs = ms % MS_PER_DAY / 1000;
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year >= 0).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (day >= 0).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_rfc3339("2026-11-22T10:00:00Z").unwrap();
        assert_eq!(ms, 1_795_341_600_000);
        assert_eq!(format_rfc3339(ms), "2026-11-22T10:00:00Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn fractions_and_offsets() {
        let base = parse_rfc3339("2026-11-22T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-22T10:00:00.250Z"), Some(base + 250));
        assert_eq!(parse_rfc3339("2026-11-22T10:00:00.5z"), Some(base + 500));
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00.123456789Z"),
            Some(base + 123)
        );
        assert_eq!(parse_rfc3339("2026-11-22T11:30:00+01:30"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-22t05:00:00-05:00"), Some(base));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T10:00:00",
            "2026-11-22 10:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:60:00Z",
            "2026-11-22T10:00:60Z",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:00:00+0100",
            "2026-11-22T10:00:00Zjunk",
            "1969-12-31T23:59:59Z",
            "+026-11-22T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
    }

    /// Every day from 1970 to 2400 formats and parses back to itself.
    #[test]
    fn calendar_round_trips() {
        for day in 0..(430 * 366) {
            let ms = day * MS_PER_DAY + 45_296_000;
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms));
        }
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
