//! Verdict files: `verdicts.csv` + `reasons.csv`, `verdicts.json`, `verdicts.xlsx`, plus
//! `summary.json`, `summary.txt` and `manifest.json`.
//!
//! Rows are written block by block as the run produces them, so memory stays bounded by one
//! block. Every file is deterministic: no wall-clock time, sorted maps, a fixed XLSX creation
//! date. Timings go to `run-log.json`, the one file that differs between identical runs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use serde::Serialize;
use sinergi_model::{RegionCode, wilayah};

use crate::ledger::OverlapImpact;
use crate::provenance::Provenance;
use crate::verdict::{Decision, VerdictRow, round4};

/// Output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// `verdicts.csv` and `reasons.csv`.
    Csv,
    /// `verdicts.json`: one JSON array, one verdict per line.
    Json,
    /// `verdicts.xlsx`.
    Xlsx,
}

impl OutputFormat {
    /// Parses a comma-separated list (`csv,xlsx,json`).
    pub fn parse_list(s: &str) -> Result<Vec<OutputFormat>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f = match part.to_ascii_lowercase().as_str() {
                "csv" => OutputFormat::Csv,
                "json" | "jsonl" => OutputFormat::Json,
                "xlsx" | "excel" => OutputFormat::Xlsx,
                other => {
                    return Err(format!(
                        "format tidak dikenal / unknown format '{other}' (csv, json, xlsx)"
                    ));
                }
            };
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Errors writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// File system error.
    #[error("gagal menulis {path} / cannot write {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// CSV error.
    #[error("gagal menulis CSV {path} / cannot write CSV {path}: {source}")]
    Csv {
        /// File.
        path: PathBuf,
        /// Cause.
        source: csv::Error,
    },
    /// XLSX error.
    #[error("gagal menulis XLSX {path} / cannot write XLSX {path}: {source}")]
    Xlsx {
        /// File.
        path: PathBuf,
        /// Cause.
        source: XlsxError,
    },
}

/// Money and counts for one group of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Rows.
    pub rows: u64,
    /// Rows per verdict.
    pub layak: u64,
    /// Rows TINJAU.
    pub tinjau: u64,
    /// Rows TIDAK LAYAK.
    pub tidak_layak: u64,
    /// Sum of Nominal of all rows.
    pub amount_total: i64,
    /// Sum of Nominal of TINJAU rows (budget to review).
    pub amount_tinjau: i64,
    /// Sum of Nominal of TIDAK LAYAK rows (budget at risk).
    pub amount_tidak_layak: i64,
}

impl Tally {
    fn add(&mut self, v: &VerdictRow) {
        let a = v.amount.unwrap_or(0);
        self.rows += 1;
        self.amount_total += a;
        match v.verdict {
            Decision::Layak => self.layak += 1,
            Decision::Tinjau => {
                self.tinjau += 1;
                self.amount_tinjau += a;
            }
            Decision::TidakLayak => {
                self.tidak_layak += 1;
                self.amount_tidak_layak += a;
            }
        }
    }
}

/// A region's tally with its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionTally {
    /// Official name from the Kemendagri table ("" when unknown).
    pub name: String,
    /// Counts and money.
    #[serde(flatten)]
    pub tally: Tally,
}

/// Overlap budget of one programme, period and regency (from the household ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlapLine {
    /// Programme.
    pub program: String,
    /// Period.
    pub period: String,
    /// Regency `PP.KK` ("" when unknown).
    pub regency: String,
    /// Households and amount.
    #[serde(flatten)]
    pub impact: OverlapImpact,
}

/// Counts and budget of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Programme.
    pub program: String,
    /// Period(s) of the list.
    pub periods: Vec<String>,
    /// Everything.
    pub total: Tally,
    /// Rows per verdict (`LAYAK`, `TINJAU`, `TIDAK LAYAK`).
    pub by_verdict: BTreeMap<String, u64>,
    /// Rows carrying each reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Per period: counts and budget at risk.
    pub by_period: BTreeMap<String, Tally>,
    /// Per province `PP`.
    pub by_province: BTreeMap<String, RegionTally>,
    /// Per regency `PP.KK`.
    pub by_regency: BTreeMap<String, RegionTally>,
    /// Roster rows the ingest step rejected (not validated).
    pub rejected_rows: u64,
    /// Checks not made: rows per `CODE` and per `CODE WHY` (see [`crate::NotChecked`]).
    pub not_checked: BTreeMap<String, u64>,
    /// Data-correction notes: rows per note code.
    pub notes: BTreeMap<String, u64>,
    /// Household overlaps across all loaded rosters (budget impact per programme and region).
    pub overlaps: Vec<OverlapLine>,
}

