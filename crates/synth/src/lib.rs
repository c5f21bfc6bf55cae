//! `sinergi synth`: one consistent synthetic Indonesia written as every agency's native files,
//! programme rosters to validate, and the ground truth of every roster row.
//!
//! ```no_run
//! use sinergi_synth::{SynthConfig, generate};
//! let cfg = SynthConfig { people: 10_000, ..SynthConfig::default() };
//! let summary = generate(&cfg, std::path::Path::new("out"), &mut |_| {}).unwrap();
//! println!("{} files", summary.files.len());
//! ```
//!
//! Design (docs/SYNTH.md): every family is a pure function of (seed, family index). Pass 1
//! walks the families in order and streams the agency files; pass 2 plans each roster row from
//! its own random stream, regenerating the family it draws, and writes the rosters and the
//! truth. Memory is the set of issued NIKs plus compact roster plans; output is byte-identical
//! for the same configuration. The exact truth definitions are in docs/TRUTH.md.

mod agency;
mod family;
mod ids;
mod names;
mod refdata;
mod roster;
mod util;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

pub use roster::CODE_NAMES;

/// Version written into manifest.json; bump when the output of a given seed changes.
pub const GENERATOR_VERSION: &str = "sinergi-synth 0.2.0 (world v2)";

/// How dirty the rosters are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyLevel {
    /// A clean world: every roster row is LAYAK (empty truth codes).
    None,
    /// Rates in the range of the public figures (see [`Rates::default_level`]).
    Default,
    /// Three times the default rates.
    High,
}

impl FromStr for AnomalyLevel {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(AnomalyLevel::None),
            "default" => Ok(AnomalyLevel::Default),
            "high" => Ok(AnomalyLevel::High),
            _ => Err(SynthError::Config(format!(
                "unknown anomaly level {s:?}: use none, default or high"
            ))),
        }
    }
}

/// How crowded the NIK space is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NikDensity {
    /// NIKs registered in every district of the country with scattered serials: a mistyped NIK
    /// rarely hits anyone (what a small world looks like if scaled naively).
    Sparse,
    /// As crowded as the national registry (280 million people in 7,285 districts): people
    /// are registered in as many districts as the world's size warrants, with serials numbered
    /// 0001, 0002, ... per region and birth date, so a typical NIK has tens of registry NIKs
    /// one digit away and a mistyped NIK often belongs to someone else.
    National,
}

impl FromStr for NikDensity {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sparse" | "jarang" => Ok(NikDensity::Sparse),
            "national" | "nasional" => Ok(NikDensity::National),
            _ => Err(SynthError::Config(format!(
                "unknown NIK density {s:?}: use sparse or national"
            ))),
        }
    }
}

/// Generator configuration.
#[derive(Debug, Clone, Serialize)]
pub struct SynthConfig {
    /// Number of people in the population registry.
    pub people: u64,
    /// Random seed; the same seed and configuration give byte-identical files.
    pub seed: u64,
    /// Roster anomaly level.
    pub anomalies: AnomalyLevel,
    /// The day the world is observed (ages, deaths, KK dates are relative to it). Never
    /// "today", for determinism.
    pub reference_date: NaiveDate,
    /// Roster period (`Periode`), e.g. "2026-11".
    pub period: String,
    /// Rows of some programmes' rosters (code → rows, at most 1,000,000) instead of the
    /// programme's share of the world; for benchmarks that need a roster of a given size.
    /// Agency files do not depend on it. A roster larger than the people (PBI_JK) or families
    /// it can draw from comes out shorter and slow to plan: keep it to a fraction of them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub roster_rows: BTreeMap<String, u64>,
    /// NIK density; `None`: by anomaly level (`National` for `High`, else `Sparse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nik_density: Option<NikDensity>,
    /// The error habits of real lists on top of the anomalies (default birth dates, day
    /// typos, name typos, BIN/BINTI, dropped tokens, initials); `None`: by anomaly level (on
    /// for `High`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub habits: Option<bool>,
}

