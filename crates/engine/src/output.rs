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

use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
    XlsxError,
};
use serde::Serialize;
use sinergi_ingest::Problem;
use sinergi_model::Lang;
use sinergi_model::{RegionCode, wilayah};

use crate::layout::{Cell, Column, Kind, REASON_COLUMNS, REJECT_COLUMNS, VERDICT_COLUMNS};
use crate::ledger::OverlapImpact;
use crate::provenance::Provenance;
use crate::verdict::{Decision, VerdictRow};

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
    /// Rows whose amount is the rules' `benefit.amount` (the list gave none).
    pub amount_from_rules: u64,
}

impl Tally {
    fn add(&mut self, v: &VerdictRow) {
        let a = v.amount.unwrap_or(0);
        if v.amount_from_rules {
            self.amount_from_rules += 1;
        }
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

    /// The human summary table in `lang`, as written to `summary.txt` and printed by the CLI.
    pub fn render_table(&self, lang: Lang) -> String {
        let t = |id: &'static str, en: &'static str| lang.pick(id, en);
        let mut s = String::new();
        let rp = |x: i64| format_rupiah(x);
        s.push_str(&format!(
            "{} {} ({})\n\n",
            t(
                "Ringkasan validasi — program",
                "Validation summary — programme"
            ),
            self.program,
            self.periods.join(", ")
        ));
        s.push_str(&format!(
            "{:<28}{:>12}{:>24}\n",
            t("Putusan", "Verdict"),
            t("Baris", "Rows"),
            t("Nominal (Rp)", "Amount (Rp)")
        ));
        let tot = &self.total;
        for (label, n, a) in [
            (
                Decision::Layak.label(lang),
                tot.layak,
                tot.amount_total - tot.amount_tinjau - tot.amount_tidak_layak,
            ),
            (Decision::Tinjau.label(lang), tot.tinjau, tot.amount_tinjau),
            (
                Decision::TidakLayak.label(lang),
                tot.tidak_layak,
                tot.amount_tidak_layak,
            ),
            (t("Jumlah", "Total"), tot.rows, tot.amount_total),
        ] {
            s.push_str(&format!("{label:<28}{n:>12}{:>24}\n", rp(a)));
        }
        if tot.amount_from_rules > 0 {
            let n = tot.amount_from_rules;
            s.push_str(&if lang.is_en() {
                format!(
                    "Amount of {n} rows without a Nominal: the programme's benefit.amount from its rules.\n"
                )
            } else {
                format!(
                    "Nominal {n} baris tanpa kolom Nominal: benefit.amount dari aturan program.\n"
                )
            });
        }
        if self.rejected_rows > 0 {
            s.push_str(&format!(
                "{:<28}{:>12}\n",
                t("Baris ditolak", "Rejected rows"),
                self.rejected_rows
            ));
        }
        s.push_str(&format!(
            "\n{:<28}{:>12}\n",
            t("Alasan", "Reason"),
            t("Baris", "Rows")
        ));
        for (code, n) in &self.by_reason {
            s.push_str(&format!("{code:<28}{n:>12}\n"));
        }
        if !self.not_checked.is_empty() {
            s.push_str(&format!(
                "\n{:<44}{:>12}\n",
                t("Tidak diperiksa (sebab)", "Not checked (why)"),
                t("Baris", "Rows")
            ));
            for (code, n) in &self.not_checked {
                s.push_str(&format!("{code:<44}{n:>12}\n"));
            }
        }
        if !self.notes.is_empty() {
            s.push_str(&format!(
                "\n{:<44}{:>12}\n",
                t("Catatan perbaikan data", "Data-correction notes"),
                t("Baris", "Rows")
            ));
            for (code, n) in &self.notes {
                s.push_str(&format!("{code:<44}{n:>12}\n"));
            }
        }
        s.push_str(&format!(
            "\n{:<12}{:>24}{:>24}\n",
            t("Periode", "Period"),
            t("Risiko TIDAK LAYAK (Rp)", "NOT ELIGIBLE risk (Rp)"),
            t("TINJAU (Rp)", "REVIEW (Rp)")
        ));
        for (p, x) in &self.by_period {
            s.push_str(&format!(
                "{p:<12}{:>24}{:>24}\n",
                rp(x.amount_tidak_layak),
                rp(x.amount_tinjau)
            ));
        }
        s.push_str(&format!(
            "\n{:<8}{:<32}{:>10}{:>10}{:>10}{:>22}\n",
            t("Wilayah", "Region"),
            t("Nama", "Name"),
            t("Baris", "Rows"),
            "TINJAU",
            "TIDAK",
            t("Risiko (Rp)", "At risk (Rp)")
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
                "\n{:<30}{:<8}{:>12}{:>22}\n",
                t("Tumpang tindih", "Overlaps"),
                "",
                "KK",
                t("Nominal (Rp)", "Amount (Rp)")
            ));
            for o in &self.overlaps {
                s.push_str(&format!(
                    "{:<30}{:<8}{:>12}{:>22}\n",
                    format!("{} {}", o.program, o.period),
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

/// XLSX sheet row limit.
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// Rejected rows kept for the XLSX sheet; every one is in `rejects.csv`.
const XLSX_MAX_REJECTS: usize = 100_000;

/// The UTF-8 byte order mark: Excel reads a CSV as UTF-8 only with it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV writer as Excel in the Indonesian locale opens it by double-click: UTF-8 with a BOM,
/// `;` between fields (the locale's list separator, since `,` is its decimal mark).
fn excel_csv(mut w: BufWriter<File>) -> std::io::Result<csv::Writer<BufWriter<File>>> {
    w.write_all(BOM)?;
    Ok(csv::WriterBuilder::new().delimiter(b';').from_writer(w))
}

/// The header row of a table in `lang`.
fn header_row<R: ?Sized, X: ?Sized>(columns: &[Column<R, X>], lang: Lang) -> Vec<&'static str> {
    columns.iter().map(|c| c.header(lang)).collect()
}

/// One row of a table (and its part) as CSV fields.
fn csv_row<R: ?Sized, X: ?Sized>(
    columns: &[Column<R, X>],
    row: &R,
    part: &X,
    lang: Lang,
) -> Vec<String> {
    columns
        .iter()
        .map(|c| (c.value)(row, part, lang).csv_text(lang))
        .collect()
}

/// The cell formats of the workbook.
struct Formats {
    title: Format,
    header: Format,
    /// Headers of columns whose values are centred (whole numbers, dates) or right-aligned
    /// (rupiah, shares), so a header sits over its values.
    header_center: Format,
    header_right: Format,
    bold: Format,
    text: Format,
    wrap: Format,
    int: Format,
    rupiah: Format,
    date: Format,
    percent: Format,
    layak: Format,
    tinjau: Format,
    tidak: Format,
}

impl Formats {
    fn new() -> Formats {
        let top = |f: Format| f.set_align(FormatAlign::Top);
        let verdict = |bg: u32, fg: u32| {
            top(Format::new())
                .set_bold()
                .set_background_color(Color::RGB(bg))
                .set_font_color(Color::RGB(fg))
        };
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_background_color(Color::RGB(0xD9E1F2))
            .set_border_bottom(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header_center: header.clone().set_align(FormatAlign::Center),
            header_right: header.clone().set_align(FormatAlign::Right),
            header,
            bold: Format::new().set_bold(),
            text: top(Format::new()),
            wrap: top(Format::new().set_text_wrap()),
            // Centred: a row number right-aligned against the NIK beside it reads as one
            // number ("1" + "3201..." looked like "13201...").
            int: top(Format::new()
                .set_num_format("0")
                .set_align(FormatAlign::Center)),
            // `_)` keeps a character's width free at the right edge: an amount ran into the
            // KK number beside it ("Rp 375.0005202...").
            rupiah: top(Format::new().set_num_format("\"Rp\" #,##0_)")),
            date: top(Format::new()
                .set_num_format("dd-mm-yyyy")
                .set_align(FormatAlign::Center)),
            percent: top(Format::new().set_num_format("0.0%_)")),
            layak: verdict(0xC6EFCE, 0x006100),
            tinjau: verdict(0xFFEB9C, 0x9C5700),
            tidak: verdict(0xFFC7CE, 0x9C0006),
        }
    }

    /// The header format of a column holding `kind`.
    fn header_for(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Integer | Kind::Date => &self.header_center,
            Kind::Rupiah | Kind::Percent => &self.header_right,
            _ => &self.header,
        }
    }

    fn verdict(&self, text: &str) -> &Format {
        match Decision::ALL
            .iter()
            .find(|d| d.as_str() == text || d.as_en() == text)
        {
            Some(Decision::Layak) => &self.layak,
            Some(Decision::Tinjau) => &self.tinjau,
            Some(Decision::TidakLayak) => &self.tidak,
            None => &self.text,
        }
    }
}

/// Writes one cell as its column's kind asks.
fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    kind: Kind,
    f: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => {
            let fmt = match kind {
                Kind::Wrapped => &f.wrap,
                Kind::Verdict => f.verdict(s),
                _ => &f.text,
            };
            ws.write_string_with_format(r, c, s, fmt)?;
        }
        Cell::Int(i) => {
            let fmt = if kind == Kind::Rupiah {
                &f.rupiah
            } else {
                &f.int
            };
            ws.write_number_with_format(r, c, *i as f64, fmt)?;
        }
        Cell::Share(x) => {
            ws.write_number_with_format(r, c, *x, &f.percent)?;
        }
        Cell::Date(d) => {
            use chrono::Datelike;
            match ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8) {
                Ok(dt) => {
                    ws.write_datetime_with_format(r, c, &dt, &f.date)?;
                }
                // Before 1900 (Excel's first date): the date as text.
                Err(_) => {
                    ws.write_string_with_format(r, c, d.format("%d-%m-%Y").to_string(), &f.text)?;
                }
            }
        }
    }
    Ok(())
}

/// Printing as an officer would: A4 landscape, page numbers in the footer.
fn page_setup(ws: &mut Worksheet, lang: Lang) {
    ws.set_paper_size(9)
        .set_landscape()
        .set_footer(format!("&L&A&R{} &P / &N", lang.pick("Halaman", "Page")));
}

/// Points of one line of text in the default font.
const LINE_POINTS: f64 = 15.0;
/// Tallest row Excel allows, in lines.
const MAX_LINES: usize = 27;

/// The lines a row's wrapped cells need at their columns' widths, so the row is tall enough
/// to show them (spreadsheet programs do not always fit heights when they open a file).
fn lines_needed<R: ?Sized, X: ?Sized>(columns: &[Column<R, X>], cells: &[Cell]) -> usize {
    let mut most = 1;
    for (col, cell) in columns.iter().zip(cells) {
        if col.kind != Kind::Wrapped {
            continue;
        }
        if let Cell::Text(t) = cell {
            let per_line = (col.width * 1.1).max(1.0) as usize;
            let n: usize = t
                .lines()
                .map(|l| l.chars().count().div_ceil(per_line).max(1))
                .sum();
            most = most.max(n);
        }
    }
    most.min(MAX_LINES)
}

/// Writes one row of a data sheet: its cells, and its height when they need more than a line.
fn write_row<R: ?Sized, X: ?Sized>(
    ws: &mut Worksheet,
    r: u32,
    columns: &[Column<R, X>],
    row: &R,
    part: &X,
    lang: Lang,
    f: &Formats,
) -> Result<(), XlsxError> {
    let cells: Vec<Cell> = columns.iter().map(|c| (c.value)(row, part, lang)).collect();
    let lines = lines_needed(columns, &cells);
    if lines > 1 {
        ws.set_row_height(r, lines as f64 * LINE_POINTS)?;
    }
    for (c, (col, cell)) in columns.iter().zip(&cells).enumerate() {
        write_cell(ws, r, c as u16, cell, col.kind, f)?;
    }
    Ok(())
}

/// Starts a data sheet: header row, column widths, frozen header, print setup.
fn data_sheet<R: ?Sized, X: ?Sized>(
    ws: &mut Worksheet,
    name: &str,
    columns: &[Column<R, X>],
    lang: Lang,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    page_setup(ws, lang);
    // Every printed page repeats the header and the first columns (No, NIK, Nama).
    ws.set_repeat_rows(0, 0)?;
    ws.set_repeat_columns(0, 2.min(columns.len() as u16 - 1))?;
    // Two pages wide: the verdict, reasons and next steps on the first, the detail on the
    // second, each readable.
    ws.set_print_fit_to_pages(2, 0);
    ws.set_print_gridlines(true);
    for (c, col) in columns.iter().enumerate() {
        ws.set_column_width(c as u16, col.width)?;
        ws.write_string_with_format(0, c as u16, col.header(lang), f.header_for(col.kind))?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// One data sheet being written: its index, the next row, and how many columns it has.
struct SheetAt {
    index: usize,
    row: u32,
    cols: u16,
}

/// The sheet names in a language.
struct SheetNames {
    summary: &'static str,
    results: &'static str,
    reasons: &'static str,
    rejected: &'static str,
    sources: &'static str,
}

fn sheet_names(lang: Lang) -> SheetNames {
    match lang {
        Lang::Id => SheetNames {
            summary: "Ringkasan",
            results: "Hasil",
            reasons: "Alasan",
            rejected: "Ditolak",
            sources: "Sumber data",
        },
        Lang::En => SheetNames {
            summary: "Summary",
            results: "Results",
            reasons: "Reasons",
            rejected: "Rejected",
            sources: "Data sources",
        },
    }
}

struct XlsxOut {
    path: PathBuf,
    workbook: Workbook,
    lang: Lang,
    formats: Formats,
    verdicts: SheetAt,
    reasons: SheetAt,
    /// Every data sheet written, for its autofilter at the end.
    done: Vec<SheetAt>,
    sheets: usize,
}

impl XlsxOut {
    fn new(path: PathBuf, lang: Lang) -> Result<XlsxOut, XlsxError> {
        let mut workbook = Workbook::new();
        // Fixed creation date: identical runs give identical bytes.
        let props = DocProperties::new()
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?)
            .set_author("Sinergi")
            .set_title(lang.pick("Hasil validasi", "Validation results"));
        workbook.set_properties(&props);
        // Deflate level 1, not 6: compressing a million-row sheet at level 6 took ~11 s of a
        // one-million-row run, on one core after every row was done; level 1 is several times
        // faster for a file a little larger (docs/BENCHMARKS.md).
        workbook.set_zip_compression_level(1);
        let names = sheet_names(lang);
        // The summary comes first (what an officer opens to); it is filled at the end.
        workbook.add_worksheet().set_name(names.summary)?;
        let mut x = XlsxOut {
            path,
            workbook,
            lang,
            formats: Formats::new(),
            verdicts: SheetAt {
                index: 0,
                row: 0,
                cols: 0,
            },
            reasons: SheetAt {
                index: 0,
                row: 0,
                cols: 0,
            },
            done: Vec::new(),
            sheets: 1,
        };
        x.verdicts = x.new_sheet(names.results, VERDICT_COLUMNS)?;
        x.reasons = x.new_sheet(names.reasons, REASON_COLUMNS)?;
        Ok(x)
    }

    fn new_sheet<R: ?Sized, X: ?Sized>(
        &mut self,
        name: &str,
        columns: &[Column<R, X>],
    ) -> Result<SheetAt, XlsxError> {
        let ws = self.workbook.add_worksheet_with_constant_memory()?;
        data_sheet(ws, name, columns, self.lang, &self.formats)?;
        self.sheets += 1;
        Ok(SheetAt {
            index: self.sheets - 1,
            row: 1,
            cols: columns.len() as u16,
        })
    }

    fn write(&mut self, v: &VerdictRow) -> Result<(), XlsxError> {
        let names = sheet_names(self.lang);
        if self.verdicts.row >= XLSX_MAX_ROWS {
            let n = self.sheets;
            let next = self.new_sheet(&format!("{} {n}", names.results), VERDICT_COLUMNS)?;
            self.done.push(std::mem::replace(&mut self.verdicts, next));
        }
        let (r, lang) = (self.verdicts.row, self.lang);
        let ws = self.workbook.worksheet_from_index(self.verdicts.index)?;
        write_row(ws, r, VERDICT_COLUMNS, v, &(), lang, &self.formats)?;
        self.verdicts.row += 1;
        for reason in &v.reasons {
            if self.reasons.row >= XLSX_MAX_ROWS {
                let n = self.sheets;
                let next = self.new_sheet(&format!("{} {n}", names.reasons), REASON_COLUMNS)?;
                self.done.push(std::mem::replace(&mut self.reasons, next));
            }
            let r = self.reasons.row;
            let ws = self.workbook.worksheet_from_index(self.reasons.index)?;
            write_row(ws, r, REASON_COLUMNS, v, reason, lang, &self.formats)?;
            self.reasons.row += 1;
        }
        Ok(())
    }

    fn finish(
        mut self,
        summary: &Summary,
        manifest: &Manifest,
        rejects: &[Problem],
    ) -> Result<(), XlsxError> {
        let lang = self.lang;
        let names = sheet_names(lang);
        // Rejected rows of the list.
        let ws = self.workbook.add_worksheet();
        data_sheet(ws, names.rejected, REJECT_COLUMNS, lang, &self.formats)?;
        let mut row = 1u32;
        for p in rejects.iter().take(XLSX_MAX_REJECTS) {
            write_row(ws, row, REJECT_COLUMNS, p, &(), lang, &self.formats)?;
            row += 1;
        }
        if rejects.len() > XLSX_MAX_REJECTS {
            ws.write_string(
                row,
                0,
                lang.pick(
                    "… baris ditolak selebihnya ada di rejects.csv",
                    "… the other rejected rows are in rejects.csv",
                ),
            )?;
        }
        self.sheets += 1;
        let rejected = SheetAt {
            index: self.sheets - 1,
            row,
            cols: REJECT_COLUMNS.len() as u16,
        };
        // Where the facts came from.
        let ws = self.workbook.add_worksheet();
        write_sources(ws, names.sources, manifest, lang, &self.formats)?;
        self.sheets += 1;
        // Filters on every data sheet, over the rows written.
        self.done.push(self.verdicts);
        self.done.push(self.reasons);
        self.done.push(rejected);
        for s in &self.done {
            let ws = self.workbook.worksheet_from_index(s.index)?;
            ws.autofilter(0, 0, s.row.saturating_sub(1).max(1), s.cols - 1)?;
        }
        let ws = self.workbook.worksheet_from_index(0)?;
        write_summary(ws, summary, rejects.len() as u64, lang, &self.formats)?;
        ws.set_active(true);
        self.workbook.save(&self.path)
    }
}

/// The "Ringkasan" sheet: titled tables, not lines of text.
fn write_summary(
    ws: &mut Worksheet,
    s: &Summary,
    rejected: u64,
    lang: Lang,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = |id: &'static str, en: &'static str| lang.pick(id, en);
    page_setup(ws, lang);
    ws.set_print_fit_to_pages(1, 0);
    for (c, w) in [
        (0u16, 30.0),
        (1, 44.0),
        (2, 18.0),
        (3, 18.0),
        (4, 18.0),
        (5, 22.0),
    ] {
        ws.set_column_width(c, w)?;
    }
    let mut r = 0u32;
    ws.write_string_with_format(
        r,
        0,
        format!(
            "{} {} — {} {}",
            t(
                "Ringkasan validasi program",
                "Validation summary, programme"
            ),
            s.program,
            t("periode", "period"),
            s.periods.join(", ")
        ),
        &f.title,
    )?;
    r += 2;
    // A table: a header row, then rows of cells.
    let table = |ws: &mut Worksheet,
                 r: &mut u32,
                 title: &str,
                 header: &[&str],
                 rows: Vec<Vec<(Cell, Kind)>>|
     -> Result<(), XlsxError> {
        ws.write_string_with_format(*r, 0, title, &f.bold)?;
        *r += 1;
        for (c, h) in header.iter().enumerate() {
            let kind = rows
                .iter()
                .find_map(|row| row.get(c).filter(|(cell, _)| *cell != Cell::Empty))
                .map_or(Kind::Text, |(_, k)| *k);
            ws.write_string_with_format(*r, c as u16, *h, f.header_for(kind))?;
        }
        *r += 1;
        for row in rows {
            for (c, (cell, kind)) in row.iter().enumerate() {
                write_cell(ws, *r, c as u16, cell, *kind, f)?;
            }
            *r += 1;
        }
        *r += 1;
        Ok(())
    };
    let tot = &s.total;
    let share = |n: u64| {
        if tot.rows == 0 {
            Cell::Empty
        } else {
            Cell::Share(n as f64 / tot.rows as f64)
        }
    };
    let txt = |s: &str| (Cell::Text(s.to_string()), Kind::Text);
    let int = |n: u64| (Cell::Int(n as i64), Kind::Integer);
    let rp = |n: i64| (Cell::Int(n), Kind::Rupiah);
    let mut rows = Vec::new();
    for (d, what, n, a) in [
        (
            Decision::Layak,
            t("memenuhi syarat", "meets the criteria"),
            tot.layak,
            tot.amount_total - tot.amount_tinjau - tot.amount_tidak_layak,
        ),
        (
            Decision::Tinjau,
            t("perlu ditinjau petugas", "an officer must review"),
            tot.tinjau,
            tot.amount_tinjau,
        ),
        (
            Decision::TidakLayak,
            t(
                "tidak memenuhi syarat (anggaran berisiko)",
                "does not meet the criteria (budget at risk)",
            ),
            tot.tidak_layak,
            tot.amount_tidak_layak,
        ),
    ] {
        rows.push(vec![
            (Cell::Text(d.label(lang).to_string()), Kind::Verdict),
            txt(what),
            int(n),
            (share(n), Kind::Percent),
            rp(a),
        ]);
    }
    rows.push(vec![
        txt(t("Jumlah", "Total")),
        (Cell::Empty, Kind::Text),
        int(tot.rows),
        (share(tot.rows), Kind::Percent),
        rp(tot.amount_total),
    ]);
    table(
        ws,
        &mut r,
        t("Hasil per putusan", "Rows by verdict"),
        &[
            t("Putusan", "Verdict"),
            t("Keterangan", "Meaning"),
            t("Baris", "Rows"),
            t("Persen", "Share"),
            t("Nominal (Rp)", "Amount (Rp)"),
        ],
        rows,
    )?;
    if rejected > 0 {
        ws.write_string_with_format(
            r,
            0,
            t(
                "Baris ditolak (tidak divalidasi; lihat lembar Ditolak)",
                "Rejected rows (not validated; see the Rejected sheet)",
            ),
            &f.bold,
        )?;
        ws.write_number_with_format(r, 2, rejected as f64, &f.int)?;
        r += 2;
    }
    let title_of = |code: &str| -> String {
        sinergi_rules::ReasonCode::parse(code)
            .map(|c| lang.pick(c.title().0, c.title().1).to_string())
            .unwrap_or_default()
    };
    let rows = s
        .by_reason
        .iter()
        .map(|(code, n)| vec![txt(code), txt(&title_of(code)), int(*n)])
        .collect();
    table(
        ws,
        &mut r,
        t("Baris per alasan", "Rows by reason"),
        &[t("Kode", "Code"), t("Alasan", "Reason"), t("Baris", "Rows")],
        rows,
    )?;
    let rows = s
        .by_period
        .iter()
        .map(|(p, x)| {
            vec![
                txt(p),
                (Cell::Empty, Kind::Text),
                int(x.rows),
                rp(x.amount_tinjau),
                rp(x.amount_tidak_layak),
            ]
        })
        .collect();
    table(
        ws,
        &mut r,
        t("Anggaran per periode", "Budget by period"),
        &[
            t("Periode", "Period"),
            "",
            t("Baris", "Rows"),
            t("TINJAU (Rp)", "REVIEW (Rp)"),
            t("TIDAK LAYAK (Rp)", "NOT ELIGIBLE (Rp)"),
        ],
        rows,
    )?;
    let rows = s
        .by_regency
        .iter()
        .map(|(code, x)| {
            vec![
                txt(if code.is_empty() { "-" } else { code }),
                txt(&x.name),
                int(x.tally.rows),
                int(x.tally.tinjau),
                int(x.tally.tidak_layak),
                rp(x.tally.amount_tidak_layak),
            ]
        })
        .collect();
    table(
        ws,
        &mut r,
        t("Per kabupaten/kota", "By regency/city"),
        &[
            t("Kode wilayah", "Region code"),
            t("Kabupaten/Kota", "Regency/city"),
            t("Baris", "Rows"),
            "TINJAU",
            "TIDAK LAYAK",
            t("Anggaran berisiko (Rp)", "Budget at risk (Rp)"),
        ],
        rows,
    )?;
    let checks: Vec<_> = s
        .not_checked
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, n)| {
            let (code, why) = k.split_once(' ').unwrap_or((k, ""));
            vec![txt(code), txt(why), int(*n)]
        })
        .collect();
    if !checks.is_empty() {
        table(
            ws,
            &mut r,
            t("Pemeriksaan yang tidak dilakukan", "Checks not made"),
            &[t("Kode", "Code"), t("Sebab", "Why"), t("Baris", "Rows")],
            checks,
        )?;
    }
    if !s.notes.is_empty() {
        let rows = s
            .notes
            .iter()
            .map(|(k, n)| vec![txt(k), (Cell::Empty, Kind::Text), int(*n)])
            .collect();
        table(
            ws,
            &mut r,
            t("Catatan perbaikan data", "Data-correction notes"),
            &[t("Kode", "Code"), "", t("Baris", "Rows")],
            rows,
        )?;
    }
    if !s.overlaps.is_empty() {
        let rows = s
            .overlaps
            .iter()
            .map(|o| {
                vec![
                    txt(&format!("{} {}", o.program, o.period)),
                    txt(&o.regency),
                    int(o.impact.households),
                    rp(o.impact.amount),
                ]
            })
            .collect();
        table(
            ws,
            &mut r,
            t(
                "Tumpang tindih program (semua daftar)",
                "Programme overlaps (all lists)",
            ),
            &[
                t("Program dan periode", "Programme and period"),
                t("Kabupaten/kota", "Regency/city"),
                "KK",
                t("Nominal (Rp)", "Amount (Rp)"),
            ],
            rows,
        )?;
    }
    let _ = r;
    Ok(())
}

