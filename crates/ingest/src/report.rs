//! What a read produced besides records: problems per row, batches, progress and the
//! data-quality report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use sinergi_model::Lang;
use sinergi_model::standard::{Record, Table};

/// Longest raw value kept in a problem (characters); longer values are cut and end in `…`.
pub const RAW_VALUE_MAX_CHARS: usize = 200;

/// A problem with one row: a reject (the row was not loaded) or a warning (it was loaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The input file, as given.
    pub file: String,
    /// 1-based row as a spreadsheet program shows it, counting the header and title rows
    /// (and, for CSV, blank lines). For JSON Lines, the line number.
    pub row: u64,
    /// For text files: the 1-based line where the record starts (differs from `row` after a
    /// quoted field containing line breaks). `None` for XLSX.
    pub line: Option<u64>,
    /// The canonical field (or, for row-level problems, the column or empty).
    pub field: String,
    /// The raw value as read, cut to [`RAW_VALUE_MAX_CHARS`].
    pub raw_value: String,
    /// Stable code, e.g. `ROW_RAGGED`, `FIELD_REQUIRED_MISSING`, `NIK_WRONG_LENGTH`.
    pub code: &'static str,
    /// What is wrong, in English.
    pub message: String,
}

/// A rejected row (one entry per problem; a row can have several).
pub type Reject = Problem;
/// A warning on a loaded row.
pub type Warning = Problem;

pub(crate) fn cut(raw: &str) -> String {
    match raw.char_indices().nth(RAW_VALUE_MAX_CHARS) {
        Some((i, _)) => format!("{}…", &raw[..i]),
        None => raw.to_owned(),
    }
}

/// A slice of the input, handed to the caller's sink: loaded records and the problems of the
/// same rows. A batch never spans two files and never holds more than
/// [`crate::ReadOptions::batch_size`] rows (loaded plus rejected).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The canonical table.
    pub table: Table,
    /// Index of the file in the `paths` given to [`crate::read`].
    pub file: usize,
    /// Loaded records.
    pub records: Vec<Record>,
    /// The row (as in [`Problem::row`]) of each record, aligned with `records`.
    pub rows: Vec<u64>,
    /// Problems of rejected rows.
    pub rejects: Vec<Reject>,
    /// Warnings of loaded rows.
    pub warnings: Vec<Warning>,
}

impl Batch {
    /// Rows in this batch (loaded plus rejected).
    pub fn row_count(&self) -> usize {
        self.records.len() + self.rejected_rows()
    }

    /// Number of distinct rejected rows.
    pub fn rejected_rows(&self) -> usize {
        let mut n = 0;
        let mut last: Option<u64> = None;
        for r in &self.rejects {
            if last != Some(r.row) {
                n += 1;
                last = Some(r.row);
            }
        }
        n
    }
}

/// Progress of a read, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// A file is about to be read.
    FileStarted {
        /// Index in `paths`.
        file: usize,
        /// Its size in bytes.
        bytes: u64,
    },
    /// Rows were handed to the sink.
    Rows {
        /// Index in `paths`.
        file: usize,
        /// Rows read so far in this file.
        rows_read: u64,
        /// Bytes consumed so far in this file (before decoding; approximate for XLSX).
        bytes_read: u64,
    },
    /// A file is done.
    FileFinished {
        /// Index in `paths`.
        file: usize,
        /// Rows read in this file.
        rows_read: u64,
    },
}

/// Per-file figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// The path as given.
    pub path: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Encoding used (`utf-8`, `windows-1252`, `utf-16le`, …; `xlsx`/`json` for those).
    pub encoding: String,
    /// Row of the header (first row of it when it spans two); 0 for JSON Lines.
    pub header_row: u64,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows loaded.
    pub loaded: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rows left out by the mapping's `[[where]]` filters: not loaded, not rejected.
    pub filtered: u64,
    /// Loaded rows with at least one warning.
    pub warned: u64,
    /// Blank rows and lines (not data rows; not in `rows_read`).
    pub blank_rows: u64,
    /// Mapped optional columns the file lacks (their fields are empty).
    pub missing_optional_columns: Vec<String>,
}

