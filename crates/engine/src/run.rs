//! Bulk validation runs: load registries from the store, stream the roster through ingest in
//! blocks, validate each block in parallel, write outputs, summary and manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use sinergi_ingest::{Batch, Mapping, ReadOptions};
use sinergi_model::standard::Table;
use sinergi_rules::{Program, ReasonCode};
use sinergi_store::Store;

use crate::facts::RosterRow;
use crate::keymap::id16;
use crate::ledger::{Exclusions, LedgerBuilder, household};
use crate::output::{
    InputFile, Manifest, OutputError, OutputFormat, OutputSink, OverlapLine, Summary,
};
use crate::provenance::{Provenance, missing_message};
use crate::registries::{PartBuilder, Registries};
use crate::validator::{Resolver, Validator};
use crate::verdict::VerdictRow;

/// Rows validated per parallel block (memory is bounded by one block).
pub const BLOCK_ROWS: usize = 65_536;

/// Errors of a validation run. Each message says what was wrong and what to do, in Bahasa
/// Indonesia and English.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A registry the programme's checks need is not loaded.
    #[error("{message}")]
    MissingDataset {
        /// The first missing table.
        table: Table,
        /// Every missing table, in catalogue order.
        tables: Vec<Table>,
        /// Bilingual message naming the ingest command to run first.
        message: String,
    },
    /// The programme is not configured.
    #[error(
        "Program '{program}' tidak dikenal. Program yang tersedia: {known}.\nUnknown programme '{program}'. Known programmes: {known}."
    )]
    UnknownProgram {
        /// What was asked.
        program: String,
        /// Known programme codes, comma-separated.
        known: String,
    },
    /// A programme rules file is invalid.
    #[error("Aturan program tidak sah / invalid programme rules: {0}")]
    Rules(String),
    /// Storage failed.
    #[error("Basis data / database: {0}")]
    Store(#[from] sinergi_store::StoreError),
    /// The roster could not be read.
    #[error("Daftar tidak dapat dibaca / cannot read the list: {0}")]
    Ingest(#[from] sinergi_ingest::IngestError),
    /// The roster mapping could not be read.
    #[error("Mapping daftar / roster mapping: {0}")]
    Mapping(String),
    /// Writing outputs failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The list is for another programme than the one asked for.
    #[error(
        "Daftar {file} berisi baris program {found} (mulai baris {first_row}), bukan {requested}: aturan {requested} tidak diterapkan pada daftar program lain. Periksa --program atau pilih berkas daftar yang benar.\nThe list {file} holds rows of programme {found} (from row {first_row}), not {requested}: {requested}'s rules are not applied to another programme's list. Check --program or choose the right list file."
    )]
    ProgramMismatch {
        /// The list file(s).
        file: String,
        /// The programme asked for.
        requested: String,
        /// The programmes found instead, with their row counts in the first block read
        /// (`BPNT (4.096 baris)`).
        found: String,
        /// The first row of another programme.
        first_row: u64,
    },
    /// The verdicts could not be had from where they are computed (a node's batch service,
    /// `sinergi validasi`): the message says what went wrong and what to do.
    #[error("{message_id}\n{message_en}")]
    Judge {
        /// In Bahasa Indonesia (one line).
        message_id: String,
        /// In English (one line).
        message_en: String,
    },
    /// The list has no rows to validate.
    #[error(
        "Daftar {file} tidak berisi baris yang dapat divalidasi ({rejected} baris ditolak; lihat rejects.csv).\nThe list {file} has no rows that can be validated ({rejected} rows rejected; see rejects.csv)."
    )]
    NoRows {
        /// The file.
        file: String,
        /// Rows rejected at ingest.
        rejected: u64,
    },
}

