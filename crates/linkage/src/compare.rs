//! Field comparators other than names: birth date, sex, region, NIK.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Birth-date agreement levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateLevel {
    /// Same date.
    Exact,
    /// Day and month swapped (`03-07` vs `07-03`), same year.
    DayMonthSwapped,
    /// Same day and month, year off by one.
    YearOffByOne,
    /// `DDMMYYYY` differ in exactly one digit.
    OneDigitOff,
    /// Anything else.
    Other,
}

impl DateLevel {
    /// Stable label used in evidence.
    pub const fn label(self) -> &'static str {
        match self {
            DateLevel::Exact => "exact",
            DateLevel::DayMonthSwapped => "day_month_swapped",
            DateLevel::YearOffByOne => "year_off_by_one",
            DateLevel::OneDigitOff => "one_digit_off",
            DateLevel::Other => "different",
        }
    }
}

/// Compares two dates.
pub fn compare_dates(a: NaiveDate, b: NaiveDate) -> DateLevel {
    if a == b {
        return DateLevel::Exact;
    }
    let (ya, ma, da) = (a.year(), a.month(), a.day());
    let (yb, mb, db) = (b.year(), b.month(), b.day());
    if ya == yb && da == mb && ma == db {
        return DateLevel::DayMonthSwapped;
    }
    if da == db && ma == mb && (ya - yb).abs() == 1 {
        return DateLevel::YearOffByOne;
    }
    let fa = [da / 10, da % 10, ma / 10, ma % 10];
    let fb = [db / 10, db % 10, mb / 10, mb % 10];
    let ya4 = ya.rem_euclid(10_000) as u32;
    let yb4 = yb.rem_euclid(10_000) as u32;
    let mut diff = fa.iter().zip(fb.iter()).filter(|(x, y)| x != y).count();
    let mut p = 1000;
    while p > 0 {
        if (ya4 / p) % 10 != (yb4 / p) % 10 {
            diff += 1;
        }
        p /= 10;
    }
    if diff == 1 {
        DateLevel::OneDigitOff
    } else {
        DateLevel::Other
    }
}

/// Day and month that agencies write when the real birth date was never recorded: 1 January,
/// 31 December, 1 July (mid-year).
pub const DEFAULT_DAY_MONTHS: [(u32, u32); 3] = [(1, 1), (31, 12), (1, 7)];

/// Whether a stated birth date is one of the [`DEFAULT_DAY_MONTHS`].
pub fn is_default_date(d: NaiveDate) -> bool {
    DEFAULT_DAY_MONTHS.contains(&(d.day(), d.month()))
}

/// How a birth date stated in a list relates to the registry's, for the roster linker. Finer
/// than [`DateLevel`] where lists go wrong in their own ways: a default date written when the
/// real one was unknown, and a day that is off (`09` for `10`) without being one digit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BirthDateLevel {
    /// Same date (and the stated date is not a default).
    Exact,
    /// Day and month swapped, same year.
    DayMonthSwapped,
    /// Same day and month, year off by one.
    YearOffByOne,
    /// `DDMMYYYY` differ in exactly one digit.
    OneDigitOff,
    /// Same year and month, the day one off (`09` for `10`, across a ten so not one digit
    /// off) or written as the 1st or 15th (the day was not known).
    DayDiffers,
    /// The stated date is a default day and month ([`DEFAULT_DAY_MONTHS`]) in the registry
    /// date's year: only the year is information.
    DefaultDate,
    /// Anything else.
    Other,
}

impl BirthDateLevel {
    /// Every level, best first (the index of a level is its position here).
    pub const ALL: [BirthDateLevel; 7] = [
        BirthDateLevel::Exact,
        BirthDateLevel::DayMonthSwapped,
        BirthDateLevel::YearOffByOne,
        BirthDateLevel::OneDigitOff,
        BirthDateLevel::DayDiffers,
        BirthDateLevel::DefaultDate,
        BirthDateLevel::Other,
    ];

