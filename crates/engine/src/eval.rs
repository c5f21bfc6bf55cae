//! Accuracy of a validation run against the synthetic generator's ground truth.
//!
//! Truth: `truth/<PROGRAM>.csv` with columns `row_no,true_nik,codes` (codes `;`-separated;
//! `true_nik` empty when the recipient is not in the registry). Verdicts: the `verdicts.csv`
//! of one or more runs (in `verdicts_dir` itself or its immediate sub-directories).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Errors reading truth or verdicts.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read or parsed.
    #[error("gagal membaca {path} / cannot read {path}: {message}")]
    Read {
        /// File.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No verdicts.csv found.
    #[error(
        "tidak ada verdicts.csv di {0} / no verdicts.csv in {0}: jalankan dulu / run first: sinergi validate --format csv"
    )]
    NoVerdicts(PathBuf),
    /// No truth file for any programme validated.
    #[error(
        "tidak ada berkas kebenaran untuk program {programs} di {dir} / no truth file for programme(s) {programs} in {dir}"
    )]
    NoTruth {
        /// Truth directory.
        dir: PathBuf,
        /// Programmes seen in the verdicts.
        programs: String,
    },
}

/// Precision, recall and F1 of one code (or of suggestions).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// Predicted and true.
    pub tp: u64,
    /// Predicted, not true.
    pub fp: u64,
    /// True, not predicted.
    pub fn_: u64,
    /// tp / (tp + fp); 1 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn); 1 when nothing was true.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Score {
    fn finish(mut self) -> Score {
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        };
        self
    }
}

/// The evaluation of one or more runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalReport {
    /// Programmes evaluated.
    pub programs: Vec<String>,
    /// Rows compared.
    pub rows: u64,
    /// Truth rows with no verdict row (rejected at ingest or missing).
    pub missing_rows: u64,
    /// Per reason code.
    pub by_code: BTreeMap<String, Score>,
    /// Suggested NIKs: a suggestion is right when it equals the true NIK; it is needed when the
    /// true NIK exists and differs from the NIK as listed.
    pub suggested_nik: Score,
    /// Linked person: right when the linked NIK equals the true NIK; needed when a true NIK
    /// exists.
    pub linked_nik: Score,
    /// Rows given DECEASED whose listed NIK is their true person's own and whose true person
    /// is alive: a living person declared dead although their own NIK was on the list. Must be
    /// zero.
    pub deceased_living_own_nik: u64,
}

impl EvalReport {
    /// A plain table: code, precision, recall, F1, counts.
    pub fn render_table(&self) -> String {
        let mut s = format!(
            "{:<26}{:>10}{:>10}{:>10}{:>9}{:>9}{:>9}\n",
            "code", "precision", "recall", "F1", "TP", "FP", "FN"
        );
        let line = |name: &str, sc: &Score| {
            format!(
                "{name:<26}{:>10.4}{:>10.4}{:>10.4}{:>9}{:>9}{:>9}\n",
                sc.precision, sc.recall, sc.f1, sc.tp, sc.fp, sc.fn_
            )
        };
        for (code, sc) in &self.by_code {
            s.push_str(&line(code, sc));
        }
        s.push_str(&line("(suggested NIK)", &self.suggested_nik));
        s.push_str(&line("(linked NIK)", &self.linked_nik));
        s.push_str(&format!(
            "{:<26}{:>10}\n",
            "(DECEASED living own NIK)", self.deceased_living_own_nik
        ));
        s
    }
}

struct Predicted {
    nik_listed: String,
    codes: BTreeSet<String>,
    linked: String,
    suggested: String,
}

fn read_err(path: &Path) -> impl Fn(csv::Error) -> EvalError + '_ {
    move |e| EvalError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn split_codes(s: &str) -> BTreeSet<String> {
    s.split([';', '|', ','])
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn verdict_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let direct = dir.join("verdicts.csv");
    if direct.is_file() {
        out.push(direct);
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path().join("verdicts.csv"))
            .filter(|p| p.is_file())
            .collect();
        subs.sort();
        out.extend(subs);
    }
    out
}