/// The "Sumber data" sheet: what the run read, with versions and dates.
fn write_sources(
    ws: &mut Worksheet,
    name: &str,
    m: &Manifest,
    lang: Lang,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = |id: &'static str, en: &'static str| lang.pick(id, en);
    ws.set_name(name)?;
    page_setup(ws, lang);
    ws.set_print_fit_to_pages(1, 0);
    for (c, w) in [
        (0u16, 26.0),
        (1, 28.0),
        (2, 26.0),
        (3, 20.0),
        (4, 12.0),
        (5, 12.0),
        (6, 12.0),
    ] {
        ws.set_column_width(c, w)?;
    }
    ws.write_string_with_format(
        0,
        0,
        t("Sumber data validasi ini", "Data behind this validation"),
        &f.title,
    )?;
    let mut r = 2u32;
    for (label, value) in [
        (
            t("Program dan versi aturan", "Programme and rules version"),
            m.rules_version.clone(),
        ),
        (
            t("Versi Sinergi", "Sinergi version"),
            m.sinergi_version.clone(),
        ),
    ] {
        ws.write_string_with_format(r, 0, label, &f.bold)?;
        ws.write_string(r, 1, value)?;
        r += 1;
    }
    for i in &m.inputs {
        ws.write_string_with_format(r, 0, t("Daftar yang divalidasi", "List validated"), &f.bold)?;
        ws.write_string(r, 1, &i.name)?;
        ws.write_string(r, 2, format!("SHA-256 {}", i.sha256))?;
        r += 1;
    }
    r += 1;
    let header = [
        t("Instansi", "Agency"),
        t("Dataset", "Dataset"),
        t("Tabel", "Table"),
        t("Versi", "Version"),
        t("Data per", "Data as of"),
        t("Dimuat", "Loaded"),
        t("Baris", "Rows"),
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &f.header)?;
    }
    r += 1;
    for d in &m.datasets {
        let cells = [
            (Cell::Text(d.agency.clone()), Kind::Text),
            (Cell::Text(d.dataset.clone()), Kind::Text),
            (Cell::Text(d.table.clone()), Kind::Text),
            (Cell::Text(d.snapshot.clone()), Kind::Text),
            (Cell::date_or_text(d.as_of()), Kind::Date),
            (Cell::date_or_text(d.loaded_on()), Kind::Date),
            (Cell::Int(d.rows as i64), Kind::Integer),
        ];
        for (c, (cell, kind)) in cells.iter().enumerate() {
            write_cell(ws, r, c as u16, cell, *kind, f)?;
        }
        r += 1;
    }
    Ok(())
}