impl SynthConfig {
    /// The NIK density in effect.
    pub fn density(&self) -> NikDensity {
        self.nik_density.unwrap_or(match self.anomalies {
            AnomalyLevel::High => NikDensity::National,
            _ => NikDensity::Sparse,
        })
    }

    /// Whether the error habits are on.
    pub fn habits_on(&self) -> bool {
        self.habits.unwrap_or(self.anomalies == AnomalyLevel::High)
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            people: 10_000,
            seed: 1,
            anomalies: AnomalyLevel::Default,
            reference_date: NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date"),
            period: "2026-11".to_string(),
            roster_rows: BTreeMap::new(),
            nik_density: None,
            habits: None,
        }
    }
}

/// Per-row probabilities of roster anomalies. One table: documented in docs/SYNTH.md.
///
/// The "person" rates choose *whom* a row is about (exclusive: a dead person, a civil
/// servant...); the others change *how the row is written* and are drawn independently.
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    // Who the row is about (exclusive choices).
    pub ghost: f64,
    pub dup_same_nik: f64,
    pub dup_mistyped_nik: f64,
    pub deceased: f64,
    pub civil_servant: f64,
    pub wage_above_minimum: f64,
    pub decile_above_cut: f64,
    pub not_in_dtsen: f64,
    /// PBI_JK only.
    pub formal_employee_insured: f64,
    /// PBI_JK only: catastrophic illness and decile above the cut.
    pub catastrophic_exception: f64,
    /// BLT_DD only: a family also on PKH or BPNT.
    pub program_overlap: f64,
    // How the NIK is written (exclusive choices).
    pub nik_one_digit: f64,
    pub nik_swap: f64,
    pub nik_invalid: f64,
    pub nik_missing: f64,
    pub nik_truncated: f64,
    pub nik_whitespace: f64,
    // Independent.
    pub kk_mismatch: f64,
    pub out_of_region: f64,
    pub name_variant: f64,
    pub date_text: f64,
    // The error habits of real lists (zero unless habits are on). Each row gets at most one
    // name slip (these and `name_variant` are exclusive) and at most one date slip.
    /// One keystroke wrong in one name token (a letter wrong, missing, doubled, two swapped).
    pub name_typo: f64,
    /// BIN/BINTI and the father's name appended.
    pub name_bin_binti: f64,
    /// One token of a longer name left out.
    pub name_dropped_token: f64,
    /// One token written as its initial (`S. AMINAH`).
    pub name_initials: f64,
    /// A default birth date in the right year: 01-01, 31-12, 01-07, or the 1st or 15th of
    /// the right month (day unknown).
    pub date_default: f64,
    /// The day mistyped: off by one, or one digit wrong.
    pub date_day_typo: f64,
}

impl Rates {
    /// No anomalies at all.
    pub fn none() -> Rates {
        Rates::default_level().scaled(0.0)
    }

    /// The default level.
    pub fn default_level() -> Rates {
        Rates {
            ghost: 0.01,
            dup_same_nik: 0.01,
            dup_mistyped_nik: 0.01,
            deceased: 0.03,
            civil_servant: 0.008,
            wage_above_minimum: 0.03,
            decile_above_cut: 0.12,
            not_in_dtsen: 0.03,
            formal_employee_insured: 0.03,
            catastrophic_exception: 0.01,
            program_overlap: 0.03,
            nik_one_digit: 0.02,
            nik_swap: 0.01,
            nik_invalid: 0.01,
            nik_missing: 0.01,
            nik_truncated: 0.005,
            nik_whitespace: 0.01,
            kk_mismatch: 0.02,
            out_of_region: 0.02,
            name_variant: 0.10,
            date_text: 0.10,
            name_typo: 0.0,
            name_bin_binti: 0.0,
            name_dropped_token: 0.0,
            name_initials: 0.0,
            date_default: 0.0,
            date_day_typo: 0.0,
        }
    }

    /// These rates with the error habits of real lists at their default level (as the rest,
    /// before scaling): name typos 3%, BIN/BINTI 1%, a dropped token 2%, initials 2%, default
    /// birth dates 3%, day typos 2%.
    pub fn with_habits(mut self) -> Rates {
        self.name_typo = 0.03;
        self.name_bin_binti = 0.01;
        self.name_dropped_token = 0.02;
        self.name_initials = 0.02;
        self.date_default = 0.03;
        self.date_day_typo = 0.02;
        self
    }

