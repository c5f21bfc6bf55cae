//! The 16-digit population number (NIK, Nomor Induk Kependudukan).
//!
//! A NIK is `PP KK CC DD MM YY SSSS`: the province, regency and district where the person was
//! first registered (not the current domicile), the day of birth (plus 40 for women), the month
//! and two-digit year of birth, and a serial starting at 0001. It is permanent for life.
//!
//! [`Nik::parse`] reports every problem it finds ([`NikParse`]); [`Nik::parse_strict`] is the
//! allocation-free fast path for hot loops and returns the first error only. Both apply the same
//! rules in the same order, so the first error of `parse` is the error of `parse_strict`.
//!
//! Region codes of first registration stay in a NIK for life while regions split and are
//! renumbered (in 2022 Merauke moved from 91.01 to 93.01), so a regency or district that is
//! absent from the current Kemendagri table is a warning, never an error. A province absent from
//! the table (10, 20, 99, ...) has never been issued and is an error.

use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Sex;
use crate::region::{Level, RegionCode, wilayah};

/// A structurally valid NIK: 16 ASCII digits with a known province, non-zero regency, district
/// and serial, and a birth date that exists in 19YY or 20YY.
///
/// Stored as its 16 ASCII digits, so it is `Copy`, orders like its digits and
/// [`as_str`](Nik::as_str) costs nothing. It serialises as the 16-digit string and deserialises
/// from a string (separators allowed, as in [`Nik::parse_strict`]) or from a 16-digit integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik {
    digits: [u8; 16],
}

/// Everything [`Nik::parse`] found out about one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NikParse {
    /// The input exactly as given.
    pub input: String,
    /// The NIK, present exactly when `errors` is empty.
    pub nik: Option<Nik>,
    /// Every error found, in the order of the digits they concern (length and characters first).
    pub errors: Vec<NikError>,
    /// Problems that do not make the NIK invalid.
    pub warnings: Vec<NikWarning>,
}

impl NikParse {
    /// True when the input is a valid NIK (there may still be warnings).
    pub fn is_valid(&self) -> bool {
        self.nik.is_some()
    }
}

/// Why a string is not a valid NIK. Each variant has a stable [`code`](NikError::code) and
/// messages in Bahasa Indonesia ([`message_id`](NikError::message_id)) and English
/// ([`message_en`](NikError::message_en), also the `Display` text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NikError {
    /// After removing separators the input does not have 16 characters.
    WrongLength {
        /// Number of characters found after removing separators.
        found: usize,
    },
    /// A character other than the ASCII digits 0–9 (letters, other scripts' digits, control
    /// characters, ...).
    NonDigit {
        /// The first offending character.
        found: char,
        /// Its 1-based position in the input, counted in characters.
        position: usize,
    },
    /// Province code (digits 1–2) is `00`.
    ZeroProvince,
    /// Regency code (digits 3–4) is `00`.
    ZeroRegency,
    /// District code (digits 5–6) is `00`.
    ZeroDistrict,
    /// Province code (digits 1–2) is not in the current Kemendagri table.
    UnknownProvince {
        /// The province code found.
        province: u8,
    },
    /// Day of birth (digits 7–8) is not 01–31 (men) or 41–71 (women).
    InvalidDay {
        /// The two digits found.
        day: u8,
    },
    /// Month of birth (digits 9–10) is not 01–12.
    InvalidMonth {
        /// The two digits found.
        month: u8,
    },
    /// The birth date does not exist in either 19YY or 20YY (31 April, 30 February, 29 February
    /// when neither year is a leap year).
    ImpossibleDate {
        /// Day of the month, after subtracting 40 for women.
        day: u8,
        /// Month.
        month: u8,
        /// Two-digit year.
        year_2d: u8,
    },
    /// Serial (digits 13–16) is `0000`.
    ZeroSerial,
}