/// Writes the chosen formats into an output directory, one block of rows at a time, and keeps
/// the summary.
pub struct OutputSink {
    dir: PathBuf,
    lang: Lang,
    verdicts_csv: Option<csv::Writer<BufWriter<File>>>,
    reasons_csv: Option<csv::Writer<BufWriter<File>>>,
    json: Option<(BufWriter<File>, bool)>,
    xlsx: Option<XlsxOut>,
    /// The summary so far.
    pub summary: Summary,
}

impl OutputSink {
    /// Creates the directory and opens the files. `lang` is the language of the officer-facing
    /// files (CSV, XLSX, `summary.txt`); `verdicts.json` keeps both.
    pub fn create(
        dir: &Path,
        formats: &[OutputFormat],
        program: &str,
        lang: Lang,
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
            lang,
            verdicts_csv: None,
            reasons_csv: None,
            json: None,
            xlsx: None,
            summary: Summary::new(program),
        };
        if formats.contains(&OutputFormat::Csv) {
            for (name, header) in [
                ("verdicts.csv", header_row(VERDICT_COLUMNS, lang)),
                ("reasons.csv", header_row(REASON_COLUMNS, lang)),
            ] {
                let p = dir.join(name);
                let mut w = excel_csv(open(name)?).map_err(io(&p))?;
                w.write_record(header)
                    .map_err(|source| OutputError::Csv { path: p, source })?;
                if name == "verdicts.csv" {
                    sink.verdicts_csv = Some(w);
                } else {
                    sink.reasons_csv = Some(w);
                }
            }
        }
        if formats.contains(&OutputFormat::Json) {
            let mut w = open("verdicts.json")?;
            w.write_all(b"[").map_err(io(&dir.join("verdicts.json")))?;
            sink.json = Some((w, true));
        }
        if formats.contains(&OutputFormat::Xlsx) {
            let p = dir.join("verdicts.xlsx");
            sink.xlsx = Some(
                XlsxOut::new(p.clone(), lang)
                    .map_err(|source| OutputError::Xlsx { path: p, source })?,
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
        let lang = self.lang;
        for v in rows {
            self.summary.add(v);
            if let (Some(w), Some(rw)) = (&mut self.verdicts_csv, &mut self.reasons_csv) {
                w.write_record(csv_row(VERDICT_COLUMNS, v, &(), lang))
                    .map_err(csv_err("verdicts.csv"))?;
                for reason in &v.reasons {
                    rw.write_record(csv_row(REASON_COLUMNS, v, reason, lang))
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

    /// Closes the verdict files and writes `summary.json`, `summary.txt` and `manifest.json`;
    /// `rejects` (the list's rejected rows, as kept by [`RejectWriter`]) go to the workbook's
    /// rejected-rows sheet. Returns the summary.
    pub fn finish(
        mut self,
        mut manifest: Manifest,
        rejects: &[Problem],
    ) -> Result<Summary, OutputError> {
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
        outputs.extend(
            [
                "summary.json",
                "summary.txt",
                "manifest.json",
                "rejects.csv",
            ]
            .map(String::from),
        );
        if self.xlsx.is_some() {
            outputs.push("verdicts.xlsx".to_string());
        }
        outputs.sort();
        manifest.outputs = outputs;
        if let Some(x) = self.xlsx.take() {
            let path = x.path.clone();
            x.finish(&self.summary, &manifest, rejects)
                .map_err(|source| OutputError::Xlsx { path, source })?;
        }
        write_json(&dir.join("summary.json"), &self.summary)?;
        std::fs::write(
            dir.join("summary.txt"),
            self.summary.render_table(self.lang),
        )
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
/// nothing is lost silently (same layout as the workbook's rejected-rows sheet). The first
/// rejects are also kept for that sheet.
pub struct RejectWriter {
    path: PathBuf,
    lang: Lang,
    w: csv::Writer<BufWriter<File>>,
    /// Problems written.
    pub count: u64,
    /// The first rejects (for the workbook).
    pub kept: Vec<Problem>,
}

impl RejectWriter {
    /// Creates `rejects.csv` in the directory.
    pub fn create(dir: &Path, lang: Lang) -> Result<RejectWriter, OutputError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("rejects.csv");
        let f = File::create(&path).map_err(|source| OutputError::Io {
            path: path.clone(),
            source,
        })?;
        let io = |source| OutputError::Io {
            path: path.clone(),
            source,
        };
        let mut w = excel_csv(BufWriter::new(f)).map_err(io)?;
        w.write_record(header_row(REJECT_COLUMNS, lang))
            .map_err(|source| OutputError::Csv {
                path: path.clone(),
                source,
            })?;
        Ok(RejectWriter {
            path,
            lang,
            w,
            count: 0,
            kept: Vec::new(),
        })
    }

    /// Writes a batch's rejects.
    pub fn add(&mut self, b: &sinergi_ingest::Batch) -> Result<(), OutputError> {
        for r in &b.rejects {
            self.w
                .write_record(csv_row(REJECT_COLUMNS, r, &(), self.lang))
                .map_err(|source| OutputError::Csv {
                    path: self.path.clone(),
                    source,
                })?;
            self.count += 1;
            if self.kept.len() <= XLSX_MAX_REJECTS {
                self.kept.push(r.clone());
            }
        }
        Ok(())
    }

    /// Flushes the file and hands back the rejects kept for the workbook.
    pub fn finish(self) -> Result<Vec<Problem>, OutputError> {
        let path = self.path.clone();
        self.w
            .into_inner()
            .map_err(|e| OutputError::Io {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?
            .flush()
            .map_err(|source| OutputError::Io { path, source })?;
        Ok(self.kept)
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
