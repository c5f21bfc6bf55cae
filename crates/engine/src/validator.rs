//! One block of rows at a time, in stages: the identity, population and registry questions
//! answered by an [`Answerer`] (the registries in memory, or their owners over the exchange),
//! then, here, the household ledger and the programme's rules. Shared by bulk runs
//! ([`crate::run`]) and the server (one person at a counter, or a list). No I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinergi_linkage::{Link as LinkResult, LinkConfig, LinkOutcome, Linker, Params, RegistryIndex};
use sinergi_model::RegionCode;
use sinergi_model::standard::Table;
use sinergi_rules::{
    Facts, Link, Lookup, NikStatus, Observed, Program, ReasonCode, Slip, Source, Unit,
};

use crate::answers::{
    Answerer, IdentityQuestion, PopulationAnswer, PopulationQuestion, RegistryAnswers,
    RegistryQuestion, Unasked,
};
use crate::embedded::Embedded;
use crate::facts::RosterRow;
use crate::keymap::fmt16;
use crate::ledger::Ledger;
use crate::provenance::Provenance;
use crate::registries::Registries;
use crate::verdict::{NotChecked, VerdictRow, round4};

/// The agency a PROGRAM_OVERLAP reason cites: the other programmes' recipient lists.
const OTHER_LISTS: &str = "Daftar penerima program lain";

/// The stored recipient lists the household ledger was built from, by snapshot id
/// (PROGRAM_OVERLAP cites the ones it read).
#[derive(Debug, Clone, Default)]
struct Lists {
    rosters: BTreeMap<i64, Source>,
}

impl Lists {
    fn new(rosters: &[Provenance]) -> Lists {
        Lists {
            rosters: rosters
                .iter()
                .map(|p| {
                    (
                        p.snapshot_id,
                        Source {
                            loaded: p.loaded_on().to_string(),
                            ..Source::new(OTHER_LISTS, &p.dataset, &p.snapshot, p.as_of())
                        },
                    )
                })
                .collect(),
        }
    }

    /// One citation for the stored lists with these snapshot ids: their datasets and versions
    /// joined (`roster-BLT_DD, roster-BPNT`), the dates when they agree.
    fn lists(&self, snapshots: impl IntoIterator<Item = i64>) -> Option<Source> {
        let found: Vec<&Source> = snapshots
            .into_iter()
            .filter_map(|id| self.rosters.get(&id))
            .collect();
        let first = found.first()?;
        let join = |f: fn(&Source) -> &str| {
            let mut v: Vec<&str> = found.iter().map(|s| f(s)).collect();
            v.dedup();
            v.join(", ")
        };
        Some(Source {
            agency: first.agency.clone(),
            dataset: join(|s| &s.dataset),
            version: join(|s| &s.version),
            as_of: join(|s| &s.as_of),
            loaded: join(|s| &s.loaded),
        })
    }
}

/// What linking concluded about a row, reduced to what the rules and outputs need: the
/// identity stage's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// NIK status for the rules.
    pub nik_status: NikStatus,
    /// The person whose registry records are asked about (the linked person).
    pub person: Option<u64>,
    /// Suggested NIK and its probability, when linkage proposes a different NIK.
    pub suggestion: Option<(u64, f64)>,
    /// `person` was inferred by linkage rather than read from a valid listed NIK: every reason
    /// resting on them is at most TINJAU.
    pub inferred: bool,
    /// Where the row's name or birth date differ slightly from the linked person's record.
    pub slips: Vec<Slip>,
}

/// The first row of each person seen in a list: its row number and whether its person was
/// inferred (for DUPLICATE_IN_LIST).
pub type Seen = HashMap<u64, (u64, bool)>;

/// The registry tables whose answers a verdict rests on, in the order [`Judged::unasked`]
/// lists them.
pub const REGISTRY_TABLES: [Table; 6] = [
    Table::Person,
    Table::Death,
    Table::HealthMembership,
    Table::Decile,
    Table::Employment,
    Table::Wage,
];