impl Summary {
    /// A summary for a programme.
    pub fn new(program: &str) -> Summary {
        let mut s = Summary {
            program: program.to_string(),
            ..Summary::default()
        };
        for d in Decision::ALL {
            s.by_verdict.insert(d.as_str().to_string(), 0);
        }
        s
    }

    /// Counts one row.
    pub fn add(&mut self, v: &VerdictRow) {
        self.total.add(v);
        *self
            .by_verdict
            .entry(v.verdict.as_str().to_string())
            .or_default() += 1;
        let mut seen: Vec<&str> = Vec::with_capacity(v.reasons.len());
        for r in &v.reasons {
            if !seen.contains(&r.code.as_str()) {
                seen.push(&r.code);
                *self.by_reason.entry(r.code.clone()).or_default() += 1;
            }
        }
        for n in &v.not_checked {
            *self.not_checked.entry(n.code.clone()).or_default() += 1;
            *self
                .not_checked
                .entry(format!("{} {}", n.code, n.why))
                .or_default() += 1;
        }
        for n in &v.notes {
            *self.notes.entry(n.code.clone()).or_default() += 1;
        }
        if !self.periods.contains(&v.period) {
            self.periods.push(v.period.clone());
            self.periods.sort();
        }
        self.by_period.entry(v.period.clone()).or_default().add(v);
        let code = v.region.as_deref().and_then(|r| RegionCode::parse(r).ok());
        let (prov, reg) = match code {
            Some(c) => (
                c.province().to_string(),
                c.at(sinergi_model::Level::Regency)
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        for (map, key) in [(&mut self.by_province, prov), (&mut self.by_regency, reg)] {
            let slot = map.entry(key.clone()).or_insert_with(|| RegionTally {
                name: RegionCode::parse(&key)
                    .ok()
                    .and_then(|c| wilayah().name(c))
                    .unwrap_or("")
                    .to_string(),
                tally: Tally::default(),
            });
            slot.tally.add(v);
        }
    }

    /// The human summary table (Bahasa Indonesia with English), as written to `summary.txt`.
    pub fn render_table(&self) -> String {
        let mut s = String::new();
        let rp = |x: i64| format_rupiah(x);
        s.push_str(&format!(
            "Ringkasan validasi / Validation summary — program {} ({})\n\n",
            self.program,
            self.periods.join(", ")
        ));
        s.push_str(&format!(
            "{:<28}{:>12}{:>24}\n",
            "Putusan / Verdict", "Baris/Rows", "Nominal (Rp)"
        ));
        let t = &self.total;
        for (label, n, a) in [
            (
                "LAYAK",
                t.layak,
                t.amount_total - t.amount_tinjau - t.amount_tidak_layak,
            ),
            ("TINJAU", t.tinjau, t.amount_tinjau),
            ("TIDAK LAYAK", t.tidak_layak, t.amount_tidak_layak),
            ("Jumlah / Total", t.rows, t.amount_total),
        ] {
            s.push_str(&format!("{label:<28}{n:>12}{:>24}\n", rp(a)));
        }
        if self.rejected_rows > 0 {
            s.push_str(&format!(
                "{:<28}{:>12}\n",
                "Ditolak / Rejected rows", self.rejected_rows
            ));
        }
        s.push_str(&format!(
            "\n{:<28}{:>12}\n",
            "Alasan / Reason", "Baris/Rows"
        ));
        for (code, n) in &self.by_reason {
            s.push_str(&format!("{code:<28}{n:>12}\n"));
        }
        if !self.not_checked.is_empty() {
            s.push_str(&format!(
                "\n{:<44}{:>12}\n",
                "Tidak diperiksa / Not checked (alasan / why)", "Baris/Rows"
            ));
            for (code, n) in &self.not_checked {
                s.push_str(&format!("{code:<44}{n:>12}\n"));
            }
        }
        if !self.notes.is_empty() {
            s.push_str(&format!(
                "\n{:<44}{:>12}\n",
                "Catatan perbaikan data / Data notes", "Baris/Rows"
            ));
            for (code, n) in &self.notes {
                s.push_str(&format!("{code:<44}{n:>12}\n"));
            }
        }
        s.push_str(&format!(
            "\n{:<12}{:>24}{:>24}\n",
            "Periode", "Risiko TIDAK LAYAK (Rp)", "TINJAU (Rp)"
        ));
        for (p, t) in &self.by_period {
            s.push_str(&format!(
                "{p:<12}{:>24}{:>24}\n",
                rp(t.amount_tidak_layak),
                rp(t.amount_tinjau)
            ));
        }
        s.push_str(&format!(
            "\n{:<8}{:<32}{:>10}{:>10}{:>10}{:>22}\n",
            "Wilayah", "Nama / Name", "Baris", "TINJAU", "TIDAK", "Risiko (Rp)"
        ));
        for (code, r) in &self.by_regency {
            let name: String = r.name.chars().take(30).collect();
            s.push_str(&format!(
                "{:<8}{:<32}{:>10}{:>10}{:>10}{:>22}\n",
                if code.is_empty() { "-" } else { code },
                name,
                r.tally.rows,
                r.tally.tinjau,
                r.tally.tidak_layak,
                rp(r.tally.amount_tidak_layak)
            ));
        }
        if !self.overlaps.is_empty() {
            s.push_str(&format!(
                "\n{:<10}{:<12}{:<8}{:>12}{:>22}\n",
                "Tumpang tindih / Overlaps", "", "", "KK", "Nominal (Rp)"
            ));
            for o in &self.overlaps {
                s.push_str(&format!(
                    "{:<10}{:<12}{:<8}{:>12}{:>22}\n",
                    o.program,
                    o.period,
                    o.regency,
                    o.impact.households,
                    rp(o.impact.amount)
                ));
            }
        }
        s
    }
}

/// `1234567` → `1.234.567` (Indonesian thousands separator).
pub fn format_rupiah(x: i64) -> String {
    let digits = x.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if x < 0 { format!("-{out}") } else { out }
}

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// File name (without directories, so runs from different folders agree).
    pub name: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// What a run read and which versions it used: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// `sinergi` version.
    pub sinergi_version: String,
    /// Rules version (programme configuration hash or version).
    pub rules_version: String,
    /// Programme validated.
    pub program: String,
    /// Input files.
    pub inputs: Vec<InputFile>,
    /// Registry datasets used, sorted by table then dataset.
    pub datasets: Vec<Provenance>,
    /// Output files written (names).
    pub outputs: Vec<String>,
}

const VERDICT_HEADER: [&str; 14] = [
    "row_no",
    "program",
    "period",
    "nik_listed",
    "name",
    "verdict",
    "reason_codes",
    "linked_nik",
    "suggested_nik",
    "suggested_score",
    "amount",
    "region",
    "not_checked",
    "data_notes",
];

const REASON_HEADER: [&str; 14] = [
    "row_no",
    "nik_listed",
    "code",
    "severity",
    "agency",
    "dataset",
    "dataset_version",
    "dataset_date",
    "message_id",
    "message_en",
    "next_step_id",
    "next_step_en",
    "detail",
    "overridden_by",
];

/// XLSX sheet row limit.
const XLSX_MAX_ROWS: u32 = 1_048_576;

struct XlsxOut {
    path: PathBuf,
    workbook: Workbook,
    /// Worksheet index and next row of the verdict sheet(s).
    verdict_sheet: usize,
    verdict_row: u32,
    reason_sheet: usize,
    reason_row: u32,
    sheets: usize,
    bold: Format,
}

impl XlsxOut {
    fn new(path: PathBuf) -> Result<XlsxOut, XlsxError> {
        let mut workbook = Workbook::new();
        // Fixed creation date: identical runs give identical bytes.
        let props = DocProperties::new()
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?)
            .set_author("Sinergi")
            .set_title("Hasil validasi / Validation results");
        workbook.set_properties(&props);
        // Deflate level 1, not 6: compressing a million-row sheet at level 6 took ~11 s of a
        // one-million-row run, on one core after every row was done; level 1 is several times
        // faster for a file a little larger (docs/BENCHMARKS.md).
        workbook.set_zip_compression_level(1);
        let bold = Format::new().set_bold();
        let mut x = XlsxOut {
            path,
            workbook,
            verdict_sheet: 0,
            verdict_row: 0,
            reason_sheet: 1,
            reason_row: 0,
            sheets: 0,
            bold,
        };
        x.verdict_sheet = x.new_sheet("Hasil", &VERDICT_HEADER)?;
        x.verdict_row = 1;
        x.reason_sheet = x.new_sheet("Alasan", &REASON_HEADER)?;
        x.reason_row = 1;
        Ok(x)
    }

