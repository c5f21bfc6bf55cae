//! The family card number (nomor KK, Kartu Keluarga).
//!
//! A KK number is 16 digits `PPKKCC DDMMYY SSSS`: the issuing region (province, regency,
//! district), the issue date (no +40, unlike a NIK) and a serial starting at 0001. A family gets
//! a new KK when it moves or changes, so the NIK is the person key and the KK a dated household
//! version.
//!
//! Parsing follows [`crate::nik`]: [`Kk::parse`] reports everything, [`Kk::parse_strict`] is the
//! allocation-free fast path returning the first error; a regency or district missing from the
//! current Kemendagri table is a warning (the card may predate a region split).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::nik::{
    Digits16Visitor, Scan, exists_in_19_or_20, province_known, put_digits, region_gaps,
    resolve_century, scan,
};
use crate::region::{Level, RegionCode};

/// A structurally valid KK number: 16 ASCII digits with a known province, non-zero regency,
/// district and serial, and an issue date that exists in 19YY or 20YY.
///
/// Stored as its 16 ASCII digits; `Copy`, ordered like its digits, serialised as the 16-digit
/// string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kk {
    digits: [u8; 16],
}

/// Everything [`Kk::parse`] found out about one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KkParse {
    /// The input exactly as given.
    pub input: String,
    /// The KK number, present exactly when `errors` is empty.
    pub kk: Option<Kk>,
    /// Every error found, in the order of the digits they concern (length and characters first).
    pub errors: Vec<KkError>,
    /// Problems that do not make the number invalid.
    pub warnings: Vec<KkWarning>,
}

impl KkParse {
    /// True when the input is a valid KK number (there may still be warnings).
    pub fn is_valid(&self) -> bool {
        self.kk.is_some()
    }
}

/// Why a string is not a valid KK number. Stable [`code`](KkError::code), messages in Bahasa
/// Indonesia and English (`Display` is English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KkError {
    /// After removing separators the input does not have 16 characters.
    WrongLength {
        /// Number of characters found after removing separators.
        found: usize,
    },
    /// A character other than the ASCII digits 0–9.
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
    /// The issue date (digits 7–12, DDMMYY) does not exist in either 19YY or 20YY.
    InvalidDate {
        /// The two day digits.
        day: u8,
        /// The two month digits.
        month: u8,
        /// The two year digits.
        year_2d: u8,
    },
    /// Serial (digits 13–16) is `0000`.
    ZeroSerial,
}

