//! Value checks ingestion needs: NIK, KK and dates through the domain model
//! (`sinergi_model::{nik, kk, date}`), plus region codes, numbers and booleans as agencies
//! write them. This file is the one place where model results become ingestion [`Issue`]s:
//! codes pass through unchanged, messages are the model's, in both languages.

use chrono::{Datelike, NaiveDate};
use sinergi_model::date;
pub use sinergi_model::date::DateFormat;
use sinergi_model::kk::Kk;
use sinergi_model::nik::Nik;
use sinergi_model::{Lang, RegionCode, wilayah};

/// A problem with one value: a stable code and what is wrong in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Stable SCREAMING_SNAKE_CASE code.
    pub code: &'static str,
    /// What is wrong, in Bahasa Indonesia.
    pub message_id: String,
    /// What is wrong, in English.
    pub message_en: String,
}

impl Issue {
    pub(crate) fn new(
        code: &'static str,
        message_id: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Issue {
        Issue {
            code,
            message_id: message_id.into(),
            message_en: message_en.into(),
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.message_id, &self.message_en)
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

/// Checks a NIK with [`Nik::parse`]: every error and warning, codes unchanged.
pub fn check_nik(s: &str) -> Checked {
    let p = Nik::parse(s);
    Checked {
        value: p.nik.map(|n| n.as_str().to_owned()),
        errors: p
            .errors
            .iter()
            .map(|e| Issue::new(e.code(), e.message_id(), e.message_en()))
            .collect(),
        warnings: p
            .warnings
            .iter()
            .map(|w| Issue::new(w.code(), w.message_id(), w.message_en()))
            .collect(),
    }
}

/// Checks a KK number with [`Kk::parse`].
pub fn check_kk(s: &str) -> Checked {
    let p = Kk::parse(s);
    Checked {
        value: p.kk.map(|k| k.as_str().to_owned()),
        errors: p
            .errors
            .iter()
            .map(|e| Issue::new(e.code(), e.message_id(), e.message_en()))
            .collect(),
        warnings: p
            .warnings
            .iter()
            .map(|w| Issue::new(w.code(), w.message_id(), w.message_en()))
            .collect(),
    }
}

/// Converts an Excel serial day number (a date cell) to a date, within the model's year
/// range.
pub fn from_excel_serial(serial: f64) -> Result<NaiveDate, Issue> {
    match date::from_excel_serial(serial) {
        Some(d) if (date::MIN_YEAR..=date::MAX_YEAR).contains(&d.year()) => Ok(d),
        Some(d) => Err(Issue::new(
            "DATE_OUT_OF_RANGE",
            format!(
                "sel tanggal berisi {}, di luar {}-{}",
                iso_date(d),
                date::MIN_YEAR,
                date::MAX_YEAR
            ),
            format!(
                "the date cell holds {}, outside {}-{}",
                iso_date(d),
                date::MIN_YEAR,
                date::MAX_YEAR
            ),
        )),
        None if serial.floor() == 60.0 => Err(Issue::new(
            "DATE_IMPOSSIBLE",
            "sel tanggal berisi 29 Februari 1900, tanggal yang tidak ada",
            "the date cell holds 29 February 1900, which does not exist",
        )),
        None => Err(Issue::new(
            "DATE_OUT_OF_RANGE",
            format!("{serial} bukan nomor tanggal Excel"),
            format!("{serial} is not an Excel date serial number"),
        )),
    }
}

/// Parses a date written as text with the model's [`DateFormat::parse`].
pub fn parse_date(input: &str, format: DateFormat) -> Result<NaiveDate, Issue> {
    format.parse(input).map_err(|e| {
        let v = input.trim();
        Issue::new(
            e.code(),
            format!("{v:?}: {}", e.message_id()),
            format!("{v:?}: {}", e.message_en()),
        )
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
                    format!("kode wilayah {s:?} tidak ada di tabel Kemendagri 2025"),
                    format!("region code {s:?} is not in the Kemendagri 2025 table"),
                ));
            }
            out.value = Some(code.digits());
        }
        Err(e) => out.errors.push(Issue::new(
            e.code(),
            format!("{s:?}: {}", e.message_id()),
            format!("{s:?}: {e}"),
        )),
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
                "{input:?} bukan bilangan bulat (contoh yang benar: 1500000, 1.500.000 atau Rp 1.500.000)"
            ),
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
            format!("{input:?} memiliki pecahan; yang diharapkan bilangan bulat"),
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
                "{input:?} bukan nilai ya/tidak (yang diterima: YA/TIDAK, AKTIF/NONAKTIF, true/false, 1/0)"
            ),
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
    fn model_checks_pass_codes_through() {
        assert_eq!(
            check_nik("3201014107800001").value.as_deref(),
            Some("3201014107800001")
        );
        assert_eq!(
            check_nik("320101410780000").errors[0].code,
            "NIK_WRONG_LENGTH"
        );
        assert_eq!(
            check_nik("32010141078000A1").errors[0].code,
            "NIK_NON_DIGIT"
        );
        assert!(check_kk("3201010101200001").value.is_some());
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            parse_date("12-01-1980", DateFormat::DmyDash),
            Ok(d(1980, 1, 12))
        );
        assert_eq!(
            parse_date("12 Januari 1980", DateFormat::Auto),
            Ok(d(1980, 1, 12))
        );
        assert_eq!(
            parse_date("31-02-1980", DateFormat::DmyDash)
                .unwrap_err()
                .code,
            "DATE_IMPOSSIBLE"
        );
        assert_eq!(
            parse_date("1980/01/12", DateFormat::DmyDash)
                .unwrap_err()
                .code,
            "DATE_UNRECOGNISED"
        );
        assert_eq!(from_excel_serial(29221.0), Ok(d(1980, 1, 1)));
        assert_eq!(from_excel_serial(60.0).unwrap_err().code, "DATE_IMPOSSIBLE");
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
