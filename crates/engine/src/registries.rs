//! Everything validation needs from the registries, held compactly in memory.
//!
//! Built once from canonical [`Record`]s (scanned from the store) and then read-only, shared by
//! every worker thread. Keys are NIK/KK as `u64`; values are a few bytes each, so ten million
//! persons cost a few hundred megabytes besides the linkage index.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use sinergi_linkage::codec::Fixed;
use sinergi_linkage::{RegistryIndex, RegistryPerson};
use sinergi_model::Sex;
use sinergi_model::standard::{Record, Table, Value};

use crate::keymap::{KeyMap, id16};
use crate::provenance::Provenance;

/// Flag bit: the person is head of their KK (STAT_HBKEL KEPALA KELUARGA).
pub const HEAD: u8 = 1;
/// Flag bit: Dukcapil occupation is civil servant (PNS).
pub const OCC_PNS: u8 = 1 << 1;
/// Flag bit: Dukcapil occupation is military (TNI).
pub const OCC_TNI: u8 = 1 << 2;
/// Flag bit: Dukcapil occupation is police (Polri).
pub const OCC_POLRI: u8 = 1 << 3;
/// Any civil-servant occupation flag.
pub const OCC_ANY: u8 = OCC_PNS | OCC_TNI | OCC_POLRI;

const FLAG_SHIFT: u32 = 56;
const VILLAGE_MASK: u64 = (1 << FLAG_SHIFT) - 1;

/// One person's facts from the population registry, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonFacts {
    /// KK number the person is on.
    pub kk: u64,
    village_flags: u64,
}

impl PersonFacts {
    /// Builds the facts; `village` is the 10-digit Kemendagri code as a number (0 if unknown).
    pub fn new(kk: u64, village: u64, flags: u8) -> PersonFacts {
        PersonFacts {
            kk,
            village_flags: (village & VILLAGE_MASK) | (u64::from(flags) << FLAG_SHIFT),
        }
    }
    /// Village of domicile as a 10-digit number (0 when unknown).
    pub fn village(&self) -> u64 {
        self.village_flags & VILLAGE_MASK
    }
    /// Regency (`PPKK`) of domicile as a number (0 when unknown).
    pub fn regency(&self) -> u64 {
        self.village() / 1_000_000
    }
    /// Flag bits ([`HEAD`], [`OCC_PNS`], ...).
    pub fn flags(&self) -> u8 {
        (self.village_flags >> FLAG_SHIFT) as u8
    }
    /// Whether the person heads their KK.
    pub fn is_head(&self) -> bool {
        self.flags() & HEAD != 0
    }
}

/// Kind of employment that makes a person a civil servant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum EmploymentKind {
    /// Pegawai Negeri Sipil (BKN).
    Pns,
    /// Pegawai Pemerintah dengan Perjanjian Kerja (BKN).
    Pppk,
    /// Tentara Nasional Indonesia.
    Tni,
    /// Kepolisian Negara Republik Indonesia.
    Polri,
}

impl EmploymentKind {
    /// Parses `PNS`, `PPPK`, `TNI`, `POLRI` (case-insensitive, also the long Dukcapil texts).
    pub fn parse(s: &str) -> Option<EmploymentKind> {
        let u = s.trim().to_ascii_uppercase();
        Some(match u.as_str() {
            "PNS" | "PEGAWAI NEGERI SIPIL" | "ASN" => EmploymentKind::Pns,
            "PPPK" => EmploymentKind::Pppk,
            "TNI" | "TENTARA NASIONAL INDONESIA" | "TNI AD" | "TNI AL" | "TNI AU" => {
                EmploymentKind::Tni
            }
            "POLRI" | "POLISI" | "KEPOLISIAN RI" | "KEPOLISIAN REPUBLIK INDONESIA" => {
                EmploymentKind::Polri
            }
            _ => return None,
        })
    }
    /// `PNS`, `PPPK`, `TNI`, `POLRI`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmploymentKind::Pns => "PNS",
            EmploymentKind::Pppk => "PPPK",
            EmploymentKind::Tni => "TNI",
            EmploymentKind::Polri => "POLRI",
        }
    }
    /// The agency whose data says so.
    pub fn agency(self) -> &'static str {
        match self {
            EmploymentKind::Pns | EmploymentKind::Pppk => "BKN",
            EmploymentKind::Tni => "TNI",
            EmploymentKind::Polri => "Polri",
        }
    }
}