    /// Stable label used in evidence.
    pub const fn label(self) -> &'static str {
        match self {
            BirthDateLevel::Exact => "exact",
            BirthDateLevel::DayMonthSwapped => "day_month_swapped",
            BirthDateLevel::YearOffByOne => "year_off_by_one",
            BirthDateLevel::OneDigitOff => "one_digit_off",
            BirthDateLevel::DayDiffers => "day_differs",
            BirthDateLevel::DefaultDate => "default_date_same_year",
            BirthDateLevel::Other => "different",
        }
    }

    /// Whether the stated date is wrong in a way a clerk makes on the right person's row (every
    /// level between `Exact` and `Other`).
    pub const fn is_slip(self) -> bool {
        !matches!(self, BirthDateLevel::Exact | BirthDateLevel::Other)
    }
}

/// Compares a stated birth date with a registry one. A stated default date in the registry
/// date's year is [`BirthDateLevel::DefaultDate`] even when the registry holds the same
/// default: agreeing on 1 January says little, and a namesake born on 1 January must not
/// outweigh the person whose NIK the row carries.
pub fn compare_birth_dates(stated: NaiveDate, registry: NaiveDate) -> BirthDateLevel {
    if is_default_date(stated) && stated.year() == registry.year() {
        return BirthDateLevel::DefaultDate;
    }
    match compare_dates(stated, registry) {
        DateLevel::Exact => BirthDateLevel::Exact,
        DateLevel::DayMonthSwapped => BirthDateLevel::DayMonthSwapped,
        DateLevel::YearOffByOne => BirthDateLevel::YearOffByOne,
        DateLevel::OneDigitOff => BirthDateLevel::OneDigitOff,
        DateLevel::Other
            if stated.year() == registry.year()
                && stated.month() == registry.month()
                && (stated.day().abs_diff(registry.day()) == 1
                    || matches!(stated.day(), 1 | 15)) =>
        {
            BirthDateLevel::DayDiffers
        }
        DateLevel::Other => BirthDateLevel::Other,
    }
}

/// Region agreement levels (Kemendagri village codes `PPKKCCVVVV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionLevel {
    /// Same village.
    SameVillage,
    /// Same district (kecamatan).
    SameDistrict,
    /// Same regency/city.
    SameRegency,
    /// Elsewhere.
    Other,
}

impl RegionLevel {
    /// Stable label used in evidence.
    pub const fn label(self) -> &'static str {
        match self {
            RegionLevel::SameVillage => "same_village",
            RegionLevel::SameDistrict => "same_district",
            RegionLevel::SameRegency => "same_regency",
            RegionLevel::Other => "different",
        }
    }
}

/// Compares two region codes. Either may be a village (10 digits), district (6), regency (4) or
/// province (2) code; the comparison happens at the finest level both have.
pub fn compare_regions(a: u64, b: u64) -> RegionLevel {
    let (va, la) = normalise_region(a);
    let (vb, lb) = normalise_region(b);
    let level = la.min(lb);
    let at = |v: u64, l: u32, target: u32| v / 10u64.pow(l - target);
    if level >= 10 && va == vb {
        return RegionLevel::SameVillage;
    }
    if level >= 6 && at(va, la, 6) == at(vb, lb, 6) {
        return RegionLevel::SameDistrict;
    }
    if level >= 4 && at(va, la, 4) == at(vb, lb, 4) {
        return RegionLevel::SameRegency;
    }
    RegionLevel::Other
}

fn normalise_region(v: u64) -> (u64, u32) {
    let digits = if v >= 1_000_000_000 {
        10
    } else if v >= 100_000 {
        6
    } else if v >= 1_000 {
        4
    } else {
        2
    };
    (v, digits)
}

/// How a candidate's NIK relates to the listed NIK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NikLevel {
    /// Identical.
    Exact,
    /// One digit differs.
    OneSubstitution,
    /// Two adjacent digits swapped.
    AdjacentTransposition,
    /// The listed NIK lost its last digit (15 digits, or a trailing 0 from a spreadsheet) and
    /// the first 15 digits agree.
    Truncated15,
    /// The listed cell, garbled (a digit left out or one too many), is one insertion or
    /// deletion from this NIK (see [`crate::adapter::nik_repairs`]).
    OneEdit,
    /// Unrelated.
    Other,
}