impl NikError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            NikError::WrongLength { .. } => "NIK_WRONG_LENGTH",
            NikError::NonDigit { .. } => "NIK_NON_DIGIT",
            NikError::ZeroProvince => "NIK_ZERO_PROVINCE",
            NikError::ZeroRegency => "NIK_ZERO_REGENCY",
            NikError::ZeroDistrict => "NIK_ZERO_DISTRICT",
            NikError::UnknownProvince { .. } => "NIK_UNKNOWN_PROVINCE",
            NikError::InvalidDay { .. } => "NIK_INVALID_DAY",
            NikError::InvalidMonth { .. } => "NIK_INVALID_MONTH",
            NikError::ImpossibleDate { .. } => "NIK_IMPOSSIBLE_DATE",
            NikError::ZeroSerial => "NIK_ZERO_SERIAL",
        }
    }

    /// What is wrong and what to do, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match *self {
            NikError::WrongLength { found: 0 } => {
                "NIK kosong. Isi NIK 16 digit sesuai KTP atau Kartu Keluarga.".to_string()
            }
            NikError::WrongLength { found } => format!(
                "NIK harus 16 digit, ditemukan {found}. Periksa angka yang hilang atau \
                 berlebih; NIK yang disimpan sebagai angka di spreadsheet terpotong menjadi \
                 15 digit, jadi format kolom NIK sebagai teks."
            ),
            NikError::NonDigit { found, position } => format!(
                "NIK memuat karakter bukan angka '{}' (U+{:04X}) pada posisi {position}. NIK \
                 hanya boleh berisi angka 0–9; salin ulang NIK dari KTP atau Kartu Keluarga.",
                found.escape_debug(),
                found as u32
            ),
            NikError::ZeroProvince => "Kode provinsi NIK (digit 1–2) adalah 00, yang tidak \
                 pernah diterbitkan. Periksa kembali NIK pada KTP atau Kartu Keluarga."
                .to_string(),
            NikError::ZeroRegency => "Kode kabupaten/kota NIK (digit 3–4) adalah 00, yang \
                 tidak pernah diterbitkan. Periksa kembali NIK pada KTP atau Kartu Keluarga."
                .to_string(),
            NikError::ZeroDistrict => "Kode kecamatan NIK (digit 5–6) adalah 00, yang tidak \
                 pernah diterbitkan. Periksa kembali NIK pada KTP atau Kartu Keluarga."
                .to_string(),
            NikError::UnknownProvince { province } => format!(
                "Kode provinsi {province:02} pada NIK (digit 1–2) tidak ada dalam tabel \
                 wilayah Kemendagri. Periksa dua digit pertama NIK; kemungkinan salah ketik."
            ),
            NikError::InvalidDay { day } => format!(
                "Tanggal lahir pada NIK (digit 7–8) bernilai {day:02}; yang sah adalah 01–31 \
                 untuk laki-laki dan 41–71 untuk perempuan (tanggal ditambah 40). Periksa \
                 digit 7–8 NIK."
            ),
            NikError::InvalidMonth { month } => format!(
                "Bulan lahir pada NIK (digit 9–10) bernilai {month:02}; yang sah adalah 01–12. \
                 Periksa digit 9–10 NIK."
            ),
            NikError::ImpossibleDate {
                day,
                month,
                year_2d,
            } => format!(
                "Tanggal lahir pada NIK ({day:02}-{month:02}-{year_2d:02}) tidak ada di \
                 kalender, baik tahun 19{year_2d:02} maupun 20{year_2d:02}. Periksa digit \
                 7–12 NIK."
            ),
            NikError::ZeroSerial => "Nomor urut NIK (digit 13–16) adalah 0000, padahal nomor \
                 urut dimulai dari 0001. Periksa empat digit terakhir NIK."
                .to_string(),
        }
    }

    /// What is wrong and what to do, in English.
    pub fn message_en(&self) -> String {
        match *self {
            NikError::WrongLength { found: 0 } => {
                "The NIK is empty. Enter the 16-digit NIK from the identity card (KTP) or \
                 family card (KK)."
                    .to_string()
            }
            NikError::WrongLength { found } => format!(
                "A NIK has 16 digits; found {found}. Check for missing or extra digits; \
                 spreadsheets that store NIKs as numbers cut them to 15 significant digits, \
                 so format the NIK column as text."
            ),
            NikError::NonDigit { found, position } => format!(
                "The NIK contains the non-digit character '{}' (U+{:04X}) at position \
                 {position}. A NIK holds only the digits 0–9; copy it again from the identity \
                 card (KTP) or family card (KK).",
                found.escape_debug(),
                found as u32
            ),
            NikError::ZeroProvince => "The NIK's province code (digits 1–2) is 00, which is \
                 never issued. Check the NIK against the identity card or family card."
                .to_string(),
            NikError::ZeroRegency => "The NIK's regency code (digits 3–4) is 00, which is \
                 never issued. Check the NIK against the identity card or family card."
                .to_string(),
            NikError::ZeroDistrict => "The NIK's district code (digits 5–6) is 00, which is \
                 never issued. Check the NIK against the identity card or family card."
                .to_string(),
            NikError::UnknownProvince { province } => format!(
                "The NIK's province code {province:02} (digits 1–2) is not in the Kemendagri \
                 region table. Check the first two digits; they are probably mistyped."
            ),
            NikError::InvalidDay { day } => format!(
                "The NIK's day of birth (digits 7–8) is {day:02}; valid values are 01–31 for \
                 men and 41–71 for women (day plus 40). Check digits 7–8."
            ),
            NikError::InvalidMonth { month } => format!(
                "The NIK's month of birth (digits 9–10) is {month:02}; valid values are \
                 01–12. Check digits 9–10."
            ),
            NikError::ImpossibleDate {
                day,
                month,
                year_2d,
            } => format!(
                "The NIK's birth date ({day:02}-{month:02}-{year_2d:02}) does not exist in \
                 either 19{year_2d:02} or 20{year_2d:02}. Check digits 7–12."
            ),
            NikError::ZeroSerial => "The NIK's serial (digits 13–16) is 0000, but serials \
                 start at 0001. Check the last four digits."
                .to_string(),
        }
    }
}

impl fmt::Display for NikError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for NikError {}

/// Something worth telling the user about a NIK that is nevertheless accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NikWarning {
    /// Spaces, dots or hyphens inside the number were removed.
    SeparatorsStripped,
    /// The regency (digits 1–4) is not in the current Kemendagri table. NIKs keep the code of
    /// first registration for life, so this is normal for regions that have since split
    /// (9101… is Merauke before 2022). Only reported when the province is known.
    RegencyNotInTable {
        /// The regency code.
        regency: RegionCode,
    },
    /// The district (digits 1–6) is not in the current table although its regency is. Not
    /// reported when the regency itself is missing (that warning already covers it).
    DistrictNotInTable {
        /// The district code.
        district: RegionCode,
    },
}