impl KkError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            KkError::WrongLength { .. } => "KK_WRONG_LENGTH",
            KkError::NonDigit { .. } => "KK_NON_DIGIT",
            KkError::ZeroProvince => "KK_ZERO_PROVINCE",
            KkError::ZeroRegency => "KK_ZERO_REGENCY",
            KkError::ZeroDistrict => "KK_ZERO_DISTRICT",
            KkError::UnknownProvince { .. } => "KK_UNKNOWN_PROVINCE",
            KkError::InvalidDate { .. } => "KK_INVALID_DATE",
            KkError::ZeroSerial => "KK_ZERO_SERIAL",
        }
    }

    /// What is wrong and what to do, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match *self {
            KkError::WrongLength { found: 0 } => {
                "Nomor KK kosong. Isi nomor KK 16 digit sesuai Kartu Keluarga.".to_string()
            }
            KkError::WrongLength { found } => format!(
                "Nomor KK harus 16 digit, ditemukan {found}. Periksa angka yang hilang atau \
                 berlebih; nomor yang disimpan sebagai angka di spreadsheet terpotong menjadi \
                 15 digit, jadi format kolom KK sebagai teks."
            ),
            KkError::NonDigit { found, position } => format!(
                "Nomor KK memuat karakter bukan angka '{}' (U+{:04X}) pada posisi {position}. \
                 Nomor KK hanya boleh berisi angka 0–9; salin ulang dari Kartu Keluarga.",
                found.escape_debug(),
                found as u32
            ),
            KkError::ZeroProvince => "Kode provinsi nomor KK (digit 1–2) adalah 00, yang \
                 tidak pernah diterbitkan. Periksa kembali nomor pada Kartu Keluarga."
                .to_string(),
            KkError::ZeroRegency => "Kode kabupaten/kota nomor KK (digit 3–4) adalah 00, yang \
                 tidak pernah diterbitkan. Periksa kembali nomor pada Kartu Keluarga."
                .to_string(),
            KkError::ZeroDistrict => "Kode kecamatan nomor KK (digit 5–6) adalah 00, yang \
                 tidak pernah diterbitkan. Periksa kembali nomor pada Kartu Keluarga."
                .to_string(),
            KkError::UnknownProvince { province } => format!(
                "Kode provinsi {province:02} pada nomor KK (digit 1–2) tidak ada dalam tabel \
                 wilayah Kemendagri. Periksa dua digit pertama; kemungkinan salah ketik."
            ),
            KkError::InvalidDate {
                day,
                month,
                year_2d,
            } => format!(
                "Tanggal terbit pada nomor KK (digit 7–12, {day:02}-{month:02}-{year_2d:02}) \
                 bukan tanggal yang ada di kalender, baik tahun 19{year_2d:02} maupun \
                 20{year_2d:02}. Periksa digit 7–12 nomor KK."
            ),
            KkError::ZeroSerial => "Nomor urut KK (digit 13–16) adalah 0000, padahal nomor \
                 urut dimulai dari 0001. Periksa empat digit terakhir."
                .to_string(),
        }
    }

    /// What is wrong and what to do, in English.
    pub fn message_en(&self) -> String {
        match *self {
            KkError::WrongLength { found: 0 } => {
                "The KK number is empty. Enter the 16-digit number from the family card."
                    .to_string()
            }
            KkError::WrongLength { found } => format!(
                "A KK number has 16 digits; found {found}. Check for missing or extra digits; \
                 spreadsheets that store it as a number cut it to 15 significant digits, so \
                 format the KK column as text."
            ),
            KkError::NonDigit { found, position } => format!(
                "The KK number contains the non-digit character '{}' (U+{:04X}) at position \
                 {position}. It holds only the digits 0–9; copy it again from the family card.",
                found.escape_debug(),
                found as u32
            ),
            KkError::ZeroProvince => "The KK number's province code (digits 1–2) is 00, which \
                 is never issued. Check the number against the family card."
                .to_string(),
            KkError::ZeroRegency => "The KK number's regency code (digits 3–4) is 00, which \
                 is never issued. Check the number against the family card."
                .to_string(),
            KkError::ZeroDistrict => "The KK number's district code (digits 5–6) is 00, which \
                 is never issued. Check the number against the family card."
                .to_string(),
            KkError::UnknownProvince { province } => format!(
                "The KK number's province code {province:02} (digits 1–2) is not in the \
                 Kemendagri region table. Check the first two digits; they are probably \
                 mistyped."
            ),
            KkError::InvalidDate {
                day,
                month,
                year_2d,
            } => format!(
                "The KK number's issue date (digits 7–12, {day:02}-{month:02}-{year_2d:02}) \
                 is not a calendar date in either 19{year_2d:02} or 20{year_2d:02}. Check \
                 digits 7–12."
            ),
            KkError::ZeroSerial => "The KK number's serial (digits 13–16) is 0000, but \
                 serials start at 0001. Check the last four digits."
                .to_string(),
        }
    }
}

impl fmt::Display for KkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for KkError {}

/// Something worth telling the user about a KK number that is nevertheless accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KkWarning {
    /// Spaces, dots or hyphens inside the number were removed.
    SeparatorsStripped,
    /// The regency is not in the current Kemendagri table (only reported when the province is
    /// known). Cards issued before a region split keep the old code.
    RegencyNotInTable {
        /// The regency code.
        regency: RegionCode,
    },
    /// The district is not in the current table although its regency is. Not reported when the
    /// regency itself is missing.
    DistrictNotInTable {
        /// The district code.
        district: RegionCode,
    },
}