/// Dukcapil occupation text → civil-servant flag bits.
pub fn occupation_flags(occupation: &str) -> u8 {
    match EmploymentKind::parse(occupation) {
        Some(EmploymentKind::Pns | EmploymentKind::Pppk) => OCC_PNS,
        Some(EmploymentKind::Tni) => OCC_TNI,
        Some(EmploymentKind::Polri) => OCC_POLRI,
        None => 0,
    }
}

/// Employment record of one NIK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Employment {
    /// Kind.
    pub kind: EmploymentKind,
    /// Index into the employment table's provenance list.
    pub dataset: u8,
}

/// Formal wages of one NIK, summed over employers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wage {
    /// Sum of monthly wages over all employers.
    pub total: u64,
    /// Highest single monthly wage.
    pub max: u64,
}

/// BPJS Kesehatan membership segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Segment {
    /// PBI paid by the national budget.
    PbiApbn,
    /// PBI paid by a regional budget.
    PbiApbd,
    /// Pekerja Penerima Upah (formal employee).
    Ppu,
    /// Pekerja Bukan Penerima Upah (self-paying).
    Pbpu,
    /// Bukan Pekerja.
    Bp,
}

impl Segment {
    /// Parses `PBI_APBN`, `PBI APBN`, `PPU`, ... (case-insensitive).
    pub fn parse(s: &str) -> Option<Segment> {
        let u: String = s
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        Some(match u.as_str() {
            "PBI_APBN" | "PBI" => Segment::PbiApbn,
            "PBI_APBD" => Segment::PbiApbd,
            "PPU" => Segment::Ppu,
            "PBPU" => Segment::Pbpu,
            "BP" => Segment::Bp,
            _ => return None,
        })
    }
    /// `PBI_APBN`, `PBI_APBD`, `PPU`, `PBPU`, `BP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::PbiApbn => "PBI_APBN",
            Segment::PbiApbd => "PBI_APBD",
            Segment::Ppu => "PPU",
            Segment::Pbpu => "PBPU",
            Segment::Bp => "BP",
        }
    }
}

/// BPJS Kesehatan membership of one NIK (the active one when there are several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// Segment.
    pub segment: Segment,
    /// Membership active.
    pub active: bool,
    /// Under treatment for a catastrophic illness.
    pub catastrophic: bool,
}

/// A text field of a record, trimmed; `None` when absent, not text, or blank.
pub(crate) fn record_text<'a>(r: &'a Record, field: &str) -> Option<&'a str> {
    match r.get(field) {
        Some(Value::Text(s)) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    }
}

/// Column `i` of a text row, trimmed; `None` when absent or blank.
pub(crate) fn text<'a>(row: &[Option<&'a str>], i: usize) -> Option<&'a str> {
    row.get(i)
        .copied()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn integer(row: &[Option<&str>], i: usize) -> Option<i64> {
    text(row, i).and_then(|s| s.parse().ok())
}

fn boolean(row: &[Option<&str>], i: usize) -> Option<bool> {
    match text(row, i)?.to_ascii_uppercase().as_str() {
        "TRUE" | "1" | "Y" | "YA" | "AKTIF" => Some(true),
        "FALSE" | "0" | "N" | "TIDAK" | "NONAKTIF" => Some(false),
        _ => None,
    }
}