    fn new_sheet(&mut self, name: &str, header: &[&str]) -> Result<usize, XlsxError> {
        let bold = self.bold.clone();
        let ws = self.workbook.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        self.sheets += 1;
        Ok(self.sheets - 1)
    }

    fn write(&mut self, v: &VerdictRow) -> Result<(), XlsxError> {
        if self.verdict_row >= XLSX_MAX_ROWS {
            let n = self.sheets;
            self.verdict_sheet = self.new_sheet(&format!("Hasil {n}"), &VERDICT_HEADER)?;
            self.verdict_row = 1;
        }
        let r = self.verdict_row;
        let ws = self.workbook.worksheet_from_index(self.verdict_sheet)?;
        ws.write_number(r, 0, v.row_no as f64)?;
        ws.write_string(r, 1, &v.program)?;
        ws.write_string(r, 2, &v.period)?;
        ws.write_string(r, 3, &v.nik_listed)?;
        ws.write_string(r, 4, &v.name)?;
        ws.write_string(r, 5, v.verdict.as_str())?;
        ws.write_string(r, 6, v.codes())?;
        ws.write_string(r, 7, v.linked_nik.as_deref().unwrap_or(""))?;
        ws.write_string(r, 8, v.suggested_nik.as_deref().unwrap_or(""))?;
        if let Some(s) = v.suggested_score {
            ws.write_number(r, 9, round4(s))?;
        }
        if let Some(a) = v.amount {
            ws.write_number(r, 10, a as f64)?;
        }
        ws.write_string(r, 11, v.region.as_deref().unwrap_or(""))?;
        if !v.not_checked.is_empty() {
            ws.write_string(r, 12, v.not_checked_codes())?;
        }
        if !v.notes.is_empty() {
            ws.write_string(r, 13, v.note_codes())?;
        }
        self.verdict_row += 1;
        for reason in &v.reasons {
            if self.reason_row >= XLSX_MAX_ROWS {
                let n = self.sheets;
                self.reason_sheet = self.new_sheet(&format!("Alasan {n}"), &REASON_HEADER)?;
                self.reason_row = 1;
            }
            let r = self.reason_row;
            let ws = self.workbook.worksheet_from_index(self.reason_sheet)?;
            ws.write_number(r, 0, v.row_no as f64)?;
            ws.write_string(r, 1, &v.nik_listed)?;
            for (c, s) in [
                &reason.code,
                reason.severity.as_str(),
                &reason.agency,
                &reason.dataset,
                &reason.dataset_version,
                &reason.dataset_date,
                &reason.message_id,
                &reason.message_en,
                &reason.next_step_id,
                &reason.next_step_en,
                &reason.detail,
                &reason.overridden_by,
            ]
            .into_iter()
            .enumerate()
            {
                ws.write_string(r, 2 + c as u16, s)?;
            }
            self.reason_row += 1;
        }
        Ok(())
    }

