//! One person's verdict from the store, without a list file, a server or a token: what
//! `sinergi cek NIK --program P` prints. The same validator as a list run judges the person
//! ([`Validator::validate_one`]); this module only chooses the row to judge and lays the
//! verdict out for reading.
//!
//! The row: when a stored recipient list of the programme holds the NIK, that row (its name,
//! birth date, KK, village, amount and period), so the verdict is the one the list would get;
//! otherwise a row with the NIK alone (and the name or birth date the caller gives), so the
//! registries' facts are checked for a person who is on no list yet.

use std::sync::Arc;

use sinergi_model::Lang;
use sinergi_model::standard::Table;
use sinergi_rules::Program;
use sinergi_store::Store;

use crate::facts::RosterRow;
use crate::keymap::id16;
use crate::layout::{Cell, Column, Kind, REASON_COLUMNS, VERDICT_COLUMNS};
use crate::provenance::Provenance;
use crate::registries::Registries;
use crate::run::{EngineError, exclusions, find_program, load_ledger, required_tables};
use crate::validator::Validator;
use crate::verdict::VerdictRow;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    /// The NIK as given (separators allowed).
    pub nik: String,
    /// Programme code.
    pub program: String,
    /// The period to judge; default: the stored row's, else `default_period`.
    pub period: Option<String>,
    /// The period when neither `period` nor a stored row says (the CLI passes this month).
    pub default_period: String,
    /// A name to compare with the registry (overrides a stored row's).
    pub name: Option<String>,
    /// A birth date `YYYY-MM-DD` to compare (overrides a stored row's).
    pub birth_date: Option<String>,
}

/// Where the judged row came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOrigin {
    /// A row of a stored recipient list of the programme.
    StoredList,
    /// No stored list of the programme holds the NIK (for that period): the NIK alone.
    NikOnly,
}

/// One person's verdict and what it was judged on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckOutput {
    /// Where the row came from.
    pub origin: RowOrigin,
    /// The verdict, every reason with its source, next steps, checks not made.
    pub verdict: VerdictRow,
    /// Every dataset version read.
    pub datasets: Vec<Provenance>,
}

/// Judges one person under a programme's rules, from the store.
pub async fn check(
    store: &Store,
    programs: &[Program],
    req: &CheckRequest,
) -> Result<CheckOutput, EngineError> {
    let program = find_program(programs, &req.program)?.clone();
    let (registries, _) = Registries::load(store, &required_tables(&program)).await?;
    let registries = Arc::new(registries);
    let nik_raw = req.nik.trim().to_string();
    let nik = sinergi_model::Nik::parse(&nik_raw)
        .nik
        .and_then(|n| id16(n.as_str()));
    let stored = match nik {
        Some(n) if registries.has(Table::RosterEntry) => {
            stored_row(store, n, program.code(), req.period.as_deref()).await?
        }
        _ => None,
    };
    let (origin, mut row) = match stored {
        Some(row) => (RowOrigin::StoredList, row),
        None => (
            RowOrigin::NikOnly,
            RosterRow {
                row_no: 1,
                program: program.code().to_string(),
                nik_raw: nik_raw.clone(),
                nik,
                ..RosterRow::default()
            },
        ),
    };
    if let Some(p) = req.period.as_deref().filter(|p| !p.trim().is_empty()) {
        row.period = p.trim().to_string();
    }
    if row.period.is_empty() {
        row.period = req.default_period.clone();
    }
    // By NIK alone, the NIK's holder is the person asked about: the registry's name and
    // birth date stand in for the ones a list would give, so linkage confirms the holder
    // instead of calling them inferred.
    if origin == RowOrigin::NikOnly
        && let Some(&i) = nik
            .and_then(|n| registries.index.lookup_nik(n).first().copied())
            .as_ref()
    {
        if req.name.is_none() {
            row.name = registries.index.name(i).to_string();
        }
        let born = registries.index.birth_date(i);
        if req.birth_date.is_none() && born != chrono::NaiveDate::MIN {
            row.birth_date = Some(born.format("%Y-%m-%d").to_string());
        }
    }
    if let Some(name) = &req.name {
        row.name = name.trim().to_string();
    }
    if let Some(b) = &req.birth_date {
        row.birth_date = Some(b.trim().to_string());
    }
    // The ledger of stored lists, minus this programme and period (the row judged stands
    // for it), exactly as a list run builds it.
    let ledger = load_ledger(
        store,
        &registries,
        programs,
        Some((program.code(), row.period.as_str())),
    )
    .await?
    .finish(exclusions(programs));
    let mut validator = Validator::new(registries.clone(), programs.to_vec(), Arc::new(ledger));
    validator.set_list_name(&match origin {
        RowOrigin::StoredList => format!("roster {} ({})", program.code(), row.period),
        RowOrigin::NikOnly => format!("cek {}", nik_raw),
    });
    let verdict = validator.validate_one(&program, &row);
    let mut datasets: Vec<Provenance> = registries.provenance.values().flatten().cloned().collect();
    datasets.sort();
    Ok(CheckOutput {
        origin,
        verdict,
        datasets,
    })
}