pub fn region_number(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `YYYY-MM-DD` → `YYYYMMDD` as a number.
fn date_number(s: &str) -> Option<u32> {
    let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    (d.len() == 8).then(|| d.parse().ok()).flatten()
}

/// Formats `YYYYMMDD` as `YYYY-MM-DD`.
pub fn fmt_date(d: u32) -> String {
    format!("{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100)
}

/// Rows a registry part could not use (no valid NIK, unknown kind...): counted, not fatal.
pub type Skipped = u64;

/// Accumulates one table's records into its compact form. One builder per table so tables can
/// be loaded in parallel.
#[derive(Debug)]
pub enum PartBuilder {
    /// Population registry, and the persons for the linkage index.
    Person(Vec<(u64, PersonFacts)>, Vec<RegistryPerson>, Skipped),
    /// Deaths.
    Death(Vec<(u64, u32)>, Skipped),
    /// DTSEN deciles: by NIK, by KK.
    Decile(Vec<(u64, u8)>, Vec<(u64, u8)>, Skipped),
    /// BPJS Kesehatan.
    Health(Vec<(u64, Health)>, Skipped),
    /// BKN / TNI / Polri.
    Employment(Vec<(u64, Employment)>, Skipped, Vec<Provenance>),
    /// BPJS Ketenagakerjaan wages.
    Wage(Vec<(u64, Wage)>, Skipped),
}

/// A finished table.
#[derive(Debug)]
pub enum Part {
    /// Population registry and its linkage index.
    Person(KeyMap<PersonFacts>, Box<RegistryIndex>, Skipped),
    /// Deaths (NIK → YYYYMMDD).
    Death(KeyMap<u32>, Skipped),
    /// Deciles by NIK and by KK.
    Decile(KeyMap<u8>, KeyMap<u8>, Skipped),
    /// Health memberships.
    Health(KeyMap<Health>, Skipped),
    /// Employment.
    Employment(KeyMap<Employment>, Skipped),
    /// Wages.
    Wage(KeyMap<Wage>, Skipped),
}

impl PartBuilder {
    /// A builder for a registry table; `None` for tables validation does not hold
    /// (roster entries go to the [`crate::ledger::Ledger`]). `datasets` is the table's
    /// provenance list, used to attribute employment rows to BKN or TNI/Polri.
    pub fn new(table: Table, datasets: &[Provenance]) -> Option<PartBuilder> {
        Some(match table {
            Table::Person => PartBuilder::Person(Vec::new(), Vec::new(), 0),
            Table::Death => PartBuilder::Death(Vec::new(), 0),
            Table::Decile => PartBuilder::Decile(Vec::new(), Vec::new(), 0),
            Table::HealthMembership => PartBuilder::Health(Vec::new(), 0),
            Table::Employment => PartBuilder::Employment(Vec::new(), 0, datasets.to_vec()),
            Table::Wage => PartBuilder::Wage(Vec::new(), 0),
            Table::RosterEntry => return None,
        })
    }

    /// Reserves room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        match self {
            PartBuilder::Person(v, p, _) => {
                v.reserve(n);
                p.reserve(n);
            }
            PartBuilder::Death(v, _) => v.reserve(n),
            PartBuilder::Decile(v, k, _) => {
                v.reserve(n);
                k.reserve(n / 3);
            }
            PartBuilder::Health(v, _) => v.reserve(n),
            PartBuilder::Employment(v, _, _) => v.reserve(n),
            PartBuilder::Wage(v, _) => v.reserve(n),
        }
    }

    /// The fields [`PartBuilder::add_row`] reads, in its order.
    pub fn fields(&self) -> &'static [&'static str] {
        match self {
            PartBuilder::Person(..) => &[
                "nik",
                "kk",
                "region",
                "family_relationship",
                "occupation",
                "sex",
                "birth_date",
                "name",
            ],
            PartBuilder::Death(..) => &["nik", "death_date"],
            PartBuilder::Decile(..) => &["nik", "decile", "kk"],
            PartBuilder::Health(..) => &["nik", "segment", "active", "catastrophic"],
            PartBuilder::Employment(..) => &["nik", "kind"],
            PartBuilder::Wage(..) => &["nik", "monthly_wage"],
        }
    }

    /// Adds one canonical record (projected onto [`PartBuilder::fields`]).
    pub fn add(&mut self, r: &Record) {
        let row: Vec<Option<Cow<'_, str>>> = self
            .fields()
            .iter()
            .map(|f| match r.get(f) {
                None | Some(Value::Null) => None,
                Some(Value::Text(s)) => Some(Cow::Borrowed(s.as_str())),
                Some(Value::Integer(i)) => Some(Cow::Owned(i.to_string())),
                Some(Value::Bool(b)) => Some(Cow::Borrowed(if *b { "1" } else { "0" })),
            })
            .collect();
        let row: Vec<Option<&str>> = row.iter().map(|c| c.as_deref()).collect();
        self.add_row(&row);
    }

    /// Adds one row given as text in the order of [`PartBuilder::fields`] (what
    /// `Store::scan_text` hands out). Rows without the key or the fact are counted as skipped.
    pub fn add_row(&mut self, row: &[Option<&str>]) {
        let nik = text(row, 0).and_then(id16);
        match self {
            PartBuilder::Person(v, persons, skipped) => {
                let (Some(nik), Some(kk)) = (nik, text(row, 1).and_then(id16)) else {
                    *skipped += 1;
                    return;
                };
                let village = text(row, 2).and_then(region_number).unwrap_or(0);
                let mut flags = 0;
                if text(row, 3).is_some_and(|s| s.eq_ignore_ascii_case("KEPALA KELUARGA")) {
                    flags |= HEAD;
                }
                if let Some(occ) = text(row, 4) {
                    flags |= occupation_flags(occ);
                }
                v.push((nik, PersonFacts::new(kk, village, flags)));
                let sex = match text(row, 5) {
                    Some("P") | Some("p") | Some("2") => Sex::P,
                    _ => Sex::L,
                };
                let birth_date = text(row, 6)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .unwrap_or(NaiveDate::MIN);
                persons.push(RegistryPerson {
                    nik,
                    name_norm: text(row, 7).unwrap_or("").to_string(),
                    sex,
                    birth_date,
                    region: village,
                    kk,
                });
            }
            PartBuilder::Death(v, skipped) => match (nik, text(row, 1).and_then(date_number)) {
                (Some(nik), Some(d)) => v.push((nik, d)),
                (Some(nik), None) => v.push((nik, 0)),
                _ => *skipped += 1,
            },
            PartBuilder::Decile(by_nik, by_kk, skipped) => {
                let Some(d) = integer(row, 1).filter(|d| (1..=10).contains(d)) else {
                    *skipped += 1;
                    return;
                };
                let d = d as u8;
                if let Some(nik) = nik {
                    by_nik.push((nik, d));
                } else {
                    *skipped += 1;
                }
                if let Some(kk) = text(row, 2).and_then(id16) {
                    by_kk.push((kk, d));
                }
            }
            PartBuilder::Health(v, skipped) => {
                let (Some(nik), Some(segment)) = (nik, text(row, 1).and_then(Segment::parse))
                else {
                    *skipped += 1;
                    return;
                };
                v.push((
                    nik,
                    Health {
                        segment,
                        active: boolean(row, 2).unwrap_or(true),
                        catastrophic: boolean(row, 3).unwrap_or(false),
                    },
                ));
            }
            PartBuilder::Employment(v, skipped, datasets) => {
                let (Some(nik), Some(kind)) = (nik, text(row, 1).and_then(EmploymentKind::parse))
                else {
                    *skipped += 1;
                    return;
                };
                let dataset = employment_dataset(datasets, kind);
                v.push((nik, Employment { kind, dataset }));
            }
            PartBuilder::Wage(v, skipped) => {
                let (Some(nik), Some(w)) = (nik, integer(row, 1).filter(|w| *w >= 0)) else {
                    *skipped += 1;
                    return;
                };
                let w = w as u64;
                v.push((nik, Wage { total: w, max: w }));
            }
        }
    }

    pub fn finish(self) -> Part {
        match self {
            PartBuilder::Person(v, persons, s) => Part::Person(
                KeyMap::from_unique(v, |_, _| {}),
                Box::new(RegistryIndex::build(persons)),
                s,
            ),
            PartBuilder::Death(v, s) => {
                Part::Death(KeyMap::from_unique(v, |a, b| *a = (*a).max(b)), s)
            }
            PartBuilder::Decile(n, k, s) => Part::Decile(
                KeyMap::from_unique(n, |_, _| {}),
                // A family's decile: the lowest recorded for the KK (they agree in DTSEN).
                KeyMap::from_unique(k, |a, b| *a = (*a).min(b)),
                s,
            ),
            PartBuilder::Health(v, s) => Part::Health(
                KeyMap::from_unique(v, |a, b| {
                    // Prefer the active membership; among equals keep the first.
                    if !a.active && b.active {
                        *a = b;
                    } else if a.active == b.active && b.catastrophic {
                        a.catastrophic = true;
                    }
                }),
                s,
            ),
            PartBuilder::Employment(v, s, _) => {
                Part::Employment(KeyMap::from_unique(v, |_, _| {}), s)
            }
            PartBuilder::Wage(v, s) => Part::Wage(
                KeyMap::from_unique(v, |a, b| {
                    a.total += b.total;
                    a.max = a.max.max(b.max);
                }),
                s,
            ),
        }
    }
}

