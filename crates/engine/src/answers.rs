//! Validation as stages around explicit questions and answers, so one validator runs whether
//! the registries sit in this process (the embedded store) or on the owners' nodes (the
//! exchange):
//!
//! 1. **identity**: per row, an [`IdentityQuestion`] (the NIK as written, name, birth date,
//!    region) → an [`IdentityAnswer`] (the linked NIK, a suggested NIK with its score, or not
//!    found). Asked of the population registry's owner, whose linkage model it is.
//! 2. **population**: for a linked NIK, a [`PopulationQuestion`] → a [`PopulationAnswer`]
//!    (KK, head of family, sex, age, domicile, family size, death).
//! 3. **registries**: for the linked NIK and what the population answer named (KK, head), a
//!    [`RegistryQuestion`] → [`RegistryAnswers`] (BKN/TNI-Polri, wages, BPJS, DTSEN), each a
//!    `Lookup` that is `NotChecked` when the registry could not be asked, with the reason in
//!    [`RegistryAnswers::unasked`] or [`Answerer::unavailable`].
//!
//! The ledger and the rules ([`crate::Validator`]) are local to whoever validates. An
//! [`Answerer`] answers stages 1–3: [`crate::embedded::Embedded`] from [`crate::Registries`]
//! in memory; a node of the exchange over signed HTTP, its peers answering with the same
//! embedded functions over their own data. No I/O here.

use serde::{Deserialize, Serialize};
use sinergi_linkage::Query;
use sinergi_model::Sex;
use sinergi_model::standard::Table;
use sinergi_rules::{BpjsMembership, CivilServant, Death, Dtsen, Lookup, Source, Wage};

use crate::facts::RosterRow;

pub use crate::validator::Resolved as IdentityAnswer;

/// What a list row says about who it is: the identity question.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityQuestion {
    /// The NIK cell as written.
    pub nik_raw: String,
    /// The NIK when the cell parsed as one.
    pub nik: Option<u64>,
    /// The name as written.
    pub name: String,
    /// Birth date `YYYY-MM-DD` when it parsed.
    pub birth_date: Option<String>,
    /// Village code (10 digits) as a number.
    pub region: Option<u64>,
    /// Sex as listed, when the list states it.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// The family card number (KK) the row lists.
    #[serde(default)]
    pub kk: Option<u64>,
}

impl IdentityQuestion {
    /// The identity question of a roster row.
    pub fn of(row: &RosterRow) -> IdentityQuestion {
        IdentityQuestion {
            nik_raw: row.nik_raw.clone(),
            nik: row.nik,
            name: row.name.clone(),
            birth_date: row.birth_date.clone(),
            region: row.village,
            sex: row.sex,
            kk: row.kk,
        }
    }

    /// The linkage query.
    pub fn query(&self) -> Query {
        Query {
            nik_raw: (!self.nik_raw.is_empty()).then(|| self.nik_raw.clone()),
            nik: self.nik,
            name: self.name.clone(),
            birth_date: self
                .birth_date
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            sex: self.sex,
            region: self.region,
            kk: self.kk,
        }
    }
}

/// The question to the population registry about a linked person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationQuestion {
    /// The linked NIK.
    pub nik: u64,
    /// The period of the row (age is counted at its first day).
    pub period: String,
    /// Whether the head of the person's family is asked for (family programmes).
    pub head: bool,
}

/// What the population registry says about a linked person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PopulationAnswer {
    /// The person's KK.
    pub kk: u64,
    /// Village of domicile (10 digits) as a number, 0 when unknown.
    pub village: u64,
    /// Flagged head of family on the KK.
    pub is_head: bool,
    /// Sex as recorded.
    pub sex: Option<Sex>,
    /// Age in whole years at the first day of the period.
    pub age: Option<u32>,
    /// Members of the KK.
    pub family_size: u32,
    /// The head of the KK, when asked and recorded.
    pub head: Option<u64>,
    /// The death registry's answer.
    pub death: Lookup<Death>,
}

/// The question to the other registries about a linked person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryQuestion {
    /// The linked NIK.
    pub nik: u64,
    /// The person's KK (DTSEN holds deciles by family).
    pub kk: u64,
    /// The head of the family, when the programme's checks are about the head.
    pub head: Option<u64>,
}

/// What the other registries say about a linked person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryAnswers {
    /// BKN / TNI-Polri about the person.
    pub civil_servant: Lookup<CivilServant>,
    /// BKN / TNI-Polri about the head of the family.
    pub head_civil_servant: Lookup<CivilServant>,
    /// Formal wages of the person.
    pub wage: Lookup<Wage>,
    /// Formal wages of the head.
    pub head_wage: Lookup<Wage>,
    /// BPJS Kesehatan membership.
    pub bpjs: Lookup<BpjsMembership>,
    /// DTSEN decile of the family.
    pub dtsen: Lookup<Dtsen>,
    /// Registries that could not be asked about this person, and why.
    #[serde(skip)]
    pub unasked: Vec<(Table, Unasked)>,
}

/// Why a registry was not asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unasked {
    /// Stable code: `NOT_LOADED`, `NO_AGREEMENT`, `REFUSED`, `UNREACHABLE`, ...
    pub why: &'static str,
    /// In Bahasa Indonesia.
    pub why_id: String,
    /// In English.
    pub why_en: String,
}

impl Unasked {
    /// The table is not loaded here.
    pub fn not_loaded(table: Table) -> Unasked {
        let info = crate::provenance::table_info(table);
        Unasked {
            why: "NOT_LOADED",
            why_id: format!("{} belum dimuat", info.name_id),
            why_en: format!("{} not loaded", info.name_en),
        }
    }
}

/// Answers the identity, population and registry questions of validation. Every method
/// answers a block of questions in order (one answer per question).
pub trait Answerer: Send + Sync {
    /// Learns the identity model from a sample of the list (its first block), where the
    /// population registry is.
    fn train(&mut self, sample: &[IdentityQuestion]);
    /// Stage 1.
    fn identify(&self, questions: &[IdentityQuestion]) -> Vec<IdentityAnswer>;
    /// A hint: these identity questions will be asked next (the next block of the list). An
    /// answerer that asks another node may start asking now, so that the answers are there
    /// when [`Answerer::identify`] asks the same questions; one that answers at once ignores
    /// it. Asking different questions, or never asking, leaves the answers unused.
    fn prepare(&self, _questions: &[IdentityQuestion]) {}
    /// Stage 2; `None` when the population registry holds no such person.
    fn population(&self, questions: &[PopulationQuestion]) -> Vec<Option<PopulationAnswer>>;
    /// Stage 3.
    fn registries(&self, questions: &[RegistryQuestion]) -> Vec<RegistryAnswers>;
    /// The population registry an identity answer cites.
    fn identity_source(&self) -> Source;
    /// Why a registry cannot be asked at all (not loaded, no agreement), `None` when it can.
    fn unavailable(&self, table: Table) -> Option<Unasked>;
}
