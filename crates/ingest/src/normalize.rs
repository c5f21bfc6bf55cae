//! Value checks ingestion needs from the domain model: NIK, KK, dates, region codes, numbers
//! and booleans as agencies write them.
//!
//! TODO(model): `sinergi_model::nik`, `kk` and `date` are being written in parallel. When they
//! land, switch [`check_nik`], [`check_kk`] and [`parse_date`] to call
//! `sinergi_model::nik::Nik::parse`, `sinergi_model::kk::Kk::parse` and
//! `sinergi_model::date::parse_date_format` / `from_excel_serial`, mapping their `.code()`s
//! through unchanged. This file is the only place to change: the rest of the crate sees
//! [`Checked`] and [`Issue`] only.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use sinergi_model::{Level, RegionCode, wilayah};

/// A problem with one value: a stable code and an English message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Stable SCREAMING_SNAKE_CASE code.
    pub code: &'static str,
    /// What is wrong, in English.
    pub message: String,
}

impl Issue {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Issue {
        Issue {
            code,
            message: message.into(),
        }
    }
}

/// The outcome of checking one identifier: the canonical value when usable, the errors that
/// made it unusable, and warnings that do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Canonical form (16 digits) when there is no error.
    pub value: Option<String>,
    /// Why the value is unusable.
    pub errors: Vec<Issue>,
    /// Oddities that do not make it unusable.
    pub warnings: Vec<Issue>,
}

fn provinces() -> &'static [bool; 100] {
    static P: OnceLock<[bool; 100]> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = [false; 100];
        for r in wilayah().at_level(Level::Province) {
            let d = r.code.digits();
            if let Ok(n) = d.parse::<usize>() {
                if n < 100 {
                    p[n] = true;
                }
            }
        }
        p
    })
}

fn sixteen_digits(s: &str, what: &str, prefix: &'static str) -> Result<(), Issue> {
    let b = s.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        let code = if prefix == "NIK" {
            "NIK_NOT_DIGITS"
        } else {
            "KK_NOT_DIGITS"
        };
        return Err(Issue::new(
            code,
            format!("{what} must contain digits only, found {s:?}"),
        ));
    }
    if b.len() != 16 {
        let code = if prefix == "NIK" {
            "NIK_LENGTH"
        } else {
            "KK_LENGTH"
        };
        return Err(Issue::new(
            code,
            format!("{what} must have 16 digits, found {}", b.len()),
        ));
    }
    Ok(())
}

fn two(b: &[u8]) -> u32 {
    (b[0] - b'0') as u32 * 10 + (b[1] - b'0') as u32
}

/// Checks a NIK (already stripped of spaces and separators by the `nik` transform).
pub fn check_nik(s: &str) -> Checked {
    let mut out = Checked::default();
    if let Err(e) = sixteen_digits(s, "NIK", "NIK") {
        out.errors.push(e);
        return out;
    }
    let b = s.as_bytes();
    let prov = two(&b[0..2]) as usize;
    if !provinces()[prov] {
        out.errors.push(Issue::new(
            "NIK_PROVINCE_UNKNOWN",
            format!("NIK starts with {prov:02}, which is not a province code"),
        ));
    }
    let mut day = two(&b[6..8]);
    if day > 40 {
        day -= 40;
    }
    let month = two(&b[8..10]);
    // The year has two digits: accept 29 February (some century has it as a leap year).
    let date_ok = (1..=12).contains(&month)
        && day >= 1
        && NaiveDate::from_ymd_opt(2000, month, day).is_some();
    if !date_ok {
        out.errors.push(Issue::new(
            "NIK_DATE_INVALID",
            format!(
                "NIK digits 7-12 ({}) are not a birth date DDMMYY (+40 on the day for women)",
                &s[6..12]
            ),
        ));
    }
    if &s[12..16] == "0000" {
        out.errors.push(Issue::new(
            "NIK_SERIAL_ZERO",
            "NIK serial (last 4 digits) is 0000",
        ));
    }
    if out.errors.is_empty() {
        out.value = Some(s.to_owned());
    }
    out
}