/// Everything the validator concluded about one row ([`Validator::judge_block`]).
#[derive(Debug, Clone)]
pub struct Judged {
    /// The row of the verdict files.
    pub row: VerdictRow,
    /// The rules' own verdict (what data minimisation works on).
    pub rules: RulesVerdict,
    /// The household (KK) the row counts for in the overlap ledger: the linked person's KK
    /// in the population registry, else the KK the list states.
    pub household: Option<u64>,
    /// The registries ([`REGISTRY_TABLES`]) that could not be asked about this row, and why.
    pub unasked: Vec<(Table, Unasked)>,
}

/// Validates rows: the questions to an [`Answerer`], then the ledger and the programme rules.
pub struct Validator {
    answerer: Box<dyn Answerer>,
    programs: BTreeMap<String, Program>,
    ledger: Arc<Ledger>,
    /// The stored lists behind the ledger; `None`: no list is stored, PROGRAM_OVERLAP cannot
    /// be checked.
    lists: Option<Lists>,
    /// The list being validated, as its reasons cite it (file name).
    list_name: Option<String>,
}

/// The verdict of a programme's facts, before output shaping: for callers that want the
/// rules' own types (server, simulations).
pub type RulesVerdict = sinergi_rules::Verdict;

/// Everything asked about one row.
struct Asked<'a> {
    res: &'a Resolved,
    dup: Option<(u64, bool)>,
    population: Option<&'a PopulationAnswer>,
    registries: Option<&'a RegistryAnswers>,
}

impl Validator {
    /// A validator over loaded registries (the embedded answerer), the programmes' rules and
    /// the household ledger.
    pub fn new(
        registries: Arc<Registries>,
        programs: Vec<Program>,
        ledger: Arc<Ledger>,
    ) -> Validator {
        let rosters = registries
            .provenance
            .get(&Table::RosterEntry)
            .cloned()
            .unwrap_or_default();
        Validator::with_answerer(
            Box::new(Embedded::new(registries)),
            programs,
            ledger,
            &rosters,
        )
    }

    /// A validator whose questions `answerer` answers. `rosters`: the stored lists the
    /// ledger was built from (none: PROGRAM_OVERLAP is not checked).
    pub fn with_answerer(
        answerer: Box<dyn Answerer>,
        programs: Vec<Program>,
        ledger: Arc<Ledger>,
        rosters: &[Provenance],
    ) -> Validator {
        Validator {
            answerer,
            programs: programs
                .into_iter()
                .map(|p| (p.code().to_string(), p))
                .collect(),
            ledger,
            lists: (!rosters.is_empty()).then(|| Lists::new(rosters)),
            list_name: None,
        }
    }

    /// Names the list being validated (its file name), for the reasons that rest on the list
    /// itself.
    pub fn set_list_name(&mut self, name: &str) {
        self.list_name = Some(name.to_string());
    }

    /// The programmes, by code.
    pub fn programs(&self) -> &BTreeMap<String, Program> {
        &self.programs
    }

    /// A programme by code.
    pub fn program(&self, code: &str) -> Option<&Program> {
        self.programs.get(code)
    }

    /// The household ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Trains the identity model on a sample of rows (the list's first block).
    pub fn train(&mut self, rows: &[RosterRow]) {
        let qs: Vec<IdentityQuestion> = rows.iter().map(IdentityQuestion::of).collect();
        self.answerer.train(&qs);
    }

    /// Tells the answerer which rows [`Validator::judge_block`] or
    /// [`Validator::validate_block`] will be given next (see [`Answerer::prepare`]).
    pub fn prepare(&self, rows: &[RosterRow]) {
        let qs: Vec<IdentityQuestion> = rows.iter().map(IdentityQuestion::of).collect();
        self.answerer.prepare(&qs);
    }

