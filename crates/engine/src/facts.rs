//! Gathering what the registries say about one linked person: the engine's side of the rules'
//! facts. Pure lookups in [`Registries`]; no I/O.

use sinergi_model::standard::{Record, Table, Value};
use sinergi_model::{Level, RegionCode};

use crate::keymap::id16;
use crate::registries::{
    EmploymentKind, OCC_ANY, OCC_PNS, OCC_POLRI, OCC_TNI, Registries, Segment, record_text,
    region_number,
};

/// One row of a roster, from a canonical `roster_entry` record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterRow {
    /// Row number (`No`): the listed number, or the data row's position in the file when
    /// the list's id is not a number (see `row_id`).
    pub row_no: u64,
    /// The row's id as listed (`No`), e.g. `12` or `R00000012`; empty when none.
    pub row_id: String,
    /// Sex as listed (`L`/`P`), when the list has it; linkage compares it.
    pub sex: Option<sinergi_model::Sex>,
    /// Birth place as listed.
    pub birth_place: String,
    /// Programme code.
    pub program: String,
    /// Period.
    pub period: String,
    /// NIK as written.
    pub nik_raw: String,
    /// NIK when it parsed (ingest validated it).
    pub nik: Option<u64>,
    /// KK as stated, when it parsed.
    pub kk: Option<u64>,
    /// Name as written.
    pub name: String,
    /// Birth date `YYYY-MM-DD` when it parsed.
    pub birth_date: Option<String>,
    /// Address as written.
    pub address: String,
    /// Village code (10 digits) as a number.
    pub village: Option<u64>,
    /// Benefit amount.
    pub amount: Option<i64>,
}

impl RosterRow {
    /// Reads a `roster_entry` record. `fallback_row_no` is used when `row_no` is missing.
    pub fn from_record(r: &Record, fallback_row_no: u64) -> RosterRow {
        debug_assert_eq!(r.table, Table::RosterEntry);
        let s = |f: &str| record_text(r, f).unwrap_or("").to_string();
        let int = |f: &str| match r.get(f) {
            Some(Value::Integer(i)) => Some(*i),
            Some(Value::Text(t)) => t.trim().parse().ok(),
            _ => None,
        };
        let row_id = match r.get("row_no") {
            Some(Value::Integer(i)) => i.to_string(),
            Some(Value::Text(t)) => t.trim().to_string(),
            _ => String::new(),
        };
        let sex = match record_text(r, "sex").map(|s| s.trim().to_ascii_uppercase()) {
            Some(s) if s == "L" => Some(sinergi_model::Sex::L),
            Some(s) if s == "P" => Some(sinergi_model::Sex::P),
            _ => None,
        };
        RosterRow {
            row_no: int("row_no")
                .and_then(|i| u64::try_from(i).ok())
                .unwrap_or(fallback_row_no),
            row_id,
            sex,
            birth_place: s("birth_place"),
            program: s("program"),
            period: s("period"),
            nik_raw: match r.get("nik_raw") {
                Some(Value::Text(t)) => t.clone(),
                _ => String::new(),
            },
            nik: record_text(r, "nik").and_then(id16),
            kk: record_text(r, "kk").and_then(id16),
            name: s("name"),
            birth_date: record_text(r, "birth_date").map(str::to_string),
            address: s("address"),
            village: record_text(r, "region").and_then(region_number),
            amount: int("amount"),
        }
    }

    /// Village as a region code.
    pub fn region_code(&self) -> Option<RegionCode> {
        self.village
            .and_then(|v| RegionCode::parse(&format!("{v:010}")).ok())
    }
}

/// How a programme is targeted, as far as gathering facts is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targeting {
    /// Family programme (PKH, BPNT, BLT DD): decile of the family, head of KK counts for
    /// CIVIL_SERVANT.
    pub family: bool,
    /// Region level of the list for OUT_OF_REGION (regency, or village for BLT Dana Desa).
    pub region_level: Level,
}

/// Where a civil-servant fact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CivilServantSource {
    /// Employment registry (BKN or TNI/Polri); index into its provenance list.
    Employment(u8),
    /// Dukcapil occupation text.
    Occupation,
}

/// A civil-servant finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilServant {
    /// PNS, PPPK, TNI or POLRI.
    pub kind: EmploymentKind,
    /// The recipient (true) or the head of their KK (false).
    pub is_self: bool,
    /// The head's NIK when `is_self` is false.
    pub head_nik: Option<u64>,
    /// Source.
    pub source: CivilServantSource,
}