impl NikWarning {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            NikWarning::SeparatorsStripped => "NIK_SEPARATORS_STRIPPED",
            NikWarning::RegencyNotInTable { .. } => "NIK_REGENCY_NOT_IN_TABLE",
            NikWarning::DistrictNotInTable { .. } => "NIK_DISTRICT_NOT_IN_TABLE",
        }
    }

    /// What was noticed and what to do, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match self {
            NikWarning::SeparatorsStripped => "Spasi, titik atau tanda hubung di dalam NIK \
                 dibuang. Tulis NIK sebagai 16 angka tanpa pemisah."
                .to_string(),
            NikWarning::RegencyNotInTable { regency } => format!(
                "Kode kabupaten/kota {regency} pada NIK tidak ada dalam tabel wilayah \
                 Kemendagri saat ini. NIK tetap memakai kode wilayah tempat pertama kali \
                 terdaftar, termasuk kode lama sebelum pemekaran, jadi NIK ini bisa sah; \
                 periksa NIK bila wilayah itu tidak pernah ada."
            ),
            NikWarning::DistrictNotInTable { district } => format!(
                "Kode kecamatan {district} pada NIK tidak ada dalam tabel wilayah Kemendagri \
                 saat ini. NIK tetap memakai kode wilayah tempat pertama kali terdaftar, \
                 termasuk kode lama sebelum pemekaran, jadi NIK ini bisa sah; periksa NIK bila \
                 kecamatan itu tidak pernah ada."
            ),
        }
    }

    /// What was noticed and what to do, in English.
    pub fn message_en(&self) -> String {
        match self {
            NikWarning::SeparatorsStripped => "Spaces, dots or hyphens inside the NIK were \
                 removed. Write the NIK as 16 digits without separators."
                .to_string(),
            NikWarning::RegencyNotInTable { regency } => format!(
                "The NIK's regency code {regency} is not in the current Kemendagri region \
                 table. A NIK keeps the region code of first registration for life, including \
                 codes from before a region split, so the NIK may be valid; check it if that \
                 regency never existed."
            ),
            NikWarning::DistrictNotInTable { district } => format!(
                "The NIK's district code {district} is not in the current Kemendagri region \
                 table. A NIK keeps the region code of first registration for life, including \
                 codes from before a region split, so the NIK may be valid; check it if that \
                 district never existed."
            ),
        }
    }
}

impl fmt::Display for NikWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

/// Why [`Nik::encode`] cannot build a NIK from the given parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NikEncodeError {
    /// The region code is not at district level (`PP.KK.CC`).
    #[error("a NIK is encoded from a district code (PP.KK.CC), got {0}")]
    NotADistrict(RegionCode),
    /// The province is not in the current table, so the NIK would not parse.
    #[error("province {0} is not in the Kemendagri table")]
    UnknownProvince(RegionCode),
    /// The serial is 0 or above 9999.
    #[error("a NIK serial is 1–9999, got {0}")]
    SerialOutOfRange(u16),
}

impl NikEncodeError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            NikEncodeError::NotADistrict(_) => "NIK_ENCODE_NOT_A_DISTRICT",
            NikEncodeError::UnknownProvince(_) => "NIK_ENCODE_UNKNOWN_PROVINCE",
            NikEncodeError::SerialOutOfRange(_) => "NIK_ENCODE_SERIAL_OUT_OF_RANGE",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared machinery for 16-digit identifiers (also used by `kk`).
// ---------------------------------------------------------------------------------------------

/// Marks a position whose character was not an ASCII digit.
const NOT_DIGIT: u8 = 0xFF;

/// The result of scanning an input for a 16-digit identifier, without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scan {
    /// Digit values (0–9) of the first 16 kept characters, [`NOT_DIGIT`] where the character
    /// was something else.
    pub(crate) digits: [u8; 16],
    /// Number of characters kept after trimming and removing separators.
    pub(crate) len: usize,
    /// The first kept character that is not an ASCII digit, with its 1-based position.
    pub(crate) non_digit: Option<(char, usize)>,
    /// Whether a separator was removed (anything beyond surrounding whitespace).
    pub(crate) stripped: bool,
}

/// Separators people put inside identifiers: whitespace, dots, ASCII hyphens and the Unicode
/// dashes and minus sign that word processors substitute for them.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// Scans `input`: trims surrounding whitespace, drops separators, records the digits.
pub(crate) fn scan(input: &str) -> Scan {
    let trimmed = input.trim_start();
    let lead = input.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    // Positions are reported in characters of the original input; leading whitespace counts.
    let mut position = if lead == 0 {
        0
    } else {
        input[..lead].chars().count()
    };
    let mut out = Scan {
        digits: [NOT_DIGIT; 16],
        len: 0,
        non_digit: None,
        stripped: false,
    };
    for c in trimmed.chars() {
        position += 1;
        if is_separator(c) {
            out.stripped = true;
            continue;
        }
        if c.is_ascii_digit() {
            if out.len < 16 {
                out.digits[out.len] = c as u8 - b'0';
            }
        } else if out.non_digit.is_none() {
            out.non_digit = Some((c, position));
        }
        out.len += 1;
    }
    out
}

impl Scan {
    /// The number formed by digits `from..to`, or `None` if one of them is not a digit.
    pub(crate) fn field(&self, from: usize, to: usize) -> Option<u16> {
        let mut v: u16 = 0;
        for &d in &self.digits[from..to] {
            if d == NOT_DIGIT {
                return None;
            }
            v = v * 10 + d as u16;
        }
        Some(v)
    }

