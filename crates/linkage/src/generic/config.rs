//! The configuration of a generic linkage ([`GenericConfig`], read from TOML by the CLI) and
//! its checks.

use serde::{Deserialize, Serialize};
use sinergi_model::DateFormat;

/// How a field is compared. Each comparator has a fixed list of agreement levels, best first
/// ([`Comparator::labels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Person name: exact (same tokens, any order) / jaro_winkler>=0.92 /
    /// token_subset_or_initials / token_dice>=0.70 / different.
    Name,
    /// Date (every common layout, see `sinergi_model::parse_date_shape`): exact /
    /// day_month_swapped / year_off_by_one / one_digit_off / different.
    Date,
    /// Free text (addresses, places): exact / jaro_winkler>=0.92 / jaro_winkler>=0.80 /
    /// different.
    Text,
    /// A code or number typed by hand (identity numbers, postcodes, phone numbers): exact /
    /// one_edit / two_edits / different (Damerau-Levenshtein over the characters, spaces and
    /// punctuation ignored).
    Code,
    /// Exact equality (categories, codes where a typo makes another valid code): agree /
    /// disagree.
    Exact,
    /// Kemendagri region code: same_village / same_district / same_regency / different.
    Region,
}

impl Comparator {
    /// Labels of the agreement levels, best first; the last is "different".
    pub const fn labels(self) -> &'static [&'static str] {
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
            Comparator::Code => &["exact", "one_edit", "two_edits", "different"],
            Comparator::Exact => &["agree", "disagree"],
            Comparator::Region => &["same_village", "same_district", "same_regency", "different"],
        }
    }

    /// Number of levels.
    pub const fn levels(self) -> usize {
        self.labels().len()
    }

    /// The comparator's name as written in configurations.
    pub const fn name(self) -> &'static str {
        match self {
            Comparator::Name => "name",
            Comparator::Date => "date",
            Comparator::Text => "text",
            Comparator::Code => "code",
            Comparator::Exact => "exact",
            Comparator::Region => "region",
        }
    }

    /// Default m and u per level: the starting point of EM and what stays when there is too
    /// little data to learn from.
    pub fn default_mu(self) -> (Vec<f64>, Vec<f64>) {
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
            Comparator::Code => (vec![0.85, 0.08, 0.02, 0.05], vec![1e-4, 1e-3, 1e-2, 0.9889]),
            Comparator::Exact => (vec![0.95, 0.05], vec![0.01, 0.99]),
            Comparator::Region => (vec![0.85, 0.07, 0.03, 0.05], vec![1e-4, 1e-3, 1e-2, 0.9889]),
        }
    }
}

/// One column of the lists: compared (and scored), or used for blocking only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Column name (as the CLI maps it); records carry values in the order of `fields`.
    pub name: String,
    /// Comparator.
    pub comparator: Comparator,
    /// m per level: replaces the learnt m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<Vec<f64>>,
    /// u per level: replaces the learnt u.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<Vec<f64>>,
    /// `false`: the column is read for blocking only, never scored.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub score: bool,
    /// `true`: a pair whose value in this field counts against it (negative weight) is never a
    /// MATCH, whatever the other fields say.
    #[serde(default, skip_serializing_if = "is_false")]
    pub veto: bool,
    /// For a `name` field: the other name field whose value may sit in this one (given name and
    /// family name swapped). A pair compares them crosswise when that agrees better, and a
    /// blocking rule using both fields finds them in either order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_with: Option<String>,
    /// For a `date` field: one layout (a `sinergi_model::DateFormat` name such as `YYYYMMDD`)
    /// instead of automatic detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// How a field turns into a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyTransform {
    /// The normalised value (any comparator).
    Exact,
    /// One key per name token's phonetic code (`name`, `text`).
    Phonetic,
    /// The year of a date (`date`).
    Year,
    /// The first 6 digits of a region code, the district (`region`).
    District,
}