/// Checks a KK number (16 digits, a known province prefix).
pub fn check_kk(s: &str) -> Checked {
    let mut out = Checked::default();
    if let Err(e) = sixteen_digits(s, "KK number", "KK") {
        out.errors.push(e);
        return out;
    }
    let prov = two(&s.as_bytes()[0..2]) as usize;
    if !provinces()[prov] {
        out.errors.push(Issue::new(
            "KK_PROVINCE_UNKNOWN",
            format!("KK number starts with {prov:02}, which is not a province code"),
        ));
    } else {
        out.value = Some(s.to_owned());
    }
    out
}

/// A date layout a mapping can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `DD-MM-YYYY`.
    DmyDash,
    /// `DD/MM/YYYY`.
    DmySlash,
    /// `YYYY-MM-DD`.
    Iso,
    /// An Excel serial day number (1900 date system).
    Excel,
    /// Any of the above, `DD.MM.YYYY`, one-digit days and months, and Indonesian or English
    /// month names (`12 Januari 1980`, `12-Jan-1980`).
    Auto,
}

impl DateFormat {
    /// Parses a mapping's `date_format` value.
    pub fn from_name(s: &str) -> Option<DateFormat> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "DD-MM-YYYY" => DateFormat::DmyDash,
            "DD/MM/YYYY" => DateFormat::DmySlash,
            "YYYY-MM-DD" => DateFormat::Iso,
            "EXCEL" => DateFormat::Excel,
            "AUTO" => DateFormat::Auto,
            _ => return None,
        })
    }

    /// The names accepted by [`DateFormat::from_name`].
    pub const NAMES: &'static [&'static str] =
        &["DD-MM-YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "EXCEL", "AUTO"];
}

fn digits_n(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, &d| a * 10 + (d - b'0') as u32))
}

fn ymd(y: u32, m: u32, d: u32, raw: &str) -> Result<NaiveDate, Issue> {
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .filter(|dt| (1850..=2200).contains(&dt.year()))
        .ok_or_else(|| {
            Issue::new(
                "DATE_INVALID",
                format!("{raw:?} has the right shape but is not a real calendar date"),
            )
        })
}

fn unrecognised(raw: &str, want: &str) -> Issue {
    Issue::new(
        "DATE_UNRECOGNISED",
        format!("{raw:?} is not a date in the expected format {want}"),
    )
}