    /// The 16 ASCII digits, when the scan found exactly 16 ASCII digits.
    pub(crate) fn ascii(&self) -> Option<[u8; 16]> {
        if self.len != 16 || self.non_digit.is_some() {
            return None;
        }
        let mut a = [0u8; 16];
        for (o, d) in a.iter_mut().zip(self.digits) {
            *o = b'0' + d;
        }
        Some(a)
    }
}

/// Whether a two-digit province code is in the current Kemendagri table. The answer comes from
/// a 100-entry bitmap built from [`wilayah()`] on first use, so the hot path costs one load.
pub(crate) fn province_known(pp: u16) -> bool {
    static KNOWN: OnceLock<[bool; 100]> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut k = [false; 100];
        for r in wilayah().at_level(Level::Province) {
            k[r.code.as_u64() as usize % 100] = true;
        }
        k
    });
    pp < 100 && known[pp as usize]
}

/// Region-table warnings shared by NIK and KK: the regency when it is missing from the table
/// (and the province is known), otherwise the district when it is missing. Returns
/// `(regency_missing, district_missing)` codes.
pub(crate) fn region_gaps(
    pp: Option<u16>,
    kk: Option<u16>,
    cc: Option<u16>,
) -> (Option<RegionCode>, Option<RegionCode>) {
    let (Some(pp), Some(kk)) = (pp, kk) else {
        return (None, None);
    };
    if !province_known(pp) || kk == 0 {
        return (None, None);
    }
    let Some(regency) = RegionCode::from_parts(&[pp as u32, kk as u32]) else {
        return (None, None);
    };
    let table = wilayah();
    if !table.contains(regency) {
        return (Some(regency), None);
    }
    match cc
        .filter(|&c| c != 0)
        .and_then(|c| RegionCode::from_parts(&[pp as u32, kk as u32, c as u32]))
    {
        Some(district) if !table.contains(district) => (None, Some(district)),
        _ => (None, None),
    }
}

/// Days in `month` (1–12) for a leap or common year.
pub(crate) const fn days_in_month(month: u16, leap: bool) -> u16 {
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether day/month exists in 19YY or 20YY. 20YY is a leap year exactly when YY is divisible
/// by 4 (2000 included), and 19YY is leap only for a subset of those, so one test suffices.
pub(crate) const fn exists_in_19_or_20(day: u16, month: u16, year_2d: u16) -> bool {
    day >= 1 && month >= 1 && month <= 12 && day <= days_in_month(month, year_2d & 3 == 0)
}

/// Serde visitor shared by NIK and KK: a string, or an integer with 16 digits.
pub(crate) struct Digits16Visitor<T>(pub(crate) fn(&str) -> Result<T, String>, &'static str);

impl<T> Digits16Visitor<T> {
    /// A visitor that parses with `parse` and describes itself as `expecting`.
    pub(crate) fn new(parse: fn(&str) -> Result<T, String>, expecting: &'static str) -> Self {
        Digits16Visitor(parse, expecting)
    }
}

impl<T> serde::de::Visitor<'_> for Digits16Visitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        let mut buf = [0u8; 20];
        let s = u64_digits(v, &mut buf);
        (self.0)(s).map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom("a negative number is not an identifier")),
        }
    }
}

/// Writes the decimal digits of `v` into `buf` and returns them as a string slice.
fn u64_digits(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
}