/// Share of loaded rows with a value in one field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldCompleteness {
    /// Canonical field.
    pub field: &'static str,
    /// Loaded rows with a value.
    pub filled: u64,
    /// `filled / loaded` (0 when nothing loaded).
    pub share: f64,
}

/// How many of the NIKs present in the input are valid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NikValidity {
    /// The NIK field measured.
    pub field: &'static str,
    /// Rows (loaded or rejected) where the NIK column was not empty.
    pub present: u64,
    /// Of those, NIKs that passed every check.
    pub valid: u64,
    /// `valid / present` (0 when none present).
    pub rate: f64,
}

/// The result of a read: counts, quality measures and the first problems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestReport {
    /// Source name from the mapping.
    pub source: String,
    /// Canonical table.
    pub table: &'static str,
    /// Where the mapping came from.
    pub mapping: String,
    /// Per-file figures.
    pub files: Vec<FileReport>,
    /// Data rows read (blank rows excluded). Always `loaded + rejected + filtered`.
    pub rows_read: u64,
    /// Rows loaded.
    pub loaded: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rows left out by the mapping's `[[where]]` filters: not loaded, not rejected.
    pub filtered: u64,
    /// Loaded rows with at least one warning.
    pub warned: u64,
    /// Blank rows and lines skipped (reported, never data).
    pub blank_rows: u64,
    /// Rows rejected because their key repeats an earlier row's.
    pub duplicate_keys: u64,
    /// Reject entries by code.
    pub reject_codes: BTreeMap<&'static str, u64>,
    /// Warning entries by code.
    pub warning_codes: BTreeMap<&'static str, u64>,
    /// Completeness of every field over loaded rows, in table order.
    pub completeness: Vec<FieldCompleteness>,
    /// NIK validity, when the table has a NIK field.
    pub nik_validity: Option<NikValidity>,
    /// The first rejects (up to [`crate::ReadOptions::max_examples`]); all of them went to the
    /// sink.
    pub first_rejects: Vec<Reject>,
    /// The first warnings, likewise.
    pub first_warnings: Vec<Warning>,
    /// Warnings not handed to the sink because of [`crate::ReadOptions::max_warnings`].
    pub warnings_not_written: u64,
    /// Of those, how many per code.
    pub warnings_not_written_codes: BTreeMap<&'static str, u64>,
    /// The cap in force (`ReadOptions::max_warnings`), when there is one.
    pub warnings_cap: Option<u64>,
}

