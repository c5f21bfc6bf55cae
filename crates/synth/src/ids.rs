//! NIK and KK digits, and the structural NIK check the truth files are computed with
//! (documented in docs/TRUTH.md; the model crate's `Nik` parser is meant to agree).

use crate::util::civil_from_days;

/// `PPKKCC DDMMYY SSSS` as a number: district (6 digits), day (+40 for women), month,
/// 2-digit year, serial.
pub fn compose(district6: u32, day: i32, female: bool, serial: u32) -> u64 {
    let (y, m, d) = civil_from_days(day);
    let dd = d as u64 + if female { 40 } else { 0 };
    district6 as u64 * 10_000_000_000
        + dd * 100_000_000
        + m as u64 * 1_000_000
        + (y.rem_euclid(100)) as u64 * 10_000
        + serial as u64
}

/// Replaces the serial (last 4 digits).
pub fn with_serial(id: u64, serial: u32) -> u64 {
    id - id % 10_000 + serial as u64
}

fn days_in_month(m: u32, leap: bool) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// The structural NIK check (see docs/TRUTH.md, "NIK_INVALID"): after trimming surrounding
/// ASCII whitespace, exactly 16 ASCII digits; province known; regency and district not 00;
/// day 01–31 or 41–71, month 01–12, day within the month (29 February allowed when the 2-digit
/// year is divisible by 4); serial not 0000.
pub fn nik_text_is_valid(s: &str, province_known: &[bool; 100]) -> bool {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let b = t.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |i: usize| ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as u32;
    if !province_known[n(0) as usize] || n(2) == 0 || n(4) == 0 {
        return false;
    }
    let mut dd = n(6);
    if dd > 40 {
        dd -= 40;
    }
    let mm = n(8);
    let yy = n(10);
    if !(1..=12).contains(&mm) || dd == 0 || dd > days_in_month(mm, yy % 4 == 0) {
        return false;
    }
    n(12) * 100 + n(14) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::days_from_civil;

    fn known() -> [bool; 100] {
        let mut k = [false; 100];
        for p in [11, 32, 33, 35, 91] {
            k[p] = true;
        }
        k
    }

    #[test]
    fn compose_places_each_part() {
        let d = days_from_civil(1990, 8, 15);
        assert_eq!(compose(320101, d, true, 1), 3201015508900001);
        assert_eq!(compose(320101, d, false, 12), 3201011508900012);
        assert_eq!(with_serial(3201011508900012, 7), 3201011508900007);
    }

    #[test]
    fn structural_check_table() {
        let k = known();
        let cases = [
            ("3201015508900001", true),
            (" 3201015508900001 ", true),
            ("320101550890000", false),
            ("32010155089000011", false),
            ("32010155O8900001", false),
            ("3201015508900000", false),
            ("1001015508900001", false),
            ("3200015508900001", false),
            ("3201003208900001", false),
            ("3201017208900001", false),
            ("3201010013900001", false),
            ("3201012902010001", false),
            ("3201012902040001", true),
            ("3201016902000001", true),
            ("3201013104900001", false),
            ("", false),
        ];
        for (s, want) in cases {
            assert_eq!(nik_text_is_valid(s, &k), want, "{s:?}");
        }
    }
}