/// Writes `value` into `out` as zero-padded ASCII digits filling all of `out`.
pub(crate) fn put_digits(out: &mut [u8], mut value: u32) {
    for o in out.iter_mut().rev() {
        *o = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

// ---------------------------------------------------------------------------------------------
// NIK rules.
// ---------------------------------------------------------------------------------------------

/// Applies every NIK rule to a scan, calling `emit` for each error in order until it returns
/// `false`. Field rules only run on 16-character inputs and skip fields holding a non-digit.
fn nik_errors(s: &Scan, mut emit: impl FnMut(NikError) -> bool) {
    if s.len != 16 && !emit(NikError::WrongLength { found: s.len }) {
        return;
    }
    if let Some((found, position)) = s.non_digit
        && !emit(NikError::NonDigit { found, position })
    {
        return;
    }
    if s.len != 16 {
        return;
    }
    if let Some(pp) = s.field(0, 2) {
        let e = if pp == 0 {
            Some(NikError::ZeroProvince)
        } else if !province_known(pp) {
            Some(NikError::UnknownProvince { province: pp as u8 })
        } else {
            None
        };
        if let Some(e) = e
            && !emit(e)
        {
            return;
        }
    }
    if s.field(2, 4) == Some(0) && !emit(NikError::ZeroRegency) {
        return;
    }
    if s.field(4, 6) == Some(0) && !emit(NikError::ZeroDistrict) {
        return;
    }
    let day = s.field(6, 8).map(|dd| match dd {
        1..=31 => Ok(dd),
        41..=71 => Ok(dd - 40),
        _ => Err(dd),
    });
    if let Some(Err(dd)) = day
        && !emit(NikError::InvalidDay { day: dd as u8 })
    {
        return;
    }
    let month = s.field(8, 10);
    if let Some(mm) = month
        && !(1..=12).contains(&mm)
        && !emit(NikError::InvalidMonth { month: mm as u8 })
    {
        return;
    }
    if let (Some(Ok(d)), Some(m @ 1..=12), Some(yy)) = (day, month, s.field(10, 12))
        && !exists_in_19_or_20(d, m, yy)
        && !emit(NikError::ImpossibleDate {
            day: d as u8,
            month: m as u8,
            year_2d: yy as u8,
        })
    {
        return;
    }
    if s.field(12, 16) == Some(0) {
        emit(NikError::ZeroSerial);
    }
}

impl Nik {
    /// Parses a NIK and reports every error and warning.
    ///
    /// Surrounding whitespace is ignored; whitespace, dots and hyphens inside the number are
    /// removed with the warning [`NikWarning::SeparatorsStripped`]. Only the ASCII digits 0–9
    /// are digits: other scripts' digits (Arabic-Indic `٣٢٠١`, full-width `３２`) are
    /// [`NikError::NonDigit`]. When the length is wrong, only the length and character errors
    /// are reported, because the positions of the fields are unknown.
    pub fn parse(input: &str) -> NikParse {
        let s = scan(input);
        let mut errors = Vec::new();
        nik_errors(&s, |e| {
            errors.push(e);
            true
        });
        let mut warnings = Vec::new();
        if s.stripped {
            warnings.push(NikWarning::SeparatorsStripped);
        }
        if s.len == 16 {
            match region_gaps(s.field(0, 2), s.field(2, 4), s.field(4, 6)) {
                (Some(regency), _) => warnings.push(NikWarning::RegencyNotInTable { regency }),
                (_, Some(district)) => warnings.push(NikWarning::DistrictNotInTable { district }),
                _ => {}
            }
        }
        let nik = if errors.is_empty() {
            s.ascii().map(|digits| Nik { digits })
        } else {
            None
        };
        NikParse {
            input: input.to_string(),
            nik,
            errors,
            warnings,
        }
    }

    /// Parses a NIK without allocating and without looking at warnings: the same rules as
    /// [`Nik::parse`], returning its first error. Meant for hot loops.
    pub fn parse_strict(input: &str) -> Result<Nik, NikError> {
        let s = scan(input);
        let mut first = None;
        nik_errors(&s, |e| {
            first = Some(e);
            false
        });
        match first {
            Some(e) => Err(e),
            None => Ok(Nik {
                digits: s.ascii().expect("no errors means 16 ASCII digits"),
            }),
        }
    }

    /// Builds the NIK of a person first registered in `district`, born on `birth`, with
    /// `serial` (1–9999). Women get 40 added to the day. Used by the synthetic generator.
    ///
    /// Returns an error, never panics, when `district` is not a district-level code, its
    /// province is not in the current table, or the serial is out of range. The district itself
    /// need not be in the table (historical codes are allowed).
    pub fn encode(
        district: RegionCode,
        sex: Sex,
        birth: NaiveDate,
        serial: u16,
    ) -> Result<Nik, NikEncodeError> {
        if district.level() != Level::District {
            return Err(NikEncodeError::NotADistrict(district));
        }
        let province = district.province();
        if !province_known(province.as_u64() as u16) {
            return Err(NikEncodeError::UnknownProvince(province));
        }
        if !(1..=9999).contains(&serial) {
            return Err(NikEncodeError::SerialOutOfRange(serial));
        }
        let mut digits = [b'0'; 16];
        put_digits(&mut digits[0..6], district.as_u64() as u32);
        let day = birth.day() + if sex == Sex::P { 40 } else { 0 };
        put_digits(&mut digits[6..8], day);
        put_digits(&mut digits[8..10], birth.month());
        put_digits(&mut digits[10..12], birth.year().rem_euclid(100) as u32);
        put_digits(&mut digits[12..16], serial as u32);
        Ok(Nik { digits })
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits).expect("a Nik holds ASCII digits")
    }

    /// The 16 digits as a number, a compact key (NIKs never start with 0, so it is unique).
    pub fn to_u64(&self) -> u64 {
        self.digits
            .iter()
            .fold(0u64, |v, &d| v * 10 + (d - b'0') as u64)
    }

    fn num(&self, from: usize, to: usize) -> u32 {
        self.digits[from..to]
            .iter()
            .fold(0u32, |v, &d| v * 10 + (d - b'0') as u32)
    }

    /// `L` when the day digits are 01–31, `P` when they are 41–71.
    pub fn sex(&self) -> Sex {
        if self.num(6, 8) > 40 { Sex::P } else { Sex::L }
    }

    /// Day of birth, 1–31 (40 already subtracted for women).
    pub fn birth_day(&self) -> u8 {
        let d = self.num(6, 8);
        (if d > 40 { d - 40 } else { d }) as u8
    }

    /// Month of birth, 1–12.
    pub fn birth_month(&self) -> u8 {
        self.num(8, 10) as u8
    }

    /// Two-digit year of birth, 0–99.
    pub fn birth_year_2d(&self) -> u8 {
        self.num(10, 12) as u8
    }

    /// The full birth date, choosing the century that makes the person 0–110 years old at
    /// `reference` (the most recent such century when two qualify). `None` when no century
    /// does, for example a birth date later in the reference year, or 29 February in a
    /// century where that year is not a leap year.
    pub fn birth_date(&self, reference: NaiveDate) -> Option<NaiveDate> {
        resolve_century(
            self.birth_day() as u32,
            self.birth_month() as u32,
            self.birth_year_2d() as i32,
            reference,
            Some(110),
        )
    }

    /// Province of first registration.
    pub fn province(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2)]).expect("validated non-zero province")
    }

    /// Regency of first registration.
    pub fn regency(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2), self.num(2, 4)]).expect("validated regency")
    }

    /// District of first registration.
    pub fn district(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2), self.num(2, 4), self.num(4, 6)])
            .expect("validated district")
    }

    /// Serial, 1–9999.
    pub fn serial(&self) -> u16 {
        self.num(12, 16) as u16
    }
}

