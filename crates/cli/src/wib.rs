//! Times as people in Indonesia read them: Western Indonesian Time (WIB, UTC+7). Stored times
//! stay RFC 3339 UTC; only what is printed is converted.

use chrono::{DateTime, FixedOffset, Utc};

fn offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// `2026-12-07T07:03:12.123456Z` → `2026-12-07 14:03 WIB`; text that is not RFC 3339 is
/// returned as it is.
pub fn from_rfc3339(s: &str) -> String {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t
            .with_timezone(&offset())
            .format("%Y-%m-%d %H:%M WIB")
            .to_string(),
        Err(_) => s.to_string(),
    }
}

/// Unix microseconds as `2026-12-07 14:03:12 WIB`.
pub fn from_micros(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(t) => t
            .with_timezone(&offset())
            .format("%Y-%m-%d %H:%M:%S WIB")
            .to_string(),
        None => us.to_string(),
    }
}

/// Today's date in WIB.
pub fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&offset()).date_naive()
}

/// Now, for file names: `20261207-140312` (WIB).
pub fn file_stamp() -> String {
    Utc::now()
        .with_timezone(&offset())
        .format("%Y%m%d-%H%M%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_shown_in_wib() {
        assert_eq!(
            from_rfc3339("2026-12-06T20:30:00.000001Z"),
            "2026-12-07 03:30 WIB",
            "past 17:00 UTC it is the next day in WIB"
        );
        assert_eq!(from_rfc3339("bukan waktu"), "bukan waktu");
        assert_eq!(from_micros(0), "1970-01-01 07:00:00 WIB");
    }
}
