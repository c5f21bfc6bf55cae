//! The facts about one row of a recipient list: what the engine found in each registry, with
//! where and when it found it. This is the contract between the engine (which fills it) and
//! the rules (which only read it).
//!
//! Three states are kept apart for every registry question ([`Lookup`]):
//! not asked ([`Lookup::NotChecked`]: no snapshot loaded, no agreement, or no person to ask
//! about), asked and no record ([`Lookup::Absent`]), asked and found ([`Lookup::Found`]).
//! A check whose data was not asked is listed in [`crate::Verdict::not_checked`]; it never
//! produces a reason.

use serde::{Deserialize, Serialize};
use sinergi_model::{RegionCode, Sex};

/// Where a fact was read from. Every reason carries the source of the fact that raised it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    /// The agency that owns the data, as citizens know it: `Dukcapil`, `DTSEN (BPS)`,
    /// `BPJS Kesehatan`, `BKN`, `TNI/Polri`, `BPJS Ketenagakerjaan`, `Daftar (list itself)`.
    pub agency: String,
    /// The dataset within the agency, e.g. `penduduk`, `kematian`, `dtsen`, `roster PKH`.
    pub dataset: String,
    /// The snapshot (version) id of the dataset that was read.
    pub version: String,
    /// The date the data describes (`YYYY-MM-DD`, the extract's reference date), or empty
    /// when nobody said: then the reason names the load date instead, as a load date.
    pub as_of: String,
    /// When the snapshot was loaded (`YYYY-MM-DD`), for data whose reference date is unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub loaded: String,
}

impl Source {
    /// Shorthand constructor.
    pub fn new(agency: &str, dataset: &str, version: &str, as_of: &str) -> Source {
        Source {
            agency: agency.to_owned(),
            dataset: dataset.to_owned(),
            version: version.to_owned(),
            as_of: as_of.to_owned(),
            loaded: String::new(),
        }
    }
}

/// A value with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed<T> {
    /// The value.
    pub value: T,
    /// Where it was read.
    pub source: Source,
}

/// The answer of one registry to one question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "lookup", rename_all = "snake_case")]
pub enum Lookup<T> {
    /// The registry was not asked (not loaded, not permitted, or nobody to ask about).
    #[default]
    NotChecked,
    /// The registry was asked and holds no record.
    Absent {
        /// The snapshot that was asked.
        source: Source,
    },
    /// The registry holds this record.
    Found {
        /// The record.
        value: T,
        /// The snapshot it was read from.
        source: Source,
    },
}

impl<T> Lookup<T> {
    /// The record and its source, when found.
    pub fn found(&self) -> Option<(&T, &Source)> {
        match self {
            Lookup::Found { value, source } => Some((value, source)),
            _ => None,
        }
    }

    /// Whether the registry was asked.
    pub fn checked(&self) -> bool {
        !matches!(self, Lookup::NotChecked)
    }

    /// The record, when found.
    pub fn value(&self) -> Option<&T> {
        self.found().map(|(v, _)| v)
    }
}

/// What the population registry (and the NIK structure checks) say about the NIK in the row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NikStatus {
    /// Nothing is known: the NIK was not checked.
    #[default]
    NotChecked,
    /// The NIK exists and belongs to the person the row describes.
    Valid,
    /// The NIK cell fails the structural checks (length, region, date, serial; a 16-digit
    /// number truncated to 15 significant digits by a spreadsheet). `problems` are the
    /// stable codes of the NIK parser. Raises `NIK_INVALID`.
    Invalid {
        /// Parser problem codes, e.g. `NIK_BAD_DATE`.
        problems: Vec<String>,
    },
    /// The NIK cell is empty. Raises `NIK_INVALID`.
    Missing,
    /// Structurally valid, but no such NIK in the population registry. Raises `NIK_NOT_FOUND`.
    NotFound,
    /// The NIK exists, but its registry record is a different person than the row describes
    /// (name/birth date disagree beyond spelling variants). Raises `IDENTITY_MISMATCH`.
    ExactMismatch,
}