/// The latest date with this day, month and two-digit year that is not after `reference` and,
/// when `max_age` is given, at most `max_age` full years before it.
pub(crate) fn resolve_century(
    day: u32,
    month: u32,
    year_2d: i32,
    reference: NaiveDate,
    max_age: Option<i32>,
) -> Option<NaiveDate> {
    let base = reference.year() - reference.year().rem_euclid(100);
    for century in [base, base - 100, base - 200] {
        let Some(date) = NaiveDate::from_ymd_opt(century + year_2d, month, day) else {
            continue;
        };
        if date > reference {
            continue;
        }
        let mut age = reference.year() - date.year();
        if (reference.month(), reference.day()) < (date.month(), date.day()) {
            age -= 1;
        }
        if max_age.is_none_or(|m| age <= m) {
            return Some(date);
        }
    }
    None
}

impl fmt::Display for Nik {
    /// The 16 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.as_str())
    }
}

impl std::str::FromStr for Nik {
    type Err = NikError;

    /// Same as [`Nik::parse_strict`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Nik::parse_strict(s)
    }
}

impl Serialize for Nik {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Nik {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Digits16Visitor::new(
            |s| Nik::parse_strict(s).map_err(|e| format!("{}: {}", e.code(), e.message_en())),
            "a 16-digit NIK",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    /// Checks the error and warning codes `parse` reports, and that `parse_strict` agrees with
    /// its first error.
    fn check(input: &str, errors: &[&str], warnings: &[&str]) {
        let p = Nik::parse(input);
        let got_e: Vec<&str> = p.errors.iter().map(|e| e.code()).collect();
        let got_w: Vec<&str> = p.warnings.iter().map(|w| w.code()).collect();
        assert_eq!(got_e, errors, "errors for {input:?}");
        assert_eq!(got_w, warnings, "warnings for {input:?}");
        assert_eq!(p.nik.is_some(), errors.is_empty(), "nik for {input:?}");
        assert_eq!(p.input, input);
        let strict = Nik::parse_strict(input);
        assert_eq!(
            strict.err(),
            p.errors.first().copied(),
            "strict for {input:?}"
        );
        if let (Ok(n), Some(m)) = (strict, p.nik) {
            assert_eq!(n, m);
        }
    }

    const SEP: &str = "NIK_SEPARATORS_STRIPPED";

    #[test]
    fn valid_niks_and_warnings() {
        let cases: &[(&str, &[&str])] = &[
            // Man born 12 January 1990 in Nanggung (32.01.01), Bogor.
            ("3201011201900001", &[]),
            (" 3201011201900001\t", &[]),
            ("3201011201900001\n", &[]),
            // Woman: day 52 = the 12th.
            ("3201015201900002", &[]),
            // Female days 41 and 71 are the 1st and 31st.
            ("3201014101900003", &[]),
            ("3201017101900004", &[]),
            ("3201013101900005", &[]),
            ("3201010101000001", &[]),
            // Separators inside the number.
            ("3201.0112.0190.0001", &[SEP]),
            ("3201-01-120190-0001", &[SEP]),
            ("3201 0112 0190 0001", &[SEP]),
            ("32 01 01 12 01 90 0001", &[SEP]),
            ("3201\u{2013}0112\u{2013}0190\u{2013}0001", &[SEP]),
            ("3201\u{a0}0112\u{a0}0190\u{a0}0001", &[SEP]),
            // Papua before the 2022 split: Merauke was 91.01 and is now 93.01.
            ("9101011201900001", &["NIK_REGENCY_NOT_IN_TABLE"]),
            ("9301011201900001", &[]),
            ("9101.0112.0190.0001", &[SEP, "NIK_REGENCY_NOT_IN_TABLE"]),
            // A regency that exists with a district that does not.
            ("3201991201900001", &["NIK_DISTRICT_NOT_IN_TABLE"]),
            // Regency missing: no district warning on top.
            ("3268991201900001", &["NIK_REGENCY_NOT_IN_TABLE"]),
        ];
        for (input, warnings) in cases {
            check(input, &[], warnings);
        }
    }

    #[test]
    fn every_error_is_reported() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("", &["NIK_WRONG_LENGTH"], &[]),
            ("   ", &["NIK_WRONG_LENGTH"], &[]),
            ("320101120190001", &["NIK_WRONG_LENGTH"], &[]),
            ("32010112019000011", &["NIK_WRONG_LENGTH"], &[]),
            // Excel's 15 significant digits and scientific notation.
            ("3201011201900000", &["NIK_ZERO_SERIAL"], &[]),
            (
                "3.20101E+15",
                &["NIK_WRONG_LENGTH", "NIK_NON_DIGIT"],
                &[SEP],
            ),
            ("32010112019000O1", &["NIK_NON_DIGIT"], &[]),
            ("320101120190000X", &["NIK_NON_DIGIT"], &[]),
            ("32010112019000 1x", &["NIK_NON_DIGIT"], &[SEP]),
            // Arabic-Indic and full-width digits are not digits.
            ("٣٢٠١٠١١٢٠١٩٠٠٠٠١", &["NIK_NON_DIGIT"], &[]),
            (
                "３２０１０１１２０１９０００１",
                &["NIK_WRONG_LENGTH", "NIK_NON_DIGIT"],
                &[],
            ),
            ("32010112019000\u{0}1", &["NIK_NON_DIGIT"], &[]),
            (
                "\u{feff}3201011201900001",
                &["NIK_WRONG_LENGTH", "NIK_NON_DIGIT"],
                &[],
            ),
            ("0001011201900001", &["NIK_ZERO_PROVINCE"], &[]),
            ("1001011201900001", &["NIK_UNKNOWN_PROVINCE"], &[]),
            ("2001011201900001", &["NIK_UNKNOWN_PROVINCE"], &[]),
            ("9901011201900001", &["NIK_UNKNOWN_PROVINCE"], &[]),
            ("3200011201900001", &["NIK_ZERO_REGENCY"], &[]),
            ("3201001201900001", &["NIK_ZERO_DISTRICT"], &[]),
            ("3201010001900001", &["NIK_INVALID_DAY"], &[]),
            ("3201013201900001", &["NIK_INVALID_DAY"], &[]),
            ("3201014001900001", &["NIK_INVALID_DAY"], &[]),
            ("3201017201900001", &["NIK_INVALID_DAY"], &[]),
            ("3201019901900001", &["NIK_INVALID_DAY"], &[]),
            ("3201011200900001", &["NIK_INVALID_MONTH"], &[]),
            ("3201011213900001", &["NIK_INVALID_MONTH"], &[]),
            ("3201011299900001", &["NIK_INVALID_MONTH"], &[]),
            // The example from the brief: month 34.
            ("3201.0112.3456.0001", &["NIK_INVALID_MONTH"], &[SEP]),
            // 31 April, 30 February, 29 February by two-digit year.
            ("3201013104900001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201017104900001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201013002000001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201012902000001", &[], &[]),
            ("3201012902010001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201016902040001", &[], &[]),
            ("3201016902030001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201012902960001", &[], &[]),
            ("3201013012990001", &[], &[]),
            ("3201013006990001", &[], &[]),
            ("3201013106990001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201013111990001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            ("3201013109990001", &["NIK_IMPOSSIBLE_DATE"], &[]),
            // Several errors at once, in digit order.
            (
                "0000000000000000",
                &[
                    "NIK_ZERO_PROVINCE",
                    "NIK_ZERO_REGENCY",
                    "NIK_ZERO_DISTRICT",
                    "NIK_INVALID_DAY",
                    "NIK_INVALID_MONTH",
                    "NIK_ZERO_SERIAL",
                ],
                &[],
            ),
            (
                "9900003513000000",
                &[
                    "NIK_UNKNOWN_PROVINCE",
                    "NIK_ZERO_REGENCY",
                    "NIK_ZERO_DISTRICT",
                    "NIK_INVALID_DAY",
                    "NIK_INVALID_MONTH",
                    "NIK_ZERO_SERIAL",
                ],
                &[],
            ),
            // A non-digit only hides the rules for its own field.
            (
                "32x0000001900000",
                &[
                    "NIK_NON_DIGIT",
                    "NIK_ZERO_DISTRICT",
                    "NIK_INVALID_DAY",
                    "NIK_ZERO_SERIAL",
                ],
                &[],
            ),
            (
                "9101013104900001",
                &["NIK_IMPOSSIBLE_DATE"],
                &["NIK_REGENCY_NOT_IN_TABLE"],
            ),
        ];
        for (input, errors, warnings) in cases {
            check(input, errors, warnings);
        }
    }