impl KkWarning {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            KkWarning::SeparatorsStripped => "KK_SEPARATORS_STRIPPED",
            KkWarning::RegencyNotInTable { .. } => "KK_REGENCY_NOT_IN_TABLE",
            KkWarning::DistrictNotInTable { .. } => "KK_DISTRICT_NOT_IN_TABLE",
        }
    }

    /// What was noticed and what to do, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match self {
            KkWarning::SeparatorsStripped => "Spasi, titik atau tanda hubung di dalam nomor KK \
                 dibuang. Tulis nomor KK sebagai 16 angka tanpa pemisah."
                .to_string(),
            KkWarning::RegencyNotInTable { regency } => format!(
                "Kode kabupaten/kota {regency} pada nomor KK tidak ada dalam tabel wilayah \
                 Kemendagri saat ini. Kartu yang terbit sebelum pemekaran wilayah memakai kode \
                 lama, jadi nomor ini bisa sah; periksa bila wilayah itu tidak pernah ada."
            ),
            KkWarning::DistrictNotInTable { district } => format!(
                "Kode kecamatan {district} pada nomor KK tidak ada dalam tabel wilayah \
                 Kemendagri saat ini. Kartu yang terbit sebelum pemekaran wilayah memakai kode \
                 lama, jadi nomor ini bisa sah; periksa bila kecamatan itu tidak pernah ada."
            ),
        }
    }

    /// What was noticed and what to do, in English.
    pub fn message_en(&self) -> String {
        match self {
            KkWarning::SeparatorsStripped => "Spaces, dots or hyphens inside the KK number \
                 were removed. Write it as 16 digits without separators."
                .to_string(),
            KkWarning::RegencyNotInTable { regency } => format!(
                "The KK number's regency code {regency} is not in the current Kemendagri \
                 region table. Cards issued before a region split keep the old code, so the \
                 number may be valid; check it if that regency never existed."
            ),
            KkWarning::DistrictNotInTable { district } => format!(
                "The KK number's district code {district} is not in the current Kemendagri \
                 region table. Cards issued before a region split keep the old code, so the \
                 number may be valid; check it if that district never existed."
            ),
        }
    }
}

impl fmt::Display for KkWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

/// Why [`Kk::encode`] cannot build a KK number from the given parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KkEncodeError {
    /// The region code is not at district level (`PP.KK.CC`).
    #[error("a KK number is encoded from a district code (PP.KK.CC), got {0}")]
    NotADistrict(RegionCode),
    /// The province is not in the current table, so the number would not parse.
    #[error("province {0} is not in the Kemendagri table")]
    UnknownProvince(RegionCode),
    /// The serial is 0 or above 9999.
    #[error("a KK serial is 1–9999, got {0}")]
    SerialOutOfRange(u16),
}

impl KkEncodeError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            KkEncodeError::NotADistrict(_) => "KK_ENCODE_NOT_A_DISTRICT",
            KkEncodeError::UnknownProvince(_) => "KK_ENCODE_UNKNOWN_PROVINCE",
            KkEncodeError::SerialOutOfRange(_) => "KK_ENCODE_SERIAL_OUT_OF_RANGE",
        }
    }
}

/// Applies every KK rule to a scan, calling `emit` for each error in order until it returns
/// `false`. Field rules only run on 16-character inputs and skip fields holding a non-digit.
fn kk_errors(s: &Scan, mut emit: impl FnMut(KkError) -> bool) {
    if s.len != 16 && !emit(KkError::WrongLength { found: s.len }) {
        return;
    }
    if let Some((found, position)) = s.non_digit
        && !emit(KkError::NonDigit { found, position })
    {
        return;
    }
    if s.len != 16 {
        return;
    }
    if let Some(pp) = s.field(0, 2) {
        let e = if pp == 0 {
            Some(KkError::ZeroProvince)
        } else if !province_known(pp) {
            Some(KkError::UnknownProvince { province: pp as u8 })
        } else {
            None
        };
        if let Some(e) = e
            && !emit(e)
        {
            return;
        }
    }
    if s.field(2, 4) == Some(0) && !emit(KkError::ZeroRegency) {
        return;
    }
    if s.field(4, 6) == Some(0) && !emit(KkError::ZeroDistrict) {
        return;
    }
    if let (Some(d), Some(m), Some(y)) = (s.field(6, 8), s.field(8, 10), s.field(10, 12))
        && !exists_in_19_or_20(d, m, y)
        && !emit(KkError::InvalidDate {
            day: d as u8,
            month: m as u8,
            year_2d: y as u8,
        })
    {
        return;
    }
    if s.field(12, 16) == Some(0) {
        emit(KkError::ZeroSerial);
    }
}