fn dmy(s: &str, sep: u8, strict: bool) -> Option<Result<NaiveDate, Issue>> {
    let b = s.as_bytes();
    if strict {
        if b.len() != 10 || b[2] != sep || b[5] != sep {
            return None;
        }
        let (d, m, y) = (
            digits_n(&b[0..2])?,
            digits_n(&b[3..5])?,
            digits_n(&b[6..10])?,
        );
        return Some(ymd(y, m, d, s));
    }
    let mut it = s.split(sep as char);
    let (d, m, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || d.len() > 2 || m.len() > 2 || y.len() != 4 {
        return None;
    }
    let (d, m, y) = (
        digits_n(d.as_bytes())?,
        digits_n(m.as_bytes())?,
        digits_n(y.as_bytes())?,
    );
    Some(ymd(y, m, d, s))
}

fn iso(s: &str) -> Option<Result<NaiveDate, Issue>> {
    // Also accepts a time part after the date (`1980-01-12 00:00:00`, `1980-01-12T00:00:00`).
    let b = s.as_bytes();
    if b.len() < 10
        || b[4] != b'-'
        || b[7] != b'-'
        || (b.len() > 10 && !matches!(b[10], b' ' | b'T'))
    {
        return None;
    }
    let (y, m, d) = (
        digits_n(&b[0..4])?,
        digits_n(&b[5..7])?,
        digits_n(&b[8..10])?,
    );
    Some(ymd(y, m, d, &s[..10]))
}

const MONTHS: &[(&str, u32)] = &[
    ("JANUARI", 1),
    ("JANUARY", 1),
    ("JAN", 1),
    ("FEBRUARI", 2),
    ("FEBRUARY", 2),
    ("FEB", 2),
    ("PEBRUARI", 2),
    ("MARET", 3),
    ("MARCH", 3),
    ("MAR", 3),
    ("APRIL", 4),
    ("APR", 4),
    ("MEI", 5),
    ("MAY", 5),
    ("JUNI", 6),
    ("JUNE", 6),
    ("JUN", 6),
    ("JULI", 7),
    ("JULY", 7),
    ("JUL", 7),
    ("AGUSTUS", 8),
    ("AUGUST", 8),
    ("AGU", 8),
    ("AGT", 8),
    ("AUG", 8),
    ("SEPTEMBER", 9),
    ("SEP", 9),
    ("SEPT", 9),
    ("OKTOBER", 10),
    ("OCTOBER", 10),
    ("OKT", 10),
    ("OCT", 10),
    ("NOVEMBER", 11),
    ("NOPEMBER", 11),
    ("NOV", 11),
    ("DESEMBER", 12),
    ("DECEMBER", 12),
    ("DES", 12),
    ("DEC", 12),
];

fn named_month(s: &str) -> Option<Result<NaiveDate, Issue>> {
    let parts: Vec<&str> = s.split([' ', '-', '/']).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 {
        return None;
    }
    let d = digits_n(parts[0].as_bytes())?;
    let name = parts[1].to_ascii_uppercase();
    let m = MONTHS.iter().find(|(n, _)| *n == name)?.1;
    let y = digits_n(parts[2].as_bytes()).filter(|_| parts[2].len() == 4)?;
    Some(ymd(y, m, d, s))
}

/// Converts an Excel serial day number (1900 system, with Excel's phantom 29 February 1900)
/// to a date. Fractions (times of day) are dropped.
pub fn from_excel_serial(serial: f64) -> Result<NaiveDate, Issue> {
    if !serial.is_finite() || !(1.0..=2_958_465.0).contains(&serial) {
        return Err(Issue::new(
            "DATE_INVALID",
            format!("{serial} is not an Excel date serial number"),
        ));
    }
    let days = serial.floor() as i64;
    // Serial 60 is the non-existent 1900-02-29; serials after it are one day ahead.
    let base = NaiveDate::from_ymd_opt(1899, 12, 31).expect("valid");
    let offset = if days >= 60 { days - 1 } else { days };
    Ok(base + chrono::Duration::days(offset))
}

/// Parses a date written as text in `format`. The input is trimmed first.
pub fn parse_date(input: &str, format: DateFormat) -> Result<NaiveDate, Issue> {
    let s = input.trim();
    let r = match format {
        DateFormat::DmyDash => dmy(s, b'-', true),
        DateFormat::DmySlash => dmy(s, b'/', true),
        DateFormat::Iso => iso(s),
        DateFormat::Excel => {
            return match s.parse::<f64>() {
                Ok(v) => from_excel_serial(v),
                Err(_) => Err(unrecognised(s, "EXCEL (a serial day number)")),
            };
        }
        DateFormat::Auto => dmy(s, b'-', false)
            .or_else(|| dmy(s, b'/', false))
            .or_else(|| dmy(s, b'.', false))
            .or_else(|| iso(s))
            .or_else(|| named_month(s))
            .or_else(|| {
                // A bare serial number, as left behind when a date column was pasted as text.
                let b = s.as_bytes();
                (b.len() == 5 && b.iter().all(u8::is_ascii_digit))
                    .then(|| from_excel_serial(s.parse::<f64>().unwrap_or(0.0)))
            }),
    };
    r.unwrap_or_else(|| {
        let want = match format {
            DateFormat::DmyDash => "DD-MM-YYYY",
            DateFormat::DmySlash => "DD/MM/YYYY",
            DateFormat::Iso => "YYYY-MM-DD",
            DateFormat::Excel => "EXCEL",
            DateFormat::Auto => "DD-MM-YYYY, DD/MM/YYYY, YYYY-MM-DD or 12 Januari 1980",
        };
        Err(unrecognised(s, want))
    })
}

/// Checks a region code (dots allowed) and returns its digits. A structurally valid code that
/// is not in the embedded Kemendagri table is usable but gets a `REGION_UNKNOWN` warning.
pub fn check_region(s: &str) -> Checked {
    let mut out = Checked::default();
    match RegionCode::parse(s) {
        Ok(code) => {
            if !wilayah().contains(code) {
                out.warnings.push(Issue::new(
                    "REGION_UNKNOWN",
                    format!("region code {s:?} is not in the Kemendagri 2025 table"),
                ));
            }
            out.value = Some(code.digits());
        }
        Err(e) => out.errors.push(Issue::new(e.code(), format!("{s:?}: {e}"))),
    }
    out
}

/// Parses a whole number as Indonesians write it: optional `Rp`/`IDR`, `.` as thousands
/// separator, `,` as decimal separator (a fraction must be zero), optional minus sign.
/// Plain digits and English `1,500,000` are accepted when unambiguous.
pub fn parse_integer(input: &str) -> Result<i64, Issue> {
    let invalid = || {
        Issue::new(
            "NUMBER_INVALID",
            format!(
                "{input:?} is not a whole number (expected e.g. 1500000, 1.500.000 or Rp 1.500.000)"
            ),
        )
    };
    let mut s = input.trim();
    for p in ["Rp.", "Rp", "RP.", "RP", "rp", "IDR"] {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.trim_start();
            break;
        }
    }
    // "Rp 1.500.000,-": the ",-" means "no cents".
    if let Some(rest) = s.strip_suffix(",-").or_else(|| s.strip_suffix(".-")) {
        s = rest.trim_end();
    }
    let neg = s.starts_with('-');
    if neg {
        s = s[1..].trim_start();
    }
    if s.is_empty() {
        return Err(invalid());
    }
    // Fast path: digits only.
    let b = s.as_bytes();
    let (int_part, frac) = if b.iter().all(u8::is_ascii_digit) {
        (s.to_owned(), "")
    } else {
        let dots = s.matches('.').count();
        let commas = s.matches(',').count();
        let (thousands, decimal) = if dots > 0 && commas > 0 {
            if s.rfind(',') > s.rfind('.') {
                ('.', Some(','))
            } else {
                (',', Some('.'))
            }
        } else if dots > 0 {
            // "1.500.000" is thousands; "1.5" is ambiguous and rejected below by grouping,
            // except a single ".0"/".00" tail which is a decimal from a spreadsheet.
            let tail = s.rsplit('.').next().unwrap_or("");
            if dots == 1 && tail.len() != 3 {
                ('\0', Some('.'))
            } else {
                ('.', None)
            }
        } else if commas == 1 && s.rsplit(',').next().is_some_and(|t| t.len() != 3) {
            ('\0', Some(','))
        } else {
            (',', None)
        };
        let (ip, fp) = match decimal.and_then(|d| s.rsplit_once(d)) {
            Some((a, b)) => (a, b),
            None => (s, ""),
        };
        let mut digits = String::with_capacity(ip.len());
        let groups: Vec<&str> = if thousands == '\0' {
            vec![ip]
        } else {
            ip.split(thousands).collect()
        };
        for (i, g) in groups.iter().enumerate() {
            let ok_len = if i == 0 {
                !g.is_empty() && (groups.len() == 1 || g.len() <= 3)
            } else {
                g.len() == 3
            };
            if !ok_len || !g.bytes().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            digits.push_str(g);
        }
        if !fp.bytes().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        (digits, fp)
    };
    if frac.bytes().any(|c| c != b'0') {
        return Err(Issue::new(
            "NUMBER_NOT_WHOLE",
            format!("{input:?} has a fraction; a whole number is expected"),
        ));
    }
    let v: i64 = int_part.parse().map_err(|_| invalid())?;
    Ok(if neg { -v } else { v })
}

