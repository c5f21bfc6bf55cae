//! The layout of the officer-facing verdict files, in one place: every column of the results,
//! reasons and rejected-rows tables — its stable key, its header in Bahasa Indonesia and
//! English, its width and what kind of value it holds — and how a row gives its cell. The CSV
//! writer, the XLSX writer (`output.rs`) and `eval` all read these lists, so a column added
//! here appears in every format, in the same order, and `docs/OUTPUTS.md` describes them.
//!
//! `verdicts.json` is the machine format and keeps both languages side by side; the files
//! laid out here are in one language, the run's ([`sinergi_model::Lang`]).

use chrono::NaiveDate;
use sinergi_ingest::Problem;
use sinergi_model::{Lang, Level, RegionCode, wilayah};

use crate::verdict::{ReasonOut, VerdictRow};

/// What a column holds, which decides its XLSX format and its CSV text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Short text (a code, a number that is an identifier such as a NIK).
    Text,
    /// Long text, wrapped in the spreadsheet.
    Wrapped,
    /// A whole number.
    Integer,
    /// Rupiah: `Rp 750.000` in the spreadsheet, digits in the CSV.
    Rupiah,
    /// A calendar date: a date cell shown `dd-mm-yyyy`, `YYYY-MM-DD` in the CSV.
    Date,
    /// A share shown as a percentage (`98,7%`).
    Percent,
    /// The verdict: coloured by its value in the spreadsheet.
    Verdict,
}

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A whole number (also rupiah).
    Int(i64),
    /// A share, 0–1.
    Share(f64),
    /// A date.
    Date(NaiveDate),
}

impl Cell {
    /// A date cell when `s` is `YYYY-MM-DD`, text otherwise (a period such as `2026-11`).
    pub fn date_or_text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Cell::Date)
                .unwrap_or_else(|_| Cell::Text(s.to_string()))
        }
    }

    fn text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }

    fn opt(s: Option<&str>) -> Cell {
        s.map_or(Cell::Empty, Cell::text)
    }

    /// The cell as CSV text: dates ISO, rupiah as digits, shares as a percentage with the
    /// language's decimal mark. A text a spreadsheet would run as a formula (starting with
    /// `=`, `+`, `-`, `@`, a tab or a carriage return, as a list's names and addresses may)
    /// is written after an apostrophe, so Excel and LibreOffice show it as text.
    pub fn csv_text(&self, lang: Lang) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => neutralise_formula(s),
            Cell::Int(i) => i.to_string(),
            Cell::Share(x) => {
                let p = format!("{:.1}", x * 100.0);
                if lang.is_en() { p } else { p.replace('.', ",") }
            }
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// `s`, or `'s` when a spreadsheet would read `s` as a formula (OWASP "CSV injection"). A
/// lone `-` or `+` (an empty address written as a dash) is no formula and stays.
pub fn neutralise_formula(s: &str) -> String {
    let risky = matches!(
        s.as_bytes(),
        [b'=' | b'@' | b'\t' | b'\r', ..] | [b'+' | b'-', _, ..]
    );
    if risky {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// One column of a table of rows `R`; `X` is a part of the row a line is about (for the
/// reasons table, one reason of a verdict row), `()` otherwise.
pub struct Column<R: ?Sized, X: ?Sized = ()> {
    /// Stable key (what `eval` and scripts look columns up by; never changes).
    pub key: &'static str,
    /// Header in Bahasa Indonesia.
    pub id: &'static str,
    /// Header in English.
    pub en: &'static str,
    /// Width in the spreadsheet (characters).
    pub width: f64,
    /// What it holds.
    pub kind: Kind,
    /// The cell of a row (and part).
    pub value: fn(&R, &X, Lang) -> Cell,
}

impl<R: ?Sized, X: ?Sized> Column<R, X> {
    /// The header in `lang`.
    pub fn header(&self, lang: Lang) -> &'static str {
        lang.pick(self.id, self.en)
    }
}

/// The column whose header is `name` in either language, or whose key is `name`.
pub fn find<R: ?Sized, X: ?Sized>(columns: &[Column<R, X>], name: &str) -> Option<usize> {
    let n = name.trim().trim_start_matches('\u{feff}');
    columns
        .iter()
        .position(|c| c.key == n || c.id == n || c.en == n)
}

/// Region names of a village code, from the Kemendagri table: village, district, regency.
fn place(v: &VerdictRow, level: Level) -> Cell {
    let Some(code) = v.region.as_deref().and_then(|r| RegionCode::parse(r).ok()) else {
        return Cell::Empty;
    };
    match code.at(level) {
        Some(c) => Cell::opt(wilayah().name(c)),
        None => Cell::Empty,
    }
}

/// Lines joined for one wrapped cell.
fn lines(items: impl Iterator<Item = String>) -> Cell {
    let v: Vec<String> = items.filter(|s| !s.is_empty()).collect();
    if v.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(v.join("\n"))
    }
}