impl EngineError {
    /// The message in `lang`: the half of a bilingual message, or the cause's own message in
    /// that language.
    pub fn message(&self, lang: sinergi_model::Lang) -> String {
        match self {
            EngineError::Ingest(e) => {
                format!(
                    "{}: {}",
                    lang.pick("Daftar tidak dapat dibaca", "Cannot read the list"),
                    e.message(lang)
                )
            }
            EngineError::Store(e) => format!("{}: {e}", lang.pick("Basis data", "Database")),
            EngineError::Output(e) => e.to_string(),
            EngineError::Rules(m) => format!(
                "{}: {m}",
                lang.pick("Aturan program tidak sah", "Invalid programme rules")
            ),
            EngineError::Mapping(m) => format!(
                "{}: {m}",
                lang.pick("Pemetaan daftar tidak sah", "Invalid roster mapping")
            ),
            other => {
                // Messages written "Indonesian\nEnglish" (one line each).
                let text = other.to_string();
                match text.split_once('\n') {
                    Some((id, en)) => lang.pick(id, en).to_string(),
                    None => text,
                }
            }
        }
    }
}

/// Stage of a run, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Loading registries from the store.
    LoadRegistries,
    /// Building the household ledger.
    Ledger,
    /// Validating rows.
    Validate,
    /// Writing the summary and manifest.
    Finish,
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Stage.
    pub stage: Stage,
    /// Units done (rows, or tables loaded).
    pub done: u64,
    /// What is happening (English, for logs).
    pub message: String,
}

/// Timing of one registry load.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadTimings {
    /// Seconds per table (scan and compaction, in parallel).
    pub tables: BTreeMap<String, f64>,
    /// Of which scanning the store, per table.
    pub scan_s: BTreeMap<String, f64>,
    /// Seconds assembling the parts (KK membership index) after the tables.
    pub assemble_s: f64,
    /// What became of the registry snapshot ([`crate::snapshot`]): `read FILE` (the
    /// registries came from it, nothing was scanned), `written FILE`, `not written: ...`,
    /// or `none` (no cache folder, e.g. PostgreSQL); after an unusable file, `unusable,
    /// rebuilt: ...; ` followed by what became of the new one.
    pub snapshot: String,
    /// Seconds reading or writing the snapshot.
    pub snapshot_s: f64,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Wall-clock seconds for the whole load.
    pub total_s: f64,
    /// Heap bytes of the loaded registries.
    pub heap_bytes: usize,
}

/// Which tables a programme's checks need.
pub fn required_tables(program: &Program) -> Vec<Table> {
    // Without the population registry nothing links; every other registry feeds checks that
    // are reported per row as "not checked" when it is missing, unless the programme
    // declares the check mandatory.
    let mut t = vec![Table::Person];
    for &c in program.mandatory() {
        if let Some(table) = check_table(c)
            && !t.contains(&table)
        {
            t.push(table);
        }
    }
    t.sort();
    t
}

/// The registry a catalogue check reads (`None` for checks on the list itself).
pub fn check_table(code: ReasonCode) -> Option<Table> {
    use ReasonCode::*;
    match code {
        Deceased => Some(Table::Death),
        DecileAboveCut | NotInDtsen => Some(Table::Decile),
        FormalEmployeeInsured | ExceptionCatastrophic => Some(Table::HealthMembership),
        CivilServant => Some(Table::Employment),
        WageAboveMinimum => Some(Table::Wage),
        NikNotFound | IdentityMismatch | KkMismatch => Some(Table::Person),
        _ => None,
    }
}