    /// Every rate multiplied by `k` (capped so probabilities stay below 1).
    pub fn scaled(&self, k: f64) -> Rates {
        let s = |x: f64| (x * k).min(0.6);
        Rates {
            ghost: s(self.ghost),
            dup_same_nik: s(self.dup_same_nik),
            dup_mistyped_nik: s(self.dup_mistyped_nik),
            deceased: s(self.deceased),
            civil_servant: s(self.civil_servant),
            wage_above_minimum: s(self.wage_above_minimum),
            decile_above_cut: s(self.decile_above_cut),
            not_in_dtsen: s(self.not_in_dtsen),
            formal_employee_insured: s(self.formal_employee_insured),
            catastrophic_exception: s(self.catastrophic_exception),
            program_overlap: s(self.program_overlap),
            nik_one_digit: s(self.nik_one_digit),
            nik_swap: s(self.nik_swap),
            nik_invalid: s(self.nik_invalid),
            nik_missing: s(self.nik_missing),
            nik_truncated: s(self.nik_truncated),
            nik_whitespace: s(self.nik_whitespace),
            kk_mismatch: s(self.kk_mismatch),
            out_of_region: s(self.out_of_region),
            name_variant: s(self.name_variant),
            date_text: s(self.date_text),
            name_typo: s(self.name_typo),
            name_bin_binti: s(self.name_bin_binti),
            name_dropped_token: s(self.name_dropped_token),
            name_initials: s(self.name_initials),
            date_default: s(self.date_default),
            date_day_typo: s(self.date_day_typo),
        }
    }

    /// The rates of an anomaly level, with or without the error habits.
    pub fn for_level(level: AnomalyLevel, habits: bool) -> Rates {
        let base = if habits {
            Rates::default_level().with_habits()
        } else {
            Rates::default_level()
        };
        match level {
            AnomalyLevel::None => Rates::none(),
            AnomalyLevel::Default => base,
            AnomalyLevel::High => base.scaled(3.0),
        }
    }
}

/// Generation phase, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Pass 1: population and agency files.
    Agencies,
    /// Pass 2: rosters and truth.
    Rosters,
    /// manifest.json.
    Manifest,
}

/// Progress report.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub people_done: u64,
    pub people_total: u64,
}

/// One written file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Path relative to the output directory, `/`-separated.
    pub path: String,
    /// Data rows (header and title rows excluded).
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// What was generated.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub generator: String,
    pub config: SynthConfig,
    pub rates: Rates,
    pub people: u64,
    pub families: u64,
    pub files: Vec<FileSummary>,
    /// Per programme: how many rows carry each reason code.
    pub truth_code_counts: Vec<(String, Vec<(String, u64)>)>,
    /// How crowded the NIK space came out.
    pub nik_space: NikSpace,
}

/// How crowded the NIK space is: over the NIKs of the first families (up to 10,000 people),
/// how many other registry NIKs lie one digit (one substitution) away.
#[derive(Debug, Clone, Serialize)]
pub struct NikSpace {
    /// The density asked for.
    pub density: NikDensity,
    /// Districts NIKs are registered in.
    pub districts: usize,
    /// NIKs sampled.
    pub sampled: u64,
    /// Mean number of registry NIKs one digit away.
    pub one_digit_mean: f64,
    /// Median of the same.
    pub one_digit_median: u64,
    /// Share of sampled NIKs with at least one registry NIK one digit away.
    pub with_neighbour: f64,
    /// Mean serial (the last four digits).
    pub serial_mean: f64,
}

