//! Dates as agencies write them.
//!
//! Indonesia writes the day first, always: `05/03/1990` is 5 March. [`parse_date`] accepts
//! every shape the agencies' exports use (see its documentation); [`parse_date_format`] and
//! [`DateFormat`] apply one explicit format named in a mapping file; [`from_excel_serial`]
//! converts spreadsheet serial numbers; [`parse_date_shape`] also says which shape it
//! recognised and, when asked, reads two-digit years with the documented pivot
//! ([`TWO_DIGIT_YEAR_PIVOT`]).
//!
//! Accepted years are 1850–2100 ([`MIN_YEAR`], [`MAX_YEAR`]): anything outside is a typo in
//! data about living people and their documents.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// The earliest accepted year.
pub const MIN_YEAR: i32 = 1850;
/// The latest accepted year.
pub const MAX_YEAR: i32 = 2100;

/// Why a text is not a date. Each variant has a stable [`code`](DateError::code) and messages
/// in Bahasa Indonesia and English (`Display` is English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateError {
    /// The text is empty or only whitespace.
    Empty,
    /// The text has no recognised date shape (or not the one the format asks for).
    Unrecognised {
        /// The explicit format the text was expected in, `None` for automatic detection.
        expected: Option<DateFormat>,
    },
    /// The shape is right but the day does not exist (31 April, month 13, Excel serial 60,
    /// the fictitious 29 February 1900).
    Impossible {
        /// Year as written.
        year: i32,
        /// Month as written.
        month: u32,
        /// Day as written.
        day: u32,
    },
    /// The year is before [`MIN_YEAR`] or after [`MAX_YEAR`].
    OutOfRange {
        /// Year as written or computed.
        year: i32,
    },
    /// The format name given to [`parse_date_format`] is not one of [`DateFormat`]'s names.
    UnknownFormat,
}

impl DateError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            DateError::Empty => "DATE_EMPTY",
            DateError::Unrecognised { .. } => "DATE_UNRECOGNISED",
            DateError::Impossible { .. } => "DATE_IMPOSSIBLE",
            DateError::OutOfRange { .. } => "DATE_OUT_OF_RANGE",
            DateError::UnknownFormat => "DATE_UNKNOWN_FORMAT",
        }
    }

    /// What is wrong and what to do, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match *self {
            DateError::Empty => "Tanggal kosong. Isi tanggal, misalnya 17-08-1945.".to_string(),
            DateError::Unrecognised { expected: None } => "Tanggal tidak dikenali. Gunakan \
                 DD-MM-YYYY (17-08-1945), DD/MM/YYYY, DD.MM.YYYY, YYYY-MM-DD, tanggal dengan \
                 nama bulan (17 Agustus 1945) atau nomor seri tanggal Excel; tahun harus ditulis \
                 4 digit dan tanggal selalu sebelum bulan."
                .to_string(),
            DateError::Unrecognised { expected: Some(f) } => format!(
                "Tanggal tidak sesuai format {} yang ditetapkan di berkas pemetaan, misalnya \
                 {}. Perbaiki tanggalnya atau ubah format kolom di berkas pemetaan.",
                f.name(),
                f.example()
            ),
            DateError::Impossible { year, month, day } => format!(
                "Tanggal {day:02}-{month:02}-{year:04} tidak ada di kalender (hari atau bulan \
                 di luar batas). Periksa hari dan bulannya; ingat tanggal ditulis sebelum bulan."
            ),
            DateError::OutOfRange { year } => format!(
                "Tahun {year} di luar rentang yang diterima ({MIN_YEAR}–{MAX_YEAR}). Periksa \
                 tahunnya; kemungkinan salah ketik."
            ),
            DateError::UnknownFormat => format!(
                "Format tanggal di berkas pemetaan tidak dikenal. Gunakan salah satu dari: {}.",
                format_names()
            ),
        }
    }

    /// What is wrong and what to do, in English.
    pub fn message_en(&self) -> String {
        match *self {
            DateError::Empty => "The date is empty. Enter a date such as 17-08-1945.".to_string(),
            DateError::Unrecognised { expected: None } => "The date is not recognised. Use \
                 DD-MM-YYYY (17-08-1945), DD/MM/YYYY, DD.MM.YYYY, YYYY-MM-DD, a month name \
                 (17 Agustus 1945) or an Excel date serial; write the year with 4 digits and \
                 the day before the month."
                .to_string(),
            DateError::Unrecognised { expected: Some(f) } => format!(
                "The date does not match the format {} set in the mapping file (for example \
                 {}). Correct the date or change the column's format in the mapping file.",
                f.name(),
                f.example()
            ),
            DateError::Impossible { year, month, day } => format!(
                "The date {day:02}-{month:02}-{year:04} does not exist (day or month out of \
                 range). Check the day and month; the day comes before the month."
            ),
            DateError::OutOfRange { year } => format!(
                "The year {year} is outside the accepted range ({MIN_YEAR}–{MAX_YEAR}). Check \
                 the year; it is probably mistyped."
            ),
            DateError::UnknownFormat => format!(
                "The mapping file names an unknown date format. Use one of: {}.",
                format_names()
            ),
        }
    }
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for DateError {}