/// The loaded datasets per table, from the store.
pub async fn store_provenance(
    store: &Store,
) -> Result<BTreeMap<Table, Vec<Provenance>>, EngineError> {
    let mut out: BTreeMap<Table, Vec<Provenance>> = BTreeMap::new();
    for d in store.datasets().await? {
        let Some(cur) = d.current else { continue };
        // A registry of no rows (a header-only file loaded past the guard) cannot say that
        // anyone is absent from it: it counts as not loaded, so its checks are reported as
        // not made instead of failing every row (NOT_IN_DTSEN for all).
        if cur.row_count == 0 && d.meta.table != Table::RosterEntry {
            continue;
        }
        out.entry(d.meta.table).or_default().push(Provenance {
            table: d.meta.table.name().to_string(),
            agency: cur.source_agency.clone(),
            dataset: d.meta.name.clone(),
            snapshot: if cur.version_label.is_empty() {
                cur.snapshot_id.to_string()
            } else {
                format!("{} (snapshot {})", cur.version_label, cur.snapshot_id)
            },
            snapshot_id: cur.snapshot_id,
            loaded_at: cur.loaded_at.clone(),
            rows: cur.row_count,
            reference_date: cur.reference_date.clone(),
        });
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// Checks that every table is loaded; one error names every missing one and the command
/// that loads each.
pub fn check_loaded(
    provenance: &BTreeMap<Table, Vec<Provenance>>,
    needed: &[Table],
) -> Result<(), EngineError> {
    let missing: Vec<Table> = needed
        .iter()
        .copied()
        .filter(|t| provenance.get(t).is_none_or(Vec::is_empty))
        .collect();
    let Some(&first) = missing.first() else {
        return Ok(());
    };
    let message = if missing.len() == 1 {
        missing_message(first)
    } else {
        crate::provenance::missing_messages(&missing)
    };
    Err(EngineError::MissingDataset {
        table: first,
        tables: missing,
        message,
    })
}

impl Registries {
    /// Loads the registries validation needs from the store, each table scanned in its own task
    /// (in parallel on a multi-threaded runtime). Fails with a bilingual message naming the
    /// ingest command when a table in `needed` is not loaded; other tables are loaded when
    /// present.
    pub async fn load(
        store: &Store,
        needed: &[Table],
    ) -> Result<(Registries, LoadTimings), EngineError> {
        let t0 = Instant::now();
        let provenance = store_provenance(store).await?;
        check_loaded(&provenance, needed)?;
        let mut timings = LoadTimings {
            snapshot: "none".into(),
            ..LoadTimings::default()
        };
        let cache = store
            .cache_dir()
            .map(|dir| (dir, crate::snapshot::key(&provenance)));
        if let Some((dir, key)) = &cache {
            let (d, k, prov) = (dir.clone(), key.clone(), provenance.clone());
            let t = Instant::now();
            let read = tokio::task::spawn_blocking(move || crate::snapshot::read(&d, &k, prov))
                .await
                .expect("snapshot read does not panic");
            timings.snapshot_s = t.elapsed().as_secs_f64();
            match read {
                Ok(Some(reg)) => {
                    timings.snapshot =
                        format!("read {}", crate::snapshot::path(dir, key).display());
                    for (t, datasets) in &reg.provenance {
                        timings
                            .rows
                            .insert(t.name().to_string(), datasets.iter().map(|d| d.rows).sum());
                    }
                    timings.total_s = t0.elapsed().as_secs_f64();
                    timings.heap_bytes = reg.heap_bytes();
                    return Ok((reg, timings));
                }
                Ok(None) => {}
                Err(e) => timings.snapshot = format!("unusable, rebuilt: {e}"),
            }
        }
        let mut tasks = Vec::new();
        for table in [
            Table::Person,
            Table::Death,
            Table::Decile,
            Table::HealthMembership,
            Table::Employment,
            Table::Wage,
        ] {
            let Some(datasets) = provenance.get(&table).filter(|v| !v.is_empty()) else {
                continue;
            };
            let store = store.clone();
            let mut builder = PartBuilder::new(table, datasets).expect("registry table");
            builder.reserve(datasets.iter().map(|d| d.rows as usize).sum());
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let fields = builder.fields();
                let (rows, builder) = store.scan_text(table, fields, builder).await?;
                let scan_s = t.elapsed().as_secs_f64();
                let part = tokio::task::spawn_blocking(move || builder.finish())
                    .await
                    .expect("compaction does not panic");
                Ok::<_, sinergi_store::StoreError>((
                    table,
                    part,
                    rows,
                    scan_s,
                    t.elapsed().as_secs_f64(),
                ))
            }));
        }
        let mut parts = Vec::new();
        for task in tasks {
            let (table, part, rows, scan_s, secs) =
                task.await.expect("load task does not panic")?;
            timings.tables.insert(table.name().to_string(), secs);
            timings.scan_s.insert(table.name().to_string(), scan_s);
            timings.rows.insert(table.name().to_string(), rows);
            parts.push(part);
        }
        let t_assemble = Instant::now();
        let reg = tokio::task::spawn_blocking(move || Registries::assemble(parts, provenance))
            .await
            .expect("assembly does not panic");
        timings.assemble_s = t_assemble.elapsed().as_secs_f64();
        let reg = match cache {
            Some((dir, key)) => {
                let t = Instant::now();
                let (reg, written) = tokio::task::spawn_blocking(move || {
                    let written = crate::snapshot::write(&dir, &key, &reg);
                    (reg, written)
                })
                .await
                .expect("snapshot write does not panic");
                timings.snapshot_s = t.elapsed().as_secs_f64();
                let note = match written {
                    Ok(p) => format!("written {}", p.display()),
                    Err(e) => format!("not written: {e}"),
                };
                timings.snapshot = if timings.snapshot == "none" {
                    note
                } else {
                    format!("{}; {note}", timings.snapshot)
                };
                reg
            }
            None => reg,
        };
        timings.total_s = t0.elapsed().as_secs_f64();
        timings.heap_bytes = reg.heap_bytes();
        Ok((reg, timings))
    }
}