/// The employment dataset a kind most likely came from: the BKN dataset for ASN, the TNI/Polri
/// dataset otherwise (matched on agency or dataset name); the first dataset when unsure.
impl Fixed for PersonFacts {
    const SIZE: usize = 16;
    fn put(&self, o: &mut [u8]) {
        self.kk.put(&mut o[..8]);
        self.village_flags.put(&mut o[8..]);
    }
    fn get(b: &[u8]) -> Option<Self> {
        Some(PersonFacts {
            kk: u64::get(&b[..8])?,
            village_flags: u64::get(&b[8..])?,
        })
    }
}

const EMPLOYMENT_KINDS: [EmploymentKind; 4] = [
    EmploymentKind::Pns,
    EmploymentKind::Pppk,
    EmploymentKind::Tni,
    EmploymentKind::Polri,
];

impl Fixed for Employment {
    const SIZE: usize = 2;
    fn put(&self, o: &mut [u8]) {
        o[0] = EMPLOYMENT_KINDS
            .iter()
            .position(|k| *k == self.kind)
            .expect("every kind listed") as u8;
        o[1] = self.dataset;
    }
    fn get(b: &[u8]) -> Option<Self> {
        Some(Employment {
            kind: *EMPLOYMENT_KINDS.get(b[0] as usize)?,
            dataset: b[1],
        })
    }
}

