//! Ingestion: reads agencies' native exports (CSV, XLSX, JSON Lines) through declarative
//! mapping files into canonical [`Record`]s of the data standard, with every rejected row
//! reported and a data-quality report.
//!
//! ```no_run
//! use sinergi_ingest::{Mapping, ReadOptions, read};
//! let mapping = Mapping::from_file("config/mappings/dukcapil-penduduk.toml")?;
//! let mut loaded = 0;
//! let report = read(
//!     &mapping,
//!     &["penduduk.csv".into()],
//!     &ReadOptions::default(),
//!     &mut |batch| {
//!         loaded += batch.records.len();
//!         Ok(())
//!     },
//!     &mut |_progress| {},
//! )?;
//! assert_eq!(report.rows_read, report.loaded + report.rejected);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Ingestion knows nothing of storage: the caller's sink receives [`Batch`]es of at most
//! [`ReadOptions::batch_size`] rows. CSV and JSON Lines are streamed in constant memory;
//! XLSX cells are streamed too (calamine's cell reader), with the workbook's shared strings
//! in memory. The duplicate-key index grows with the number of distinct keys (16–32 bytes
//! each); turn it off with [`ReadOptions::check_duplicates`] when the caller deduplicates.
//!
//! Row numbers in problems are what an officer sees in a spreadsheet program: 1-based,
//! counting header, title and blank rows. Text files also carry the line where the record
//! starts. See `docs/MAPPINGS.md`.

mod csv_reader;
mod engine;
mod jsonl;
pub mod mapping;
pub mod normalize;
pub mod plain;
pub mod report;
mod sniff;
mod xlsx;

use std::path::PathBuf;

pub use mapping::{Mapping, MappingError};
pub use report::{
    Batch, FieldCompleteness, FileReport, IngestReport, NikValidity, Problem, ProblemWriter,
    ProgressEvent, Reject, Warning, write_rejects_csv, write_report_json,
};
pub use sinergi_model::standard::{Record, Table, Value};

use engine::Engine;
use mapping::Format;

/// An error returned by the caller's sink; it stops the read.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Most rows (loaded plus rejected) in one [`Batch`]. Default 4096.
    pub batch_size: usize,
    /// Longest accepted value of a mapped field, in bytes; longer values get
    /// `FIELD_TOO_LONG`. Default 65,536.
    pub max_field_bytes: usize,
    /// Longest accepted JSON line, in bytes; longer lines are rejected with `ROW_TOO_LONG`
    /// without being held in memory. Default 16 MiB.
    pub max_line_bytes: usize,
    /// Reject rows whose key (`Table::key`) repeats an earlier row's. Default true.
    pub check_duplicates: bool,
    /// How many rejects and warnings the report keeps as examples (all go to the sink).
    /// Default 1000.
    pub max_examples: usize,
    /// The language of reject and warning messages (codes never change). Default Bahasa
    /// Indonesia.
    pub lang: sinergi_model::Lang,
    /// Most warnings handed to the sink (the warnings file); the rest are counted in the
    /// report (`warnings_not_written`, and every warning in `warning_codes`). Default: no
    /// cap.
    pub max_warnings: u64,
    /// The SHA-256 (lower-case hex) of each input file, in the order of the paths, when the
    /// caller has hashed them already (e.g. to skip re-loading an identical file): the reader
    /// then reports these in [`FileReport::sha256`] instead of hashing every byte a second
    /// time. A missing or empty entry means "hash while reading". Default: empty.
    pub file_sha256: Vec<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_size: 4096,
            max_field_bytes: 65_536,
            max_line_bytes: 16 << 20,
            check_duplicates: true,
            max_examples: 1000,
            lang: sinergi_model::Lang::default(),
            max_warnings: u64::MAX,
            file_sha256: Vec::new(),
        }
    }
}