/// The stored list row of `program` holding `nik`: the one of `period` when given, else the
/// latest period's (the last row of it).
async fn stored_row(
    store: &Store,
    nik: u64,
    program: &str,
    period: Option<&str>,
) -> Result<Option<RosterRow>, EngineError> {
    let text = format!("{nik:016}");
    let rows = store.lookup_nik(Table::RosterEntry, &[&text]).await?;
    let mut rows: Vec<RosterRow> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| RosterRow::from_record(r, i as u64 + 1))
        .filter(|r| r.program == program)
        .filter(|r| period.is_none_or(|p| r.period.eq_ignore_ascii_case(p.trim())))
        .collect();
    rows.sort_by(|a, b| (&a.period, a.row_no).cmp(&(&b.period, b.row_no)));
    Ok(rows.pop())
}

impl CheckOutput {
    /// The verdict for reading in a terminal, in `lang`: every column of the results table
    /// that has a value (`layout::VERDICT_COLUMNS`), then each reason with its source and next
    /// step (`layout::REASON_COLUMNS`), then the dataset versions read. The same words as
    /// `verdicts.xlsx`.
    pub fn render_text(&self, lang: Lang) -> String {
        let v = &self.verdict;
        let mut out = String::new();
        let (program, period) = (&v.program, &v.period);
        let first = match (self.origin.clone(), lang) {
            (RowOrigin::StoredList, Lang::Id) => {
                format!("Baris daftar {program} tersimpan, periode {period}.")
            }
            (RowOrigin::StoredList, Lang::En) => {
                format!("Row of the stored {program} list, period {period}.")
            }
            (RowOrigin::NikOnly, Lang::Id) => format!(
                "NIK ini tidak ada di daftar {program} tersimpan: diperiksa dengan NIK saja, periode {period}."
            ),
            (RowOrigin::NikOnly, Lang::En) => format!(
                "No stored {program} list holds this NIK: checked by NIK alone, period {period}."
            ),
        };
        out.push_str(&first);
        out.push('\n');
        // Shown per reason below.
        let per_reason = ["reasons", "next_steps", "reason_codes", "sources"];
        let cells: Vec<(&str, String)> = VERDICT_COLUMNS
            .iter()
            .filter(|c| !per_reason.contains(&c.key))
            .filter_map(|c| shown(c, v, &(), lang))
            .collect();
        push_block(&mut out, &cells, "");
        for (i, r) in v.reasons.iter().enumerate() {
            out.push('\n');
            let (n, of) = (i + 1, v.reasons.len());
            out.push_str(&match lang {
                Lang::Id => format!("Alasan {n} dari {of}"),
                Lang::En => format!("Reason {n} of {of}"),
            });
            out.push('\n');
            let cells: Vec<(&str, String)> = REASON_COLUMNS
                .iter()
                .filter(|c| !["row_no", "nik_listed", "name"].contains(&c.key))
                .filter_map(|c| shown(c, v, r, lang))
                .collect();
            push_block(&mut out, &cells, "  ");
        }
        if v.reasons.is_empty() {
            out.push('\n');
            out.push_str(lang.pick(
                "Tidak ada alasan: semua pemeriksaan yang dibuat terpenuhi.",
                "No reasons: every check made is met.",
            ));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(lang.pick("Data yang dibaca:", "Data read:"));
        out.push('\n');
        for d in &self.datasets {
            let date = if d.as_of().is_empty() {
                format!("{} {}", lang.pick("dimuat", "loaded"), d.loaded_on())
            } else {
                format!("{} {}", lang.pick("per", "as of"), d.as_of())
            };
            out.push_str(&format!(
                "  {} ({}): {}, {date}\n",
                d.dataset, d.agency, d.snapshot
            ));
        }
        out
    }
}

/// A column's header and its text for a row, when it has a value.
fn shown<R: ?Sized, X: ?Sized>(
    c: &Column<R, X>,
    row: &R,
    part: &X,
    lang: Lang,
) -> Option<(&'static str, String)> {
    match (c.value)(row, part, lang) {
        Cell::Empty => None,
        Cell::Int(rp) if c.kind == Kind::Rupiah => Some((c.header(lang), rupiah(rp, lang))),
        Cell::Date(d) => Some((c.header(lang), d.format("%d-%m-%Y").to_string())),
        cell => Some((c.header(lang), cell.csv_text(lang))),
    }
}

/// Rupiah as the language writes it: `Rp 750.000` / `Rp 750,000`.
fn rupiah(amount: i64, lang: Lang) -> String {
    let sep = if lang.is_en() { ',' } else { '.' };
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(ch);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("Rp {sign}{out}")
}

/// `label  value` lines, labels padded to one width, continuation lines indented under the
/// value.
fn push_block(out: &mut String, cells: &[(&str, String)], indent: &str) {
    let width = cells
        .iter()
        .map(|(h, _)| h.chars().count())
        .max()
        .unwrap_or(0);
    for (h, text) in cells {
        let pad = width - h.chars().count();
        let mut lines = text.lines();
        out.push_str(&format!(
            "{indent}{h}{}  {}\n",
            " ".repeat(pad),
            lines.next().unwrap_or("")
        ));
        for l in lines {
            out.push_str(&format!("{indent}{}  {l}\n", " ".repeat(width)));
        }
    }
}