/// Where a reason's fact comes from, in words: `Dukcapil: dukcapil-kematian v2 (snapshot 8),
/// per 2026-11-01`.
pub fn citation(r: &ReasonOut, lang: Lang) -> String {
    let mut s = format!("{}: {}", r.agency, r.dataset);
    if !r.dataset_version.is_empty() {
        s.push(' ');
        s.push_str(&r.dataset_version);
    }
    if !r.dataset_date.is_empty() {
        s.push_str(&format!(
            ", {} {}",
            lang.pick("per", "as of"),
            r.dataset_date
        ));
    } else if !r.dataset_loaded.is_empty() {
        s.push_str(&format!(
            ", {} {}",
            lang.pick("dimuat", "loaded"),
            r.dataset_loaded
        ));
    }
    s
}

/// A reason in words, marked when an exception cancels it.
fn reason_text(r: &ReasonOut, lang: Lang) -> String {
    let msg = lang.pick(&r.message_id, &r.message_en);
    if r.overridden_by.is_empty() {
        format!("• {msg}")
    } else {
        format!(
            "• ({} {}) {msg}",
            lang.pick("dikecualikan oleh", "overridden by"),
            r.overridden_by
        )
    }
}

/// The results table: one row per list row (sheet "Hasil", `verdicts.csv`). Who, the verdict and
/// why come first; the list's own columns, region names and the technical detail follow.
pub const VERDICT_COLUMNS: &[Column<VerdictRow>] = &[
    Column {
        key: "row_no",
        id: "No",
        en: "No",
        width: 6.0,
        kind: Kind::Integer,
        value: |v, _, _| v.no_cell(),
    },
    Column {
        key: "nik_listed",
        id: "NIK",
        en: "NIK",
        width: 19.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.nik_listed),
    },
    Column {
        key: "name",
        id: "Nama",
        en: "Name",
        width: 26.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.name),
    },
    Column {
        key: "verdict",
        id: "Putusan",
        en: "Verdict",
        width: 13.0,
        kind: Kind::Verdict,
        value: |v, _, lang| Cell::Text(v.verdict.label(lang).to_string()),
    },
    Column {
        key: "reasons",
        id: "Alasan",
        en: "Reasons",
        width: 60.0,
        kind: Kind::Wrapped,
        value: |v, _, lang| lines(v.reasons.iter().map(|r| reason_text(r, lang))),
    },
    Column {
        key: "next_steps",
        id: "Langkah selanjutnya",
        en: "Next steps",
        width: 50.0,
        kind: Kind::Wrapped,
        value: |v, _, lang| {
            let mut seen: Vec<&str> = Vec::new();
            lines(
                v.reasons
                    .iter()
                    .filter(|r| r.overridden_by.is_empty())
                    .filter_map(|r| {
                        let step = lang.pick(&r.next_step_id, &r.next_step_en);
                        (!seen.contains(&step)).then(|| {
                            seen.push(step);
                            format!("• {step}")
                        })
                    }),
            )
        },
    },
    Column {
        key: "amount",
        id: "Nominal (Rp)",
        en: "Amount (Rp)",
        width: 14.0,
        kind: Kind::Rupiah,
        value: |v, _, _| v.amount.map_or(Cell::Empty, Cell::Int),
    },
    Column {
        key: "kk_listed",
        id: "No KK",
        en: "KK number",
        width: 19.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::opt(v.kk_listed.as_deref()),
    },
    Column {
        key: "birth_date",
        id: "Tanggal lahir",
        en: "Birth date",
        width: 12.0,
        kind: Kind::Date,
        value: |v, _, _| {
            v.birth_date
                .as_deref()
                .map_or(Cell::Empty, Cell::date_or_text)
        },
    },
    Column {
        key: "address",
        id: "Alamat",
        en: "Address",
        width: 28.0,
        // Wrapped: a long address cut off by the village code beside it ran into it.
        kind: Kind::Wrapped,
        value: |v, _, _| Cell::text(&v.address),
    },
    Column {
        key: "region",
        id: "Kode desa",
        en: "Village code",
        width: 12.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::opt(v.region.as_deref()),
    },
    Column {
        key: "village",
        id: "Desa/Kelurahan",
        en: "Village",
        width: 18.0,
        kind: Kind::Text,
        value: |v, _, _| place(v, Level::Village),
    },
    Column {
        key: "district",
        id: "Kecamatan",
        en: "District",
        width: 16.0,
        kind: Kind::Text,
        value: |v, _, _| place(v, Level::District),
    },
    Column {
        key: "regency",
        id: "Kabupaten/Kota",
        en: "Regency/city",
        width: 20.0,
        kind: Kind::Text,
        value: |v, _, _| place(v, Level::Regency),
    },
    Column {
        key: "program",
        id: "Program",
        en: "Programme",
        width: 9.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.program),
    },
    Column {
        key: "period",
        id: "Periode",
        en: "Period",
        width: 9.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.period),
    },
    Column {
        key: "reason_codes",
        id: "Kode alasan",
        en: "Reason codes",
        width: 22.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.codes()),
    },
    Column {
        key: "sources",
        id: "Sumber data",
        en: "Data sources",
        width: 40.0,
        kind: Kind::Wrapped,
        value: |v, _, lang| {
            let mut seen: Vec<String> = Vec::new();
            for r in &v.reasons {
                let c = citation(r, lang);
                if !seen.contains(&c) {
                    seen.push(c);
                }
            }
            lines(seen.into_iter())
        },
    },
    Column {
        key: "suggested_nik",
        id: "NIK yang disarankan",
        en: "Suggested NIK",
        width: 19.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::opt(v.suggested_nik.as_deref()),
    },
    Column {
        key: "suggested_score",
        id: "Keyakinan saran",
        en: "Suggestion confidence",
        width: 11.0,
        kind: Kind::Percent,
        value: |v, _, _| v.suggested_score.map_or(Cell::Empty, Cell::Share),
    },
    Column {
        key: "linked_nik",
        id: "NIK di data kependudukan",
        en: "NIK in the population registry",
        width: 19.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::opt(v.linked_nik.as_deref()),
    },
    Column {
        key: "not_checked",
        id: "Tidak diperiksa",
        en: "Not checked",
        width: 36.0,
        kind: Kind::Wrapped,
        value: |v, _, lang| {
            lines(
                v.not_checked
                    .iter()
                    .map(|n| format!("{}: {}", n.code, lang.pick(&n.why_id, &n.why_en))),
            )
        },
    },
    Column {
        key: "data_notes",
        id: "Catatan perbaikan data",
        en: "Data-correction notes",
        width: 40.0,
        kind: Kind::Wrapped,
        value: |v, _, lang| {
            lines(
                v.notes
                    .iter()
                    .map(|n| format!("• {}", lang.pick(&n.message_id, &n.message_en))),
            )
        },
    },
];