impl KeyTransform {
    /// The transform's name as written in configurations.
    pub const fn name(self) -> &'static str {
        match self {
            KeyTransform::Exact => "exact",
            KeyTransform::Phonetic => "phonetic",
            KeyTransform::Year => "year",
            KeyTransform::District => "district",
        }
    }

    /// Whether the transform makes sense for a comparator's values.
    pub const fn fits(self, c: Comparator) -> bool {
        match self {
            KeyTransform::Exact => true,
            KeyTransform::Phonetic => matches!(c, Comparator::Name | Comparator::Text),
            KeyTransform::Year => matches!(c, Comparator::Date),
            KeyTransform::District => matches!(c, Comparator::Region),
        }
    }
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
    /// Columns copied to the output to name each row (`rec_id`); the linker ignores them.
    #[serde(default)]
    pub id_columns: Vec<String>,
    /// A pair is a MATCH at or above this match probability (default 0.5).
    #[serde(default)]
    pub match_probability: Option<f64>,
    /// Pairs at or above this probability (and not a MATCH) are POSSIBLE, for review (default
    /// 0.01).
    #[serde(default)]
    pub possible_probability: Option<f64>,
    /// Instead of `match_probability`: a raw match weight (sum of the fields' log2 m/u,
    /// without the prior), as older configurations had.
    #[serde(default)]
    pub match_threshold: Option<f64>,
    /// Instead of `possible_probability`: a raw weight.
    #[serde(default)]
    pub possible_threshold: Option<f64>,
    /// Learn m and u from the lists (default true): u from random pairs, m by EM over the
    /// blocked pairs. `false` keeps the comparators' defaults (and any configured m/u).
    #[serde(default = "yes")]
    pub learn: bool,
    /// Largest block compared (larger blocks are skipped, counted in the report).
    #[serde(default = "default_max_block")]
    pub max_block: usize,
    /// Blocking rules: a pair is compared when any rule gives both records the same key.
    pub blocking: Vec<Vec<KeyPart>>,
    /// Fields, in output order.
    pub fields: Vec<FieldSpec>,
}

/// Default `match_probability`.
pub const DEFAULT_MATCH_PROBABILITY: f64 = 0.5;
/// Default `possible_probability`.
pub const DEFAULT_POSSIBLE_PROBABILITY: f64 = 0.01;

fn default_max_block() -> usize {
    2_000
}

/// Why a generic configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A blocking rule (or `swap_with`) names a field not in `fields`.
    #[error(
        "blocking rule uses field `{0}`, which is not among the fields; add it to `fields` (with score = false if it should not be scored) or fix the name"
    )]
    UnknownField(String),
    /// m or u has the wrong number of levels, or a value outside (0, 1].
    #[error("field `{0}`: m and u need {1} values, one per level, each above 0 and at most 1")]
    WrongLevels(String, usize),
    /// No fields, or none scored.
    #[error("the configuration scores no field; add at least one entry to `fields`")]
    NoFields,
    /// A blocking transform that does not fit the field's comparator.
    #[error(
        "blocking rule: transform `{transform}` does not fit field `{field}` (comparator `{comparator}`); use exact, or phonetic on name/text, year on date, district on region"
    )]
    TransformMismatch {
        /// The field.
        field: String,
        /// The transform.
        transform: &'static str,
        /// The field's comparator.
        comparator: &'static str,
    },
    /// `swap_with` that does not name another `name` field, or a pair not named both ways.
    #[error(
        "field `{0}`: swap_with must name another scored `name` field (given name and family name)"
    )]
    BadSwap(String),
    /// `veto` on a field that is not scored.
    #[error("field `{0}`: veto needs a scored field")]
    BadVeto(String),
    /// A threshold out of range, or given both as probability and weight.
    #[error(
        "{0}: a probability is above 0 and below 1; give either match_probability or match_threshold (a weight), not both"
    )]
    BadThreshold(&'static str),
    /// An unknown `date_format`, or one on a field that is not a date.
    #[error(
        "field `{0}`: date_format must be a date layout such as YYYYMMDD or DD/MM/YYYY, on a date field"
    )]
    BadDateFormat(String),
    /// A field named twice.
    #[error("field `{0}` is listed twice")]
    Duplicate(String),
    /// No blocking rule.
    #[error("the configuration has no blocking rule; add at least one to `blocking`")]
    NoBlocking,
}

impl ConfigError {
    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            ConfigError::UnknownField(_) => "LINK_CONFIG_UNKNOWN_FIELD",
            ConfigError::WrongLevels(..) => "LINK_CONFIG_WRONG_LEVELS",
            ConfigError::NoFields => "LINK_CONFIG_NO_FIELDS",
            ConfigError::TransformMismatch { .. } => "LINK_CONFIG_TRANSFORM",
            ConfigError::BadSwap(_) => "LINK_CONFIG_SWAP",
            ConfigError::BadVeto(_) => "LINK_CONFIG_VETO",
            ConfigError::BadThreshold(_) => "LINK_CONFIG_THRESHOLD",
            ConfigError::BadDateFormat(_) => "LINK_CONFIG_DATE_FORMAT",
            ConfigError::Duplicate(_) => "LINK_CONFIG_DUPLICATE_FIELD",
            ConfigError::NoBlocking => "LINK_CONFIG_NO_BLOCKING",
        }
    }
}