/// Why a read stopped. Row-level problems are never errors: they are [`Reject`]s.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No input files were given.
    #[error("no input files given")]
    NoFiles,
    /// A file cannot be opened or read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has no content (not even a header).
    #[error("{file}: the file is empty (no header row); export the data again")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file is not text in the declared format (binary, a workbook named .csv, …).
    #[error("{file}: {reason}")]
    NotText {
        /// The file.
        file: String,
        /// What it looks like and what to do (English).
        reason: String,
        /// The same in Bahasa Indonesia.
        reason_id: String,
    },
    /// A column the mapping needs is not in the file. Nothing was loaded.
    #[error("{file}: required column(s) {} not found; the file's columns are: {}{}",
        missing.join(", "), found.join(", "), hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    ColumnMissing {
        /// The file.
        file: String,
        /// The mapping's column names not found.
        missing: Vec<String>,
        /// The header as found (of the best candidate header row).
        found: Vec<String>,
        /// A hint, e.g. that the delimiter looks wrong.
        hint: Option<String>,
    },
    /// The workbook cannot be read.
    #[error("{file}: cannot read the workbook: {message}")]
    Xlsx {
        /// The file.
        file: String,
        /// The cause.
        message: String,
    },
    /// The mapping's sheet is not in the workbook.
    #[error("{file}: no sheet {sheet}; the workbook's sheets are: {}", sheets.join(", "))]
    SheetNotFound {
        /// The file.
        file: String,
        /// The sheet asked for.
        sheet: String,
        /// The sheets present.
        sheets: Vec<String>,
    },
    /// The file is not what the mapping's format says: an old `.xls`, a text file named
    /// `.xlsx`, a workbook cut off while copying.
    #[error("{file}: {}", problem.message(sinergi_model::Lang::En))]
    WrongFormat {
        /// The file.
        file: String,
        /// What it turned out to be.
        problem: FormatProblem,
    },
    /// The mapping's sheet lacks the required columns, but another sheet has them.
    #[error("{file}: sheet {sheet:?} does not have the columns; sheet {found_on:?} has them. Move that sheet first, or set sheet = {found_on:?} in the mapping's [format]. The workbook's sheets: {}", sheets.join(", "))]
    DataOnOtherSheet {
        /// The file.
        file: String,
        /// The sheet read.
        sheet: String,
        /// The sheet whose header has every required column.
        found_on: String,
        /// Every sheet, in order.
        sheets: Vec<String>,
    },
    /// The sink returned an error.
    #[error("the receiver of the rows failed: {0}")]
    Sink(SinkError),
    /// An internal count does not add up (a bug; nothing should be trusted).
    #[error("internal error: {0}")]
    Invariant(String),
}

/// What a file given as a workbook turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatProblem {
    /// An Excel 97–2003 `.xls` workbook (not read: save it as `.xlsx`).
    OldXls,
    /// Text (a CSV file, perhaps only renamed `.xlsx`).
    Text,
    /// A ZIP container that ends early: the workbook was cut off while copying or downloading.
    Truncated,
    /// Something else (damaged, or not a spreadsheet).
    NotWorkbook,
}

impl FormatProblem {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            FormatProblem::OldXls => "FILE_XLS_OLD",
            FormatProblem::Text => "FILE_IS_TEXT",
            FormatProblem::Truncated => "FILE_TRUNCATED",
            FormatProblem::NotWorkbook => "FILE_NOT_XLSX",
        }
    }

    /// What it is and what to do.
    pub fn message(self, lang: sinergi_model::Lang) -> &'static str {
        match self {
            FormatProblem::OldXls => lang.pick(
                "ini buku kerja Excel lama (.xls); buka di Excel atau LibreOffice lalu simpan sebagai .xlsx (Excel Workbook), kemudian muat berkas .xlsx itu",
                "this is an old Excel workbook (.xls); open it in Excel or LibreOffice, save it as .xlsx (Excel Workbook) and load that file",
            ),
            FormatProblem::Text => lang.pick(
                "berkas ini teks (CSV), bukan buku kerja .xlsx, walaupun namanya .xlsx; buka di Excel lalu simpan sebagai .xlsx, atau muat sebagai CSV dengan pemetaan kind = \"csv\"",
                "this file is text (a CSV), not an .xlsx workbook, although it is named .xlsx; open it in Excel and save it as .xlsx, or load it as CSV with a mapping of kind = \"csv\"",
            ),
            FormatProblem::Truncated => lang.pick(
                "buku kerja ini terpotong (berkas berakhir sebelum akhir arsip ZIP-nya), kemungkinan saat disalin atau diunduh; ambil ulang berkas yang utuh",
                "the workbook is cut off (the file ends before the end of its ZIP archive), probably while copying or downloading; get the whole file again",
            ),
            FormatProblem::NotWorkbook => lang.pick(
                "berkas ini bukan buku kerja .xlsx yang dapat dibaca (rusak, atau format lain); simpan ulang dari Excel sebagai .xlsx atau ekspor sebagai CSV",
                "this file is not a readable .xlsx workbook (damaged, or another format); save it again from Excel as .xlsx or export it as CSV",
            ),
        }
    }
}