impl NikLevel {
    /// Stable label used in evidence.
    pub const fn label(self) -> &'static str {
        match self {
            NikLevel::Exact => "exact",
            NikLevel::OneSubstitution => "one_substitution",
            NikLevel::AdjacentTransposition => "adjacent_transposition",
            NikLevel::Truncated15 => "truncated_15",
            NikLevel::OneEdit => "one_insertion_or_deletion",
            NikLevel::Other => "different",
        }
    }
}

/// Digit segments of a NIK `PP KK CC | DD | MM | YY | SSSS` as bits.
pub mod seg {
    /// Region of first registration, positions 0–5.
    pub const REGION: u8 = 1;
    /// Day (+40 for women): carries birth day and sex, positions 6–7.
    pub const DAY: u8 = 2;
    /// Month, positions 8–9.
    pub const MONTH: u8 = 4;
    /// Two-digit year, positions 10–11.
    pub const YEAR: u8 = 8;
    /// Serial, positions 12–15.
    pub const SERIAL: u8 = 16;
    /// All date digits.
    pub const DATE: u8 = DAY | MONTH | YEAR;

    /// Segment of digit position `pos` (0 = leftmost).
    pub const fn of(pos: usize) -> u8 {
        match pos {
            0..=5 => REGION,
            6..=7 => DAY,
            8..=9 => MONTH,
            10..=11 => YEAR,
            _ => SERIAL,
        }
    }
}

/// The listed NIK as the linker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// No usable NIK.
    None,
    /// 16 digits (possibly with a trailing 0 from a spreadsheet: `maybe_truncated`).
    Full { nik: u64, maybe_truncated: bool },
    /// Only the first 15 digits are known.
    Prefix15(u64),
}

fn digits16(n: u64) -> [u8; 16] {
    let mut d = [0u8; 16];
    let mut v = n;
    for i in (0..16).rev() {
        d[i] = (v % 10) as u8;
        v /= 10;
    }
    d
}

/// Compares a candidate's NIK with the listed one. Returns the level and the NIK segments the
/// difference touches (empty for an exact match; everything for `Other`).
pub fn compare_nik(listed: Listed, cand: u64) -> Option<(NikLevel, u8)> {
    match listed {
        Listed::None => None,
        Listed::Prefix15(p) => Some(if cand / 10 == p {
            (NikLevel::Truncated15, seg::SERIAL)
        } else {
            (NikLevel::Other, 0xff)
        }),
        Listed::Full {
            nik,
            maybe_truncated,
        } => {
            if nik == cand {
                return Some((NikLevel::Exact, 0));
            }
            let a = digits16(nik);
            let b = digits16(cand);
            // The positions of the first three differing digits (no allocation: this runs
            // for every candidate).
            let mut diffs = [0usize; 3];
            let mut nd = 0;
            for i in 0..16 {
                if a[i] != b[i] {
                    if nd == 3 {
                        break;
                    }
                    diffs[nd] = i;
                    nd += 1;
                }
            }
            Some(match &diffs[..nd] {
                [15] if maybe_truncated && a[15] == 0 => (NikLevel::Truncated15, seg::SERIAL),
                [p] => (NikLevel::OneSubstitution, seg::of(*p)),
                [p, q] if *q == p + 1 && a[*p] == b[*q] && a[*q] == b[*p] => {
                    (NikLevel::AdjacentTransposition, seg::of(*p) | seg::of(*q))
                }
                _ => (NikLevel::Other, 0xff),
            })
        }
    }
}

