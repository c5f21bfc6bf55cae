//! Sinergi's domain types: the identifiers and values every agency's data passes through.
//!
//! - [`region`]: Kemendagri region codes ([`RegionCode`]) and the embedded 2025 table
//!   ([`wilayah()`]).
//! - [`nik`]: the 16-digit population number ([`Nik`]), parsed with every error and warning.
//! - [`kk`]: the family card number ([`Kk`]).
//! - [`name`]: person names with a normalised form for comparison ([`PersonName`]).
//! - [`date`]: dates as agencies write them ([`parse_date`]).
//! - [`standard`]: the canonical tables of the data standard ([`standard::Table`]).
//! - [`minwage`]: regional minimum wages (UMP/UMK) by region.
//! - [`lang`]: the language of user-facing text ([`Lang`]: Bahasa Indonesia or English).
//!
//! Architecture invariant: this crate does no I/O and knows nothing of HTTP, SQL or files.
//! Reference tables are compiled in with `include_str!` and parsed on first use.

pub mod date;
pub mod kk;
pub mod lang;
pub mod minwage;
pub mod name;
pub mod nik;
pub mod region;
pub mod standard;

pub use date::{
    DateError, DateFormat, DateShape, TWO_DIGIT_YEAR_PIVOT, from_excel_serial, parse_date,
    parse_date_format, parse_date_shape,
};
pub use kk::{Kk, KkError, KkParse, KkWarning};
pub use lang::Lang;
pub use name::{PersonName, name_tokens, normalize_name, phonetic_key};
pub use nik::{Nik, NikError, NikParse, NikWarning};
pub use region::{Level, NameLookupError, Region, RegionCode, Wilayah, wilayah};

use serde::{Deserialize, Serialize};

/// Sex as recorded by Dukcapil: `L` (laki-laki, JENIS_KLMIN 1) or `P` (perempuan, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Sex {
    /// Laki-laki (male).
    L,
    /// Perempuan (female).
    P,
}

impl Sex {
    /// `"L"` or `"P"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::L => "L",
            Sex::P => "P",
        }
    }
}