impl IngestError {
    /// What is wrong, where, and what to do, in `lang` (the `Display` text is English).
    pub fn message(&self, lang: sinergi_model::Lang) -> String {
        use sinergi_model::Lang;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            IngestError::NoFiles => "tidak ada berkas masukan".into(),
            IngestError::Io { file, source } => {
                format!("{file}: berkas tidak dapat dibaca: {source}")
            }
            IngestError::Empty { file } => {
                format!("{file}: berkas kosong (tidak ada baris judul kolom); ekspor ulang datanya")
            }
            IngestError::NotText {
                file, reason_id, ..
            } => format!("{file}: {reason_id}"),
            IngestError::ColumnMissing {
                file,
                missing,
                found,
                hint,
            } => format!(
                "{file}: kolom wajib {} tidak ditemukan; kolom yang ada di berkas: {}{}",
                missing.join(", "),
                found.join(", "),
                hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
            ),
            IngestError::Xlsx { file, message } => {
                format!("{file}: buku kerja tidak dapat dibaca: {message}")
            }
            IngestError::SheetNotFound {
                file,
                sheet,
                sheets,
            } => format!(
                "{file}: tidak ada lembar kerja {sheet}; lembar yang ada: {}",
                sheets.join(", ")
            ),
            IngestError::WrongFormat { file, problem } => {
                format!("{file}: {}", problem.message(lang))
            }
            IngestError::DataOnOtherSheet {
                file,
                sheet,
                found_on,
                sheets,
            } => format!(
                "{file}: lembar {sheet:?} tidak memuat kolom-kolomnya; lembar {found_on:?} memuatnya. Pindahkan lembar itu ke urutan pertama, atau tulis sheet = {found_on:?} di [format] pemetaan. Lembar yang ada: {}",
                sheets.join(", ")
            ),
            IngestError::Sink(e) => format!("penerima baris gagal: {e}"),
            IngestError::Invariant(m) => format!("kesalahan internal: {m}"),
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::WrongFormat { problem, .. } => problem.code(),
            IngestError::DataOnOtherSheet { .. } => "SHEET_WRONG",
            IngestError::NoFiles => "NO_INPUT",
            IngestError::Io { .. } => "FILE_UNREADABLE",
            IngestError::Empty { .. } => "FILE_EMPTY",
            IngestError::NotText { .. } => "FILE_NOT_TEXT",
            IngestError::ColumnMissing { .. } => "MAPPING_COLUMN_MISSING",
            IngestError::Xlsx { .. } => "XLSX_UNREADABLE",
            IngestError::SheetNotFound { .. } => "SHEET_NOT_FOUND",
            IngestError::Sink(_) => "SINK_FAILED",
            IngestError::Invariant(_) => "INVARIANT_BROKEN",
        }
    }
}

pub(crate) fn io_err(file: &str) -> impl Fn(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        file: file.to_owned(),
        source,
    }
}

/// Reads `paths` (one dataset, possibly split over several files) through `mapping`.
///
/// Every file's header is checked before any row is handed to `sink`: a missing required
/// column fails the whole read with [`IngestError::ColumnMissing`] and loads nothing.
/// Then rows stream to `sink` in batches. The returned report satisfies
/// `rows_read == loaded + rejected`.
pub fn read(
    mapping: &Mapping,
    paths: &[PathBuf],
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Batch) -> Result<(), SinkError>,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<IngestReport, IngestError> {
    if paths.is_empty() {
        return Err(IngestError::NoFiles);
    }
    let opts = ReadOptions {
        batch_size: opts.batch_size.max(1),
        ..opts.clone()
    };
    // 1. Headers of every file first: nothing loads when one is wrong.
    for path in paths {
        let file = path.display().to_string();
        match &mapping.format {
            Format::Csv(f) => csv_reader::check(mapping, f, path, &file)?,
            Format::Jsonl => jsonl::check(mapping, path, &file, &opts)?,
            Format::Xlsx(f) => xlsx::check(mapping, f, path, &file)?,
        }
    }
    // 2. Rows.
    let mut engine = Engine::new(mapping, &opts, sink, progress);
    for (index, path) in paths.iter().enumerate() {
        let file = path.display().to_string();
        engine.begin_file(index, &file);
        match &mapping.format {
            Format::Csv(f) => csv_reader::read(&mut engine, f, index, path, &file)?,
            Format::Jsonl => jsonl::read(&mut engine, index, path, &file)?,
            Format::Xlsx(f) => xlsx::read(&mut engine, f, index, path, &file)?,
        }
    }
    engine.finish()
}

/// Everything a read produced, collected in memory (for small files and tests).
#[derive(Debug, Clone)]
pub struct ReadAll {
    /// Loaded records.
    pub records: Vec<Record>,
    /// The row of each record.
    pub rows: Vec<u64>,
    /// Every reject.
    pub rejects: Vec<Reject>,
    /// Every warning.
    pub warnings: Vec<Warning>,
    /// The report.
    pub report: IngestReport,
}

/// [`read`] into memory.
pub fn read_all(
    mapping: &Mapping,
    paths: &[PathBuf],
    opts: &ReadOptions,
) -> Result<ReadAll, IngestError> {
    let mut records = Vec::new();
    let mut rows = Vec::new();
    let mut rejects = Vec::new();
    let mut warnings = Vec::new();
    let report = read(
        mapping,
        paths,
        opts,
        &mut |b: Batch| {
            records.extend(b.records);
            rows.extend(b.rows);
            rejects.extend(b.rejects);
            warnings.extend(b.warnings);
            Ok(())
        },
        &mut |_| {},
    )?;
    Ok(ReadAll {
        records,
        rows,
        rejects,
        warnings,
        report,
    })
}