impl NikStatus {
    /// The status code as exposed to CEL (`person.nik_status`).
    pub const fn as_str(&self) -> &'static str {
        match self {
            NikStatus::NotChecked => "NOT_CHECKED",
            NikStatus::Valid => "VALID",
            NikStatus::Invalid { .. } => "INVALID",
            NikStatus::Missing => "MISSING",
            NikStatus::NotFound => "NOT_FOUND",
            NikStatus::ExactMismatch => "EXACT_MISMATCH",
        }
    }
}

/// The person record linkage proposes for a row whose NIK is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The likely right NIK.
    pub suggested_nik: String,
    /// Linkage confidence, 0.0–1.0.
    pub score: f64,
}

/// Identity of the row's person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityFacts {
    /// The verdict on the NIK written in the row.
    pub nik_status: NikStatus,
    /// The population snapshot the NIK was looked up in (Dukcapil). `NIK_INVALID` uses the
    /// row's own source instead.
    pub source: Source,
    /// The person linkage proposes when the listed NIK is invalid, missing, not found or
    /// someone else's. Carried in the reason's detail; the engine decides whether the other
    /// registries are then asked about the linked person.
    pub link: Option<Link>,
    /// Whether the person is on the No KK stated in the row. `None`: no KK stated, or the
    /// person is unknown.
    pub kk_stated_matches: Option<bool>,
    /// The person whose records the other facts describe was inferred by linkage (a suggested
    /// NIK), not read from a valid listed NIK. Every reason that rests on them is then at most
    /// TINJAU: nobody is cut off on a guess.
    #[serde(default)]
    pub inferred: bool,
    /// Small differences between the row and the linked person's registry record (a name
    /// typo, a default birth date): the row is still that person; the list needs correcting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slips: Vec<Slip>,
}

/// A small difference between a row and the registry record of the person it is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Slip {
    /// The name is written differently (a typo, a missing or extra word, initials).
    Name,
    /// The birth date is a default date (1 January, 31 December, 1 July) where the registry
    /// has the real one.
    DefaultBirthDate,
    /// The birth date differs slightly (a day typo, day and month swapped, year off by one).
    BirthDate,
    /// The NIK was typed into a number cell (Excel keeps 15 significant digits), but its
    /// digits are exactly the registry NIK of a person whose name and birth date agree.
    NikNumberCell,
}

/// The row as it stands in the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RowFacts {
    /// 1-based data row number in the list.
    pub number: u64,
    /// The list itself: agency `Daftar (list itself)`, dataset the list's name, version the
    /// upload id, `as_of` the upload date or period.
    pub source: Source,
    /// For a row whose person already appeared in an earlier row of the same list: that
    /// earlier row's number. The first occurrence has `None`.
    pub duplicate_of_row: Option<u64>,
    /// The earlier row's person (see `duplicate_of_row`) was inferred by linkage.
    #[serde(default)]
    pub duplicate_inferred: bool,
    /// The region the list is for, for this row: the row's Kode Desa (village). The rules
    /// compare it with the domicile at the programme's `region_scope`.
    pub list_region: Option<RegionCode>,
}

/// ASN / TNI / Polri membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CivilServantKind {
    /// Pegawai Negeri Sipil (BKN).
    Pns,
    /// Pegawai Pemerintah dengan Perjanjian Kerja (BKN).
    Pppk,
    /// Tentara Nasional Indonesia.
    Tni,
    /// Kepolisian RI.
    Polri,
    /// Only the occupation text of the population record says so (JENIS_PKRJN).
    Occupation(String),
}

impl CivilServantKind {
    /// Short code for CEL (`PNS`, `PPPK`, `TNI`, `POLRI`, `OCCUPATION`).
    pub const fn as_str(&self) -> &'static str {
        match self {
            CivilServantKind::Pns => "PNS",
            CivilServantKind::Pppk => "PPPK",
            CivilServantKind::Tni => "TNI",
            CivilServantKind::Polri => "POLRI",
            CivilServantKind::Occupation(_) => "OCCUPATION",
        }
    }
}

/// A civil-servant record (BKN, TNI/Polri, or Dukcapil occupation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CivilServant {
    /// What kind.
    pub kind: CivilServantKind,
}

/// A death record (Dukcapil).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// Date of death, `YYYY-MM-DD`.
    pub date: String,
}