/// Measures the NIK space of a written world.
fn nik_space(
    r: &refdata::Ref,
    index: &agency::WorldIndex,
    seed: u64,
    today: i32,
    density: NikDensity,
) -> NikSpace {
    let mut counts = Vec::new();
    let mut serials = 0u64;
    let mut fam = family::Family::default();
    let mut f = 0;
    while f < index.families && counts.len() < 10_000 {
        index.family(r, seed, today, f, &mut fam);
        for m in &fam.members {
            let d = format!("{:016}", m.nik).into_bytes();
            let mut n = 0u64;
            for i in 0..16 {
                for v in b'0'..=b'9' {
                    if v == d[i] {
                        continue;
                    }
                    let mut e = d.clone();
                    e[i] = v;
                    let x: u64 = std::str::from_utf8(&e)
                        .expect("digits")
                        .parse()
                        .expect("digits");
                    n += u64::from(index.niks.contains(&x));
                }
            }
            counts.push(n);
            serials += m.nik % 10_000;
        }
        f += 1;
    }
    let sampled = counts.len() as u64;
    let mean = counts.iter().sum::<u64>() as f64 / sampled.max(1) as f64;
    let with = counts.iter().filter(|&&c| c > 0).count() as f64 / sampled.max(1) as f64;
    counts.sort_unstable();
    NikSpace {
        density,
        districts: if r.crowded() {
            r.nik_districts.len()
        } else {
            r.districts.len()
        },
        sampled,
        one_digit_mean: (mean * 100.0).round() / 100.0,
        one_digit_median: counts.get(counts.len() / 2).copied().unwrap_or(0),
        with_neighbour: (with * 1000.0).round() / 1000.0,
        serial_mean: ((serials as f64 / sampled.max(1) as f64) * 100.0).round() / 100.0,
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the Excel file {0}: {1}")]
    Xlsx(String, String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl SynthError {
    fn io(path: &Path, source: std::io::Error) -> SynthError {
        SynthError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn days(d: NaiveDate) -> i32 {
    util::days_from_civil(d.year(), d.month(), d.day())
}

/// Writes the synthetic world into `out` (created if needed). See docs/SYNTH.md for the
/// layout. `progress` is called now and then with the phase and people done.
pub fn generate(
    cfg: &SynthConfig,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, SynthError> {
    if cfg.reference_date.year() < 1990 || cfg.reference_date.year() > 2100 {
        return Err(SynthError::Config(format!(
            "reference date {} is outside 1990–2100",
            cfg.reference_date
        )));
    }
    if cfg.people > 1_000_000_000 {
        return Err(SynthError::Config(format!(
            "{} people is more than the generator supports (1,000,000,000)",
            cfg.people
        )));
    }
    if cfg.period.trim().is_empty() {
        return Err(SynthError::Config("period must not be empty".into()));
    }
    std::fs::create_dir_all(out).map_err(|e| SynthError::io(out, e))?;
    let today = days(cfg.reference_date);
    let mut r = refdata::Ref::build();
    if cfg.density() == NikDensity::National {
        r.crowd_nik_districts(cfg.people, cfg.seed);
    }
    let rates = Rates::for_level(cfg.anomalies, cfg.habits_on());
    let pass1 =
        agency::write_agencies(&r, cfg.seed, cfg.people, today, &cfg.period, out, progress)?;
    let space = nik_space(&r, &pass1.index, cfg.seed, today, cfg.density());
    let rosters = roster::write_rosters(
        &r,
        &pass1.index,
        cfg.seed,
        today,
        &rates,
        &cfg.roster_rows,
        &cfg.period,
        out,
        progress,
    )?;
    progress(Progress {
        phase: Phase::Manifest,
        people_done: cfg.people,
        people_total: cfg.people,
    });
    let mut files: Vec<FileSummary> = pass1.files.into_iter().chain(rosters.files).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = Summary {
        generator: GENERATOR_VERSION.to_string(),
        config: cfg.clone(),
        rates,
        people: pass1.index.people,
        families: pass1.index.families,
        files,
        truth_code_counts: rosters.code_counts,
        nik_space: space,
    };
    let manifest = out.join("manifest.json");
    let json = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    let mut f = std::fs::File::create(&manifest).map_err(|e| SynthError::io(&manifest, e))?;
    f.write_all(&json)
        .and_then(|_| f.write_all(b"\n"))
        .map_err(|e| SynthError::io(&manifest, e))?;
    Ok(summary)
}
