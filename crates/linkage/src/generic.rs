//! Generic linkage of two lists (or deduplication of one) that have no NIK, over configurable
//! fields. The CLI (`sinergi link --left A --right B --config FILE`, `--dedup A`) reads the files
//! and the TOML configuration; this module only scores.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::compare::{compare_dates, compare_regions};
use crate::names::{self, NameLevel};

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Person name: exact / jaro_winkler>=0.92 / token_subset_or_initials / token_dice>=0.70 /
    /// different.
    Name,
    /// Date (`YYYY-MM-DD`, `DD-MM-YYYY`, `DD/MM/YYYY`): exact / day_month_swapped /
    /// year_off_by_one / one_digit_off / different.
    Date,
    /// Free text: exact / jaro_winkler>=0.92 / jaro_winkler>=0.80 / different.
    Text,
    /// Exact equality (codes, numbers): agree / disagree.
    Exact,
    /// Kemendagri region code: same_village / same_district / same_regency / different.
    Region,
}

impl Comparator {
    fn labels(self) -> &'static [&'static str] {
        match self {
            Comparator::Name => &[
                "exact",
                "jaro_winkler>=0.92",
                "token_subset_or_initials",
                "token_dice>=0.70",
                "different",
            ],
            Comparator::Date => &[
                "exact",
                "day_month_swapped",
                "year_off_by_one",
                "one_digit_off",
                "different",
            ],
            Comparator::Text => &[
                "exact",
                "jaro_winkler>=0.92",
                "jaro_winkler>=0.80",
                "different",
            ],
            Comparator::Exact => &["agree", "disagree"],
            Comparator::Region => &["same_village", "same_district", "same_regency", "different"],
        }
    }

    fn default_mu(self) -> (Vec<f64>, Vec<f64>) {
        match self {
            Comparator::Name => (
                vec![0.80, 0.10, 0.06, 0.025, 0.015],
                vec![2e-4, 1e-4, 1e-3, 0.02, 0.9787],
            ),
            Comparator::Date => (
                vec![0.92, 0.02, 0.02, 0.02, 0.02],
                vec![4.5e-5, 4e-5, 1e-4, 8e-4, 0.999],
            ),
            Comparator::Text => (vec![0.8, 0.1, 0.05, 0.05], vec![0.01, 0.01, 0.05, 0.93]),
            Comparator::Exact => (vec![0.95, 0.05], vec![0.01, 0.99]),
            Comparator::Region => (vec![0.85, 0.07, 0.03, 0.05], vec![1e-4, 1e-3, 1e-2, 0.9889]),
        }
    }
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Column name (as the CLI maps it); records carry values in the order of `fields`.
    pub name: String,
    /// Comparator.
    pub comparator: Comparator,
    /// m per level (defaults per comparator).
    #[serde(default)]
    pub m: Option<Vec<f64>>,
    /// u per level (defaults per comparator).
    #[serde(default)]
    pub u: Option<Vec<f64>>,
}

/// How a field turns into a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyTransform {
    /// The normalised value.
    Exact,
    /// One key per name token's phonetic key.
    Phonetic,
    /// The year of a date.
    Year,
    /// The first 6 digits of a region code (district).
    District,
}

/// One part of a blocking rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPart {
    /// Field name.
    pub field: String,
    /// Transform.
    pub transform: KeyTransform,
}

/// Configuration of a generic linkage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericConfig {
    /// Compared fields.
    pub fields: Vec<FieldSpec>,
    /// Blocking rules: a pair is compared when any rule gives both records the same key.
    pub blocking: Vec<Vec<KeyPart>>,
    /// Match weight (sum of log2 m/u) at or above which a pair is a match.
    #[serde(default = "default_match")]
    pub match_threshold: f64,
    /// Match weight at or above which a pair is reported as possible.
    #[serde(default = "default_possible")]
    pub possible_threshold: f64,
    /// Largest block compared (larger blocks are skipped, counted in the report).
    #[serde(default = "default_max_block")]
    pub max_block: usize,
}

fn default_match() -> f64 {
    14.0
}
fn default_possible() -> f64 {
    6.0
}
fn default_max_block() -> usize {
    2_000
}

/// Why a generic configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A blocking rule names a field not in `fields`.
    #[error(
        "blocking rule uses field `{0}`, which is not among the compared fields; add it to `fields` or fix the name"
    )]
    UnknownField(String),
    /// m or u has the wrong number of levels.
    #[error("field `{0}`: m and u need {1} values, one per level")]
    WrongLevels(String, usize),
    /// No fields.
    #[error("the configuration compares no fields; add at least one entry to `fields`")]
    NoFields,
}