    #[test]
    fn error_details_and_messages() {
        let p = Nik::parse("32 0101120190001");
        assert_eq!(p.errors, vec![NikError::WrongLength { found: 15 }]);
        let p = Nik::parse(" 320101120190000a");
        assert_eq!(
            p.errors,
            vec![NikError::NonDigit {
                found: 'a',
                position: 17
            }]
        );
        assert_eq!(
            Nik::parse_strict("3201013104900001"),
            Err(NikError::ImpossibleDate {
                day: 31,
                month: 4,
                year_2d: 90
            })
        );
        let all = [
            NikError::WrongLength { found: 0 },
            NikError::WrongLength { found: 15 },
            NikError::NonDigit {
                found: '\u{663}',
                position: 3,
            },
            NikError::ZeroProvince,
            NikError::ZeroRegency,
            NikError::ZeroDistrict,
            NikError::UnknownProvince { province: 10 },
            NikError::InvalidDay { day: 35 },
            NikError::InvalidMonth { month: 13 },
            NikError::ImpossibleDate {
                day: 29,
                month: 2,
                year_2d: 1,
            },
            NikError::ZeroSerial,
        ];
        for e in all {
            assert!(e.code().starts_with("NIK_"));
            assert!(e.message_id().contains("NIK"), "{e:?}");
            assert!(e.message_en().contains("NIK"), "{e:?}");
            assert_eq!(e.to_string(), e.message_en());
        }
        assert!(all[2].message_en().contains("U+0663"));
        assert!(all[1].message_id().contains("15"));
        let w = [
            NikWarning::SeparatorsStripped,
            NikWarning::RegencyNotInTable {
                regency: code("91.01"),
            },
            NikWarning::DistrictNotInTable {
                district: code("32.01.99"),
            },
        ];
        for x in w {
            assert!(x.code().starts_with("NIK_"));
            assert!(!x.message_id().is_empty() && !x.message_en().is_empty());
        }
        assert!(w[1].message_id().contains("91.01"));
    }