/// The reasons table: one row per reason (sheet "Alasan", `reasons.csv`).
pub const REASON_COLUMNS: &[Column<VerdictRow, ReasonOut>] = &[
    Column {
        key: "row_no",
        id: "No",
        en: "No",
        width: 6.0,
        kind: Kind::Integer,
        value: |v, _, _| v.no_cell(),
    },
    Column {
        key: "nik_listed",
        id: "NIK",
        en: "NIK",
        width: 19.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.nik_listed),
    },
    Column {
        key: "name",
        id: "Nama",
        en: "Name",
        width: 24.0,
        kind: Kind::Text,
        value: |v, _, _| Cell::text(&v.name),
    },
    Column {
        key: "code",
        id: "Kode",
        en: "Code",
        width: 22.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.code),
    },
    Column {
        key: "severity",
        id: "Putusan alasan ini",
        en: "This reason's verdict",
        width: 13.0,
        kind: Kind::Verdict,
        value: |_, r, lang| Cell::Text(r.severity.label(lang).to_string()),
    },
    Column {
        key: "message",
        id: "Alasan",
        en: "Reason",
        width: 70.0,
        kind: Kind::Wrapped,
        value: |_, r, lang| Cell::text(lang.pick(&r.message_id, &r.message_en)),
    },
    Column {
        key: "next_step",
        id: "Langkah selanjutnya",
        en: "Next step",
        width: 50.0,
        kind: Kind::Wrapped,
        value: |_, r, lang| Cell::text(lang.pick(&r.next_step_id, &r.next_step_en)),
    },
    Column {
        key: "agency",
        id: "Instansi",
        en: "Agency",
        width: 18.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.agency),
    },
    Column {
        key: "dataset",
        id: "Dataset",
        en: "Dataset",
        width: 22.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.dataset),
    },
    Column {
        key: "dataset_version",
        id: "Versi",
        en: "Version",
        width: 18.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.dataset_version),
    },
    Column {
        key: "dataset_date",
        id: "Data per",
        en: "Data as of",
        width: 12.0,
        kind: Kind::Date,
        value: |_, r, _| Cell::date_or_text(&r.dataset_date),
    },
    Column {
        key: "dataset_loaded",
        id: "Dimuat",
        en: "Loaded",
        width: 12.0,
        kind: Kind::Date,
        value: |_, r, _| Cell::date_or_text(&r.dataset_loaded),
    },
    Column {
        key: "detail",
        id: "Rincian",
        en: "Detail",
        width: 30.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.detail),
    },
    Column {
        key: "overridden_by",
        id: "Dikecualikan oleh",
        en: "Overridden by",
        width: 18.0,
        kind: Kind::Text,
        value: |_, r, _| Cell::text(&r.overridden_by),
    },
];