/// All NIKs one substitution away (16 × 9) followed by the 15 adjacent transpositions.
pub fn nik_neighbours(nik: u64) -> impl Iterator<Item = (u64, NikLevel)> {
    let d = digits16(nik);
    let pow = |i: usize| 10u64.pow((15 - i) as u32);
    let subs = (0..16).flat_map(move |i| {
        (0..10u64).filter(move |&v| v != d[i] as u64).map(move |v| {
            let n = nik - d[i] as u64 * pow(i) + v * pow(i);
            (n, NikLevel::OneSubstitution)
        })
    });
    let trans = (0..15).filter(move |&i| d[i] != d[i + 1]).map(move |i| {
        let n = nik - d[i] as u64 * pow(i) - d[i + 1] as u64 * pow(i + 1)
            + d[i + 1] as u64 * pow(i)
            + d[i] as u64 * pow(i + 1);
        (n, NikLevel::AdjacentTransposition)
    });
    subs.chain(trans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn date_levels() {
        let cases = [
            (d(1980, 3, 7), d(1980, 3, 7), DateLevel::Exact),
            (d(1980, 3, 7), d(1980, 7, 3), DateLevel::DayMonthSwapped),
            (d(1980, 3, 7), d(1981, 3, 7), DateLevel::YearOffByOne),
            (d(1980, 3, 7), d(1980, 3, 8), DateLevel::OneDigitOff),
            (d(1980, 3, 7), d(1970, 3, 7), DateLevel::OneDigitOff),
            (d(1980, 3, 7), d(1975, 11, 20), DateLevel::Other),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_dates(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn birth_date_levels() {
        use BirthDateLevel::*;
        let cases = [
            (d(1980, 3, 7), d(1980, 3, 7), Exact),
            (d(1980, 7, 3), d(1980, 3, 7), DayMonthSwapped),
            (d(1980, 3, 8), d(1980, 3, 7), OneDigitOff),
            (d(1980, 3, 10), d(1980, 3, 9), DayDiffers),
            (d(1980, 3, 1), d(1980, 3, 27), DayDiffers),
            (d(1980, 3, 15), d(1980, 3, 27), DayDiffers),
            (d(1980, 3, 2), d(1980, 3, 13), Other),
            (d(1961, 1, 1), d(1961, 5, 17), DefaultDate),
            (d(1961, 12, 31), d(1961, 5, 17), DefaultDate),
            (d(1961, 7, 1), d(1961, 5, 17), DefaultDate),
            // A default date says only the year, even against a registry default.
            (d(1961, 1, 1), d(1961, 1, 1), DefaultDate),
            (d(1962, 1, 1), d(1961, 5, 17), Other),
            (d(1980, 3, 7), d(1975, 11, 20), Other),
        ];
        for (stated, reg, want) in cases {
            assert_eq!(compare_birth_dates(stated, reg), want, "{stated} {reg}");
        }
        for (i, l) in BirthDateLevel::ALL.iter().enumerate() {
            assert_eq!(*l as usize, i);
        }
    }

    #[test]
    fn region_levels() {
        assert_eq!(
            compare_regions(3201010001, 3201010001),
            RegionLevel::SameVillage
        );
        assert_eq!(
            compare_regions(3201010001, 3201010002),
            RegionLevel::SameDistrict
        );
        assert_eq!(
            compare_regions(3201010001, 3201020002),
            RegionLevel::SameRegency
        );
        assert_eq!(compare_regions(3201010001, 3301010001), RegionLevel::Other);
        assert_eq!(
            compare_regions(3201010001, 320101),
            RegionLevel::SameDistrict
        );
    }

    #[test]
    fn nik_levels_and_neighbours() {
        let l = Listed::Full {
            nik: 3201012301800012,
            maybe_truncated: false,
        };
        assert_eq!(compare_nik(l, 3201012301800012), Some((NikLevel::Exact, 0)));
        assert_eq!(
            compare_nik(l, 3201012301800013),
            Some((NikLevel::OneSubstitution, seg::SERIAL))
        );
        assert_eq!(
            compare_nik(l, 3201013201800012),
            Some((NikLevel::AdjacentTransposition, seg::DAY))
        );
        assert_eq!(
            compare_nik(l, 3101012301800012).unwrap().0,
            NikLevel::OneSubstitution
        );
        assert_eq!(compare_nik(l, 9999999999999999).unwrap().0, NikLevel::Other);
        let t = Listed::Full {
            nik: 3201012301800010,
            maybe_truncated: true,
        };
        assert_eq!(
            compare_nik(t, 3201012301800017).unwrap().0,
            NikLevel::Truncated15
        );
        let n: Vec<_> = nik_neighbours(3201012301800012).collect();
        assert_eq!(
            n.iter()
                .filter(|x| x.1 == NikLevel::OneSubstitution)
                .count(),
            144
        );
        assert!(n.contains(&(3201013201800012, NikLevel::AdjacentTransposition)));
        for (x, level) in n {
            assert_eq!(compare_nik(l, x).unwrap().0, level);
        }
    }
}