/// The thresholds a configuration resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A match probability (the prior included).
    Probability(f64),
    /// A raw weight (the prior left out).
    Weight(f64),
}

/// A checked configuration: field positions resolved.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub config: GenericConfig,
    /// Per blocking rule: (field index, transform), swap partners merged later.
    pub rules: Vec<Vec<(usize, KeyTransform)>>,
    /// Per field: its swap partner.
    pub swap: Vec<Option<usize>>,
    /// Per field: explicit date layout.
    pub date_format: Vec<Option<DateFormat>>,
    pub match_at: Threshold,
    pub possible_at: Threshold,
}

fn probability(
    p: Option<f64>,
    w: Option<f64>,
    default: f64,
    what: &'static str,
) -> Result<Threshold, ConfigError> {
    match (p, w) {
        (Some(_), Some(_)) => Err(ConfigError::BadThreshold(what)),
        (Some(p), None) if p > 0.0 && p < 1.0 => Ok(Threshold::Probability(p)),
        (Some(_), None) => Err(ConfigError::BadThreshold(what)),
        (None, Some(w)) if w.is_finite() => Ok(Threshold::Weight(w)),
        (None, Some(_)) => Err(ConfigError::BadThreshold(what)),
        (None, None) => Ok(Threshold::Probability(default)),
    }
}

pub(crate) fn check(config: GenericConfig) -> Result<Checked, ConfigError> {
    if !config.fields.iter().any(|f| f.score) {
        return Err(ConfigError::NoFields);
    }
    if config.blocking.is_empty() || config.blocking.iter().all(Vec::is_empty) {
        return Err(ConfigError::NoBlocking);
    }
    let pos = |name: &str| config.fields.iter().position(|f| f.name == name);
    let mut date_format = Vec::new();
    let mut swap = Vec::new();
    for (i, f) in config.fields.iter().enumerate() {
        if pos(&f.name) != Some(i) {
            return Err(ConfigError::Duplicate(f.name.clone()));
        }
        let k = f.comparator.levels();
        for v in [&f.m, &f.u].into_iter().flatten() {
            if v.len() != k || v.iter().any(|x| !(*x > 0.0 && *x <= 1.0)) {
                return Err(ConfigError::WrongLevels(f.name.clone(), k));
            }
        }
        if f.veto && !f.score {
            return Err(ConfigError::BadVeto(f.name.clone()));
        }
        date_format.push(match &f.date_format {
            None => None,
            Some(name) => match DateFormat::from_name(name) {
                Some(df) if f.comparator == Comparator::Date => Some(df),
                _ => return Err(ConfigError::BadDateFormat(f.name.clone())),
            },
        });
        swap.push(match &f.swap_with {
            None => None,
            Some(other) => {
                let j = pos(other).ok_or_else(|| ConfigError::UnknownField(other.clone()))?;
                let g = &config.fields[j];
                if j == i
                    || f.comparator != Comparator::Name
                    || g.comparator != Comparator::Name
                    || !f.score
                    || !g.score
                    || g.swap_with.as_deref().is_some_and(|x| x != f.name)
                {
                    return Err(ConfigError::BadSwap(f.name.clone()));
                }
                Some(j)
            }
        });
    }
    // Swapping is symmetric: `a.swap_with = b` implies `b.swap_with = a`.
    for i in 0..swap.len() {
        if let Some(j) = swap[i] {
            match swap[j] {
                None => swap[j] = Some(i),
                Some(k) if k == i => {}
                Some(_) => return Err(ConfigError::BadSwap(config.fields[j].name.clone())),
            }
        }
    }
    let mut rules = Vec::new();
    for rule in &config.blocking {
        let mut r = Vec::new();
        for p in rule {
            let i = pos(&p.field).ok_or_else(|| ConfigError::UnknownField(p.field.clone()))?;
            let c = config.fields[i].comparator;
            if !p.transform.fits(c) {
                return Err(ConfigError::TransformMismatch {
                    field: p.field.clone(),
                    transform: p.transform.name(),
                    comparator: c.name(),
                });
            }
            r.push((i, p.transform));
        }
        if !r.is_empty() {
            rules.push(r);
        }
    }
    let match_at = probability(
        config.match_probability,
        config.match_threshold,
        DEFAULT_MATCH_PROBABILITY,
        "match_probability / match_threshold",
    )?;
    let possible_at = probability(
        config.possible_probability,
        config.possible_threshold,
        DEFAULT_POSSIBLE_PROBABILITY,
        "possible_probability / possible_threshold",
    )?;
    Ok(Checked {
        config,
        rules,
        swap,
        date_format,
        match_at,
        possible_at,
    })
}