impl Fixed for Wage {
    const SIZE: usize = 16;
    fn put(&self, o: &mut [u8]) {
        self.total.put(&mut o[..8]);
        self.max.put(&mut o[8..]);
    }
    fn get(b: &[u8]) -> Option<Self> {
        Some(Wage {
            total: u64::get(&b[..8])?,
            max: u64::get(&b[8..])?,
        })
    }
}

const SEGMENTS: [Segment; 5] = [
    Segment::PbiApbn,
    Segment::PbiApbd,
    Segment::Ppu,
    Segment::Pbpu,
    Segment::Bp,
];

impl Fixed for Health {
    const SIZE: usize = 3;
    fn put(&self, o: &mut [u8]) {
        o[0] = SEGMENTS
            .iter()
            .position(|s| *s == self.segment)
            .expect("every segment listed") as u8;
        o[1] = u8::from(self.active);
        o[2] = u8::from(self.catastrophic);
    }
    fn get(b: &[u8]) -> Option<Self> {
        let flag = |x: u8| (x <= 1).then_some(x == 1);
        Some(Health {
            segment: *SEGMENTS.get(b[0] as usize)?,
            active: flag(b[1])?,
            catastrophic: flag(b[2])?,
        })
    }
}

impl sinergi_store::RowSink for PartBuilder {
    fn row(&mut self, row: &[Option<&str>]) {
        self.add_row(row);
    }
}

fn employment_dataset(datasets: &[Provenance], kind: EmploymentKind) -> u8 {
    let want_bkn = matches!(kind, EmploymentKind::Pns | EmploymentKind::Pppk);
    datasets
        .iter()
        .position(|p| {
            let s = format!("{} {}", p.agency, p.dataset).to_ascii_uppercase();
            if want_bkn {
                s.contains("BKN") || s.contains("ASN")
            } else {
                s.contains("TNI") || s.contains("POLRI")
            }
        })
        .unwrap_or(0) as u8
}

/// Compact registries in memory, with provenance.
#[derive(Debug)]
pub struct Registries {
    /// The linkage index of the population registry (names, birth dates, NIK neighbours).
    pub index: RegistryIndex,
    /// NIK → population facts.
    pub persons: KeyMap<PersonFacts>,
    /// KK → NIKs of its members (in registry order).
    pub members: KeyMap<u64>,
    /// NIK → death date (`YYYYMMDD`, 0 if unknown).
    pub deaths: KeyMap<u32>,
    /// NIK → civil-servant employment.
    pub employment: KeyMap<Employment>,
    /// NIK → formal wages.
    pub wages: KeyMap<Wage>,
    /// NIK → BPJS Kesehatan membership.
    pub health: KeyMap<Health>,
    /// NIK → DTSEN decile.
    pub decile_by_nik: KeyMap<u8>,
    /// KK → DTSEN family decile.
    pub decile_by_kk: KeyMap<u8>,
    /// Loaded datasets per table (sorted).
    pub provenance: BTreeMap<Table, Vec<Provenance>>,
    /// Rows skipped per table because they lacked a usable key or value.
    pub skipped: BTreeMap<Table, u64>,
}