/// Reads every programme rules file (`*.toml`) in a directory, sorted by file name.
pub fn load_programs(dir: &Path) -> Result<Vec<Program>, EngineError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| EngineError::Rules(format!("{}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| EngineError::Rules(format!("{}: {e}", f.display())))?;
        let p = Program::parse(&f.display().to_string(), &text)
            .map_err(|e| EngineError::Rules(e.to_string()))?;
        out.push(p);
    }
    Ok(out)
}

/// Finds a programme by code (case-insensitive, `-`/space as `_`), or the bilingual error
/// listing the known ones.
pub fn find_program<'a>(programs: &'a [Program], code: &str) -> Result<&'a Program, EngineError> {
    let want = code.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    programs
        .iter()
        .find(|p| p.code() == want)
        .ok_or_else(|| EngineError::UnknownProgram {
            program: code.to_string(),
            known: programs
                .iter()
                .map(|p| p.code().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Which programmes may not be combined, from every programme's rules.
pub fn exclusions(programs: &[Program]) -> Exclusions {
    let mut ex = Exclusions::default();
    for p in programs {
        for other in p.not_combinable_with() {
            ex.forbid(p.code(), other);
        }
    }
    ex
}

/// Builds the household ledger from the rosters stored (minus the programme and period being
/// validated, which the list itself replaces).
pub async fn load_ledger(
    store: &Store,
    registries: &Arc<Registries>,
    programs: &[Program],
    replace: Option<(&str, &str)>,
) -> Result<LedgerBuilder, EngineError> {
    let mut b = LedgerBuilder::new();
    if let Some((p, per)) = replace {
        b.replace(p, per);
    }
    let _ = programs;
    if !registries.has(Table::RosterEntry) {
        return Ok(b);
    }
    /// Stored rows that count (not replaced by the list being validated). They are read
    /// first (the PostgreSQL scan runs on the async runtime) and linked afterwards.
    struct Sink(LedgerBuilder, Vec<RosterRow>, Vec<Option<i64>>);
    impl sinergi_store::RowSink for Sink {
        fn row(&mut self, row: &[Option<&str>]) {
            let (row, snapshot) = crate::ledger::stored_row(row);
            if self.0.counts(&row.program, &row.period) {
                self.1.push(row);
                self.2.push(snapshot);
            }
        }
    }
    let (_, Sink(mut b, rows, snapshots)) = store
        .scan_text(
            Table::RosterEntry,
            &LedgerBuilder::STORED_FIELDS,
            Sink(b, Vec::new(), Vec::new()),
        )
        .await?;
    // Linked to the registry as validation links a list, so that a mistyped NIK or another
    // family's KK on a stored row does not put its programme on the wrong family.
    let registries = registries.clone();
    let b = tokio::task::spawn_blocking(move || {
        let mut resolver = Resolver::new(registries);
        for (block, snapshots) in rows.chunks(BLOCK_ROWS).zip(snapshots.chunks(BLOCK_ROWS)) {
            let persons = resolver.persons(block);
            for ((row, snapshot), person) in block.iter().zip(snapshots).zip(persons) {
                b.add_stored(row, *snapshot, person, resolver.registries());
            }
        }
        b
    })
    .await
    .expect("linking stored rosters does not panic");
    Ok(b)
}

/// A validation request.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// The roster file(s) (XLSX/CSV as the roster mapping says).
    pub roster: Vec<PathBuf>,
    /// Programme code (PKH, BPNT, PBI_JK, BLT_DD).
    pub program: String,
    /// Period the list is for, when the list's rows do not say (otherwise from the rows).
    pub period: Option<String>,
    /// Directory of programme rules (`config/programs`).
    pub programs_dir: PathBuf,
    /// The roster mapping file (`config/mappings/roster.toml`).
    pub mapping: PathBuf,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Output formats.
    pub formats: Vec<OutputFormat>,
    /// Rows per parallel block.
    pub block_rows: usize,
    /// Language of the officer-facing files (CSV, XLSX, `summary.txt`).
    pub lang: sinergi_model::Lang,
}

impl ValidateRequest {
    /// A request with the default configuration paths (`config/...`), CSV+JSON+XLSX outputs.
    pub fn new(
        roster: impl Into<PathBuf>,
        program: &str,
        out_dir: impl Into<PathBuf>,
    ) -> ValidateRequest {
        ValidateRequest {
            roster: vec![roster.into()],
            program: program.to_string(),
            period: None,
            programs_dir: PathBuf::from("config/programs"),
            mapping: PathBuf::from("config/mappings/roster.toml"),
            out_dir: out_dir.into(),
            formats: vec![OutputFormat::Csv, OutputFormat::Json, OutputFormat::Xlsx],
            block_rows: BLOCK_ROWS,
            lang: sinergi_model::Lang::default(),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutput {
    /// Output directory.
    pub out_dir: PathBuf,
    /// Counts and budget.
    pub summary: Summary,
    /// Inputs and versions.
    pub manifest: Manifest,
    /// Registry load timings.
    pub load: LoadTimings,
    /// Seconds spent validating rows (linking, facts, rules, writing).
    pub validate_s: f64,
    /// Total seconds.
    pub total_s: f64,
    /// Rows linked by their exact NIK (the fast path).
    pub exact_nik_rows: u64,
}

/// Runs a validation with registries from the store.
pub async fn validate(
    store: &Store,
    req: &ValidateRequest,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RunOutput, EngineError> {
    let programs = load_programs(&req.programs_dir)?;
    let defaults: Vec<(&str, &str)> = req.period.iter().map(|p| ("period", p.as_str())).collect();
    let mapping = Mapping::from_file_with_defaults(&req.mapping, &defaults)
        .map_err(|e| EngineError::Mapping(e.to_string()))?;
    validate_with(store, req, &programs, &mapping, progress).await
}

/// [`validate`] with the programmes and the roster mapping already parsed (the CLI ships
/// them inside the binary); `req.programs_dir` and `req.mapping` are not read.
pub async fn validate_with(
    store: &Store,
    req: &ValidateRequest,
    programs: &[Program],
    mapping: &Mapping,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RunOutput, EngineError> {
    validate_tapped(store, req, programs, mapping, progress, &mut |_| {}).await
}

/// [`validate_with`], handing every block of verdicts to `tap` as well, in order, on the
/// thread that writes the verdict files (the web application keeps its results table from
/// them instead of reading `verdicts.json` back).
pub async fn validate_tapped(
    store: &Store,
    req: &ValidateRequest,
    programs: &[Program],
    mapping: &Mapping,
    progress: &mut (dyn FnMut(Progress) + Send),
    tap: &mut (dyn FnMut(&[VerdictRow]) + Send),
) -> Result<RunOutput, EngineError> {
    let t0 = Instant::now();
    let program = find_program(programs, &req.program)?.clone();
    progress(Progress {
        stage: Stage::LoadRegistries,
        done: 0,
        message: "loading registries".into(),
    });
    let (registries, load) = Registries::load(store, &required_tables(&program)).await?;
    progress(Progress {
        stage: Stage::Ledger,
        done: 0,
        message: format!("registries loaded in {:.1}s", load.total_s),
    });
    let replace_period = req.period.clone();
    let registries = Arc::new(registries);
    let ledger = load_ledger(
        store,
        &registries,
        programs,
        replace_period.as_deref().map(|p| (program.code(), p)),
    )
    .await?;
    let mut out = run_with_tap(
        registries, ledger, programs, &program, mapping, req, load, progress, tap,
    )?;
    out.total_s = t0.elapsed().as_secs_f64();
    Ok(out)
}

/// Runs a validation with registries already in memory (tests, benchmarks, the server's bulk
/// endpoint). `stored` is the ledger of stored rosters.
#[allow(clippy::too_many_arguments)]
pub fn run_with(
    registries: Arc<Registries>,
    stored: LedgerBuilder,
    programs: &[Program],
    program: &Program,
    mapping: &Mapping,
    req: &ValidateRequest,
    load: LoadTimings,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RunOutput, EngineError> {
    run_with_tap(
        registries,
        stored,
        programs,
        program,
        mapping,
        req,
        load,
        progress,
        &mut |_| {},
    )
}

/// [`run_with`] with a tap on the verdict blocks (see [`validate_tapped`]).
#[allow(clippy::too_many_arguments)]
fn run_with_tap(
    registries: Arc<Registries>,
    stored: LedgerBuilder,
    programs: &[Program],
    program: &Program,
    mapping: &Mapping,
    req: &ValidateRequest,
    load: LoadTimings,
    progress: &mut (dyn FnMut(Progress) + Send),
    tap: &mut (dyn FnMut(&[VerdictRow]) + Send),
) -> Result<RunOutput, EngineError> {
    let ex = exclusions(programs);
    let ledger = Arc::new(stored.finish(ex.clone()));
    let mut validator = Validator::new(registries.clone(), programs.to_vec(), ledger.clone());
    validator.set_list_name(
        &req.roster
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    let mut datasets: Vec<Provenance> = registries.provenance.values().flatten().cloned().collect();
    datasets.sort();
    let mut judge = Local {
        validator,
        seen: crate::validator::Seen::new(),
        trained: false,
        own: LedgerBuilder::new(),
        exact: 0,
        registries,
        ledger,
        ex,
    };
    run_judged_tap(
        program, mapping, req, &mut judge, datasets, load, progress, tap,
    )
}

/// Where a run's verdicts come from: the validator in this process ([`run_with`]), or a
/// node's batch service (`sinergi validasi`). Called with the list's blocks in order.
pub trait Judge {
    /// The verdicts of a block of rows, in order.
    fn judge(
        &mut self,
        program: &Program,
        block: &[RosterRow],
    ) -> Result<Vec<VerdictRow>, EngineError>;
    /// Rows linked to the person whose NIK they list (for `run-log.json`).
    fn exact_nik_rows(&self) -> u64 {
        0
    }
    /// The overlap budget for the summary, once every block is judged (none when the
    /// household ledger is elsewhere).
    fn overlaps(&mut self) -> Vec<OverlapLine> {
        Vec::new()
    }
}

/// The validator in this process, with the household ledger of the stored rosters.
struct Local {
    validator: Validator,
    seen: crate::validator::Seen,
    trained: bool,
    own: LedgerBuilder,
    exact: u64,
    registries: Arc<Registries>,
    ledger: Arc<crate::ledger::Ledger>,
    ex: Exclusions,
}

impl Judge for Local {
    fn judge(
        &mut self,
        program: &Program,
        block: &[RosterRow],
    ) -> Result<Vec<VerdictRow>, EngineError> {
        if !self.trained {
            self.validator.train(block);
            self.trained = true;
        }
        let verdicts = self
            .validator
            .validate_block(program, block, &mut self.seen);
        for (row, v) in block.iter().zip(&verdicts) {
            let nik = v.linked_nik.as_deref().and_then(id16);
            if nik.is_some() && nik == row.nik {
                self.exact += 1;
            }
            if let Some(kk) = household(&self.registries, nik, row.kk) {
                self.own.add(
                    kk,
                    program.code(),
                    &row.period,
                    row.amount.unwrap_or(0),
                    row.village.unwrap_or(0),
                );
            }
        }
        Ok(verdicts)
    }

    fn exact_nik_rows(&self) -> u64 {
        self.exact
    }

    fn overlaps(&mut self) -> Vec<OverlapLine> {
        // Stored rosters plus this list.
        let own = std::mem::take(&mut self.own).finish(self.ex.clone());
        let mut impact = self.ledger.merged(&own).impact();
        impact.retain(|_, v| v.households > 0);
        impact
            .into_iter()
            .map(|((program, period, regency), impact)| OverlapLine {
                program,
                period,
                regency,
                impact,
            })
            .collect()
    }
}

/// A run whose verdicts `judge` gives: reads the list through `mapping`, hands its blocks to
/// `judge` in order, and writes the verdict files, summary, manifest (citing `datasets`) and
/// run log, as `sinergi validate` does.
pub fn run_judged(
    program: &Program,
    mapping: &Mapping,
    req: &ValidateRequest,
    judge: &mut dyn Judge,
    datasets: Vec<Provenance>,
    load: LoadTimings,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RunOutput, EngineError> {
    run_judged_tap(
        program,
        mapping,
        req,
        judge,
        datasets,
        load,
        progress,
        &mut |_| {},
    )
}

/// [`run_judged`] with a tap on the verdict blocks (see [`validate_tapped`]).
#[allow(clippy::too_many_arguments)]
fn run_judged_tap(
    program: &Program,
    mapping: &Mapping,
    req: &ValidateRequest,
    judge: &mut dyn Judge,
    datasets: Vec<Provenance>,
    load: LoadTimings,
    progress: &mut (dyn FnMut(Progress) + Send),
    tap: &mut (dyn FnMut(&[VerdictRow]) + Send),
) -> Result<RunOutput, EngineError> {
    let t0 = Instant::now();
    // The run writes into a folder of its own and replaces the output folder's files only
    // when it succeeds: no stale file of an earlier run survives next to new ones, and a
    // failed run leaves the earlier results whole.
    let staging = Staging::new(&req.out_dir)?;
    let work = staging.dir.clone();
    let sink = OutputSink::create(&work, &req.formats, program.code(), req.lang)?;
    let rejects = crate::output::RejectWriter::create(&work, req.lang)?;
    let list_name = req
        .roster
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut mismatch: Option<EngineError> = None;
    let mut failed: Option<EngineError> = None;
    let mut done = 0u64;
    let block_rows = req.block_rows.max(1);
    // Three stages on their own threads, so the serial parts overlap the parallel one: the
    // reader parses the roster into blocks, this thread links and judges each block (in
    // parallel, rayon), the writer formats the verdict files. Bounded channels keep memory to
    // a few blocks; order is kept because each stage handles blocks in sequence.
    let (report, rows_total, rejects, sink) = std::thread::scope(|scope| {
        let (block_tx, block_rx) = std::sync::mpsc::sync_channel::<Vec<RosterRow>>(2);
        let (verdict_tx, verdict_rx) = std::sync::mpsc::sync_channel::<Vec<VerdictRow>>(2);
        let reader = std::thread::Builder::new()
            .name("roster-reader".into())
            .spawn_scoped(scope, move || {
                let mut rejects = rejects;
                let mut rows_total = 0u64;
                let mut block: Vec<RosterRow> = Vec::with_capacity(block_rows);
                let report = sinergi_ingest::read(
                    mapping,
                    &req.roster,
                    &ReadOptions {
                        lang: req.lang,
                        ..ReadOptions::default()
                    },
                    &mut |b: Batch| {
                        rejects
                            .add(&b)
                            .map_err(|e| Box::new(e) as sinergi_ingest::SinkError)?;
                        for (rec, row) in b.records.iter().zip(&b.rows) {
                            rows_total += 1;
                            block.push(RosterRow::from_record(rec, *row));
                            if block.len() >= block_rows {
                                let full =
                                    std::mem::replace(&mut block, Vec::with_capacity(block_rows));
                                // The receiver is gone only when validation stopped on an error,
                                // which is reported instead of this.
                                block_tx.send(full).map_err(|_| "validation stopped")?;
                            }
                        }
                        Ok(())
                    },
                    &mut |_| {},
                );
                if !block.is_empty() {
                    let _ = block_tx.send(block);
                }
                (report, rows_total, rejects)
            })
            .expect("a thread can be started");
        let writer = std::thread::Builder::new()
            .name("verdict-writer".into())
            .spawn_scoped(scope, move || {
                let mut sink = sink;
                for verdicts in verdict_rx {
                    tap(&verdicts);
                    sink.write_block(&verdicts)?;
                }
                Ok::<_, EngineError>(sink)
            })
            .expect("a thread can be started");
        for mut block in block_rx {
            if let Some(e) = program_mismatch(&block, program.code(), &list_name) {
                mismatch = Some(e);
                break;
            }
            if let Some(p) = &req.period {
                for r in block.iter_mut().filter(|r| r.period.is_empty()) {
                    r.period = p.clone();
                }
            }
            let verdicts = match judge.judge(program, &block) {
                Ok(v) => v,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            done += block.len() as u64;
            if verdict_tx.send(verdicts).is_err() {
                // The writer stopped on an error; it is reported below.
                break;
            }
            progress(Progress {
                stage: Stage::Validate,
                done,
                message: format!("{done} rows validated"),
            });
        }
        drop(verdict_tx);
        let written = writer.join().expect("writer thread does not panic");
        let (report, rows_total, rejects) = reader.join().expect("reader thread does not panic");
        Ok::<_, EngineError>((report, rows_total, rejects, written?))
    })?;
    if let Some(e) = mismatch.or(failed) {
        return Err(e);
    }
    let mut sink = sink;
    let report = report.map_err(EngineError::Ingest)?;
    let kept_rejects = rejects.finish()?;
    if rows_total == 0 {
        return Err(EngineError::NoRows {
            file: req
                .roster
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            rejected: report.rejected,
        });
    }
    progress(Progress {
        stage: Stage::Finish,
        done,
        message: "writing summary".into(),
    });
    sink.summary.rejected_rows = report.rejected;
    sink.summary.overlaps = judge.overlaps();
    let exact = judge.exact_nik_rows();
    // The reader hashed every file as it read it: the manifest cites those bytes.
    let inputs: Vec<InputFile> = report
        .files
        .iter()
        .map(|f| InputFile {
            name: Path::new(&f.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
        })
        .collect();
    let manifest = Manifest {
        sinergi_version: env!("CARGO_PKG_VERSION").to_string(),
        rules_version: format!("{} {}", program.code(), program.version()),
        program: program.code().to_string(),
        inputs,
        datasets,
        outputs: Vec::new(),
    };
    let summary = sink.finish(manifest.clone(), &kept_rejects)?;
    let manifest = {
        let mut m = manifest;
        m.outputs = crate::output::output_names(&req.formats);
        m
    };
    let validate_s = t0.elapsed().as_secs_f64();
    let out = RunOutput {
        out_dir: req.out_dir.clone(),
        summary,
        manifest,
        load,
        validate_s,
        total_s: validate_s,
        exact_nik_rows: exact,
    };
    crate::output::write_json(
        &work.join("run-log.json"),
        &serde_json::json!({
            "note": "timings differ between runs; every other file is deterministic",
            "rows": done,
            "exact_nik_rows": exact,
            "load": out.load,
            "validate_s": validate_s,
            "rejected_rows": report.rejected,
        }),
    )?;
    staging.publish()?;
    Ok(out)
}

/// The first block's rows of another programme than `code`, as an error (`None` when every
/// row is for `code`).
fn program_mismatch(block: &[RosterRow], code: &str, file: &str) -> Option<EngineError> {
    let first = block.iter().find(|r| r.program != code)?;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for r in block.iter().filter(|r| r.program != code) {
        *counts.entry(r.program.as_str()).or_default() += 1;
    }
    let found = counts
        .iter()
        .map(|(p, n)| format!("{p} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(EngineError::ProgramMismatch {
        file: file.to_string(),
        requested: code.to_string(),
        found,
        first_row: first.row_no,
    })
}

/// A run's own output folder beside the requested one (`.<name>.tmp-<pid>`), removed unless
/// published.
struct Staging {
    dir: PathBuf,
    out: PathBuf,
    published: bool,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging, EngineError> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "hasil".into());
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let io = |source| OutputError::Io {
            path: dir.clone(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io)?;
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            published: false,
        })
    }

    /// Removes every file an earlier run wrote in the output folder (other files stay) and
    /// moves this run's files in.
    fn publish(mut self) -> Result<(), EngineError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, source }
        };
        std::fs::create_dir_all(&self.out).map_err(io(&self.out))?;
        for name in crate::output::all_output_names() {
            let old = self.out.join(name);
            if old.is_file() {
                std::fs::remove_file(&old).map_err(io(&old))?;
            }
        }
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let from = entry.map_err(io(&self.dir))?.path();
            if let Some(name) = from.file_name() {
                let to = self.out.join(name);
                std::fs::rename(&from, &to).map_err(io(&to))?;
            }
        }
        self.published = true;
        let _ = std::fs::remove_dir(&self.dir);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