impl Kk {
    /// Parses a KK number and reports every error and warning.
    ///
    /// Surrounding whitespace is ignored; whitespace, dots and hyphens inside the number are
    /// removed with [`KkWarning::SeparatorsStripped`]. Only ASCII digits are digits. When the
    /// length is wrong only the length and character errors are reported.
    pub fn parse(input: &str) -> KkParse {
        let s = scan(input);
        let mut errors = Vec::new();
        kk_errors(&s, |e| {
            errors.push(e);
            true
        });
        let mut warnings = Vec::new();
        if s.stripped {
            warnings.push(KkWarning::SeparatorsStripped);
        }
        if s.len == 16 {
            match region_gaps(s.field(0, 2), s.field(2, 4), s.field(4, 6)) {
                (Some(regency), _) => warnings.push(KkWarning::RegencyNotInTable { regency }),
                (_, Some(district)) => warnings.push(KkWarning::DistrictNotInTable { district }),
                _ => {}
            }
        }
        let kk = if errors.is_empty() {
            s.ascii().map(|digits| Kk { digits })
        } else {
            None
        };
        KkParse {
            input: input.to_string(),
            kk,
            errors,
            warnings,
        }
    }

    /// Parses a KK number without allocating and without looking at warnings: the same rules as
    /// [`Kk::parse`], returning its first error.
    pub fn parse_strict(input: &str) -> Result<Kk, KkError> {
        let s = scan(input);
        let mut first = None;
        kk_errors(&s, |e| {
            first = Some(e);
            false
        });
        match first {
            Some(e) => Err(e),
            None => Ok(Kk {
                digits: s.ascii().expect("no errors means 16 ASCII digits"),
            }),
        }
    }

    /// Builds the number of a card issued in `district` on `issued` with `serial` (1–9999).
    /// Used by the synthetic generator.
    ///
    /// Returns an error, never panics, when `district` is not a district-level code, its
    /// province is not in the current table, or the serial is out of range.
    pub fn encode(
        district: RegionCode,
        issued: NaiveDate,
        serial: u16,
    ) -> Result<Kk, KkEncodeError> {
        if district.level() != Level::District {
            return Err(KkEncodeError::NotADistrict(district));
        }
        let province = district.province();
        if !province_known(province.as_u64() as u16) {
            return Err(KkEncodeError::UnknownProvince(province));
        }
        if !(1..=9999).contains(&serial) {
            return Err(KkEncodeError::SerialOutOfRange(serial));
        }
        let mut digits = [b'0'; 16];
        put_digits(&mut digits[0..6], district.as_u64() as u32);
        put_digits(&mut digits[6..8], issued.day());
        put_digits(&mut digits[8..10], issued.month());
        put_digits(&mut digits[10..12], issued.year().rem_euclid(100) as u32);
        put_digits(&mut digits[12..16], serial as u32);
        Ok(Kk { digits })
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits).expect("a Kk holds ASCII digits")
    }

    /// The 16 digits as a number, a compact key (KK numbers never start with 0).
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

    /// Day of the issue date, 1–31.
    pub fn issue_day(&self) -> u8 {
        self.num(6, 8) as u8
    }

    /// Month of the issue date, 1–12.
    pub fn issue_month(&self) -> u8 {
        self.num(8, 10) as u8
    }

    /// Two-digit year of the issue date.
    pub fn issue_year_2d(&self) -> u8 {
        self.num(10, 12) as u8
    }

    /// The full issue date: the latest date with these digits that is not after `reference`
    /// (a card is never issued in the future). `None` when no century fits, which happens only
    /// for 29 February in a century where that year is not a leap year.
    pub fn issue_date(&self, reference: NaiveDate) -> Option<NaiveDate> {
        resolve_century(
            self.issue_day() as u32,
            self.issue_month() as u32,
            self.issue_year_2d() as i32,
            reference,
            None,
        )
    }

    /// The issuing district (`PP.KK.CC`).
    pub fn region(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2), self.num(2, 4), self.num(4, 6)])
            .expect("validated district")
    }

    /// The issuing province.
    pub fn province(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2)]).expect("validated province")
    }

    /// The issuing regency.
    pub fn regency(&self) -> RegionCode {
        RegionCode::from_parts(&[self.num(0, 2), self.num(2, 4)]).expect("validated regency")
    }

    /// Serial, 1–9999.
    pub fn serial(&self) -> u16 {
        self.num(12, 16) as u16
    }
}