/// An explicit date format, as named in mapping files.
///
/// | name         | accepts                                                           |
/// |--------------|-------------------------------------------------------------------|
/// | `DD-MM-YYYY` | day, month (1 or 2 digits each) and 4-digit year separated by `-` |
/// | `DD/MM/YYYY` | the same with `/`                                                 |
/// | `DD.MM.YYYY` | the same with `.`                                                 |
/// | `YYYY-MM-DD` | 4-digit year, month and day separated by `-`                      |
/// | `YYYYMMDD`   | eight digits, year first (`19900515`)                             |
/// | `DDMMYYYY`   | eight digits, day first (`15051990`)                              |
/// | `DD-MM-YY`   | day, month and a 2-digit year separated by `-` (pivot below)      |
/// | `DD/MM/YY`   | the same with `/`                                                 |
/// | `DD.MM.YY`   | the same with `.`                                                 |
/// | `EXCEL`      | an Excel serial number as text (`32874`, `32874.0`, `32874,5`)    |
/// | `AUTO`       | everything [`parse_date`] accepts                                 |
///
/// The separated numeric formats also accept a trailing time of day (`1990-05-15 00:00:00`,
/// `1990-05-15T00:00:00Z`), which is ignored. Two-digit years go to a century by
/// [`TWO_DIGIT_YEAR_PIVOT`]: `00`–`29` are 2000–2029, `30`–`99` are 1930–1999 (the rule
/// spreadsheet programs apply). Names are matched ignoring case and surrounding whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `DD-MM-YYYY`.
    DmyDash,
    /// `DD/MM/YYYY`.
    DmySlash,
    /// `DD.MM.YYYY`.
    DmyDot,
    /// `YYYY-MM-DD`.
    YmdDash,
    /// `YYYYMMDD`.
    YmdCompact,
    /// `DDMMYYYY`.
    DmyCompact,
    /// `DD-MM-YY` (two-digit year, [`TWO_DIGIT_YEAR_PIVOT`]).
    DmyDashShort,
    /// `DD/MM/YY`.
    DmySlashShort,
    /// `DD.MM.YY`.
    DmyDotShort,
    /// `EXCEL`: a serial number in the 1900 date system.
    Excel,
    /// `AUTO`: every shape [`parse_date`] accepts.
    Auto,
}

impl DateFormat {
    /// Every format, in documentation order.
    pub const ALL: [DateFormat; 11] = [
        DateFormat::DmyDash,
        DateFormat::DmySlash,
        DateFormat::DmyDot,
        DateFormat::YmdDash,
        DateFormat::YmdCompact,
        DateFormat::DmyCompact,
        DateFormat::DmyDashShort,
        DateFormat::DmySlashShort,
        DateFormat::DmyDotShort,
        DateFormat::Excel,
        DateFormat::Auto,
    ];

    /// The format named `name` (`DD-MM-YYYY`, `dd/mm/yyyy`, `EXCEL`, ...), if any. Mapping
    /// loaders should call this once when reading the mapping, not once per row.
    pub fn from_name(name: &str) -> Option<DateFormat> {
        let n = name.trim();
        DateFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(n))
    }

    /// The format's name as written in mapping files.
    pub const fn name(self) -> &'static str {
        match self {
            DateFormat::DmyDash => "DD-MM-YYYY",
            DateFormat::DmySlash => "DD/MM/YYYY",
            DateFormat::DmyDot => "DD.MM.YYYY",
            DateFormat::YmdDash => "YYYY-MM-DD",
            DateFormat::YmdCompact => "YYYYMMDD",
            DateFormat::DmyCompact => "DDMMYYYY",
            DateFormat::DmyDashShort => "DD-MM-YY",
            DateFormat::DmySlashShort => "DD/MM/YY",
            DateFormat::DmyDotShort => "DD.MM.YY",
            DateFormat::Excel => "EXCEL",
            DateFormat::Auto => "AUTO",
        }
    }

    /// An example of 17 August 1945 in this format.
    pub const fn example(self) -> &'static str {
        match self {
            DateFormat::DmyDash => "17-08-1945",
            DateFormat::DmySlash => "17/08/1945",
            DateFormat::DmyDot => "17.08.1945",
            DateFormat::YmdDash => "1945-08-17",
            DateFormat::YmdCompact => "19450817",
            DateFormat::DmyCompact => "17081945",
            DateFormat::DmyDashShort => "17-08-45",
            DateFormat::DmySlashShort => "17/08/45",
            DateFormat::DmyDotShort => "17.08.45",
            DateFormat::Excel => "16666",
            DateFormat::Auto => "17 Agustus 1945",
        }
    }

    /// Parses `input` in this format.
    pub fn parse(self, input: &str) -> Result<NaiveDate, DateError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(DateError::Empty);
        }
        let expected = Some(self);
        let unrecognised = Err(DateError::Unrecognised { expected });
        if s.len() > MAX_INPUT {
            return unrecognised;
        }
        match self {
            DateFormat::Auto => parse_auto(s, None).map(|(d, _)| d),
            DateFormat::Excel => match parse_serial_text(s) {
                Some(r) => r,
                None => unrecognised,
            },
            DateFormat::DmyDash
            | DateFormat::DmySlash
            | DateFormat::DmyDot
            | DateFormat::DmyDashShort
            | DateFormat::DmySlashShort
            | DateFormat::DmyDotShort => {
                let (sep, short) = match self {
                    DateFormat::DmyDash => ('-', false),
                    DateFormat::DmySlash => ('/', false),
                    DateFormat::DmyDot => ('.', false),
                    DateFormat::DmyDashShort => ('-', true),
                    DateFormat::DmySlashShort => ('/', true),
                    _ => ('.', true),
                };
                let Some(s) = strip_time(s) else {
                    return unrecognised;
                };
                match split3(s, sep) {
                    Some((d, m, y))
                        if is_num(d, 1, 2) && is_num(m, 1, 2) && !short && is_num(y, 4, 4) =>
                    {
                        make(num(y), num(m), num(d))
                    }
                    Some((d, m, y))
                        if is_num(d, 1, 2) && is_num(m, 1, 2) && short && is_num(y, 2, 2) =>
                    {
                        make(century(num(y), TWO_DIGIT_YEAR_PIVOT), num(m), num(d))
                    }
                    _ => unrecognised,
                }
            }
            DateFormat::YmdCompact | DateFormat::DmyCompact => {
                if !is_num(s, 8, 8) {
                    return unrecognised;
                }
                if self == DateFormat::YmdCompact {
                    make(num(&s[0..4]), num(&s[4..6]), num(&s[6..8]))
                } else {
                    make(num(&s[4..8]), num(&s[2..4]), num(&s[0..2]))
                }
            }
            DateFormat::YmdDash => {
                let Some(s) = strip_time(s) else {
                    return unrecognised;
                };
                match split3(s, '-') {
                    Some((y, m, d)) if is_num(y, 4, 4) && is_num(m, 1, 2) && is_num(d, 1, 2) => {
                        make(num(y), num(m), num(d))
                    }
                    _ => unrecognised,
                }
            }
        }
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DateFormat {
    type Err = DateError;

    /// Same as [`DateFormat::from_name`], failing with [`DateError::UnknownFormat`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateFormat::from_name(s).ok_or(DateError::UnknownFormat)
    }
}