/// Boolean words: `true/false`, `ya/tidak`, `y/t`, `yes/no`, `aktif/nonaktif` (also
/// `tidak aktif`), `1/0`; case-insensitive.
pub fn parse_bool(input: &str) -> Result<bool, Issue> {
    let s = input.trim().to_ascii_uppercase();
    match s.as_str() {
        "TRUE" | "YA" | "Y" | "YES" | "AKTIF" | "1" | "BENAR" => Ok(true),
        "FALSE" | "TIDAK" | "T" | "N" | "NO" | "NONAKTIF" | "NON AKTIF" | "NON-AKTIF"
        | "TIDAK AKTIF" | "0" | "SALAH" => Ok(false),
        _ => Err(Issue::new(
            "BOOL_INVALID",
            format!(
                "{input:?} is not a yes/no value (expected YA/TIDAK, AKTIF/NONAKTIF, true/false, 1/0)"
            ),
        )),
    }
}

/// `YYYY-MM-DD` without going through a formatter (this is on the per-row path).
pub fn iso_date(d: NaiveDate) -> String {
    let (y, m, dd) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return d.format("%Y-%m-%d").to_string();
    }
    let y = y as u32;
    let b = [
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (dd / 10) as u8,
        b'0' + (dd % 10) as u8,
    ];
    String::from_utf8(b.to_vec()).expect("ASCII")
}