impl Registries {
    /// Assembles finished parts. Tables without a part stay empty (and have no provenance).
    pub fn assemble(parts: Vec<Part>, provenance: BTreeMap<Table, Vec<Provenance>>) -> Registries {
        let mut r = Registries {
            index: RegistryIndex::build(Vec::new()),
            persons: KeyMap::default(),
            members: KeyMap::default(),
            deaths: KeyMap::default(),
            employment: KeyMap::default(),
            wages: KeyMap::default(),
            health: KeyMap::default(),
            decile_by_nik: KeyMap::default(),
            decile_by_kk: KeyMap::default(),
            provenance,
            skipped: BTreeMap::new(),
        };
        for p in parts {
            match p {
                Part::Person(m, index, s) => {
                    r.index = *index;
                    let mut by_kk = Vec::with_capacity(m.len());
                    for i in 0..m.len() {
                        let (nik, f) = m.at(i);
                        by_kk.push((f.kk, nik));
                    }
                    r.members = KeyMap::from_multi(by_kk);
                    r.persons = m;
                    r.skipped.insert(Table::Person, s);
                }
                Part::Death(m, s) => {
                    r.deaths = m;
                    r.skipped.insert(Table::Death, s);
                }
                Part::Decile(n, k, s) => {
                    r.decile_by_nik = n;
                    r.decile_by_kk = k;
                    r.skipped.insert(Table::Decile, s);
                }
                Part::Health(m, s) => {
                    r.health = m;
                    r.skipped.insert(Table::HealthMembership, s);
                }
                Part::Employment(m, s) => {
                    r.employment = m;
                    r.skipped.insert(Table::Employment, s);
                }
                Part::Wage(m, s) => {
                    r.wages = m;
                    r.skipped.insert(Table::Wage, s);
                }
            }
        }
        r
    }

    /// Builds registries from in-memory records (tests, small runs). Provenance is given per
    /// table; a table with records but no provenance gets a placeholder one.
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = &'a Record>,
        mut provenance: BTreeMap<Table, Vec<Provenance>>,
    ) -> Registries {
        let mut builders: BTreeMap<Table, PartBuilder> = BTreeMap::new();
        for r in records {
            if r.table == Table::RosterEntry {
                continue;
            }
            let b = builders.entry(r.table).or_insert_with(|| {
                let datasets = provenance.get(&r.table).cloned().unwrap_or_default();
                PartBuilder::new(r.table, &datasets).expect("registry table")
            });
            b.add(r);
        }
        for t in builders.keys() {
            provenance.entry(*t).or_insert_with(|| {
                let info = crate::provenance::table_info(*t);
                vec![Provenance {
                    table: t.name().to_string(),
                    agency: info.agency.to_string(),
                    dataset: info.sources[0].to_string(),
                    snapshot: "memory".to_string(),
                    snapshot_id: 0,
                    loaded_at: String::new(),
                    rows: 0,
                    reference_date: None,
                }]
            });
        }
        let parts = builders.into_values().map(PartBuilder::finish).collect();
        Registries::assemble(parts, provenance)
    }

    /// Whether a table has at least one loaded dataset.
    pub fn has(&self, table: Table) -> bool {
        self.provenance.get(&table).is_some_and(|v| !v.is_empty())
    }

    /// The provenance of a table's first (main) dataset.
    pub fn source(&self, table: Table) -> Option<&Provenance> {
        self.provenance.get(&table).and_then(|v| v.first())
    }

    /// The NIK of the head of a KK (the first member flagged KEPALA KELUARGA).
    pub fn head_of(&self, kk: u64) -> Option<u64> {
        self.members
            .range(kk)
            .iter()
            .copied()
            .find(|nik| self.persons.get(*nik).is_some_and(PersonFacts::is_head))
    }

    /// Bytes held by the compact maps and the linkage index.
    pub fn heap_bytes(&self) -> usize {
        self.index.stats().heap_bytes
            + self.persons.heap_bytes()
            + self.members.heap_bytes()
            + self.deaths.heap_bytes()
            + self.employment.heap_bytes()
            + self.wages.heap_bytes()
            + self.health.heap_bytes()
            + self.decile_by_nik.heap_bytes()
            + self.decile_by_kk.heap_bytes()
    }
}