impl IngestReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// A plain-text summary for officers in `lang`.
    pub fn to_text(&self, lang: Lang) -> String {
        let t = |id: &'static str, en: &'static str| lang.pick(id, en);
        let mut s = String::new();
        let pct = |x: f64| {
            let p = format!("{:.1}%", x * 100.0);
            if lang.is_en() { p } else { p.replace('.', ",") }
        };
        let _ = writeln!(
            s,
            "{}: {} → {} {}",
            t("Laporan pemuatan", "Load report"),
            self.source,
            t("tabel", "table"),
            self.table
        );
        let _ = writeln!(s, "{}: {}", t("Pemetaan", "Mapping"), self.mapping);
        for f in &self.files {
            let _ = writeln!(
                s,
                "{}: {} ({} {}, {}, SHA-256 {})",
                t("Berkas", "File"),
                f.path,
                f.bytes,
                t("bita", "bytes"),
                f.encoding,
                f.sha256
            );
            if !f.missing_optional_columns.is_empty() {
                let _ = writeln!(
                    s,
                    "  {}: {}",
                    t(
                        "Kolom opsional tidak ada (dibiarkan kosong)",
                        "Optional columns missing (left empty)"
                    ),
                    f.missing_optional_columns.join(", ")
                );
            }
        }
        let rows = [
            (t("Baris dibaca", "Rows read"), self.rows_read),
            (t("Dimuat", "Loaded"), self.loaded),
            (t("Ditolak", "Rejected"), self.rejected),
            (
                t("Dimuat dengan peringatan", "Loaded with warnings"),
                self.warned,
            ),
            (
                t(
                    "Disaring [[where]] (bukan penolakan)",
                    "Filtered by [[where]] (not rejected)",
                ),
                self.filtered,
            ),
            (
                t(
                    "Baris kosong (dilewati, bukan data)",
                    "Blank rows (skipped, not data)",
                ),
                self.blank_rows,
            ),
            (
                t("Kunci ganda (ditolak)", "Duplicate keys (rejected)"),
                self.duplicate_keys,
            ),
        ];
        let _ = writeln!(s);
        for (label, n) in rows {
            let _ = writeln!(s, "{label:<38} {n:>12}");
        }
        if let Some(n) = &self.nik_validity {
            let _ = writeln!(
                s,
                "{:<38} {:>12}  ({} {} {} {})",
                t("Validitas NIK", "NIK validity"),
                pct(n.rate),
                n.valid,
                t("dari", "of"),
                n.present,
                t("NIK terisi", "NIKs present")
            );
        }
        if !self.reject_codes.is_empty() {
            let _ = writeln!(s, "\n{}:", t("Alasan penolakan", "Reasons for rejection"));
            for (code, n) in &self.reject_codes {
                let _ = writeln!(s, "  {code:<36} {n:>12}");
            }
        }
        if !self.warning_codes.is_empty() {
            let _ = writeln!(s, "\n{}:", t("Peringatan", "Warnings"));
            for (code, n) in &self.warning_codes {
                let _ = writeln!(s, "  {code:<36} {n:>12}");
            }
        }
        if self.warnings_not_written > 0 {
            let _ = writeln!(
                s,
                "\n{}",
                if lang.is_en() {
                    format!(
                        "The warnings file holds the first {} warnings; {} more were not written (counted above by code):",
                        self.warnings_cap.unwrap_or_default(),
                        self.warnings_not_written
                    )
                } else {
                    format!(
                        "Berkas peringatan memuat {} peringatan pertama; {} lainnya tidak ditulis (terhitung di atas menurut kode):",
                        self.warnings_cap.unwrap_or_default(),
                        self.warnings_not_written
                    )
                }
            );
            for (code, n) in &self.warnings_not_written_codes {
                let _ = writeln!(s, "  {code:<36} {n:>12}");
            }
        }
        let _ = writeln!(
            s,
            "\n{}:",
            t(
                "Kelengkapan kolom (baris dimuat yang terisi)",
                "Field completeness (loaded rows with a value)"
            )
        );
        for c in &self.completeness {
            let _ = writeln!(s, "  {:<36} {:>12}", c.field, pct(c.share));
        }
        s
    }
}

/// Writes problems as CSV with the header `file,row,line,field,raw_value,code,message`.
pub struct ProblemWriter {
    inner: csv::Writer<std::io::BufWriter<std::fs::File>>,
}

impl ProblemWriter {
    /// Creates (truncates) the file and writes the header.
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<ProblemWriter> {
        let file = std::fs::File::create(path)?;
        let mut inner = csv::Writer::from_writer(std::io::BufWriter::new(file));
        inner
            .write_record([
                "file",
                "row",
                "line",
                "field",
                "raw_value",
                "code",
                "message",
            ])
            .map_err(std::io::Error::other)?;
        Ok(ProblemWriter { inner })
    }

    /// Appends one problem.
    pub fn write(&mut self, p: &Problem) -> std::io::Result<()> {
        let line = p.line.map(|l| l.to_string()).unwrap_or_default();
        self.inner
            .write_record([
                p.file.as_str(),
                &p.row.to_string(),
                &line,
                &p.field,
                &p.raw_value,
                p.code,
                &p.message,
            ])
            .map_err(std::io::Error::other)
    }

    /// Flushes to disk.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.inner.flush()?;
        self.inner
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .flush()
    }
}

/// Writes rejects (or warnings) to a CSV file: `file,row,line,field,raw_value,code,message`.
pub fn write_rejects_csv<'a>(
    path: impl AsRef<Path>,
    problems: impl IntoIterator<Item = &'a Problem>,
) -> std::io::Result<()> {
    let mut w = ProblemWriter::create(path)?;
    for p in problems {
        w.write(p)?;
    }
    w.finish()
}

/// Writes the report as JSON.
pub fn write_report_json(path: impl AsRef<Path>, report: &IngestReport) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(report.to_json().as_bytes())?;
    f.write_all(b"\n")
}