/// No date is longer than this many bytes once trimmed; longer inputs are rejected at once.
const MAX_INPUT: usize = 64;

/// Parses a date in any shape the agencies use. Surrounding whitespace is ignored.
///
/// - `DD-MM-YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY`, `DD MM YYYY`, with one- or two-digit day and
///   month (`5-3-1990`). The day always comes first; there is no month-first numeric form.
/// - `YYYY-MM-DD` (also with `/` or `.`), optionally followed by a time of day that is ignored
///   (`1990-05-15 00:00:00`, `1990-05-15T00:00:00Z`); the time may follow the other numeric
///   forms too.
/// - A month name, Indonesian or English, full or abbreviated, any case: `15 Mei 1990`,
///   `15-AGU-1990`, `17 Agt. 1945`, `3 Okt 1985`, `1 Januari 2000`, `25 Des 2000`,
///   `15 May 1990`, `May 15, 1990`, `1990-Mei-15`. Abbreviations are any prefix of at least three
///   letters of a month name (`AGUS`, `SEPT`, `NOPEM`) plus `AGT`, `AGS` and the old spellings
///   `PEBRUARI`, `NOPEMBER`.
/// - Eight digits, `YYYYMMDD` or `DDMMYYYY` (never both possible, because the year must be
///   1850–2100 and the month 01–12).
/// - An Excel serial number as text, with up to six integer digits and an optional fraction
///   after `.` or `,` (`32874`, `32874.0`, `32874,25`); see [`from_excel_serial`]. Exception: a
///   bare four-digit number between 1850 and 2100 is taken to be a year alone, not a serial
///   (it would be a date in 1905), and is [`DateError::Unrecognised`]; use
///   [`parse_date_format`] with `EXCEL` to force serials.
///
/// Years must have four digits: `15-05-90` is [`DateError::Unrecognised`] because its century
/// is a guess (a format naming a two-digit year, or [`parse_date_shape`] with a pivot, reads it).
pub fn parse_date(input: &str) -> Result<NaiveDate, DateError> {
    DateFormat::Auto.parse(input)
}

/// Where two-digit years go: a year `YY` below the pivot is `20YY`, otherwise `19YY`. 30 is the
/// rule of spreadsheet programs (Excel, LibreOffice): `29` is 2029, `30` is 1930.
pub const TWO_DIGIT_YEAR_PIVOT: u32 = 30;

/// The full year of a two-digit year `yy` (0–99) under `pivot` (see [`TWO_DIGIT_YEAR_PIVOT`]).
pub const fn century(yy: u32, pivot: u32) -> u32 {
    if yy < pivot { 2000 + yy } else { 1900 + yy }
}

/// Which shape automatic detection recognised ([`parse_date_shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateShape {
    /// `YYYY-MM-DD` (also `/` or `.`), optionally with a time of day.
    YearFirst,
    /// `DD-MM-YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY` or `DD MM YYYY`.
    DayFirst,
    /// `DD-MM-YY` and the like: a two-digit year placed by the pivot.
    DayFirstTwoDigitYear,
    /// `YYYYMMDD`.
    CompactYearFirst,
    /// `DDMMYYYY`.
    CompactDayFirst,
    /// With a month name (`15 Mei 1990`, `May 15, 1990`).
    MonthName,
    /// An Excel serial number.
    ExcelSerial,
}

impl DateShape {
    /// How the shape is written in reports.
    pub const fn name(self) -> &'static str {
        match self {
            DateShape::YearFirst => "YYYY-MM-DD",
            DateShape::DayFirst => "DD-MM-YYYY",
            DateShape::DayFirstTwoDigitYear => "DD-MM-YY",
            DateShape::CompactYearFirst => "YYYYMMDD",
            DateShape::CompactDayFirst => "DDMMYYYY",
            DateShape::MonthName => "DD MMMM YYYY",
            DateShape::ExcelSerial => "EXCEL",
        }
    }
}