    #[test]
    fn derived_fields() {
        let n = Nik::parse_strict("3201015201900002").unwrap();
        assert_eq!(n.sex(), Sex::P);
        assert_eq!(n.birth_day(), 12);
        assert_eq!(n.birth_month(), 1);
        assert_eq!(n.birth_year_2d(), 90);
        assert_eq!(n.province(), code("32"));
        assert_eq!(n.regency(), code("32.01"));
        assert_eq!(n.district(), code("32.01.01"));
        assert_eq!(n.serial(), 2);
        assert_eq!(n.as_str(), "3201015201900002");
        assert_eq!(n.to_string(), "3201015201900002");
        assert_eq!(format!("{n:?}"), "Nik(3201015201900002)");
        assert_eq!(n.to_u64(), 3_201_015_201_900_002);
        let m = Nik::parse_strict("3201011201900001").unwrap();
        assert_eq!(m.sex(), Sex::L);
        assert!(m < n);
        assert_eq!("3201-0112-0190-0001".parse::<Nik>(), Ok(m));
    }

    #[test]
    fn birth_date_picks_the_century() {
        let r = date(2025, 6, 15);
        let cases: &[(&str, NaiveDate, Option<NaiveDate>)] = &[
            ("3201011201900001", r, Some(date(1990, 1, 12))),
            ("3201011201200001", r, Some(date(2020, 1, 12))),
            ("3201011506250001", r, Some(date(2025, 6, 15))),
            // Born on 16 June 25: not yet in 2025, so 1925 (age 99).
            ("3201011606250001", r, Some(date(1925, 6, 16))),
            // 1914 would be 111 years old, 2014 is fine.
            ("3201011201140001", r, Some(date(2014, 1, 12))),
            // 29 Feb 00 exists in 2000 only.
            ("3201012902000001", r, Some(date(2000, 2, 29))),
            ("3201012902000001", date(1999, 1, 1), None),
            // 29 Feb 04, female.
            ("3201016902040001", r, Some(date(2004, 2, 29))),
            // Reference in 1980: a 14 in the NIK is 1914.
            (
                "3201011201140001",
                date(1980, 1, 1),
                Some(date(1914, 1, 12)),
            ),
            // With a 111-year window some century always fits, except for 29 February.
            (
                "3201012902000001",
                date(2099, 12, 31),
                Some(date(2000, 2, 29)),
            ),
            (
                "3201012902040001",
                date(2103, 1, 1),
                Some(date(2004, 2, 29)),
            ),
            ("3201012902000001", date(2111, 3, 1), None),
        ];
        for (nik, reference, want) in cases {
            let n = Nik::parse_strict(nik).unwrap();
            assert_eq!(n.birth_date(*reference), *want, "{nik} at {reference}");
        }
    }

    #[test]
    fn encode_round_trips_and_refuses_bad_parts() {
        let d = code("32.01.01");
        let n = Nik::encode(d, Sex::P, date(2004, 2, 29), 17).unwrap();
        assert_eq!(n.as_str(), "3201016902040017");
        let n = Nik::encode(code("91.01.01"), Sex::L, date(1975, 8, 17), 9999).unwrap();
        assert_eq!(n.as_str(), "9101011708759999");
        assert_eq!(
            Nik::encode(code("32.01"), Sex::L, date(1990, 1, 1), 1),
            Err(NikEncodeError::NotADistrict(code("32.01")))
        );
        assert_eq!(
            Nik::encode(code("99.01.01"), Sex::L, date(1990, 1, 1), 1).map_err(|e| e.code()),
            Err("NIK_ENCODE_UNKNOWN_PROVINCE")
        );
        assert_eq!(
            Nik::encode(d, Sex::L, date(1990, 1, 1), 0),
            Err(NikEncodeError::SerialOutOfRange(0))
        );
        assert_eq!(
            Nik::encode(d, Sex::L, date(1990, 1, 1), 10_000),
            Err(NikEncodeError::SerialOutOfRange(10_000))
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let huge = "9".repeat(1 << 20);
        let p = Nik::parse(&huge);
        assert_eq!(p.errors, vec![NikError::WrongLength { found: 1 << 20 }]);
        let huge_sep = "3201.".repeat(200_000);
        assert_eq!(
            Nik::parse_strict(&huge_sep),
            Err(NikError::WrongLength { found: 800_000 })
        );
        let mixed = "é\u{0}\u{202e}٣".repeat(100_000);
        assert_eq!(Nik::parse(&mixed).errors.len(), 2);
        for s in ["\u{0}", "\u{7f}", "-", ".", "--------", "\u{10ffff}"] {
            let _ = Nik::parse(s);
            let _ = Nik::parse_strict(s);
        }
    }

    #[test]
    fn serde_as_a_string() {
        let n = Nik::parse_strict("3201015201900002").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"3201015201900002\"");
        let back: Nik = serde_json::from_str("\"3201015201900002\"").unwrap();
        assert_eq!(back, n);
        let from_number: Nik = serde_json::from_str("3201015201900002").unwrap();
        assert_eq!(from_number, n);
        let bad = serde_json::from_str::<Nik>("\"3201013104900001\"").unwrap_err();
        assert!(bad.to_string().contains("NIK_IMPOSSIBLE_DATE"));
        assert!(serde_json::from_str::<Nik>("-1").is_err());
        assert!(serde_json::from_str::<Nik>("1.5").is_err());
    }
}
