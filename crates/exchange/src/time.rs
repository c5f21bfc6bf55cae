//! Time as data: every function that depends on time takes it as an argument.

use std::fmt;

/// Microseconds since the Unix epoch (UTC). Injected, never read from a clock inside this crate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Western Indonesia Time (WIB), UTC+7, in minutes.
pub const WIB_OFFSET_MINUTES: i32 = 7 * 60;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Timestamp {
    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Whole seconds since the epoch (floor).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// Midnight at the start of a calendar date in a UTC offset (e.g. [`WIB_OFFSET_MINUTES`]).
    /// `None` for an impossible date.
    pub fn from_date(y: i32, m: u32, d: u32, utc_offset_minutes: i32) -> Option<Timestamp> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        Some(Timestamp(
            days * MICROS_PER_DAY - i64::from(utc_offset_minutes) * 60 * MICROS_PER_SEC,
        ))
    }

    /// Parses `YYYY-MM-DD` as midnight in the given offset.
    pub fn parse_date(s: &str, utc_offset_minutes: i32) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let y = i32::try_from(num(0..4)?).ok()?;
        Timestamp::from_date(y, num(5..7)?, num(8..10)?, utc_offset_minutes)
    }

    /// The calendar day index (days since 1970-01-01) in a UTC offset.
    pub fn day_index(self, utc_offset_minutes: i32) -> i64 {
        (self.0 + i64::from(utc_offset_minutes) * 60 * MICROS_PER_SEC).div_euclid(MICROS_PER_DAY)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}µs", self.0)
    }
}
