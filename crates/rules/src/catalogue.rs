//! The built-in catalogue of reason codes (PRODUCT.md, "Rule catalogue"), their default
//! severities and the agency whose data each one is read from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A verdict, and the severity of one reason. Ordered from best to worst, so the verdict of a
/// row is the maximum severity of its (non-overridden) reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Decision {
    /// Eligible.
    #[serde(rename = "LAYAK")]
    Layak,
    /// Needs an officer's review.
    #[serde(rename = "TINJAU")]
    Tinjau,
    /// Not eligible.
    #[serde(rename = "TIDAK_LAYAK")]
    TidakLayak,
}

impl Decision {
    /// `LAYAK`, `TINJAU` or `TIDAK_LAYAK`: the stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Layak => "LAYAK",
            Decision::Tinjau => "TINJAU",
            Decision::TidakLayak => "TIDAK_LAYAK",
        }
    }

    /// `LAYAK`, `TINJAU` or `TIDAK LAYAK`: how officers write it.
    pub const fn label(self) -> &'static str {
        match self {
            Decision::Layak => "LAYAK",
            Decision::Tinjau => "TINJAU",
            Decision::TidakLayak => "TIDAK LAYAK",
        }
    }

    /// Parses a severity as written in a rules file. Only `TINJAU` and `TIDAK_LAYAK` are
    /// severities: a reason that does not lower the verdict is not a reason.
    pub fn parse_severity(s: &str) -> Option<Decision> {
        match s {
            "TINJAU" => Some(Decision::Tinjau),
            "TIDAK_LAYAK" => Some(Decision::TidakLayak),
            _ => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A built-in reason code. The declaration order is the order reasons appear in a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// The NIK cell fails structural checks, or is empty or truncated.
    NikInvalid,
    /// A structurally valid NIK that is not in the population registry.
    NikNotFound,
    /// The NIK exists but belongs to a different person than the row describes.
    IdentityMismatch,
    /// The person already appeared in an earlier row of the same list.
    DuplicateInList,
    /// The person is not on the stated KK.
    KkMismatch,
    /// A death is recorded.
    Deceased,
    /// ASN (PNS/PPPK), TNI or Polri; for family programmes also when the head of the KK is.
    CivilServant,
    /// Formal wage above the UMK of the domicile regency (person or, family programmes, head).
    WageAboveMinimum,
    /// BPJS Kesehatan segment PPU (formal employee), meaningful for PBI JK.
    FormalEmployeeInsured,
    /// The family's DTSEN decile is above the programme's cut.
    DecileAboveCut,
    /// The family has no DTSEN decile.
    NotInDtsen,
    /// The family also receives a programme that may not be combined with this one.
    ProgramOverlap,
    /// Domicile outside the region the list is for.
    OutOfRegion,
    /// PBI JK kept despite the decile: catastrophic illness under treatment.
    ExceptionCatastrophic,
    /// A custom CEL condition could not be evaluated for this row (not a catalogue code: it
    /// is raised by the evaluator, never configured).
    RuleError,
}

impl ReasonCode {
    /// Every code, in verdict order.
    pub const ALL: [ReasonCode; 15] = [
        ReasonCode::NikInvalid,
        ReasonCode::NikNotFound,
        ReasonCode::IdentityMismatch,
        ReasonCode::DuplicateInList,
        ReasonCode::KkMismatch,
        ReasonCode::Deceased,
        ReasonCode::CivilServant,
        ReasonCode::WageAboveMinimum,
        ReasonCode::FormalEmployeeInsured,
        ReasonCode::DecileAboveCut,
        ReasonCode::NotInDtsen,
        ReasonCode::ProgramOverlap,
        ReasonCode::OutOfRegion,
        ReasonCode::ExceptionCatastrophic,
        ReasonCode::RuleError,
    ];

    /// The checks a rules file may enable under `[reasons.CODE]`.
    pub const CHECKS: [ReasonCode; 13] = [
        ReasonCode::NikInvalid,
        ReasonCode::NikNotFound,
        ReasonCode::IdentityMismatch,
        ReasonCode::DuplicateInList,
        ReasonCode::KkMismatch,
        ReasonCode::Deceased,
        ReasonCode::CivilServant,
        ReasonCode::WageAboveMinimum,
        ReasonCode::FormalEmployeeInsured,
        ReasonCode::DecileAboveCut,
        ReasonCode::NotInDtsen,
        ReasonCode::ProgramOverlap,
        ReasonCode::OutOfRegion,
    ];

    /// The exceptions a rules file may list under `exceptions`.
    pub const EXCEPTIONS: [ReasonCode; 1] = [ReasonCode::ExceptionCatastrophic];

    /// The stable code, e.g. `NIK_INVALID`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NikInvalid => "NIK_INVALID",
            ReasonCode::NikNotFound => "NIK_NOT_FOUND",
            ReasonCode::IdentityMismatch => "IDENTITY_MISMATCH",
            ReasonCode::DuplicateInList => "DUPLICATE_IN_LIST",
            ReasonCode::KkMismatch => "KK_MISMATCH",
            ReasonCode::Deceased => "DECEASED",
            ReasonCode::CivilServant => "CIVIL_SERVANT",
            ReasonCode::WageAboveMinimum => "WAGE_ABOVE_MINIMUM",
            ReasonCode::FormalEmployeeInsured => "FORMAL_EMPLOYEE_INSURED",
            ReasonCode::DecileAboveCut => "DECILE_ABOVE_CUT",
            ReasonCode::NotInDtsen => "NOT_IN_DTSEN",
            ReasonCode::ProgramOverlap => "PROGRAM_OVERLAP",
            ReasonCode::OutOfRegion => "OUT_OF_REGION",
            ReasonCode::ExceptionCatastrophic => "EXCEPTION_CATASTROPHIC",
            ReasonCode::RuleError => "RULE_ERROR",
        }
    }

    /// Looks a code up by its stable name.
    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The catalogue's default severity. `EXCEPTION_CATASTROPHIC` is `LAYAK`: it lowers the
    /// verdict instead of raising it.
    pub const fn default_severity(self) -> Decision {
        match self {
            ReasonCode::NikInvalid
            | ReasonCode::DuplicateInList
            | ReasonCode::Deceased
            | ReasonCode::CivilServant
            | ReasonCode::FormalEmployeeInsured
            | ReasonCode::DecileAboveCut => Decision::TidakLayak,
            ReasonCode::NikNotFound
            | ReasonCode::IdentityMismatch
            | ReasonCode::KkMismatch
            | ReasonCode::WageAboveMinimum
            | ReasonCode::NotInDtsen
            | ReasonCode::ProgramOverlap
            | ReasonCode::OutOfRegion
            | ReasonCode::RuleError => Decision::Tinjau,
            ReasonCode::ExceptionCatastrophic => Decision::Layak,
        }
    }

    /// The agency whose data the reason is read from, as the catalogue names it.
    pub const fn agency(self) -> &'static str {
        match self {
            ReasonCode::NikInvalid | ReasonCode::DuplicateInList => "Daftar (list itself)",
            ReasonCode::NikNotFound
            | ReasonCode::IdentityMismatch
            | ReasonCode::KkMismatch
            | ReasonCode::Deceased
            | ReasonCode::OutOfRegion => "Dukcapil",
            ReasonCode::CivilServant => "BKN, TNI/Polri",
            ReasonCode::WageAboveMinimum => "BPJS Ketenagakerjaan",
            ReasonCode::FormalEmployeeInsured | ReasonCode::ExceptionCatastrophic => {
                "BPJS Kesehatan"
            }
            ReasonCode::DecileAboveCut | ReasonCode::NotInDtsen => "DTSEN (BPS)",
            ReasonCode::ProgramOverlap => "Daftar program lain (all rosters)",
            ReasonCode::RuleError => "Sinergi",
        }
    }

    /// A short title for officers, in Bahasa Indonesia and English (summary tables, column
    /// legends).
    pub const fn title(self) -> (&'static str, &'static str) {
        match self {
            ReasonCode::NikInvalid => ("NIK tidak sah atau kosong", "NIK invalid or missing"),
            ReasonCode::NikNotFound => (
                "NIK tidak ada di data kependudukan",
                "NIK not in the population registry",
            ),
            ReasonCode::IdentityMismatch => (
                "NIK milik orang lain (nama/tanggal lahir berbeda)",
                "NIK belongs to someone else (name/birth date differ)",
            ),
            ReasonCode::DuplicateInList => ("Ganda dalam daftar", "Duplicate in the list"),
            ReasonCode::KkMismatch => ("Tidak tercatat di KK tersebut", "Not on the stated KK"),
            ReasonCode::Deceased => ("Meninggal dunia", "Deceased"),
            ReasonCode::CivilServant => ("ASN/TNI/Polri", "Civil servant, military or police"),
            ReasonCode::WageAboveMinimum => ("Upah di atas upah minimum", "Wage above the minimum"),
            ReasonCode::FormalEmployeeInsured => (
                "Peserta BPJS Kesehatan PPU (pekerja formal)",
                "BPJS Kesehatan PPU member (formal employee)",
            ),
            ReasonCode::DecileAboveCut => {
                ("Desil DTSEN di atas batas", "DTSEN decile above the cut")
            }
            ReasonCode::NotInDtsen => ("Tidak ada di DTSEN", "Not in DTSEN"),
            ReasonCode::ProgramOverlap => (
                "Juga menerima program yang tidak boleh digabung",
                "Also receives a programme that may not be combined",
            ),
            ReasonCode::OutOfRegion => (
                "Domisili di luar wilayah daftar",
                "Domicile outside the list's region",
            ),
            ReasonCode::ExceptionCatastrophic => (
                "Pengecualian: penyakit katastropik",
                "Exception: catastrophic illness",
            ),
            ReasonCode::RuleError => ("Aturan tidak dapat dihitung", "Rule could not be evaluated"),
        }
    }

    /// Position in verdict order.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