/// Renders a spreadsheet number as text: integers without a decimal point or exponent.
pub fn number_text(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e19 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_checks() {
        assert_eq!(
            check_nik("3201014107800001").value.as_deref(),
            Some("3201014107800001")
        );
        assert_eq!(check_nik("320101410780000").errors[0].code, "NIK_LENGTH");
        assert_eq!(
            check_nik("32010141078000A1").errors[0].code,
            "NIK_NOT_DIGITS"
        );
        assert_eq!(
            check_nik("0001014107800001").errors[0].code,
            "NIK_PROVINCE_UNKNOWN"
        );
        assert_eq!(
            check_nik("3201013213800001").errors[0].code,
            "NIK_DATE_INVALID"
        );
        assert_eq!(
            check_nik("3201014107800000").errors[0].code,
            "NIK_SERIAL_ZERO"
        );
    }

    #[test]
    fn dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let t = [
            ("12-01-1980", DateFormat::DmyDash, d(1980, 1, 12)),
            ("12/01/1980", DateFormat::DmySlash, d(1980, 1, 12)),
            ("1980-01-12", DateFormat::Iso, d(1980, 1, 12)),
            ("29221", DateFormat::Excel, d(1980, 1, 1)),
            ("1-2-1980", DateFormat::Auto, d(1980, 2, 1)),
            ("12 Januari 1980", DateFormat::Auto, d(1980, 1, 12)),
            ("12-Agu-1980", DateFormat::Auto, d(1980, 8, 12)),
            ("1980-01-12 00:00:00", DateFormat::Auto, d(1980, 1, 12)),
            ("29221", DateFormat::Auto, d(1980, 1, 1)),
        ];
        for (s, f, want) in t {
            assert_eq!(parse_date(s, f), Ok(want), "{s}");
        }
        assert_eq!(
            parse_date("31-02-1980", DateFormat::DmyDash)
                .unwrap_err()
                .code,
            "DATE_INVALID"
        );
        assert_eq!(
            parse_date("1980/01/12", DateFormat::DmyDash)
                .unwrap_err()
                .code,
            "DATE_UNRECOGNISED"
        );
        assert_eq!(from_excel_serial(61.0), Ok(d(1900, 3, 1)));
        assert_eq!(iso_date(d(987, 3, 9)), "0987-03-09");
    }

    #[test]
    fn integers() {
        for (s, v) in [
            ("1500000", 1_500_000),
            ("Rp 1.500.000", 1_500_000),
            ("Rp1.500.000,00", 1_500_000),
            ("1,500,000", 1_500_000),
            ("Rp 1.500.000,-", 1_500_000),
            ("300000.0", 300_000),
            ("-42", -42),
        ] {
            assert_eq!(parse_integer(s), Ok(v), "{s}");
        }
        assert_eq!(parse_integer("1.5").unwrap_err().code, "NUMBER_NOT_WHOLE");
        assert_eq!(
            parse_integer("15.00.000").unwrap_err().code,
            "NUMBER_INVALID"
        );
        assert_eq!(parse_integer("abc").unwrap_err().code, "NUMBER_INVALID");
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("AKTIF"), Ok(true));
        assert_eq!(parse_bool("nonaktif"), Ok(false));
        assert_eq!(parse_bool("Tidak"), Ok(false));
        assert!(parse_bool("mungkin").is_err());
    }
}