    /// Validates one row on its own (no duplicate detection: that needs the list).
    pub fn validate_one(&self, program: &Program, row: &RosterRow) -> VerdictRow {
        let mut seen = None;
        self.validate_rows(
            program,
            std::slice::from_ref(row),
            &mut seen,
            Self::verdict_of,
        )
        .pop()
        .expect("one verdict per row")
    }

    /// Validates a block of rows; `seen` carries the first row of each person across blocks
    /// (DUPLICATE_IN_LIST). Output in input order.
    pub fn validate_block(
        &self,
        program: &Program,
        rows: &[RosterRow],
        seen: &mut Seen,
    ) -> Vec<VerdictRow> {
        self.validate_rows(program, rows, &mut Some(seen), Self::verdict_of)
    }

    /// Validates a block of rows as [`Validator::validate_block`] does (`seen: None`: each row
    /// on its own), answering for each row everything concluded about it ([`Judged`]).
    pub fn judge_block(
        &self,
        program: &Program,
        rows: &[RosterRow],
        seen: Option<&mut Seen>,
    ) -> Vec<Judged> {
        let mut seen = seen;
        self.validate_rows(program, rows, &mut seen, Self::judged_of)
    }

    fn validate_rows<T: Send>(
        &self,
        program: &Program,
        rows: &[RosterRow],
        seen: &mut Option<&mut Seen>,
        shape: impl Fn(&Self, &Program, &RosterRow, &Asked<'_>) -> T + Sync,
    ) -> Vec<T> {
        // Stage 1: who is each row.
        let questions: Vec<IdentityQuestion> = rows.iter().map(IdentityQuestion::of).collect();
        let resolved = self.answerer.identify(&questions);
        // Sequential, in list order: the first row of a person keeps it, later rows are
        // duplicates.
        let dups: Vec<Option<(u64, bool)>> = match seen {
            None => vec![None; rows.len()],
            Some(seen) => rows
                .iter()
                .zip(&resolved)
                .map(|(row, res)| {
                    let key = res.person.or(row.nik)?;
                    match seen.get(&key) {
                        Some(first) => Some(*first),
                        None => {
                            seen.insert(key, (row.row_no, res.inferred));
                            None
                        }
                    }
                })
                .collect(),
        };
        // Stage 2: the population registry about each linked person.
        let family = program.unit() == Unit::Family;
        let (linked, pq): (Vec<usize>, Vec<PopulationQuestion>) = rows
            .iter()
            .zip(&resolved)
            .enumerate()
            .filter_map(|(i, (row, res))| {
                Some((
                    i,
                    PopulationQuestion {
                        nik: res.person?,
                        period: row.period.clone(),
                        head: family,
                    },
                ))
            })
            .unzip();
        let population = self.answerer.population(&pq);
        // Stage 3: the other registries about each person the population registry knows.
        let (known, rq): (Vec<usize>, Vec<RegistryQuestion>) = linked
            .iter()
            .zip(&population)
            .zip(&pq)
            .filter_map(|((i, p), q)| {
                let p = p.as_ref()?;
                Some((
                    *i,
                    RegistryQuestion {
                        nik: q.nik,
                        kk: p.kk,
                        head: p.head,
                    },
                ))
            })
            .unzip();
        let answers = self.answerer.registries(&rq);
        let mut pop_of: Vec<Option<&PopulationAnswer>> = vec![None; rows.len()];
        for (i, p) in linked.iter().zip(&population) {
            pop_of[*i] = p.as_ref();
        }
        let mut reg_of: Vec<Option<&RegistryAnswers>> = vec![None; rows.len()];
        for (i, a) in known.iter().zip(&answers) {
            reg_of[*i] = Some(a);
        }
        // The ledger and the rules.
        let judge = |i: usize| {
            let asked = Asked {
                res: &resolved[i],
                dup: dups[i],
                population: pop_of[i],
                registries: reg_of[i],
            };
            shape(self, program, &rows[i], &asked)
        };
        if rows.len() == 1 {
            return vec![judge(0)];
        }
        (0..rows.len()).into_par_iter().map(judge).collect()
    }

    /// The rules' facts for a row from the answers about it.
    fn facts(&self, program: &Program, row: &RosterRow, a: &Asked<'_>) -> Facts {
        let res = a.res;
        // The list being validated is not a stored dataset version: it is cited by its name
        // and period (the manifest holds its SHA-256), never by a stored roster's snapshot.
        let list_source = Source::new(
            "Daftar (list itself)",
            self.list_name
                .as_deref()
                .unwrap_or(&format!("daftar {}", program.code())),
            "",
            &row.period,
        );
        let mut f = Facts::new(row.row_no, list_source);
        f.row.duplicate_of_row = a.dup.map(|d| d.0);
        f.row.duplicate_inferred = a.dup.is_some_and(|d| d.1);
        f.row.list_region = row.region_code();
        let person_src = self.answerer.identity_source();
        f.identity.nik_status = res.nik_status.clone();
        f.identity.source = person_src.clone();
        f.identity.link = res.suggestion.map(|(nik, p)| Link {
            suggested_nik: fmt16(nik),
            score: round4(p),
        });
        f.identity.inferred = res.inferred;
        f.identity.slips = res.slips.clone();
        if res.person.is_none() {
            return f;
        }
        let Some(p) = a.population else {
            return f;
        };
        let domicile = Some(p.village).filter(|v| *v != 0);
        f.identity.kk_stated_matches = row.kk.map(|k| k == p.kk);
        f.person.is_family_head = Some(p.is_head);
        f.person.sex = p.sex;
        f.person.age = p.age;
        f.person.domicile = match domicile.and_then(|v| RegionCode::parse(&format!("{v:010}")).ok())
        {
            Some(c) => Lookup::Found {
                value: c,
                source: person_src.clone(),
            },
            None => Lookup::Absent {
                source: person_src.clone(),
            },
        };
        f.person.death = p.death.clone();
        let min_wage = domicile
            .and_then(|dom| RegionCode::parse(&format!("{:04}", dom / 1_000_000)).ok())
            .and_then(sinergi_model::minwage::minimum_wage);
        if let Some(m) = min_wage {
            use sinergi_model::minwage::WageLevel;
            let name = sinergi_model::wilayah().name(m.region).unwrap_or("");
            let what = match m.level {
                WageLevel::Regency => "UMK",
                WageLevel::Province => "UMP",
            };
            f.person.umk_level = m.level;
            f.person.umk = Some(Observed {
                value: m.monthly,
                source: Source::new(
                    "Kemnaker",
                    &format!("{what} {} {name}", sinergi_model::minwage::YEAR),
                    &sinergi_model::minwage::YEAR.to_string(),
                    "",
                ),
            });
        }
        if let Some(r) = a.registries {
            f.person.civil_servant = r.civil_servant.clone();
            f.person.wage = r.wage.clone();
            f.person.bpjs = r.bpjs.clone();
            f.family.dtsen = r.dtsen.clone();
            f.family.head_civil_servant = r.head_civil_servant.clone();
            f.family.head_wage = r.head_wage.clone();
        }
        f.family.kk = Some(fmt16(p.kk));
        f.family.size = Some(p.family_size);
        if let Some(lists) = &self.lists {
            let others = self.ledger.programs_of(p.kk, program.code(), &row.period);
            // Cite the stored lists that hold the other programmes found, each with its own
            // version; none found, the lists that were read.
            let source = lists
                .lists(others.iter().flat_map(|o| self.ledger.snapshots_of(o)))
                .or_else(|| lists.lists(lists.rosters.keys().copied()))
                .unwrap_or_default();
            f.family.other_programs = Some(Observed {
                value: others,
                source,
            });
        }
        f
    }

    /// Evaluates and shapes the output row.
    fn verdict_of(&self, program: &Program, row: &RosterRow, a: &Asked<'_>) -> VerdictRow {
        let (v, not_checked) = self.evaluate(program, row, a);
        VerdictRow::from_rules(program, row, v, a.res.person, a.res.suggestion, not_checked)
    }

    /// The rules' verdict of a row and, for each check not made, why.
    fn evaluate(
        &self,
        program: &Program,
        row: &RosterRow,
        a: &Asked<'_>,
    ) -> (RulesVerdict, Vec<NotChecked>) {
        let facts = self.facts(program, row, a);
        let v = sinergi_rules::evaluate(program, &facts);
        let not_checked = v
            .not_checked
            .iter()
            .map(|code| self.why_not_checked(code, row, a, program))
            .collect();
        (v, not_checked)
    }

    /// Everything the validator concluded about a row, for callers that answer with more than
    /// the verdict files' row (the exchange's `validasi-penerima`): the output row, the rules'
    /// own verdict (data minimisation works on it), the household it counts for in the ledger,
    /// and which registries could not be asked about it.
    fn judged_of(&self, program: &Program, row: &RosterRow, a: &Asked<'_>) -> Judged {
        let (v, not_checked) = self.evaluate(program, row, a);
        let unasked = REGISTRY_TABLES
            .iter()
            .filter_map(|t| self.unavailable(*t, a).map(|u| (*t, u)))
            .collect();
        Judged {
            row: VerdictRow::from_rules(
                program,
                row,
                v.clone(),
                a.res.person,
                a.res.suggestion,
                not_checked,
            ),
            rules: v,
            household: a.population.map(|p| p.kk).or(row.kk),
            unasked,
        }
    }

    /// Why a registry table cannot be asked at all.
    fn unavailable(&self, table: Table, a: &Asked<'_>) -> Option<Unasked> {
        if let Some((_, u)) = a
            .registries
            .and_then(|r| r.unasked.iter().find(|(t, _)| *t == table))
        {
            return Some(u.clone());
        }
        match table {
            Table::RosterEntry => self
                .lists
                .is_none()
                .then(|| Unasked::not_loaded(Table::RosterEntry)),
            t => self.answerer.unavailable(t),
        }
    }

    /// Why a check the programme enables was not made for a row.
    fn why_not_checked(
        &self,
        code: &str,
        row: &RosterRow,
        a: &Asked<'_>,
        program: &Program,
    ) -> NotChecked {
        use ReasonCode::*;
        let c = ReasonCode::parse(code);
        let table = match c {
            Some(Deceased) => Table::Death,
            Some(CivilServant) => Table::Employment,
            Some(WageAboveMinimum) => Table::Wage,
            Some(FormalEmployeeInsured | ExceptionCatastrophic) => Table::HealthMembership,
            Some(DecileAboveCut | NotInDtsen) => Table::Decile,
            Some(ProgramOverlap) => Table::RosterEntry,
            _ => Table::Person,
        };
        let (why, id, en): (&'static str, String, String) =
            if let Some(u) = self.unavailable(table, a) {
                (u.why, u.why_id, u.why_en)
            } else if a.res.person.is_none() {
                (
                    "NO_PERSON",
                    "baris ini tidak tertaut ke seorang pun di data kependudukan".into(),
                    "this row is not linked to anyone in the population registry".into(),
                )
            } else {
                match c {
                    Some(KkMismatch) if row.kk.is_none() => (
                        "NOT_IN_ROW",
                        "No KK tidak tertulis (atau tidak sah) di daftar".into(),
                        "the list states no (valid) No KK".into(),
                    ),
                    Some(OutOfRegion) if row.region_code().is_none() => (
                        "NOT_IN_ROW",
                        "Kode Desa tidak tertulis (atau tidak sah) di daftar".into(),
                        "the list states no (valid) Kode Desa".into(),
                    ),
                    Some(WageAboveMinimum) => (
                        "NO_MINIMUM_WAGE",
                        "UMK wilayah domisili tidak diketahui".into(),
                        "the minimum wage of the domicile is unknown".into(),
                    ),
                    Some(CivilServant) if program.unit() == Unit::Family => (
                        "NO_HEAD",
                        "kepala keluarga tidak tercatat di KK".into(),
                        "no head of family is recorded on the KK".into(),
                    ),
                    _ => (
                        "NOT_AVAILABLE",
                        "data yang diperlukan tidak tersedia".into(),
                        "the data needed is not available".into(),
                    ),
                }
            };
        NotChecked {
            code: code.to_string(),
            why: why.to_string(),
            why_id: id,
            why_en: en,
        }
    }
}

/// First day of a period (`2026-Q4` → 2026-10-01, `2026-11` → 2026-11-01, `2026` → 2026-01-01).
pub fn period_start(period: &str) -> Option<NaiveDate> {
    match crate::ledger::Period::parse(period) {
        crate::ledger::Period::Months(start, _) => {
            NaiveDate::from_ymd_opt((start / 12) as i32, start % 12 + 1, 1)
        }
        crate::ledger::Period::Label(_) => None,
    }
}

/// Linkage settings for validating lists. A domicile in another regency is weak evidence
/// against identity here: lists do carry people registered elsewhere (that is what
/// OUT_OF_REGION reports), and at scale EM learnt a weight for it strong enough to leave such
/// rows with a damaged NIK unlinked, losing every person-level reason (OUT_OF_REGION recall
/// 0.96 at 1M people). The name still has to carry the identity.
pub(crate) fn link_config() -> LinkConfig {
    LinkConfig {
        weight_overrides: vec![sinergi_linkage::WeightOverride {
            field: sinergi_linkage::Field::Region,
            level: "different".to_string(),
            weight: -1.0,
        }],
        ..LinkConfig::default()
    }
}

/// The linkage query of a row.
pub fn query(row: &RosterRow) -> sinergi_linkage::Query {
    IdentityQuestion::of(row).query()
}

/// The 16 digits of a NIK cell that is all digits (a number cell read back), as a number.
fn number_cell_nik(raw: &str) -> Option<u64> {
    let t = raw.trim();
    (t.len() == 16 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// Reduces a link to the NIK status, the person to ask the registries about, and a suggestion.
pub fn resolve(index: &RegistryIndex, row: &IdentityQuestion, link: &LinkResult) -> Resolved {
    let mut r = resolve_person(index, row, link);
    let listed = if r.slips.contains(&Slip::NikNumberCell) {
        r.person
    } else {
        row.nik
    };
    r.inferred = r.person.is_some() && r.person != listed;
    if r.person.is_some() {
        for s in &link.slips {
            let slip = match s {
                sinergi_linkage::Slip::Name(_) => Slip::Name,
                sinergi_linkage::Slip::BirthDate(sinergi_linkage::BirthDateLevel::DefaultDate) => {
                    Slip::DefaultBirthDate
                }
                sinergi_linkage::Slip::BirthDate(_) => Slip::BirthDate,
            };
            if !r.slips.contains(&slip) {
                r.slips.push(slip);
            }
        }
    }
    r
}

fn resolve_person(index: &RegistryIndex, row: &IdentityQuestion, link: &LinkResult) -> Resolved {
    let index_nik = |c: &sinergi_linkage::Candidate| c.nik;
    let listed_status = || -> NikStatus {
        if row.nik.is_some() {
            NikStatus::NotFound
        } else if row.nik_raw.trim().is_empty() {
            NikStatus::Missing
        } else {
            let parsed = sinergi_model::Nik::parse(row.nik_raw.trim());
            let mut problems: Vec<String> =
                parsed.errors.iter().map(|e| e.code().to_string()).collect();
            if problems.is_empty() {
                // Well formed, yet not read as a NIK: it came from a spreadsheet number cell.
                problems.push(sinergi_rules::NIK_STORED_AS_NUMBER.to_string());
            }
            NikStatus::Invalid { problems }
        }
    };
    match link.outcome {
        // The NIK cell did not parse (an Excel number cell) but its digits are exactly the
        // registry NIK of a person whose name and birth date agree: the NIK is right, only the
        // cell is not text. Said in a note; never "invalid" while proposing the same number.
        LinkOutcome::ExactNik
            if row.nik.is_none()
                && link.person.map(|i| index.nik(i)) == number_cell_nik(&row.nik_raw) =>
        {
            Resolved {
                nik_status: NikStatus::Valid,
                person: link.person.map(|i| index.nik(i)),
                suggestion: None,
                inferred: false,
                slips: vec![Slip::NikNumberCell],
            }
        }
        LinkOutcome::ExactNik if row.nik.is_none() => {
            let person_nik = link.person.map(|i| index.nik(i));
            Resolved {
                nik_status: listed_status(),
                person: person_nik,
                suggestion: person_nik.map(|n| (n, link.probability)),
                inferred: false,
                slips: Vec::new(),
            }
        }
        LinkOutcome::ExactNik => Resolved {
            nik_status: NikStatus::Valid,
            person: row.nik,
            suggestion: None,
            inferred: false,
            slips: Vec::new(),
        },
        LinkOutcome::ExactNikMismatch => {
            let sugg = link
                .suggestion
                .as_ref()
                .filter(|s| s.probable)
                .map(|s| (index_nik(&s.candidate), s.candidate.probability));
            Resolved {
                nik_status: NikStatus::ExactMismatch,
                person: sugg.map(|s| s.0),
                suggestion: sugg,
                inferred: false,
                slips: Vec::new(),
            }
        }
        LinkOutcome::Probable { .. } => {
            let person_nik = link.person.map(|i| index.nik(i));
            Resolved {
                nik_status: listed_status(),
                person: person_nik,
                suggestion: person_nik
                    .filter(|n| Some(*n) != row.nik)
                    .map(|n| (n, link.probability)),
                inferred: false,
                slips: Vec::new(),
            }
        }
        LinkOutcome::Possible | LinkOutcome::NotFound => Resolved {
            nik_status: listed_status(),
            person: None,
            suggestion: None,
            inferred: false,
            slips: Vec::new(),
        },
    }
}

/// Resolves roster rows to registry persons exactly as validation does (linkage with the same
/// configuration, trained on the first rows it is given, then [`resolve`]): for the household
/// ledger of stored rosters.
pub struct Resolver {
    registries: Arc<Registries>,
    params: Option<Params>,
}

impl Resolver {
    /// A resolver over loaded registries.
    pub fn new(registries: Arc<Registries>) -> Resolver {
        Resolver {
            registries,
            params: None,
        }
    }

    /// The registries.
    pub fn registries(&self) -> &Registries {
        &self.registries
    }

    /// The person (NIK) each row resolves to, in order. The first call trains the linkage
    /// model on its rows.
    pub fn persons(&mut self, rows: &[RosterRow]) -> Vec<Option<u64>> {
        let index = &self.registries.index;
        let mut linker = Linker::new(index, link_config());
        let questions: Vec<IdentityQuestion> = rows.iter().map(IdentityQuestion::of).collect();
        let queries: Vec<sinergi_linkage::Query> =
            questions.iter().map(IdentityQuestion::query).collect();
        match &self.params {
            Some(p) => linker.set_params(p.clone()),
            None => {
                linker.train(&queries);
                self.params = Some(linker.params().clone());
            }
        }
        let links = linker.link_all(&queries);
        questions
            .iter()
            .zip(&links)
            .map(|(q, l)| resolve(index, q, l).person)
            .collect()
    }
}

/// Whether a programme enables a check.
pub fn enabled(program: &Program, code: ReasonCode) -> bool {
    program.severity(code).is_some()
}