    fn finish(mut self, summary: &Summary) -> Result<(), XlsxError> {
        let bold = self.bold.clone();
        let ws = self.workbook.add_worksheet_with_constant_memory()?;
        ws.set_name("Ringkasan")?;
        for (r, line) in summary.render_table().lines().enumerate() {
            let r = r as u32;
            if r == 0 {
                ws.write_string_with_format(r, 0, line, &bold)?;
            } else {
                ws.write_string(r, 0, line)?;
            }
        }
        self.workbook.save(&self.path)
    }
}

/// Writes the chosen formats into an output directory, one block of rows at a time, and keeps
/// the summary.
pub struct OutputSink {
    dir: PathBuf,
    formats: Vec<OutputFormat>,
    verdicts_csv: Option<csv::Writer<BufWriter<File>>>,
    reasons_csv: Option<csv::Writer<BufWriter<File>>>,
    json: Option<(BufWriter<File>, bool)>,
    xlsx: Option<XlsxOut>,
    /// The summary so far.
    pub summary: Summary,
}

impl OutputSink {
    /// Creates the directory and opens the files.
    pub fn create(
        dir: &Path,
        formats: &[OutputFormat],
        program: &str,
    ) -> Result<OutputSink, OutputError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let open = |name: &str| -> Result<BufWriter<File>, OutputError> {
            let p = dir.join(name);
            File::create(&p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(io(&p))
        };
        let mut sink = OutputSink {
            dir: dir.to_path_buf(),
            formats: formats.to_vec(),
            verdicts_csv: None,
            reasons_csv: None,
            json: None,
            xlsx: None,
            summary: Summary::new(program),
        };
        if formats.contains(&OutputFormat::Csv) {
            let mut v = csv::Writer::from_writer(open("verdicts.csv")?);
            let mut r = csv::Writer::from_writer(open("reasons.csv")?);
            let p = dir.join("verdicts.csv");
            v.write_record(VERDICT_HEADER)
                .map_err(|source| OutputError::Csv {
                    path: p.clone(),
                    source,
                })?;
            r.write_record(REASON_HEADER)
                .map_err(|source| OutputError::Csv { path: p, source })?;
            sink.verdicts_csv = Some(v);
            sink.reasons_csv = Some(r);
        }
        if formats.contains(&OutputFormat::Json) {
            let mut w = open("verdicts.json")?;
            w.write_all(b"[").map_err(io(&dir.join("verdicts.json")))?;
            sink.json = Some((w, true));
        }
        if formats.contains(&OutputFormat::Xlsx) {
            let p = dir.join("verdicts.xlsx");
            sink.xlsx = Some(
                XlsxOut::new(p.clone()).map_err(|source| OutputError::Xlsx { path: p, source })?,
            );
        }
        Ok(sink)
    }