impl ConfigError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            ConfigError::UnknownField(_) => "LINK_CONFIG_UNKNOWN_FIELD",
            ConfigError::WrongLevels(..) => "LINK_CONFIG_WRONG_LEVELS",
            ConfigError::NoFields => "LINK_CONFIG_NO_FIELDS",
        }
    }
}

/// A record: one value per configured field, in `fields` order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericRecord {
    /// Values (`None` or empty = missing).
    pub values: Vec<Option<String>>,
}

/// One field's evidence in a generic pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenericEvidence {
    /// Field name.
    pub field: String,
    /// Level label.
    pub level: &'static str,
    /// log2 weight.
    pub weight: f64,
}

/// A scored pair (`left` < `right` when deduplicating).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredPair {
    /// Index in the left list.
    pub left: u32,
    /// Index in the right list.
    pub right: u32,
    /// Match weight.
    pub score: f64,
    /// True at or above `match_threshold` with every name field agreeing at least at the
    /// subset/initials level; otherwise a possible match.
    pub is_match: bool,
    /// Per-field evidence.
    pub evidence: Vec<GenericEvidence>,
}

/// Counts of a generic run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenericStats {
    /// Pairs compared.
    pub compared: u64,
    /// Blocks skipped because they exceeded `max_block`.
    pub skipped_blocks: u64,
}

enum Prepared {
    Missing,
    Name(String),
    Date(NaiveDate),
    Text(String),
    Region(u64),
}

/// Scores pairs of records over configured fields.
pub struct GenericLinker {
    config: GenericConfig,
    weights: Vec<Vec<f64>>,
    block_fields: Vec<Vec<(usize, KeyTransform)>>,
}