impl fmt::Display for Kk {
    /// The 16 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Kk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kk({})", self.as_str())
    }
}

impl std::str::FromStr for Kk {
    type Err = KkError;

    /// Same as [`Kk::parse_strict`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kk::parse_strict(s)
    }
}

impl Serialize for Kk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Digits16Visitor::new(
            |s| Kk::parse_strict(s).map_err(|e| format!("{}: {}", e.code(), e.message_en())),
            "a 16-digit KK number",
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

    /// Checks the codes `parse` reports and that `parse_strict` agrees with its first error.
    fn check(input: &str, errors: &[&str], warnings: &[&str]) {
        let p = Kk::parse(input);
        let got_e: Vec<&str> = p.errors.iter().map(|e| e.code()).collect();
        let got_w: Vec<&str> = p.warnings.iter().map(|w| w.code()).collect();
        assert_eq!(got_e, errors, "errors for {input:?}");
        assert_eq!(got_w, warnings, "warnings for {input:?}");
        assert_eq!(p.kk.is_some(), errors.is_empty(), "kk for {input:?}");
        let strict = Kk::parse_strict(input);
        assert_eq!(
            strict.err(),
            p.errors.first().copied(),
            "strict for {input:?}"
        );
    }

    const SEP: &str = "KK_SEPARATORS_STRIPPED";

    #[test]
    fn table() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("3201011503150001", &[], &[]),
            (" 3201011503150001 ", &[], &[]),
            ("320101.150315.0001", &[], &[SEP]),
            ("320101-150315-0001", &[], &[SEP]),
            ("3201 0115 0315 0001", &[], &[SEP]),
            ("9101011503150001", &[], &["KK_REGENCY_NOT_IN_TABLE"]),
            ("3201991503150001", &[], &["KK_DISTRICT_NOT_IN_TABLE"]),
            ("", &["KK_WRONG_LENGTH"], &[]),
            ("320101150315001", &["KK_WRONG_LENGTH"], &[]),
            ("32010115031500011", &["KK_WRONG_LENGTH"], &[]),
            ("320101150315000A", &["KK_NON_DIGIT"], &[]),
            ("٣٢٠١٠١١٥٠٣١٥٠٠٠١", &["KK_NON_DIGIT"], &[]),
            ("0001011503150001", &["KK_ZERO_PROVINCE"], &[]),
            ("1001011503150001", &["KK_UNKNOWN_PROVINCE"], &[]),
            ("2001011503150001", &["KK_UNKNOWN_PROVINCE"], &[]),
            ("9901011503150001", &["KK_UNKNOWN_PROVINCE"], &[]),
            ("3200011503150001", &["KK_ZERO_REGENCY"], &[]),
            ("3201001503150001", &["KK_ZERO_DISTRICT"], &[]),
            ("3201010003150001", &["KK_INVALID_DATE"], &[]),
            ("3201013203150001", &["KK_INVALID_DATE"], &[]),
            // No +40 on a KK: day 52 is invalid.
            ("3201015203150001", &["KK_INVALID_DATE"], &[]),
            ("3201011500150001", &["KK_INVALID_DATE"], &[]),
            ("3201011513150001", &["KK_INVALID_DATE"], &[]),
            ("3201013104150001", &["KK_INVALID_DATE"], &[]),
            ("3201012902000001", &[], &[]),
            ("3201012902010001", &["KK_INVALID_DATE"], &[]),
            ("3201012902160001", &[], &[]),
            ("3201011503150000", &["KK_ZERO_SERIAL"], &[]),
            (
                "0000000000000000",
                &[
                    "KK_ZERO_PROVINCE",
                    "KK_ZERO_REGENCY",
                    "KK_ZERO_DISTRICT",
                    "KK_INVALID_DATE",
                    "KK_ZERO_SERIAL",
                ],
                &[],
            ),
        ];
        for (input, errors, warnings) in cases {
            check(input, errors, warnings);
        }
    }

    #[test]
    fn fields_dates_and_messages() {
        let k = Kk::parse_strict("3201011503150007").unwrap();
        assert_eq!(k.region(), code("32.01.01"));
        assert_eq!(k.regency(), code("32.01"));
        assert_eq!(k.province(), code("32"));
        assert_eq!(k.serial(), 7);
        assert_eq!(
            (k.issue_day(), k.issue_month(), k.issue_year_2d()),
            (15, 3, 15)
        );
        assert_eq!(k.issue_date(date(2025, 1, 1)), Some(date(2015, 3, 15)));
        assert_eq!(k.issue_date(date(2015, 3, 14)), Some(date(1915, 3, 15)));
        assert_eq!(k.issue_date(date(2015, 3, 15)), Some(date(2015, 3, 15)));
        let leap = Kk::parse_strict("3201012902000001").unwrap();
        assert_eq!(leap.issue_date(date(2025, 1, 1)), Some(date(2000, 2, 29)));
        assert_eq!(leap.issue_date(date(1999, 1, 1)), None);
        assert_eq!(k.to_string(), "3201011503150007");
        assert_eq!(format!("{k:?}"), "Kk(3201011503150007)");
        assert_eq!(k.to_u64(), 3_201_011_503_150_007);
        assert_eq!("3201-0115-0315-0007".parse::<Kk>(), Ok(k));
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, "\"3201011503150007\"");
        assert_eq!(serde_json::from_str::<Kk>(&json).unwrap(), k);
        for e in [
            KkError::WrongLength { found: 0 },
            KkError::WrongLength { found: 3 },
            KkError::NonDigit {
                found: 'x',
                position: 1,
            },
            KkError::ZeroProvince,
            KkError::ZeroRegency,
            KkError::ZeroDistrict,
            KkError::UnknownProvince { province: 99 },
            KkError::InvalidDate {
                day: 31,
                month: 4,
                year_2d: 15,
            },
            KkError::ZeroSerial,
        ] {
            assert!(e.code().starts_with("KK_"));
            assert!(e.message_id().contains("KK"), "{e:?}");
            assert!(e.message_en().contains("KK"), "{e:?}");
        }
        for w in [
            KkWarning::SeparatorsStripped,
            KkWarning::RegencyNotInTable {
                regency: code("91.01"),
            },
            KkWarning::DistrictNotInTable {
                district: code("32.01.99"),
            },
        ] {
            assert!(w.code().starts_with("KK_"));
            assert!(w.message_id().contains("KK") && w.message_en().contains("KK"));
        }
    }

    #[test]
    fn encode() {
        let k = Kk::encode(code("32.01.01"), date(2015, 3, 15), 7).unwrap();
        assert_eq!(k.as_str(), "3201011503150007");
        assert_eq!(
            Kk::encode(code("32.01"), date(2015, 3, 15), 7),
            Err(KkEncodeError::NotADistrict(code("32.01")))
        );
        assert_eq!(
            Kk::encode(code("10.01.01"), date(2015, 3, 15), 7).map_err(|e| e.code()),
            Err("KK_ENCODE_UNKNOWN_PROVINCE")
        );
        assert_eq!(
            Kk::encode(code("32.01.01"), date(2015, 3, 15), 0),
            Err(KkEncodeError::SerialOutOfRange(0))
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let huge = "x".repeat(1 << 20);
        assert_eq!(Kk::parse(&huge).errors.len(), 2);
        assert_eq!(
            Kk::parse_strict(&huge),
            Err(KkError::WrongLength { found: 1 << 20 })
        );
        for s in ["\u{0}", "\u{7f}\u{1b}[31m", "-", "\u{202e}3201011503150001"] {
            let _ = Kk::parse(s);
            let _ = Kk::parse_strict(s);
        }
    }
}