/// What the registries say about a linked person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonFindings {
    /// The person's KK in the registry.
    pub kk_registry: Option<u64>,
    /// The KK stated in the list is not the person's KK.
    pub kk_mismatch: bool,
    /// Date of death (`YYYYMMDD`, 0 when unknown) if recorded.
    pub deceased: Option<u32>,
    /// ASN/TNI/Polri finding.
    pub civil_servant: Option<CivilServant>,
    /// Monthly formal wage (sum over employers) if reported.
    pub wage: Option<u64>,
    /// UMK of the domicile regency.
    pub umk: Option<u64>,
    /// DTSEN decile (family's for family programmes, else the person's; falls back to the
    /// other when missing).
    pub decile: Option<u8>,
    /// BPJS Kesehatan segment.
    pub segment: Option<Segment>,
    /// Membership active.
    pub segment_active: bool,
    /// Under catastrophic-illness treatment.
    pub catastrophic: bool,
    /// Domicile village (10-digit number).
    pub domicile: Option<u64>,
    /// Domicile outside the list's region.
    pub out_of_region: bool,
}

fn occupation_kind(flags: u8) -> Option<EmploymentKind> {
    if flags & OCC_ANY == 0 {
        None
    } else if flags & OCC_PNS != 0 {
        Some(EmploymentKind::Pns)
    } else if flags & OCC_TNI != 0 {
        Some(EmploymentKind::Tni)
    } else if flags & OCC_POLRI != 0 {
        Some(EmploymentKind::Polri)
    } else {
        None
    }
}

impl Registries {
    /// Civil-servant status of one NIK from the employment registry (BKN, TNI/Polri).
    /// Dukcapil's occupation text is not used (docs/TRUTH.md: it lags behind retirements and
    /// deaths, and PPPK staff appear as KARYAWAN HONORER); [`Registries::occupation_of`] gives
    /// it for display.
    pub fn civil_servant_of(&self, nik: u64) -> Option<(EmploymentKind, CivilServantSource)> {
        self.employment
            .get(nik)
            .map(|e| (e.kind, CivilServantSource::Employment(e.dataset)))
    }

    /// The civil-servant kind Dukcapil's occupation text suggests (not evidence on its own).
    pub fn occupation_of(&self, nik: u64) -> Option<EmploymentKind> {
        self.persons
            .get(nik)
            .and_then(|p| occupation_kind(p.flags()))
    }

    /// Gathers the findings about a linked person for a row.
    pub fn findings(&self, nik: u64, row: &RosterRow, t: Targeting) -> PersonFindings {
        let mut f = PersonFindings::default();
        let person = self.persons.get(nik);
        f.kk_registry = person.map(|p| p.kk);
        if let (Some(stated), Some(p)) = (row.kk, person) {
            f.kk_mismatch = stated != p.kk;
        }
        f.deceased = self.deaths.get(nik).copied();
        f.civil_servant = self
            .civil_servant_of(nik)
            .map(|(kind, source)| CivilServant {
                kind,
                is_self: true,
                head_nik: None,
                source,
            });
        if f.civil_servant.is_none() && t.family {
            if let Some(head) = person
                .and_then(|p| self.head_of(p.kk))
                .filter(|h| *h != nik)
            {
                f.civil_servant = self
                    .civil_servant_of(head)
                    .map(|(kind, source)| CivilServant {
                        kind,
                        is_self: false,
                        head_nik: Some(head),
                        source,
                    });
            }
        }
        f.wage = self.wages.get(nik).map(|w| w.total);
        f.domicile = person.map(|p| p.village()).filter(|v| *v != 0);
        if f.wage.is_some() {
            f.umk = f
                .domicile
                .and_then(|v| RegionCode::parse(&format!("{:04}", v / 1_000_000)).ok())
                .and_then(sinergi_model::minwage::umk);
        }
        let by_nik = self.decile_by_nik.get(nik).copied();
        let by_kk = person.and_then(|p| self.decile_by_kk.get(p.kk).copied());
        f.decile = if t.family {
            by_kk.or(by_nik)
        } else {
            by_nik.or(by_kk)
        };
        if let Some(h) = self.health.get(nik) {
            f.segment = Some(h.segment);
            f.segment_active = h.active;
            f.catastrophic = h.catastrophic;
        }
        if let (Some(dom), Some(list)) = (f.domicile, row.village) {
            let div = match t.region_level {
                Level::Province => 100_000_000,
                Level::Regency => 1_000_000,
                Level::District => 10_000,
                Level::Village => 1,
            };
            f.out_of_region = dom / div != list / div;
        }
        f
    }
}