    /// Writes a block of rows (in order) and counts them in the summary.
    pub fn write_block(&mut self, rows: &[VerdictRow]) -> Result<(), OutputError> {
        let csv_err = |name: &str| {
            let path = self.dir.join(name);
            move |source| OutputError::Csv { path, source }
        };
        for v in rows {
            self.summary.add(v);
            if let (Some(w), Some(rw)) = (&mut self.verdicts_csv, &mut self.reasons_csv) {
                let row_no = v.row_no.to_string();
                let score = v
                    .suggested_score
                    .map(|s| format!("{:.4}", round4(s)))
                    .unwrap_or_default();
                let amount = v.amount.map(|a| a.to_string()).unwrap_or_default();
                w.write_record([
                    row_no.as_str(),
                    &v.program,
                    &v.period,
                    &v.nik_listed,
                    &v.name,
                    v.verdict.as_str(),
                    &v.codes(),
                    v.linked_nik.as_deref().unwrap_or(""),
                    v.suggested_nik.as_deref().unwrap_or(""),
                    &score,
                    &amount,
                    v.region.as_deref().unwrap_or(""),
                    &v.not_checked_codes(),
                    &v.note_codes(),
                ])
                .map_err(csv_err("verdicts.csv"))?;
                for r in &v.reasons {
                    rw.write_record([
                        row_no.as_str(),
                        &v.nik_listed,
                        &r.code,
                        r.severity.as_str(),
                        &r.agency,
                        &r.dataset,
                        &r.dataset_version,
                        &r.dataset_date,
                        &r.message_id,
                        &r.message_en,
                        &r.next_step_id,
                        &r.next_step_en,
                        &r.detail,
                        &r.overridden_by,
                    ])
                    .map_err(csv_err("reasons.csv"))?;
                }
            }
            if let Some((w, first)) = &mut self.json {
                let path = self.dir.join("verdicts.json");
                let io = |source| OutputError::Io {
                    path: path.clone(),
                    source,
                };
                w.write_all(if *first { b"\n" } else { b",\n" })
                    .map_err(io)?;
                *first = false;
                serde_json::to_writer(&mut *w, v).map_err(|e| io(e.into()))?;
            }
            if let Some(x) = &mut self.xlsx {
                let path = x.path.clone();
                x.write(v)
                    .map_err(|source| OutputError::Xlsx { path, source })?;
            }
        }
        Ok(())
    }