/// The final status of a case — a TINJAU row checked in the field — as the web application
/// records it (the last outcome recorded or overridden), for the results an officer downloads
/// after case work (see [`crate::cases`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseStatus {
    /// The row's `No` as listed.
    pub row_id: String,
    /// NIK as listed.
    pub nik: String,
    /// Name as listed.
    pub name: String,
    /// `tetap`, `dikeluarkan` or `perbaiki`.
    pub outcome: String,
    /// The officer's note (a supervisor's override: the reason).
    pub note: String,
    /// Who decided (user name).
    pub by: String,
    /// When, as officers read it (`dd-mm-yyyy HH:MM WIB`).
    pub at: String,
}

/// A case outcome in words (`tetap` → "Tetap (layak setelah cek lapangan)").
pub fn case_outcome_label(outcome: &str, lang: Lang) -> &'static str {
    match outcome {
        "tetap" => lang.pick(
            "Tetap (layak setelah cek lapangan)",
            "Kept (eligible after field check)",
        ),
        "dikeluarkan" => lang.pick("Dikeluarkan", "Removed"),
        "perbaiki" => lang.pick("Perbaiki data", "Correct the data"),
        _ => lang.pick("Belum diputuskan", "Not decided"),
    }
}

/// The cases table (sheet "Kasus" added to `verdicts.xlsx` when it is downloaded after case
/// work); the `case_*` columns are also appended to `verdicts.csv`'s rows.
pub const CASE_COLUMNS: &[Column<CaseStatus>] = &[
    Column {
        key: "row_no",
        id: "No",
        en: "No",
        width: 6.0,
        kind: Kind::Integer,
        value: |c, _, _| match c.row_id.parse::<i64>() {
            Ok(n) => Cell::Int(n),
            Err(_) => Cell::text(&c.row_id),
        },
    },
    Column {
        key: "nik_listed",
        id: "NIK",
        en: "NIK",
        width: 19.0,
        kind: Kind::Text,
        value: |c, _, _| Cell::text(&c.nik),
    },
    Column {
        key: "name",
        id: "Nama",
        en: "Name",
        width: 26.0,
        kind: Kind::Text,
        value: |c, _, _| Cell::text(&c.name),
    },
    Column {
        key: "case_outcome",
        id: "Hasil cek lapangan",
        en: "Field-check outcome",
        width: 30.0,
        kind: Kind::Text,
        value: |c, _, lang| Cell::text(case_outcome_label(&c.outcome, lang)),
    },
    Column {
        key: "case_note",
        id: "Catatan kasus",
        en: "Case note",
        width: 40.0,
        kind: Kind::Wrapped,
        value: |c, _, _| Cell::text(&c.note),
    },
    Column {
        key: "case_by",
        id: "Diputuskan oleh",
        en: "Decided by",
        width: 16.0,
        kind: Kind::Text,
        value: |c, _, _| Cell::text(&c.by),
    },
    Column {
        key: "case_at",
        id: "Waktu putusan",
        en: "Decided at",
        width: 20.0,
        kind: Kind::Text,
        value: |c, _, _| Cell::text(&c.at),
    },
];