/// Parses `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY`.
pub fn parse_date_loose(s: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s.trim().split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return None;
    }
    let n: Vec<i64> = parts
        .iter()
        .map(|p| p.trim().parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (n[0], n[1], n[2])
    } else {
        (n[2], n[1], n[0])
    };
    NaiveDate::from_ymd_opt(y as i32, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

impl GenericLinker {
    /// Checks the configuration.
    pub fn new(config: GenericConfig) -> Result<GenericLinker, ConfigError> {
        if config.fields.is_empty() {
            return Err(ConfigError::NoFields);
        }
        let mut weights = Vec::new();
        for f in &config.fields {
            let (dm, du) = f.comparator.default_mu();
            let k = dm.len();
            let m = f.m.clone().unwrap_or(dm);
            let u = f.u.clone().unwrap_or(du);
            if m.len() != k || u.len() != k {
                return Err(ConfigError::WrongLevels(f.name.clone(), k));
            }
            weights.push(
                m.iter()
                    .zip(&u)
                    .map(|(m, u)| (m.max(1e-9) / u.max(1e-12)).log2())
                    .collect(),
            );
        }
        let mut block_fields = Vec::new();
        for rule in &config.blocking {
            let mut r = Vec::new();
            for p in rule {
                let i = config
                    .fields
                    .iter()
                    .position(|f| f.name == p.field)
                    .ok_or_else(|| ConfigError::UnknownField(p.field.clone()))?;
                r.push((i, p.transform));
            }
            block_fields.push(r);
        }
        Ok(GenericLinker {
            config,
            weights,
            block_fields,
        })
    }

    fn prepare(&self, r: &GenericRecord) -> Vec<Prepared> {
        self.config
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let Some(v) = r.values.get(i).and_then(|v| v.as_deref()) else {
                    return Prepared::Missing;
                };
                let v = v.trim();
                if v.is_empty() {
                    return Prepared::Missing;
                }
                match f.comparator {
                    Comparator::Name => {
                        let c = names::canonical_name(v);
                        if c.is_empty() {
                            Prepared::Missing
                        } else {
                            Prepared::Name(c)
                        }
                    }
                    Comparator::Date => {
                        parse_date_loose(v).map_or(Prepared::Missing, Prepared::Date)
                    }
                    Comparator::Text | Comparator::Exact => Prepared::Text(v.to_uppercase()),
                    Comparator::Region => {
                        let d: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
                        d.parse().map_or(Prepared::Missing, Prepared::Region)
                    }
                }
            })
            .collect()
    }

    fn keys(&self, p: &[Prepared]) -> Vec<String> {
        let mut out = Vec::new();
        for (r, rule) in self.block_fields.iter().enumerate() {
            let mut keys = vec![format!("{r}")];
            for &(i, t) in rule {
                let parts: Vec<String> = match (&p[i], t) {
                    (Prepared::Missing, _) => Vec::new(),
                    (Prepared::Name(n), KeyTransform::Phonetic) => n
                        .split(' ')
                        .filter(|t| t.len() > 1)
                        .map(names::phonetic_key)
                        .collect(),
                    (Prepared::Name(n), _) => vec![n.clone()],
                    (Prepared::Date(d), KeyTransform::Year) => vec![d.year().to_string()],
                    (Prepared::Date(d), _) => vec![d.to_string()],
                    (Prepared::Region(v), KeyTransform::District) => {
                        vec![format!(
                            "{}",
                            if *v >= 1_000_000_000 { v / 10_000 } else { *v }
                        )]
                    }
                    (Prepared::Region(v), _) => vec![v.to_string()],
                    (Prepared::Text(s), KeyTransform::Phonetic) => {
                        s.split_whitespace().map(names::phonetic_key).collect()
                    }
                    (Prepared::Text(s), _) => vec![s.clone()],
                };
                keys = keys
                    .iter()
                    .flat_map(|k| parts.iter().map(move |p| format!("{k}|{p}")))
                    .collect();
            }
            out.extend(keys.into_iter().filter(|k| k.contains('|')));
        }
        out.sort();
        out.dedup();
        out
    }

    /// Returns the match weight, the evidence and whether every name field agrees at least at
    /// the subset/initials level (a name that disagrees never makes a match: see the crate docs).
    fn score(&self, a: &[Prepared], b: &[Prepared]) -> (f64, Vec<GenericEvidence>, bool) {
        let mut total = 0.0;
        let mut names_agree = true;
        let mut ev = Vec::new();
        for (i, f) in self.config.fields.iter().enumerate() {
            let level = match (&a[i], &b[i]) {
                (Prepared::Name(x), Prepared::Name(y)) => {
                    names::compare_names(x, y).map(NameLevel::index)
                }
                (Prepared::Date(x), Prepared::Date(y)) => Some(compare_dates(*x, *y) as usize),
                (Prepared::Region(x), Prepared::Region(y)) => {
                    Some(compare_regions(*x, *y) as usize)
                }
                (Prepared::Text(x), Prepared::Text(y)) => Some(match f.comparator {
                    Comparator::Exact => usize::from(x != y),
                    _ => {
                        let s = names::jaro_winkler(x, y);
                        if x == y {
                            0
                        } else if s >= 0.92 {
                            1
                        } else if s >= 0.80 {
                            2
                        } else {
                            3
                        }
                    }
                }),
                _ => None,
            };
            if let Some(l) = level {
                if f.comparator == Comparator::Name && l > NameLevel::Partial.index() {
                    names_agree = false;
                }
                let w = self.weights[i][l];
                total += w;
                ev.push(GenericEvidence {
                    field: f.name.clone(),
                    level: f.comparator.labels()[l],
                    weight: w,
                });
            }
        }
        (total, ev, names_agree)
    }

    fn run(
        &self,
        left: &[GenericRecord],
        right: &[GenericRecord],
        dedup: bool,
    ) -> (Vec<ScoredPair>, GenericStats) {
        let lp: Vec<Vec<Prepared>> = left.par_iter().map(|r| self.prepare(r)).collect();
        let rp: Vec<Vec<Prepared>> = if dedup {
            Vec::new()
        } else {
            right.par_iter().map(|r| self.prepare(r)).collect()
        };
        let rp = if dedup { &lp } else { &rp };
        let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
        for (j, p) in rp.iter().enumerate() {
            for k in self.keys(p) {
                blocks.entry(k).or_default().push(j as u32);
            }
        }
        let mut stats = GenericStats::default();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (i, p) in lp.iter().enumerate() {
            for k in self.keys(p) {
                let Some(b) = blocks.get(&k) else { continue };
                if b.len() > self.config.max_block {
                    stats.skipped_blocks += 1;
                    continue;
                }
                for &j in b {
                    if !dedup || (i as u32) < j {
                        pairs.push((i as u32, j));
                    }
                }
            }
        }
        pairs.par_sort_unstable();
        pairs.dedup();
        stats.compared = pairs.len() as u64;
        let out: Vec<ScoredPair> = pairs
            .par_iter()
            .filter_map(|&(i, j)| {
                let (score, evidence, names_agree) = self.score(&lp[i as usize], &rp[j as usize]);
                (score >= self.config.possible_threshold).then_some(ScoredPair {
                    left: i,
                    right: j,
                    score,
                    is_match: names_agree && score >= self.config.match_threshold,
                    evidence,
                })
            })
            .collect();
        (out, stats)
    }

    /// Scores pairs across two lists; returns pairs at or above `possible_threshold`, ordered by
    /// (left, right).
    pub fn link(
        &self,
        left: &[GenericRecord],
        right: &[GenericRecord],
    ) -> (Vec<ScoredPair>, GenericStats) {
        self.run(left, right, false)
    }

    /// Scores pairs within one list (`left < right`).
    pub fn dedup(&self, records: &[GenericRecord]) -> (Vec<ScoredPair>, GenericStats) {
        self.run(records, &[], true)
    }
}