/// A formal wage (BPJS Ketenagakerjaan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wage {
    /// Monthly wage in rupiah.
    pub monthly: u64,
}

/// BPJS Kesehatan membership segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BpjsSegment {
    /// Premium paid by the central budget.
    #[serde(rename = "PBI_APBN")]
    PbiApbn,
    /// Premium paid by a regional budget.
    #[serde(rename = "PBI_APBD")]
    PbiApbd,
    /// Pekerja Penerima Upah: formal employee, premium paid with the employer.
    #[serde(rename = "PPU")]
    Ppu,
    /// Pekerja Bukan Penerima Upah: self-paying.
    #[serde(rename = "PBPU")]
    Pbpu,
    /// Bukan Pekerja: non-worker.
    #[serde(rename = "BP")]
    Bp,
}

impl BpjsSegment {
    /// The segment code.
    pub const fn as_str(self) -> &'static str {
        match self {
            BpjsSegment::PbiApbn => "PBI_APBN",
            BpjsSegment::PbiApbd => "PBI_APBD",
            BpjsSegment::Ppu => "PPU",
            BpjsSegment::Pbpu => "PBPU",
            BpjsSegment::Bp => "BP",
        }
    }
}

/// A BPJS Kesehatan membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpjsMembership {
    /// Segment.
    pub segment: BpjsSegment,
    /// Status AKTIF.
    pub active: bool,
    /// Under treatment for a catastrophic illness (`katastropik`).
    pub catastrophic: bool,
}

/// A DTSEN family record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dtsen {
    /// Welfare decile, 1 (poorest) to 10.
    pub decile: u8,
}

/// Facts about the person of the row (the linked person when linkage replaced the NIK).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonFacts {
    /// Sex from the population record.
    pub sex: Option<Sex>,
    /// Age in completed years at the start of the period.
    pub age: Option<u32>,
    /// Whether the person is the head of their KK (STAT_HBKEL).
    pub is_family_head: Option<bool>,
    /// Domicile village from the population record.
    pub domicile: Lookup<RegionCode>,
    /// Death record.
    pub death: Lookup<Death>,
    /// BKN / TNI-Polri record (merged by the engine; `Absent` names the registries asked).
    pub civil_servant: Lookup<CivilServant>,
    /// Formal wage.
    pub wage: Lookup<Wage>,
    /// The minimum wage (monthly rupiah) that applies at the domicile: the regency's UMK, or
    /// its province's UMP where the UMK is not known ([`PersonFacts::umk_level`] says which).
    pub umk: Option<Observed<u64>>,
    /// Which minimum wage [`PersonFacts::umk`] is, so the reason names it correctly.
    #[serde(default)]
    pub umk_level: sinergi_model::minwage::WageLevel,
    /// BPJS Kesehatan membership.
    pub bpjs: Lookup<BpjsMembership>,
}

/// Facts about the person's family (their current KK).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FamilyFacts {
    /// The KK number used (the registry's current KK of the person).
    pub kk: Option<String>,
    /// Number of members on the KK.
    pub size: Option<u32>,
    /// The family's DTSEN record (decile).
    pub dtsen: Lookup<Dtsen>,
    /// Civil-servant record of the head of the KK (family programmes). When the person is
    /// the head, the engine may fill it with the same record as the person's.
    pub head_civil_servant: Lookup<CivilServant>,
    /// Formal wage of the head of the KK (family programmes).
    pub head_wage: Lookup<Wage>,
    /// Other programmes (codes) the same KK receives in the same period, from all rosters
    /// loaded for that period; `value` may be empty. `None`: not checked.
    pub other_programs: Option<Observed<Vec<String>>>,
}

/// Everything the rules read about one row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The row itself.
    pub row: RowFacts,
    /// Identity and linkage outcome.
    pub identity: IdentityFacts,
    /// The person.
    pub person: PersonFacts,
    /// The person's family.
    pub family: FamilyFacts,
}

impl Facts {
    /// Facts for a row about which nothing has been checked yet.
    pub fn new(row_number: u64, list_source: Source) -> Facts {
        Facts {
            row: RowFacts {
                number: row_number,
                source: list_source,
                ..RowFacts::default()
            },
            ..Facts::default()
        }
    }
}