/// Like [`parse_date`], and also says which shape the text had. With `two_digit_year_pivot`
/// set, day-first dates with a two-digit year (`15/05/85`, `15-05-85`, `15.05.85`) are read
/// with that pivot (normally [`TWO_DIGIT_YEAR_PIVOT`]: 1985) instead of being refused;
/// everything else is exactly [`parse_date`].
pub fn parse_date_shape(
    input: &str,
    two_digit_year_pivot: Option<u32>,
) -> Result<(NaiveDate, DateShape), DateError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    if s.len() > MAX_INPUT {
        return Err(DateError::Unrecognised { expected: None });
    }
    parse_auto(s, two_digit_year_pivot)
}

/// Every format name, for messages.
fn format_names() -> String {
    DateFormat::ALL.map(DateFormat::name).join(", ")
}

/// Parses `input` in the format named `format` (see [`DateFormat`] for the names). An unknown
/// name is [`DateError::UnknownFormat`].
pub fn parse_date_format(input: &str, format: &str) -> Result<NaiveDate, DateError> {
    DateFormat::from_name(format)
        .ok_or(DateError::UnknownFormat)?
        .parse(input)
}

/// Converts an Excel serial number (1900 date system) to a date; the fractional part (time of
/// day) is ignored.
///
/// Serial 1 is 1 January 1900. Excel copies Lotus 1-2-3 in treating 1900 as a leap year, so
/// serial 60 is the fictitious 29 February 1900 and gives `None`; serials 1–59 count from
/// 31 December 1899 and serials from 61 from 30 December 1899. Serials below 1, non-finite
/// values and values beyond 31 December 9999 (2,958,465) give `None`. No year range is applied
/// here; [`parse_date`] applies 1850–2100.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let n = serial.floor() as i64;
    let (base, n) = match n {
        60 => return None,
        1..=59 => (NaiveDate::from_ymd_opt(1899, 12, 31)?, n),
        _ => (NaiveDate::from_ymd_opt(1899, 12, 30)?, n),
    };
    base.checked_add_days(chrono::Days::new(n as u64))
}

/// Automatic detection over a trimmed, non-empty, short input; two-digit years only with a
/// pivot.
fn parse_auto(s: &str, pivot: Option<u32>) -> Result<(NaiveDate, DateShape), DateError> {
    let unrecognised = Err(DateError::Unrecognised { expected: None });
    if s.bytes().all(|b| b.is_ascii_digit()) {
        if s.len() == 8 {
            return parse_compact(s);
        }
        if s.len() == 4 && (MIN_YEAR..=MAX_YEAR).contains(&(num(s) as i32)) {
            return unrecognised;
        }
    }
    if let Some(r) = parse_serial_text(s) {
        return r.map(|d| (d, DateShape::ExcelSerial));
    }
    let Some(s) = strip_time(s) else {
        return unrecognised;
    };
    let Some(tokens) = tokenize(s) else {
        return unrecognised;
    };
    match tokens.as_slice() {
        // Numeric: one identical single-character separator between the three parts.
        [
            Tok::Num(a),
            Tok::Sep(s1),
            Tok::Num(b),
            Tok::Sep(s2),
            Tok::Num(c),
        ] if s1 == s2 && s1.chars().count() == 1 && "-/. ".contains(*s1) => {
            if is_num(a, 4, 4) && is_num(b, 1, 2) && is_num(c, 1, 2) {
                make(num(a), num(b), num(c)).map(|d| (d, DateShape::YearFirst))
            } else if is_num(a, 1, 2) && is_num(b, 1, 2) && is_num(c, 4, 4) {
                make(num(c), num(b), num(a)).map(|d| (d, DateShape::DayFirst))
            } else if let Some(p) = pivot
                && is_num(a, 1, 2)
                && is_num(b, 1, 2)
                && is_num(c, 2, 2)
            {
                make(century(num(c), p), num(b), num(a))
                    .map(|d| (d, DateShape::DayFirstTwoDigitYear))
            } else {
                unrecognised
            }
        }
        _ => parse_month_name(&tokens)
            .map(|r| r.map(|d| (d, DateShape::MonthName)))
            .unwrap_or(unrecognised),
    }
}