    /// Closes the verdict files and writes `summary.json`, `summary.txt` and `manifest.json`.
    /// Returns the summary.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<Summary, OutputError> {
        let dir = self.dir.clone();
        let io = |name: &str| {
            let path = dir.join(name);
            move |source| OutputError::Io { path, source }
        };
        let mut outputs = Vec::new();
        if let (Some(v), Some(r)) = (self.verdicts_csv.take(), self.reasons_csv.take()) {
            for (w, name) in [(v, "verdicts.csv"), (r, "reasons.csv")] {
                let mut inner = w
                    .into_inner()
                    .map_err(|e| io(name)(std::io::Error::other(e.to_string())))?;
                inner.flush().map_err(io(name))?;
                outputs.push(name.to_string());
            }
        }
        if let Some((mut w, first)) = self.json.take() {
            w.write_all(if first { b"]\n" } else { b"\n]\n" })
                .and_then(|_| w.flush())
                .map_err(io("verdicts.json"))?;
            outputs.push("verdicts.json".to_string());
        }
        if let Some(x) = self.xlsx.take() {
            let path = x.path.clone();
            x.finish(&self.summary)
                .map_err(|source| OutputError::Xlsx { path, source })?;
            outputs.push("verdicts.xlsx".to_string());
        }
        outputs.extend(
            [
                "summary.json",
                "summary.txt",
                "manifest.json",
                "rejects.csv",
            ]
            .map(String::from),
        );
        outputs.sort();
        manifest.outputs = outputs;
        let _ = &self.formats;
        write_json(&dir.join("summary.json"), &self.summary)?;
        std::fs::write(dir.join("summary.txt"), self.summary.render_table())
            .map_err(io("summary.txt"))?;
        write_json(&dir.join("manifest.json"), &manifest)?;
        Ok(self.summary)
    }
}

/// Every file name a run can write, whatever its formats (what a new run replaces).
pub fn all_output_names() -> Vec<String> {
    let mut v = output_names(&[OutputFormat::Csv, OutputFormat::Json, OutputFormat::Xlsx]);
    v.push("run-log.json".to_string());
    v
}

/// The names of the files a run writes for these formats, sorted.
pub fn output_names(formats: &[OutputFormat]) -> Vec<String> {
    let mut v: Vec<String> = [
        "summary.json",
        "summary.txt",
        "manifest.json",
        "rejects.csv",
    ]
    .map(String::from)
    .to_vec();
    for f in formats {
        match f {
            OutputFormat::Csv => v.extend(["verdicts.csv".into(), "reasons.csv".into()]),
            OutputFormat::Json => v.push("verdicts.json".into()),
            OutputFormat::Xlsx => v.push("verdicts.xlsx".into()),
        }
    }
    v.sort();
    v
}

/// `rejects.csv`: every roster row ingest rejected, with row, field, code and message, so
/// nothing is lost silently.
pub struct RejectWriter {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
    /// Problems written.
    pub count: u64,
}

impl RejectWriter {
    /// Creates `rejects.csv` in the directory.
    pub fn create(dir: &Path) -> Result<RejectWriter, OutputError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("rejects.csv");
        let f = File::create(&path).map_err(|source| OutputError::Io {
            path: path.clone(),
            source,
        })?;
        let mut w = csv::Writer::from_writer(BufWriter::new(f));
        w.write_record(["file", "row", "field", "raw_value", "code", "message"])
            .map_err(|source| OutputError::Csv {
                path: path.clone(),
                source,
            })?;
        Ok(RejectWriter { path, w, count: 0 })
    }

    /// Writes a batch's rejects.
    pub fn add(&mut self, b: &sinergi_ingest::Batch) -> Result<(), OutputError> {
        for r in &b.rejects {
            let file = Path::new(&r.file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.w
                .write_record([
                    file.as_str(),
                    &r.row.to_string(),
                    &r.field,
                    &r.raw_value,
                    r.code,
                    &r.message,
                ])
                .map_err(|source| OutputError::Csv {
                    path: self.path.clone(),
                    source,
                })?;
            self.count += 1;
        }
        Ok(())
    }

    /// Flushes the file.
    pub fn finish(self) -> Result<(), OutputError> {
        let path = self.path.clone();
        self.w
            .into_inner()
            .map_err(|e| OutputError::Io {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?
            .flush()
            .map_err(|source| OutputError::Io { path, source })
    }
}

/// Writes pretty JSON with a trailing newline.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), OutputError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| OutputError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    s.push('\n');
    std::fs::write(path, s).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_uses_dots() {
        assert_eq!(format_rupiah(0), "0");
        assert_eq!(format_rupiah(200_000), "200.000");
        assert_eq!(format_rupiah(-1_234_567), "-1.234.567");
    }

    #[test]
    fn formats_parse() {
        assert_eq!(
            OutputFormat::parse_list("xlsx, csv,json,csv").unwrap(),
            vec![OutputFormat::Csv, OutputFormat::Json, OutputFormat::Xlsx]
        );
        assert!(OutputFormat::parse_list("pdf").is_err());
    }
}