/// The rejected rows of the list: not validated (sheet "Ditolak", `rejects.csv`).
pub const REJECT_COLUMNS: &[Column<Problem>] = &[
    Column {
        key: "file",
        id: "Berkas",
        en: "File",
        width: 18.0,
        kind: Kind::Text,
        value: |p, _, _| {
            Cell::text(
                &std::path::Path::new(&p.file)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        },
    },
    Column {
        key: "row",
        id: "Baris",
        en: "Row",
        width: 7.0,
        kind: Kind::Integer,
        value: |p, _, _| Cell::Int(p.row as i64),
    },
    Column {
        key: "field",
        id: "Kolom",
        en: "Field",
        width: 14.0,
        kind: Kind::Text,
        value: |p, _, _| Cell::text(&p.field),
    },
    Column {
        key: "raw_value",
        id: "Nilai tertulis",
        en: "Value as written",
        width: 24.0,
        kind: Kind::Text,
        value: |p, _, _| Cell::text(&p.raw_value),
    },
    Column {
        key: "code",
        id: "Kode",
        en: "Code",
        width: 22.0,
        kind: Kind::Text,
        value: |p, _, _| Cell::text(p.code),
    },
    Column {
        key: "message",
        id: "Alasan",
        en: "Reason",
        width: 70.0,
        kind: Kind::Wrapped,
        value: |p, _, _| Cell::text(&p.message),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_headers_are_unique_per_table() {
        fn check<R: ?Sized, X: ?Sized>(cols: &[Column<R, X>]) {
            for (i, a) in cols.iter().enumerate() {
                for b in &cols[i + 1..] {
                    assert_ne!(a.key, b.key);
                    assert_ne!(a.id, b.id, "{}", a.key);
                    assert_ne!(a.en, b.en, "{}", a.key);
                }
            }
        }
        check(VERDICT_COLUMNS);
        check(REASON_COLUMNS);
        check(REJECT_COLUMNS);
        check(CASE_COLUMNS);
    }

    #[test]
    fn a_column_is_found_by_its_key_or_either_header() {
        assert_eq!(
            find(VERDICT_COLUMNS, "reason_codes"),
            find(VERDICT_COLUMNS, "Kode alasan")
        );
        assert_eq!(find(VERDICT_COLUMNS, "\u{feff}No"), Some(0));
        assert_eq!(
            find(VERDICT_COLUMNS, "Reason codes"),
            find(VERDICT_COLUMNS, "Kode alasan")
        );
        assert_eq!(find(VERDICT_COLUMNS, "nope"), None);
    }

    /// docs/OUTPUTS.md describes every column of every table, with both headers.
    #[test]
    fn every_column_is_documented() {
        let doc = include_str!("../../../docs/OUTPUTS.md");
        fn check<R: ?Sized, X: ?Sized>(doc: &str, cols: &[Column<R, X>]) {
            for c in cols {
                let row = format!("| `{}` | {} | {} |", c.key, c.id, c.en);
                assert!(doc.contains(&row), "docs/OUTPUTS.md lacks the row {row}");
            }
        }
        check(doc, VERDICT_COLUMNS);
        check(doc, REASON_COLUMNS);
        check(doc, REJECT_COLUMNS);
        check(doc, CASE_COLUMNS);
    }

    #[test]
    fn csv_text_of_cells() {
        assert_eq!(Cell::Share(0.9876).csv_text(Lang::Id), "98,8");
        assert_eq!(Cell::Share(0.9876).csv_text(Lang::En), "98.8");
        assert_eq!(
            Cell::date_or_text("1985-08-12").csv_text(Lang::Id),
            "1985-08-12"
        );
        assert_eq!(Cell::date_or_text("2026-11"), Cell::Text("2026-11".into()));
        assert_eq!(Cell::Int(750_000).csv_text(Lang::Id), "750000");
    }

    #[test]
    fn formulas_in_csv_text_are_neutralised() {
        for (text, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+62 812", "'+62 812"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("-", "-"),
            ("SITI AMINAH", "SITI AMINAH"),
            ("<script>", "<script>"),
            ("", ""),
        ] {
            assert_eq!(Cell::Text(text.into()).csv_text(Lang::Id), want, "{text:?}");
        }
    }
}