/// Compares verdicts with the generator's truth.
pub fn eval(truth_dir: &Path, verdicts_dir: &Path) -> Result<EvalReport, EvalError> {
    let files = verdict_files(verdicts_dir);
    if files.is_empty() {
        return Err(EvalError::NoVerdicts(verdicts_dir.to_path_buf()));
    }
    // program → row_no → prediction
    let mut predicted: BTreeMap<String, BTreeMap<u64, Predicted>> = BTreeMap::new();
    for f in &files {
        // `verdicts.csv` as the layout writes it (`;`, a BOM, headers in either language);
        // a comma-separated file of the same columns reads too.
        let bytes = std::fs::read(f).map_err(|e| EvalError::Read {
            path: f.clone(),
            message: e.to_string(),
        })?;
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
        let delimiter = if first_line.contains(&b';') {
            b';'
        } else {
            b','
        };
        let mut rd = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text);
        let headers = rd.headers().map_err(read_err(f))?.clone();
        let col = |key: &str| {
            headers.iter().position(|h| {
                crate::layout::find(crate::layout::VERDICT_COLUMNS, h)
                    .is_some_and(|i| crate::layout::VERDICT_COLUMNS[i].key == key)
            })
        };
        let (Some(c_row), Some(c_prog), Some(c_codes)) =
            (col("row_no"), col("program"), col("reason_codes"))
        else {
            return Err(EvalError::Read {
                path: f.clone(),
                message: "kolom row_no/program/reason_codes tidak ada / missing columns".into(),
            });
        };
        let (c_nik, c_link, c_sugg) = (col("nik_listed"), col("linked_nik"), col("suggested_nik"));
        for rec in rd.records() {
            let rec = rec.map_err(read_err(f))?;
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
            let Ok(row_no) = get(Some(c_row)).trim().parse::<u64>() else {
                continue;
            };
            predicted.entry(get(Some(c_prog))).or_default().insert(
                row_no,
                Predicted {
                    nik_listed: digits(&get(c_nik)),
                    codes: split_codes(&get(Some(c_codes))),
                    linked: digits(&get(c_link)),
                    suggested: digits(&get(c_sugg)),
                },
            );
        }
    }
    let mut report = EvalReport::default();
    let mut by_code: BTreeMap<String, Score> = BTreeMap::new();
    let mut sugg = Score::default();
    let mut link = Score::default();
    for (program, preds) in &predicted {
        let path = truth_dir.join(format!("{program}.csv"));
        if !path.is_file() {
            continue;
        }
        report.programs.push(program.clone());
        let mut rd = csv::Reader::from_path(&path).map_err(read_err(&path))?;
        let headers = rd.headers().map_err(read_err(&path))?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(c_row), Some(c_nik), Some(c_codes)) =
            (col("row_no"), col("true_nik"), col("codes"))
        else {
            return Err(EvalError::Read {
                path,
                message: "kolom row_no/true_nik/codes tidak ada / missing columns".into(),
            });
        };
        let empty = Predicted {
            nik_listed: String::new(),
            codes: BTreeSet::new(),
            linked: String::new(),
            suggested: String::new(),
        };
        let mut seen = BTreeSet::new();
        for rec in rd.records() {
            let rec = rec.map_err(read_err(&path))?;
            let Ok(row_no) = rec.get(c_row).unwrap_or("").trim().parse::<u64>() else {
                continue;
            };
            seen.insert(row_no);
            let truth_codes = split_codes(rec.get(c_codes).unwrap_or(""));
            let true_nik = digits(rec.get(c_nik).unwrap_or(""));
            let p = match preds.get(&row_no) {
                Some(p) => {
                    report.rows += 1;
                    p
                }
                None => {
                    report.missing_rows += 1;
                    &empty
                }
            };
            for c in truth_codes.union(&p.codes) {
                let s = by_code.entry(c.clone()).or_default();
                match (truth_codes.contains(c), p.codes.contains(c)) {
                    (true, true) => s.tp += 1,
                    (false, true) => s.fp += 1,
                    (true, false) => s.fn_ += 1,
                    (false, false) => {}
                }
            }
            if p.codes.contains("DECEASED")
                && !truth_codes.contains("DECEASED")
                && !true_nik.is_empty()
                && true_nik == p.nik_listed
            {
                report.deceased_living_own_nik += 1;
            }
            let needed = !true_nik.is_empty() && true_nik != p.nik_listed;
            score_pair(&mut sugg, needed, &p.suggested, &true_nik);
            score_pair(&mut link, !true_nik.is_empty(), &p.linked, &true_nik);
        }
        // Verdict rows that the truth does not know: their codes are false positives.
        for (row_no, p) in preds {
            if !seen.contains(row_no) {
                for c in &p.codes {
                    by_code.entry(c.clone()).or_default().fp += 1;
                }
            }
        }
    }
    if report.programs.is_empty() {
        return Err(EvalError::NoTruth {
            dir: truth_dir.to_path_buf(),
            programs: predicted.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    }
    report.by_code = by_code.into_iter().map(|(k, v)| (k, v.finish())).collect();
    report.suggested_nik = sugg.finish();
    report.linked_nik = link.finish();
    Ok(report)
}

/// One prediction of a NIK against the truth: a wrong prediction counts as a false positive
/// and, when one was needed, also a false negative.
fn score_pair(s: &mut Score, needed: bool, predicted: &str, truth: &str) {
    match (needed, predicted.is_empty()) {
        (true, false) if predicted == truth => s.tp += 1,
        (true, false) => {
            s.fp += 1;
            s.fn_ += 1;
        }
        (true, true) => s.fn_ += 1,
        (false, false) => s.fp += 1,
        (false, true) => {}
    }
}