/// `YYYYMMDD` or `DDMMYYYY`: whichever has its year in range and exists.
fn parse_compact(s: &str) -> Result<(NaiveDate, DateShape), DateError> {
    let candidates = [
        (
            num(&s[0..4]),
            num(&s[4..6]),
            num(&s[6..8]),
            DateShape::CompactYearFirst,
        ),
        (
            num(&s[4..8]),
            num(&s[2..4]),
            num(&s[0..2]),
            DateShape::CompactDayFirst,
        ),
    ];
    let mut first_err = None;
    for (y, m, d, shape) in candidates {
        if !(MIN_YEAR..=MAX_YEAR).contains(&(y as i32)) {
            continue;
        }
        match make(y, m, d) {
            Ok(date) => return Ok((date, shape)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(DateError::Unrecognised { expected: None }))
}

/// Dates with a month name: `D MON YYYY`, `MON D YYYY`, `YYYY MON D`, with any separators.
fn parse_month_name(tokens: &[Tok<'_>]) -> Option<Result<NaiveDate, DateError>> {
    let parts: Vec<&Tok<'_>> = tokens
        .iter()
        .filter(|t| !matches!(t, Tok::Sep(_)))
        .collect();
    let (y, m, d) = match parts.as_slice() {
        [Tok::Num(d), Tok::Word(m), Tok::Num(y)] if is_num(d, 1, 2) && is_num(y, 4, 4) => {
            (y, month_number(m)?, d)
        }
        [Tok::Word(m), Tok::Num(d), Tok::Num(y)] if is_num(d, 1, 2) && is_num(y, 4, 4) => {
            (y, month_number(m)?, d)
        }
        [Tok::Num(y), Tok::Word(m), Tok::Num(d)] if is_num(d, 1, 2) && is_num(y, 4, 4) => {
            (y, month_number(m)?, d)
        }
        _ => return None,
    };
    Some(make(num(y), m, num(d)))
}

/// Full month names, Indonesian then English, with their numbers. Old spellings included.
const MONTHS: &[(&str, u32)] = &[
    ("JANUARI", 1),
    ("FEBRUARI", 2),
    ("PEBRUARI", 2),
    ("MARET", 3),
    ("APRIL", 4),
    ("MEI", 5),
    ("JUNI", 6),
    ("JULI", 7),
    ("AGUSTUS", 8),
    ("SEPTEMBER", 9),
    ("OKTOBER", 10),
    ("NOVEMBER", 11),
    ("NOPEMBER", 11),
    ("DESEMBER", 12),
    ("JANUARY", 1),
    ("FEBRUARY", 2),
    ("MARCH", 3),
    ("MAY", 5),
    ("JUNE", 6),
    ("JULY", 7),
    ("AUGUST", 8),
    ("OCTOBER", 10),
    ("DECEMBER", 12),
];

/// The month a name or abbreviation denotes: a prefix of at least three letters of a month
/// name (all names it prefixes must agree), or one of the abbreviations `AGT`, `AGS`.
fn month_number(word: &str) -> Option<u32> {
    if word.len() < 3 || word.len() > 9 {
        return None;
    }
    let mut buf = [0u8; 9];
    for (o, b) in buf.iter_mut().zip(word.bytes()) {
        *o = b.to_ascii_uppercase();
    }
    let w = std::str::from_utf8(&buf[..word.len()]).ok()?;
    if w == "AGT" || w == "AGS" {
        return Some(8);
    }
    let mut found = None;
    for &(name, n) in MONTHS {
        if name.starts_with(w) {
            match found {
                None => found = Some(n),
                Some(m) if m != n => return None,
                _ => {}
            }
        }
    }
    found
}

/// A lexical piece of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// A run of ASCII digits.
    Num(&'a str),
    /// A run of ASCII letters.
    Word(&'a str),
    /// A run of separators (whitespace, `-`, `/`, `.`, `,`).
    Sep(&'a str),
}

/// Splits into digit runs, letter runs and separator runs; `None` on any other character.
fn tokenize(s: &str) -> Option<Vec<Tok<'_>>> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Digit,
        Letter,
        Sep,
    }
    let class = |c: char| {
        if c.is_ascii_digit() {
            Some(Class::Digit)
        } else if c.is_ascii_alphabetic() {
            Some(Class::Letter)
        } else if c.is_whitespace() || matches!(c, '-' | '/' | '.' | ',') {
            Some(Class::Sep)
        } else {
            None
        }
    };
    let mut out = Vec::with_capacity(8);
    let mut start = 0;
    let mut current: Option<Class> = None;
    for (i, c) in s.char_indices() {
        let k = class(c)?;
        if current != Some(k) {
            if let Some(prev) = current {
                out.push(make_tok(
                    prev == Class::Digit,
                    prev == Class::Letter,
                    &s[start..i],
                ));
            }
            start = i;
            current = Some(k);
        }
    }
    if let Some(prev) = current {
        out.push(make_tok(
            prev == Class::Digit,
            prev == Class::Letter,
            &s[start..],
        ));
    }
    Some(out)
}

/// Builds a token of the class the flags name.
fn make_tok(digit: bool, letter: bool, s: &str) -> Tok<'_> {
    if digit {
        Tok::Num(s)
    } else if letter {
        Tok::Word(s)
    } else {
        Tok::Sep(s)
    }
}

/// Removes a trailing time of day (`HH:MM`, `HH:MM:SS`, fractions, `Z` or an offset) after a
/// space or `T`. Returns the date part, or `None` when something after the date looks like a
/// time but is malformed. Inputs without `:` are returned unchanged.
fn strip_time(s: &str) -> Option<&str> {
    let Some(colon) = s.find(':') else {
        return Some(s);
    };
    let cut = s[..colon].rfind([' ', 'T', 't'])?;
    let time = &s[cut + 1..];
    let ok = time.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && time
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.' | b'+' | b'-' | b'Z' | b'z'));
    ok.then(|| s[..cut].trim_end())
}

/// Text that is an Excel serial: up to six integer digits, optionally `.` or `,` and digits.
/// `None` when the text has another shape.
fn parse_serial_text(s: &str) -> Option<Result<NaiveDate, DateError>> {
    let (int, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    if !is_num(int, 1, 6) || !(frac.is_empty() || frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if s.ends_with(['.', ',']) {
        return None;
    }
    let n = num(int);
    Some(match n {
        0 => Err(DateError::Impossible {
            year: 1900,
            month: 1,
            day: 0,
        }),
        60 => Err(DateError::Impossible {
            year: 1900,
            month: 2,
            day: 29,
        }),
        _ => match from_excel_serial(n as f64) {
            Some(d) if d.year() > MAX_YEAR => Err(DateError::OutOfRange { year: d.year() }),
            Some(d) => Ok(d),
            None => Err(DateError::Unrecognised { expected: None }),
        },
    })
}

/// Splits `s` into exactly three parts at `sep`.
fn split3(s: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut it = s.split(sep);
    let a = it.next()?;
    let b = it.next()?;
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    Some((a, b, c))
}

/// Whether `s` is `min..=max` ASCII digits.
fn is_num(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// The value of a short run of ASCII digits (callers check with [`is_num`] first).
fn num(s: &str) -> u32 {
    s.bytes().fold(0u32, |v, b| {
        v.saturating_mul(10).saturating_add((b - b'0') as u32)
    })
}

/// Builds the date, checking the year range first and then the calendar.
fn make(year: u32, month: u32, day: u32) -> Result<NaiveDate, DateError> {
    let year = year as i32;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(DateError::OutOfRange { year });
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Impossible { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn check(input: &str, want: Result<NaiveDate, &str>) {
        let got = parse_date(input).map_err(|e| e.code());
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn automatic_shapes() {
        let cases: &[(&str, Result<NaiveDate, &str>)] = &[
            ("15-05-1990", Ok(d(1990, 5, 15))),
            ("15/05/1990", Ok(d(1990, 5, 15))),
            ("15.05.1990", Ok(d(1990, 5, 15))),
            ("15 05 1990", Ok(d(1990, 5, 15))),
            ("5-3-1990", Ok(d(1990, 3, 5))),
            ("05/03/1990", Ok(d(1990, 3, 5))),
            ("  17-08-1945  ", Ok(d(1945, 8, 17))),
            ("1990-05-15", Ok(d(1990, 5, 15))),
            ("1990/05/15", Ok(d(1990, 5, 15))),
            ("1990-5-1", Ok(d(1990, 5, 1))),
            ("1990-05-15 00:00:00", Ok(d(1990, 5, 15))),
            ("1990-05-15T00:00:00Z", Ok(d(1990, 5, 15))),
            ("1990-05-15T10:20:30.123+07:00", Ok(d(1990, 5, 15))),
            ("15/05/1990 10:20", Ok(d(1990, 5, 15))),
            ("19900515", Ok(d(1990, 5, 15))),
            ("15051990", Ok(d(1990, 5, 15))),
            ("01021990", Ok(d(1990, 2, 1))),
            ("20000229", Ok(d(2000, 2, 29))),
            ("32874", Ok(d(1990, 1, 1))),
            ("32874.0", Ok(d(1990, 1, 1))),
            ("32874.75", Ok(d(1990, 1, 1))),
            ("32874,5", Ok(d(1990, 1, 1))),
            ("1", Ok(d(1900, 1, 1))),
            ("59", Ok(d(1900, 2, 28))),
            ("61", Ok(d(1900, 3, 1))),
            ("16666", Ok(d(1945, 8, 17))),
            ("15 Mei 1990", Ok(d(1990, 5, 15))),
            ("15-AGU-1990", Ok(d(1990, 8, 15))),
            ("15 Agustus 1990", Ok(d(1990, 8, 15))),
            ("1 Januari 2000", Ok(d(2000, 1, 1))),
            ("3 Okt 1985", Ok(d(1985, 10, 3))),
            ("17 Agt 1945", Ok(d(1945, 8, 17))),
            ("17 Agt. 1945", Ok(d(1945, 8, 17))),
            ("17 ags 1945", Ok(d(1945, 8, 17))),
            ("25 Des 2000", Ok(d(2000, 12, 25))),
            ("25 DESEMBER 2000", Ok(d(2000, 12, 25))),
            ("25-des-2000", Ok(d(2000, 12, 25))),
            ("10 Nopember 1945", Ok(d(1945, 11, 10))),
            ("10 Nop 1945", Ok(d(1945, 11, 10))),
            ("2 Pebruari 1950", Ok(d(1950, 2, 2))),
            ("2 Peb 1950", Ok(d(1950, 2, 2))),
            ("2 Feb 1950", Ok(d(1950, 2, 2))),
            ("9 Sept 1950", Ok(d(1950, 9, 9))),
            ("9 sep 1950", Ok(d(1950, 9, 9))),
            ("6 Jun 1950", Ok(d(1950, 6, 6))),
            ("6 Jul 1950", Ok(d(1950, 7, 6))),
            ("6 Maret 1950", Ok(d(1950, 3, 6))),
            ("6 Mar 1950", Ok(d(1950, 3, 6))),
            ("15 May 1990", Ok(d(1990, 5, 15))),
            ("15 October 1990", Ok(d(1990, 10, 15))),
            ("15 Oct 1990", Ok(d(1990, 10, 15))),
            ("May 15, 1990", Ok(d(1990, 5, 15))),
            ("December 25, 2000", Ok(d(2000, 12, 25))),
            ("1990-Mei-15", Ok(d(1990, 5, 15))),
            ("15MEI1990", Ok(d(1990, 5, 15))),
            // Errors.
            ("", Err("DATE_EMPTY")),
            ("   ", Err("DATE_EMPTY")),
            ("15-05-90", Err("DATE_UNRECOGNISED")),
            ("15/05-1990", Err("DATE_UNRECOGNISED")),
            ("1990", Err("DATE_UNRECOGNISED")),
            ("abc", Err("DATE_UNRECOGNISED")),
            ("15 Ju 1990", Err("DATE_UNRECOGNISED")),
            ("15 Foo 1990", Err("DATE_UNRECOGNISED")),
            ("15 Mei", Err("DATE_UNRECOGNISED")),
            ("15-05-1990-01", Err("DATE_UNRECOGNISED")),
            ("15_05_1990", Err("DATE_UNRECOGNISED")),
            ("1990-05-15 junk:", Err("DATE_UNRECOGNISED")),
            ("٢٠٠٠-٠١-٠١", Err("DATE_UNRECOGNISED")),
            ("15\u{0}05\u{0}1990", Err("DATE_UNRECOGNISED")),
            ("1234567", Err("DATE_UNRECOGNISED")),
            ("-5", Err("DATE_UNRECOGNISED")),
            ("32874.", Err("DATE_UNRECOGNISED")),
            ("31-04-1990", Err("DATE_IMPOSSIBLE")),
            ("30-02-2000", Err("DATE_IMPOSSIBLE")),
            ("29-02-1900", Err("DATE_IMPOSSIBLE")),
            ("29-02-2001", Err("DATE_IMPOSSIBLE")),
            ("15-13-1990", Err("DATE_IMPOSSIBLE")),
            ("00-01-1990", Err("DATE_IMPOSSIBLE")),
            ("1990-02-30", Err("DATE_IMPOSSIBLE")),
            ("32 Mei 1990", Err("DATE_IMPOSSIBLE")),
            ("60", Err("DATE_IMPOSSIBLE")),
            ("0", Err("DATE_IMPOSSIBLE")),
            ("19901315", Err("DATE_IMPOSSIBLE")),
            ("15-05-1849", Err("DATE_OUT_OF_RANGE")),
            ("01-01-2101", Err("DATE_OUT_OF_RANGE")),
            ("0001-01-01", Err("DATE_OUT_OF_RANGE")),
            ("15 Mei 9999", Err("DATE_OUT_OF_RANGE")),
            ("999999", Err("DATE_OUT_OF_RANGE")),
            ("73416", Err("DATE_OUT_OF_RANGE")),
            ("73415", Ok(d(2100, 12, 31))),
            ("29-02-2000", Ok(d(2000, 2, 29))),
            ("01-01-1850", Ok(d(1850, 1, 1))),
            ("31-12-2100", Ok(d(2100, 12, 31))),
        ];
        for (input, want) in cases {
            check(input, *want);
        }
    }

    #[test]
    fn explicit_formats() {
        let cases: &[(&str, &str, Result<NaiveDate, &str>)] = &[
            ("15-05-1990", "DD-MM-YYYY", Ok(d(1990, 5, 15))),
            ("5-5-1990", "dd-mm-yyyy", Ok(d(1990, 5, 5))),
            ("15/05/1990", "DD-MM-YYYY", Err("DATE_UNRECOGNISED")),
            ("15/05/1990", "DD/MM/YYYY", Ok(d(1990, 5, 15))),
            ("1990-05-15", "DD/MM/YYYY", Err("DATE_UNRECOGNISED")),
            ("15.05.1990", "DD.MM.YYYY", Ok(d(1990, 5, 15))),
            ("1990-05-15", "YYYY-MM-DD", Ok(d(1990, 5, 15))),
            ("1990-05-15 00:00:00", "YYYY-MM-DD", Ok(d(1990, 5, 15))),
            ("15-05-1990", "YYYY-MM-DD", Err("DATE_UNRECOGNISED")),
            ("1990-02-30", "YYYY-MM-DD", Err("DATE_IMPOSSIBLE")),
            ("1800-02-01", "YYYY-MM-DD", Err("DATE_OUT_OF_RANGE")),
            ("32874", "EXCEL", Ok(d(1990, 1, 1))),
            ("1990", "EXCEL", Ok(d(1905, 6, 12))),
            ("32874.0", " excel ", Ok(d(1990, 1, 1))),
            ("15-05-1990", "EXCEL", Err("DATE_UNRECOGNISED")),
            ("60", "EXCEL", Err("DATE_IMPOSSIBLE")),
            ("15 Mei 1990", "AUTO", Ok(d(1990, 5, 15))),
            ("", "DD-MM-YYYY", Err("DATE_EMPTY")),
            ("15-05-1990", "MM/DD/YYYY", Err("DATE_UNKNOWN_FORMAT")),
            ("19900515", "YYYYMMDD", Ok(d(1990, 5, 15))),
            ("15051990", "YYYYMMDD", Err("DATE_OUT_OF_RANGE")),
            ("19901315", "YYYYMMDD", Err("DATE_IMPOSSIBLE")),
            ("1990-05-15", "YYYYMMDD", Err("DATE_UNRECOGNISED")),
            ("15051990", "ddmmyyyy", Ok(d(1990, 5, 15))),
            ("1505199", "DDMMYYYY", Err("DATE_UNRECOGNISED")),
            ("15-05-85", "DD-MM-YY", Ok(d(1985, 5, 15))),
            ("15/05/85", "DD/MM/YY", Ok(d(1985, 5, 15))),
            ("15.05.85", "DD.MM.YY", Ok(d(1985, 5, 15))),
            ("1/2/03", "DD/MM/YY", Ok(d(2003, 2, 1))),
            ("31/12/29", "DD/MM/YY", Ok(d(2029, 12, 31))),
            ("01/01/30", "DD/MM/YY", Ok(d(1930, 1, 1))),
            ("15/05/1985", "DD/MM/YY", Err("DATE_UNRECOGNISED")),
            ("15-05-85", "DD/MM/YY", Err("DATE_UNRECOGNISED")),
            ("31/02/85", "DD/MM/YY", Err("DATE_IMPOSSIBLE")),
            ("15-05-1990", "", Err("DATE_UNKNOWN_FORMAT")),
        ];
        for (input, format, want) in cases {
            let got = parse_date_format(input, format).map_err(|e| e.code());
            assert_eq!(got, *want, "input {input:?} format {format:?}");
        }
        for f in DateFormat::ALL {
            assert_eq!(DateFormat::from_name(f.name()), Some(f));
            assert_eq!(f.parse(f.example()), Ok(d(1945, 8, 17)), "{f}");
            assert_eq!(f.name().parse::<DateFormat>(), Ok(f));
        }
    }

    /// Two-digit years: refused by `parse_date` (the roster path's behaviour), read with the
    /// pivot by `parse_date_shape` when asked, and every shape named.
    #[test]
    fn shapes_and_two_digit_years() {
        type Want = Result<(NaiveDate, DateShape), &'static str>;
        let p = Some(TWO_DIGIT_YEAR_PIVOT);
        let cases: &[(&str, Option<u32>, Want)] = &[
            (
                "15/05/85",
                p,
                Ok((d(1985, 5, 15), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "15-05-85",
                p,
                Ok((d(1985, 5, 15), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "5.3.07",
                p,
                Ok((d(2007, 3, 5), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "01/01/29",
                p,
                Ok((d(2029, 1, 1), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "01/01/30",
                p,
                Ok((d(1930, 1, 1), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "01/01/00",
                p,
                Ok((d(2000, 1, 1), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "01/01/99",
                Some(50),
                Ok((d(1999, 1, 1), DateShape::DayFirstTwoDigitYear)),
            ),
            (
                "01/01/49",
                Some(50),
                Ok((d(2049, 1, 1), DateShape::DayFirstTwoDigitYear)),
            ),
            ("15/05/85", None, Err("DATE_UNRECOGNISED")),
            ("31/04/85", p, Err("DATE_IMPOSSIBLE")),
            ("15/05/5", p, Err("DATE_UNRECOGNISED")),
            ("15/05/085", p, Err("DATE_UNRECOGNISED")),
            ("85/05/15", p, Err("DATE_IMPOSSIBLE")),
            (
                "19850515",
                p,
                Ok((d(1985, 5, 15), DateShape::CompactYearFirst)),
            ),
            (
                "15051985",
                None,
                Ok((d(1985, 5, 15), DateShape::CompactDayFirst)),
            ),
            (
                "1985-05-15",
                None,
                Ok((d(1985, 5, 15), DateShape::YearFirst)),
            ),
            ("15/05/1985", p, Ok((d(1985, 5, 15), DateShape::DayFirst))),
            (
                "15 Mei 1985",
                None,
                Ok((d(1985, 5, 15), DateShape::MonthName)),
            ),
            ("31182", None, Ok((d(1985, 5, 15), DateShape::ExcelSerial))),
            ("", p, Err("DATE_EMPTY")),
            ("19851315", p, Err("DATE_IMPOSSIBLE")),
        ];
        for (input, pivot, want) in cases {
            let got = parse_date_shape(input, *pivot).map_err(|e| e.code());
            assert_eq!(got, *want, "input {input:?} pivot {pivot:?}");
            // Without a pivot, the date is parse_date's.
            if pivot.is_none() {
                assert_eq!(
                    parse_date_shape(input, None).map(|(x, _)| x),
                    parse_date(input)
                );
            }
        }
        assert_eq!(
            parse_date("15/05/85").map_err(|e| e.code()),
            Err("DATE_UNRECOGNISED")
        );
        for s in [
            DateShape::YearFirst,
            DateShape::ExcelSerial,
            DateShape::MonthName,
        ] {
            assert!(!s.name().is_empty());
        }
        let huge = format!("{}15/05/85", "1".repeat(100));
        assert!(parse_date_shape(&huge, p).is_err());
    }

    #[test]
    fn excel_serials() {
        let cases: &[(f64, Option<NaiveDate>)] = &[
            (1.0, Some(d(1900, 1, 1))),
            (59.0, Some(d(1900, 2, 28))),
            (59.99, Some(d(1900, 2, 28))),
            (60.0, None),
            (61.0, Some(d(1900, 3, 1))),
            (32874.0, Some(d(1990, 1, 1))),
            (36585.0, Some(d(2000, 2, 29))),
            (45658.5, Some(d(2025, 1, 1))),
            (2_958_465.0, Some(d(9999, 12, 31))),
            (2_958_466.0, None),
            (0.0, None),
            (0.5, None),
            (-1.0, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
        ];
        for (serial, want) in cases {
            assert_eq!(from_excel_serial(*serial), *want, "serial {serial}");
        }
    }

    #[test]
    fn messages_are_bilingual_and_specific() {
        let all = [
            DateError::Empty,
            DateError::Unrecognised { expected: None },
            DateError::Unrecognised {
                expected: Some(DateFormat::YmdDash),
            },
            DateError::Impossible {
                year: 1990,
                month: 4,
                day: 31,
            },
            DateError::OutOfRange { year: 1700 },
            DateError::UnknownFormat,
        ];
        for e in all {
            assert!(e.code().starts_with("DATE_"));
            assert!(!e.message_id().is_empty() && !e.message_en().is_empty());
            assert_eq!(e.to_string(), e.message_en());
        }
        assert!(all[2].message_id().contains("YYYY-MM-DD"));
        assert!(all[3].message_id().contains("31-04-1990"));
        assert!(all[4].message_en().contains("1700"));
    }

    #[test]
    fn hostile_input() {
        let huge = "1".repeat(1 << 20);
        check(&huge, Err("DATE_UNRECOGNISED"));
        let spaces = format!("{}15-05-1990{}", " ".repeat(1 << 20), " ".repeat(10));
        check(&spaces, Ok(d(1990, 5, 15)));
        for s in [
            ":",
            "T:",
            " :",
            "1:",
            "\u{0}",
            "é",
            "15 Méi 1990",
            "--",
            "...",
            ",,,",
        ] {
            let _ = parse_date(s);
            for f in DateFormat::ALL {
                let _ = f.parse(s);
            }
        }
    }
}
