//! Linking roster rows to the registry: blocking, comparison, NIK-aware scoring, decisions.

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinergi_model::Sex;

use crate::adapter::{self, NikInput};
use crate::compare::{
    self, BirthDateLevel, Listed, NikLevel, RegionLevel, compare_birth_dates, compare_nik,
    compare_regions, is_default_date, seg,
};
use crate::fs::{self, EmReport, FIELDS, Field, Gamma, Params};
use crate::index::{self, RegistryIndex, sex_code};
use crate::names::{self, NameLevel};

/// One roster row to link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// The NIK cell as written (used when `nik` is `None`).
    pub nik_raw: Option<String>,
    /// The NIK already parsed by the caller (takes precedence over `nik_raw`).
    pub nik: Option<u64>,
    /// The name as written; normalised inside.
    pub name: String,
    /// Stated birth date.
    pub birth_date: Option<NaiveDate>,
    /// Stated sex.
    pub sex: Option<Sex>,
    /// Village code (10 digits), or a district/regency code.
    pub region: Option<u64>,
    /// The family card number (KK) the row lists.
    #[serde(default)]
    pub kk: Option<u64>,
}

/// How a probable link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The listed NIK itself.
    Nik,
    /// One digit of the listed NIK substituted.
    NikSubstitution,
    /// Two adjacent digits of the listed NIK swapped.
    NikTransposition,
    /// The listed NIK truncated to 15 significant digits.
    NikTruncated15,
    /// The listed NIK cell, garbled, read with a digit inserted or removed.
    NikRepaired,
    /// Same birth date (or day/month swapped) and sex.
    BirthDateSex,
    /// Same phonetic name token and birth year (±1).
    NameBirthYear,
    /// Same phonetic name token and village (rows without NIK and birth date).
    NameVillage,
}

/// What the linker concluded for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LinkOutcome {
    /// The NIK exists and the identity (name, birth date) agrees.
    ExactNik,
    /// The NIK exists but name or birth date disagree: typo or another person's NIK. See
    /// [`Link::suggestion`] for the likely right person.
    ExactNikMismatch,
    /// Linked with confidence (score and probability above the match thresholds).
    Probable {
        /// Which blocking pass found the person.
        via: Via,
    },
    /// A candidate worth a human look, not a link.
    Possible,
    /// Nobody plausible.
    NotFound,
}

/// One field's contribution to a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldEvidence {
    /// The field.
    pub field: Field,
    /// The agreement level (`"exact"`, `"jaro_winkler>=0.92"`, `"day_month_swapped"`,
    /// `"same_district"`, `"exact_implied_by_nik"`, …).
    pub level: &'static str,
    /// log2 weight added to the score.
    pub weight: f64,
}

/// A scored candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Person index in the registry.
    pub person: u32,
    /// That person's NIK.
    pub nik: u64,
    /// Posterior log2 odds that this person is the row's person.
    pub score: f64,
    /// Probability, with competing candidates taken into account.
    pub probability: f64,
    /// The blocking pass that found the candidate.
    pub via: Via,
}

/// The likely right person when the listed NIK belongs to someone who does not match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The candidate.
    pub candidate: Candidate,
    /// True when the candidate clears the match thresholds (a confident suggestion).
    pub probable: bool,
    /// Per-field evidence for the candidate.
    pub evidence: Vec<FieldEvidence>,
}

/// The linker's answer for one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The conclusion.
    pub outcome: LinkOutcome,
    /// The linked person (for `ExactNikMismatch`: the holder of the listed NIK; for
    /// `Possible`: the best candidate; `None` for `NotFound`).
    pub person: Option<u32>,
    /// Posterior log2 odds for `person` (or the best candidate).
    pub score: f64,
    /// Probability for `person`, competing candidates taken into account.
    pub probability: f64,
    /// Per-field contributions to `score`.
    pub evidence: Vec<FieldEvidence>,
    /// For `ExactNikMismatch`: the likely right person (propose their NIK).
    pub suggestion: Option<Suggestion>,
    /// Up to three other candidates, best first.
    pub alternatives: Vec<Candidate>,
    /// Candidate pairs compared.
    pub candidates: u32,
    /// For a link (`ExactNik`, `Probable`): where the row's name or birth date differ from the
    /// linked person's while still agreeing with them (a data-correction note for the list).
    pub slips: Vec<Slip>,
}

/// A small difference between a row and the person it is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "field", content = "level")]
pub enum Slip {
    /// The name agrees only at this level (a typo, a dropped or added token, initials).
    Name(#[serde(serialize_with = "ser_name_level")] NameLevel),
    /// The birth date differs in this way (a default date, a day typo, ...).
    BirthDate(#[serde(serialize_with = "ser_date_level")] BirthDateLevel),
}

fn ser_name_level<S: serde::Serializer>(l: &NameLevel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.label())
}

fn ser_date_level<S: serde::Serializer>(l: &BirthDateLevel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.label())
}

/// A manual weight for one level of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightOverride {
    /// The field.
    pub field: Field,
    /// The level label (as in [`FieldEvidence::level`]).
    pub level: String,
    /// log2 weight to use instead of the estimated one.
    pub weight: f64,
}

/// Linker settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// Minimum posterior log2 odds for `Probable` (and a confident suggestion).
    pub match_threshold: f64,
    /// Minimum competition-adjusted probability for `Probable`.
    pub min_probability: f64,
    /// Minimum posterior log2 odds for `Possible`.
    pub possible_threshold: f64,
    /// The holder of the listed NIK is the row's person unless their own posterior log2 odds
    /// fall below this (name and birth date weighed against the exact NIK, no veto). Below
    /// it the row is `ExactNikMismatch`; only then is anyone else considered.
    pub holder_min_score: f64,
    /// Share of roster rows expected to be in the registry (sets the prior) when training has
    /// not estimated it from the list ([`Params::absent`]).
    pub prior_in_registry: f64,
    /// Estimate m (EM) and u (random pairs) in [`Linker::train`]; otherwise keep defaults.
    pub use_em: bool,
    /// Queries sampled for training.
    pub em_max_queries: usize,
    /// EM iterations at most.
    pub em_max_iterations: usize,
    /// Largest block read for one key (larger blocks are truncated).
    pub max_block: usize,
    /// Manual weights.
    pub weight_overrides: Vec<WeightOverride>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            match_threshold: 2.0,
            min_probability: 0.8,
            possible_threshold: -8.0,
            holder_min_score: 0.0,
            prior_in_registry: 0.9,
            use_em: true,
            em_max_queries: 20_000,
            em_max_iterations: 100,
            max_block: 20_000,
            weight_overrides: Vec::new(),
        }
    }
}

struct Prep {
    canonical: String,
    /// The name as written (normalised, not folded), for typos the folds hide.
    written: String,
    sig: u64,
    has_initial: bool,
    hashes: Vec<u32>,
    /// Distinct 16-bit forms of `hashes` (at most eight), for the exact shared-token check.
    tok16: [u16; 8],
    ntok16: u32,
    listed: Listed,
    birth: Option<NaiveDate>,
    days: Option<i32>,
    /// The stated birth date is a default day and month (see [`is_default_date`]).
    birth_default: bool,
    /// Weight of an exact name agreement for this name.
    name_exact_w: f64,
    /// The stated birth date is the one the listed NIK carries (day, month, two-digit year).
    date_matches_listed: bool,
    /// NIKs one insertion or deletion from a garbled NIK cell, sorted.
    repairs: Vec<u64>,
    /// The person's own name when the row adds a patronymic (`YUDI ILHAM BIN SUYANTO`):
    /// canonical form, as written, and the weight of an exact agreement with it.
    personal: Option<(String, String, f64)>,
    sex: Option<u8>,
    region: Option<u64>,
    kk: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Cmp {
    /// The weight of an exact name for this row's name (term frequency; see
    /// [`Linker::name_exact_weight`]).
    name_exact_w: f64,
    nik: Option<(NikLevel, u8)>,
    name: Option<NameLevel>,
    date: Option<BirthDateLevel>,
    sex: Option<bool>,
    region: Option<RegionLevel>,
    /// The listed KK equals the candidate's (None: no KK on the row or in the registry).
    kk: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
struct Scored {
    person: u32,
    via: Via,
    score: f64,
    cmp: Cmp,
}

/// Links roster rows to a [`RegistryIndex`].
pub struct Linker<'a> {
    index: &'a RegistryIndex,
    config: LinkConfig,
    params: Params,
    /// weights[f][l]
    weights: Vec<Vec<f64>>,
    /// A manual weight is set for an exact name (no term-frequency adjustment then).
    name_exact_overridden: bool,
    prior: f64,
    /// Odds of "the row's person is in nobody's record" against which candidates compete
    /// (the estimated absent share; 1 for a model without one).
    nobody: f64,
    /// log2 weight of a listed KK equal to the candidate's (0 when not learnt).
    kk_weight: f64,
    /// log2 weight of a listed KK other than the candidate's, for a candidate other than the
    /// listed NIK's holder (≤ 0).
    kk_differs: f64,
}

/// The NIK field's levels: a one-digit substitution is split by the segment it falls in,
/// because the registry is not equally crowded around a NIK in every segment (a wrong serial
/// digit meets the one or two people born the same day in the same district, a wrong date or
/// region digit meets many more), and the date or region then counts apart from the NIK.
const NIK_LEVELS: [&str; fs::NIK_LEVELS] = [
    "exact",
    "one_substitution_serial",
    "one_substitution_date",
    "one_substitution_region",
    "adjacent_transposition",
    "truncated_15",
    "one_insertion_or_deletion",
    "different",
];

fn nik_level_index(l: NikLevel, touched: u8) -> usize {
    match l {
        NikLevel::Exact => 0,
        NikLevel::OneSubstitution if touched & seg::SERIAL != 0 => 1,
        NikLevel::OneSubstitution if touched & seg::DATE != 0 => 2,
        NikLevel::OneSubstitution => 3,
        NikLevel::AdjacentTransposition => 4,
        NikLevel::Truncated15 => 5,
        NikLevel::OneEdit => 6,
        NikLevel::Other => 7,
    }
}
fn date_index(l: BirthDateLevel) -> usize {
    l as usize
}
fn region_index(l: RegionLevel) -> usize {
    l as usize
}

fn level_label(f: usize, l: usize) -> &'static str {
    match f {
        0 => NIK_LEVELS[l],
        1 => [
            NameLevel::Exact,
            NameLevel::Strong,
            NameLevel::Partial,
            NameLevel::Weak,
            NameLevel::Other,
        ][l]
            .label(),
        2 => BirthDateLevel::ALL[l].label(),
        3 => ["agree", "disagree"][l],
        _ => [
            RegionLevel::SameVillage,
            RegionLevel::SameDistrict,
            RegionLevel::SameRegency,
            RegionLevel::Other,
        ][l]
            .label(),
    }
}

/// The evidence label of a birth-date level beside NIK digits that carry the date.
fn date_beside_nik_label(l: BirthDateLevel) -> &'static str {
    match l {
        BirthDateLevel::Exact => "exact_implied_by_nik",
        BirthDateLevel::DayMonthSwapped => "day_month_swapped_beside_nik",
        BirthDateLevel::YearOffByOne => "year_off_by_one_beside_nik",
        BirthDateLevel::OneDigitOff => "one_digit_off_beside_nik",
        BirthDateLevel::DayDiffers => "day_differs_beside_nik",
        BirthDateLevel::DefaultDate => "default_date_beside_nik",
        BirthDateLevel::Other => "different",
    }
}

/// A 16-digit NIK that could have been issued: a known province, no zero region segment, a
/// real birth date (women's day + 40), a serial other than 0000 ([`sinergi_model::Nik`]).
fn well_formed_nik(nik: u64) -> bool {
    sinergi_model::Nik::parse_strict(&format!("{nik:016}")).is_ok()
}

/// The name and birth-date differences of a linked candidate.
fn slips(c: &Cmp) -> Vec<Slip> {
    let mut out = Vec::new();
    if let Some(l) = c.name.filter(|l| *l != NameLevel::Exact) {
        out.push(Slip::Name(l));
    }
    if let Some(l) = c.date.filter(|l| *l != BirthDateLevel::Exact) {
        out.push(Slip::BirthDate(l));
    }
    out
}

/// Every level of a comparison as observed (none left out as implied by the NIK).
fn raw_gamma(c: &Cmp) -> Gamma {
    [
        c.nik.map(|(l, t)| nik_level_index(l, t) as u8),
        c.name.map(|l| l.index() as u8),
        c.date.map(|l| date_index(l) as u8),
        c.sex.map(|a| u8::from(!a)),
        c.region.map(|l| region_index(l) as u8),
    ]
}

/// One sampled row's training data.
struct TrainRow {
    /// Comparison vectors of the candidates (EM).
    gammas: Vec<Gamma>,
    /// Registry NIKs around the listed NIK per NIK level (u of the NIK levels).
    nik_counts: [f64; fs::NIK_LEVELS],
    /// For a garbled NIK cell: registry NIKs one insertion or deletion away.
    repair_hits: Option<f64>,
    /// Comparison vectors of random pairs (u of the other fields).
    random: Vec<Gamma>,
    /// The row lists a 16-digit NIK.
    full: bool,
    /// That NIK is in the registry.
    exists: bool,
    /// The comparison vector of the listed NIK's holder when the row keeps them (a
    /// near-certain match, for m; see [`Linker::train`]).
    holder: Option<Gamma>,
    /// Whether the row's listed KK equals that holder's (when both have one).
    holder_kk: Option<bool>,
}

/// The estimated absent share is kept within these bounds: the model's likelihood ratios are
/// not calibrated finely enough to trust "nobody" odds far below one in a hundred.
const MIN_ABSENT: f64 = 0.01;
const MAX_ABSENT: f64 = 0.5;

/// Holder pairs needed before m of name, birth date, sex and region is read from them.
const MIN_HOLDER_PAIRS: usize = 1000;

/// Name tokens (rarest first) whose token + birth-year blocks stage 2 reads.
const STAGE2_TOKENS: usize = 1;

/// Candidates per sampled row kept for EM (best first).
const MAX_TRAIN_CANDIDATES: usize = 30;
/// Candidate pairs at most in one EM run (a deterministic subsample beyond).
const MAX_EM_PAIRS: usize = 400_000;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl<'a> Linker<'a> {
    /// A linker with default m/u for the index's size (call [`Linker::train`] to estimate
    /// them from the roster).
    pub fn new(index: &'a RegistryIndex, config: LinkConfig) -> Linker<'a> {
        let params = Params::defaults(index.len());
        let mut l = Linker {
            index,
            config,
            params,
            weights: Vec::new(),
            name_exact_overridden: false,
            prior: 0.0,
            nobody: 1.0,
            kk_weight: 0.0,
            kk_differs: 0.0,
        };
        l.refresh();
        l
    }

    /// The m/u parameters in use.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// The registry.
    pub fn index(&self) -> &RegistryIndex {
        self.index
    }

    /// Replaces the m/u parameters (e.g. from a previous training run).
    pub fn set_params(&mut self, params: Params) {
        self.params = params;
        self.refresh();
    }

    fn refresh(&mut self) {
        let n = self.index.len().max(1) as f64;
        // With an absent share estimated from the list, the prior is its complement spread
        // over the registry, and "nobody" competes with the candidates at that share.
        let (in_registry, nobody) = match self.params.absent {
            Some(a) => (1.0 - a, a),
            None => (self.config.prior_in_registry, 1.0),
        };
        let p = (in_registry.clamp(1e-6, 1.0) / n).min(0.5);
        self.prior = (p / (1.0 - p)).log2();
        self.nobody = nobody;
        let [m, u] = self.params.kk;
        (self.kk_weight, self.kk_differs) = if m > 0.0 && u > 0.0 && m < 1.0 && u < 1.0 {
            (
                (m / u).log2().max(0.0),
                ((1.0 - m) / (1.0 - u)).log2().min(0.0),
            )
        } else {
            (0.0, 0.0)
        };
        self.name_exact_overridden = self
            .config
            .weight_overrides
            .iter()
            .any(|o| o.field == Field::Name && o.level == NameLevel::Exact.label());
        self.weights = (0..5)
            .map(|f| {
                (0..fs::LEVELS[f])
                    .map(|l| {
                        let label = level_label(f, l);
                        self.config
                            .weight_overrides
                            .iter()
                            .find(|o| o.field == FIELDS[f] && o.level == label)
                            .map(|o| o.weight)
                            .unwrap_or_else(|| self.params.weight(f, l))
                    })
                    .collect()
            })
            .collect();
    }

    /// The weight of an exact name agreement for a row's canonical name, adjusted for how
    /// many registry persons bear that name (term frequency): u is the share of the registry
    /// holding it rather than the share of random pairs that agree, so a name shared by one
    /// person in a million identifies far more than SITI or BUDI SANTOSO. A manual weight for
    /// the level (`weight_overrides`) is used as it is.
    fn name_exact_weight(&self, canonical: &str) -> f64 {
        if self.name_exact_overridden || canonical.is_empty() {
            return self.weights[1][0];
        }
        // The registry's count shrunk towards the level's u (one pseudo-person at the average
        // frequency): in a small registry a name held once is not yet evidence that it is
        // rare in the population, in a national one it is.
        let n = self.index.len() as f64;
        let count = self.index.name_count(names::name_key(canonical)) as f64;
        let u_level = self.params.u[1][0].clamp(1e-12, 1.0);
        let u = ((count + 1.0) / (n + 1.0 / u_level)).min(1.0);
        let m = self.params.m[1][0].max(1e-9);
        (m / u).log2()
    }

    /// Prepares a row for comparison. The blocking keys (phonetic token hashes, signature)
    /// are left empty: [`Linker::prep_blocking`] adds them when the row needs a search, so a
    /// row answered by its exact NIK never computes them.
    fn prep(&self, q: &Query) -> Prep {
        let canonical = names::canonical_name(&q.name);
        let mut repairs = Vec::new();
        let listed = match q.nik {
            Some(n) if (1_000_000_000_000_000..10_000_000_000_000_000).contains(&n) => {
                Listed::Full {
                    nik: n,
                    maybe_truncated: n % 10 == 0,
                }
            }
            Some(n) if (100_000_000_000_000..1_000_000_000_000_000).contains(&n) => {
                Listed::Prefix15(n)
            }
            Some(_) => Listed::None,
            None => {
                let raw = q.nik_raw.as_deref().unwrap_or("");
                match adapter::parse_nik(raw) {
                    NikInput::Digits16 { nik, .. } => Listed::Full {
                        nik,
                        maybe_truncated: nik % 10 == 0,
                    },
                    NikInput::Digits15 { prefix } => {
                        repairs = adapter::nik_repairs(raw).1;
                        Listed::Prefix15(prefix)
                    }
                    NikInput::Invalid => match adapter::nik_repairs(raw) {
                        // Letters typed for digits: the NIK as the clerk meant it.
                        (Some(nik), _) => Listed::Full {
                            nik,
                            maybe_truncated: false,
                        },
                        (None, v) => {
                            repairs = v;
                            Listed::None
                        }
                    },
                    NikInput::Missing => Listed::None,
                }
            }
        };
        let personal = names::before_patronymic(&q.name).map(|own| {
            let c = names::canonical_name(own);
            let w = self.name_exact_weight(&c);
            (c, names::written_name(own), w)
        });
        Prep {
            sig: 0,
            repairs,
            personal,
            name_exact_w: self.name_exact_weight(&canonical),
            written: names::written_name(&q.name),
            canonical,
            has_initial: false,
            hashes: Vec::new(),
            tok16: [0; 8],
            ntok16: 0,
            listed,
            birth: q.birth_date,
            days: q.birth_date.map(|d| d.num_days_from_ce()),
            birth_default: q.birth_date.is_some_and(is_default_date),
            date_matches_listed: match (listed, q.birth_date) {
                (Listed::Full { nik, .. }, Some(d)) => {
                    let (day, month, yy, _) = adapter::nik_embedded(nik);
                    (day, month, yy) == (d.day(), d.month(), d.year().rem_euclid(100) as u32)
                }
                _ => false,
            },
            sex: q.sex.map(sex_code),
            region: q.region.filter(|&r| r > 0),
            kk: q.kk.filter(|&k| k > 0),
        }
    }

    /// Adds the blocking keys to a prepared row (see [`Linker::prep`]).
    fn prep_blocking(&self, p: &mut Prep) {
        // With a patronymic, the person's own name makes the keys: the father's name is not
        // in the registry's (`INDAH BINTI TRI` is found among the INDAHs).
        let key_name = p
            .personal
            .as_ref()
            .map_or(p.canonical.clone(), |x| x.0.clone());
        let mut hashes: Vec<u32> = key_name
            .split(' ')
            .filter(|t| t.len() > 1)
            .map(names::phonetic_hash)
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        let mut n = 0;
        for &h in &hashes {
            let v = index::token16(h);
            if n < 8 && !p.tok16[..n].contains(&v) {
                p.tok16[n] = v;
                n += 1;
            }
        }
        p.ntok16 = n as u32;
        p.hashes = hashes;
        p.has_initial = key_name.split(' ').any(|t| t.len() == 1);
        p.sig = names::signature(&key_name);
    }

    fn compare(&self, q: &Prep, i: u32) -> Cmp {
        let ix = self.index;
        let nik = match compare_nik(q.listed, ix.nik(i)) {
            None | Some((NikLevel::Other, _)) if q.repairs.binary_search(&ix.nik(i)).is_ok() => {
                Some((NikLevel::OneEdit, 0xff))
            }
            n => n,
        };
        // A candidate whose NIK differs from the listed one in the date digits, on a row whose
        // birth date is the listed NIK's own: the row agrees with the NIK it lists, so that
        // NIK is no typo of the candidate's. The one digit the dates then differ by is the
        // same discrepancy as the NIK's, not a second near-agreement: a different date.
        let date_contradicts = q.date_matches_listed
            && nik.is_some_and(|(l, t)| l != NikLevel::Exact && t & seg::DATE != 0);
        let mut name = names::compare_names_written(&q.canonical, &q.written, ix.name(i));
        let mut name_exact_w = q.name_exact_w;
        // A patronymic the registry does not write (`YUDI ILHAM BIN SUYANTO` for `YUDI
        // ILHAM`): the person's own name is what identifies them; the father's name, folded
        // into the canonical form, would make it look like a name with an extra word.
        if let Some((own, written, w)) = &q.personal
            && name.is_some_and(|l| l > NameLevel::Strong)
        {
            let alt = names::compare_names_written(own, written, ix.name(i));
            if alt.is_some_and(|l| l <= NameLevel::Strong) {
                name = alt;
                name_exact_w = *w;
            }
        }
        Cmp {
            nik,
            name_exact_w,
            name,
            date: q.birth.map(|d| {
                if q.days == Some(ix.birth_days(i)) && !q.birth_default {
                    BirthDateLevel::Exact
                } else if date_contradicts {
                    BirthDateLevel::Other
                } else {
                    compare_birth_dates(d, ix.birth_date(i))
                }
            }),
            sex: q.sex.map(|s| sex_code(ix.sex(i)) == s),
            region: q.region.map(|r| compare_regions(r, ix.region(i))),
            kk: q.kk.filter(|_| ix.kk(i) > 0).map(|k| k == ix.kk(i)),
        }
    }

    /// The per-field weights of a comparison, with the NIK-implied agreements neutralised.
    /// Returns (field index, level index, label, weight).
    fn contributions(&self, c: &Cmp) -> [Option<(usize, usize, &'static str, f64)>; 6] {
        let w = &self.weights;
        // Segments of the NIK that the candidate shares with the listed NIK (only for near
        // misses and exact matches).
        let touched: Option<u8> = match c.nik {
            Some((l, t)) if l != NikLevel::Other => Some(t),
            _ => None,
        };
        let shares = |s: u8| touched.is_some_and(|t| t & s == 0);
        let mut out = [None; 6];
        if let Some((l, t)) = c.nik {
            let li = nik_level_index(l, t);
            out[0] = Some((0, li, NIK_LEVELS[li], w[0][li]));
        }
        if let Some(l) = c.name {
            let li = l.index();
            let weight = if l == NameLevel::Exact {
                c.name_exact_w
            } else {
                w[1][li]
            };
            out[1] = Some((1, li, l.label(), weight));
        }
        if let Some(l) = c.date {
            let li = date_index(l);
            // The candidate's NIK carries the listed NIK's date digits: agreement is implied,
            // and a near miss (a default date, a day typo) is a slip on the row that says
            // nothing against the candidate. A wholly different date still counts in full.
            out[2] = Some(if shares(seg::DATE) && l != BirthDateLevel::Other {
                (2, li, date_beside_nik_label(l), 0.0)
            } else {
                (2, li, l.label(), w[2][li])
            });
        }
        if let Some(agree) = c.sex {
            let li = if agree { 0 } else { 1 };
            out[3] = Some(if agree && shares(seg::DAY) {
                (3, li, "agree_implied_by_nik", 0.0)
            } else {
                (3, li, level_label(3, li), w[3][li])
            });
        }
        if let Some(l) = c.region {
            let li = region_index(l);
            out[4] = Some(if shares(seg::REGION) {
                match l {
                    RegionLevel::SameVillage => (
                        4,
                        li,
                        "same_village_beyond_nik",
                        (w[4][0] - w[4][1]).max(0.0),
                    ),
                    RegionLevel::SameDistrict | RegionLevel::SameRegency => {
                        (4, li, "implied_by_nik", 0.0)
                    }
                    RegionLevel::Other => (4, li, l.label(), w[4][li]),
                }
            } else {
                (4, li, l.label(), w[4][li])
            });
        }
        // The listed KK: the same family card is strong evidence of the household, and the
        // household's village with it (a region agreement then adds nothing). A different KK
        // counts against a candidate found other than by the listed NIK (as often as lists
        // carry another card for the right person, which training measures); against the
        // listed NIK's holder it weighs nothing: the exact NIK, the name and the birth date
        // decide, and the old card is a KK_MISMATCH of its own.
        if let Some(agree) = c.kk.filter(|_| self.kk_weight > 0.0) {
            let holder = matches!(c.nik, Some((NikLevel::Exact, _)));
            out[5] = Some(if agree {
                (5, 0, "equal", self.kk_weight)
            } else if holder {
                (5, 1, "different_not_weighed", 0.0)
            } else {
                (5, 1, "different", self.kk_differs)
            });
            if agree
                && let Some((4, li, _, _)) = out[4]
                && li != region_index(RegionLevel::Other)
            {
                out[4] = Some((4, li, "implied_by_kk", 0.0));
            }
        }
        out
    }

    /// The comparison vector for EM: a field whose level is settled by the NIK digits the
    /// candidate shares with the listed NIK is missing (every birth-date level when the date
    /// digits are shared, so that m is not learnt from the slips alone).
    fn gamma(&self, c: &Cmp) -> Gamma {
        let mut g: Gamma = [None; 5];
        for (f, li, label, _) in self.contributions(c).into_iter().flatten() {
            if f < g.len()
                && !label.contains("implied")
                && !label.contains("beyond")
                && !label.contains("beside")
            {
                g[f] = Some(li as u8);
            }
        }
        g
    }

    fn score(&self, c: &Cmp) -> f64 {
        self.prior
            + self
                .contributions(c)
                .iter()
                .flatten()
                .map(|x| x.3)
                .sum::<f64>()
    }

    fn evidence(&self, c: &Cmp) -> Vec<FieldEvidence> {
        let mut ev = vec![FieldEvidence {
            field: Field::Prior,
            level: "one_in_registry_size",
            weight: self.prior,
        }];
        for (f, _, label, w) in self.contributions(c).into_iter().flatten() {
            ev.push(FieldEvidence {
                field: FIELDS.get(f).copied().unwrap_or(Field::Kk),
                level: label,
                weight: w,
            });
        }
        ev
    }

    /// Adds the persons of a block whose name signature shares at least `min_shared` phonetic
    /// tokens with the query (or, for a query with initials, any token), reading at most
    /// `max_block` entries. The signature bits are a 32-bit Bloom filter (a common first name
    /// collides with a fifth of a block); a person that passes them is checked against their
    /// 16-bit token hashes, so only persons that really share the tokens are compared.
    fn push_filtered(
        &self,
        q: &Prep,
        (ids, sigs): (&[u32], &[u32]),
        min_shared: u32,
        via: Via,
        out: &mut Vec<(u32, Via)>,
    ) {
        let qs = q.sig as u32;
        let need = min_shared.min(qs.count_ones()).max(1);
        let need_exact = min_shared.min(q.ntok16).max(1);
        let qt = &q.tok16[..q.ntok16 as usize];
        let exact_ok = |i: u32| {
            let t = self.index.toks(i);
            if t == 0 {
                return true;
            }
            let shared = (0..4)
                .map(|k| (t >> (16 * k)) as u16)
                .filter(|v| *v != 0 && qt.contains(v))
                .count() as u32;
            shared >= need_exact
        };
        for (&i, &s) in ids.iter().zip(sigs).take(self.config.max_block) {
            let shared = (qs & s).count_ones();
            if (shared >= need && exact_ok(i))
                || (shared == 0
                    && q.has_initial
                    && names::signatures_compatible(q.sig, self.index.sig(i), true))
            {
                out.push((i, via));
            }
        }
    }

    /// Candidate generation. Stage 1: NIK neighbours, truncation, birth date + sex (and the
    /// day/month-swapped date). Stage 2: name token + birth year ±1, or name + village.
    fn gather(&self, q: &Prep, stage: u8, out: &mut Vec<(u32, Via)>) {
        let ix = self.index;
        if stage == 1 {
            match q.listed {
                Listed::Full {
                    nik,
                    maybe_truncated,
                } => {
                    for (n, level) in compare::nik_neighbours(nik) {
                        let via = if level == NikLevel::OneSubstitution {
                            Via::NikSubstitution
                        } else {
                            Via::NikTransposition
                        };
                        ix.for_each_nik(n, |i| out.push((i, via)));
                    }
                    if maybe_truncated {
                        for i in ix.lookup_prefix15(nik / 10) {
                            if ix.nik(i) != nik {
                                out.push((i, Via::NikTruncated15));
                            }
                        }
                    }
                }
                Listed::Prefix15(p) => {
                    for i in ix.lookup_prefix15(p) {
                        out.push((i, Via::NikTruncated15));
                    }
                }
                Listed::None => {}
            }
            for &n in &q.repairs {
                ix.for_each_nik(n, |i| out.push((i, Via::NikRepaired)));
            }
            if let (Some(d), Some(days)) = (q.birth, q.days) {
                let sexes: &[u8] = match q.sex {
                    Some(0) => &[0],
                    Some(_) => &[1],
                    None => &[0, 1],
                };
                let mut dates = vec![days];
                if d.day() <= 12
                    && d.day() != d.month()
                    && let Some(sw) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
                {
                    dates.push(sw.num_days_from_ce());
                }
                for &dd in &dates {
                    for &s in sexes {
                        self.push_filtered(q, ix.block_date_sex(dd, s), 1, Via::BirthDateSex, out);
                    }
                }
            }
        } else if let Some(d) = q.birth {
            // Rarest token first (a spelling variant of it is caught by the phonetic key).
            let mut toks: Vec<(u32, u32)> = q
                .hashes
                .iter()
                .map(|&h| (ix.token_count(h), h))
                .filter(|&(c, _)| c > 0)
                .collect();
            toks.sort_unstable();
            for &(_, h) in toks.iter().take(STAGE2_TOKENS) {
                for y in d.year() - 1..=d.year() + 1 {
                    let block = ix.block_token_year(h, y);
                    if block.0.len() <= self.config.max_block {
                        self.push_filtered(q, block, 2, Via::NameBirthYear, out);
                    }
                }
            }
        } else if let Some(r) = q.region {
            let block = ix.block_village(r);
            self.push_filtered(q, block, 2, Via::NameVillage, out);
        }
    }

    fn score_candidates(&self, q: &Prep, cands: &mut Vec<(u32, Via)>, skip: &[u32]) -> Vec<Scored> {
        cands.sort_unstable();
        cands.dedup_by_key(|c| c.0);
        cands
            .iter()
            .filter(|(i, _)| !skip.contains(i))
            .map(|&(i, via)| {
                let cmp = self.compare(q, i);
                Scored {
                    person: i,
                    via,
                    score: self.score(&cmp),
                    cmp,
                }
            })
            .collect()
    }

    fn search(&self, q: &Prep, skip: &[u32]) -> (Vec<Scored>, u32) {
        let mut cands = Vec::new();
        self.gather(q, 1, &mut cands);
        let mut scored = self.score_candidates(q, &mut cands, skip);
        let mut count = scored.len() as u32;
        let confident = scored.iter().any(|s| {
            s.score >= self.config.match_threshold + 6.0
                && matches!(s.cmp.name, Some(NameLevel::Exact | NameLevel::Strong))
                && matches!(s.cmp.date, Some(BirthDateLevel::Exact) | None)
        });
        if !confident {
            let mut more = Vec::new();
            self.gather(q, 2, &mut more);
            let seen: Vec<u32> = scored.iter().map(|s| s.person).collect();
            more.retain(|(i, _)| seen.binary_search(i).is_err());
            let extra = self.score_candidates(q, &mut more, skip);
            count += extra.len() as u32;
            scored.extend(extra);
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.person.cmp(&b.person)));
        (scored, count)
    }

    fn candidate(&self, s: &Scored, denom: f64) -> Candidate {
        Candidate {
            person: s.person,
            nik: self.index.nik(s.person),
            score: s.score,
            probability: s.score.exp2() / denom,
            via: s.via,
        }
    }

    /// A confident link: posterior odds against "nobody" (`nobody`, see [`Linker::refresh`])
    /// of at least `2^match_threshold`, the probability among the competitors, and a name
    /// that agrees at least at the subset/initials level.
    fn is_probable(&self, s: &Scored, probability: f64, nobody: f64) -> bool {
        s.score >= self.config.match_threshold + nobody.log2()
            && probability >= self.config.min_probability
            && matches!(
                s.cmp.name,
                Some(NameLevel::Exact | NameLevel::Strong | NameLevel::Partial)
            )
    }

    /// Links one row.
    pub fn link(&self, query: &Query) -> Link {
        let mut q = self.prep(query);
        let ix = self.index;
        // The holders of the listed NIK, scored straight from the NIK table (no allocation):
        // the best score wins, ties to the lowest person index.
        let mut best: Option<Scored> = None;
        let mut n_holders = 0u32;
        if let Listed::Full { nik, .. } = q.listed {
            ix.for_each_nik(nik, |i| {
                n_holders += 1;
                let cmp = self.compare(&q, i);
                let s = Scored {
                    person: i,
                    via: Via::Nik,
                    score: self.score(&cmp),
                    cmp,
                };
                if best.as_ref().is_none_or(|b| {
                    s.score > b.score || (s.score == b.score && s.person < b.person)
                }) {
                    best = Some(s);
                }
            });
        }
        if let Some(h) = best {
            // The listed NIK's holder is the row's person unless name and birth date together
            // weigh them below `holder_min_score`: a name typo, a default date or a day typo
            // on a correct NIK leave them linked (with the slips noted), and nobody else is
            // even considered, so no namesake can take their place.
            if h.score >= self.config.holder_min_score {
                let odds = h.score.exp2();
                return Link {
                    outcome: LinkOutcome::ExactNik,
                    person: Some(h.person),
                    score: h.score,
                    probability: odds / (self.nobody + odds),
                    evidence: self.evidence(&h.cmp),
                    suggestion: None,
                    alternatives: Vec::new(),
                    candidates: n_holders,
                    slips: slips(&h.cmp),
                };
            }
            // Mismatch: look for the right person elsewhere.
            let holders = match q.listed {
                Listed::Full { nik, .. } => ix.lookup_nik(nik),
                _ => Vec::new(),
            };
            let holders = holders.as_slice();
            self.prep_blocking(&mut q);
            let (scored, count) = self.search(&q, holders);
            let denom = 1.0 + h.score.exp2() + scored.iter().map(|s| s.score.exp2()).sum::<f64>();
            let suggestion = scored
                .first()
                .filter(|s| s.score >= self.config.possible_threshold)
                .map(|s| {
                    let c = self.candidate(s, denom - h.score.exp2());
                    // Against odds of one for "nobody": a suggestion replaces a NIK the row
                    // lists and someone holds, so it is held to the stricter bar.
                    Suggestion {
                        probable: self.is_probable(s, c.probability, 1.0),
                        evidence: self.evidence(&s.cmp),
                        candidate: c,
                    }
                });
            let skip = usize::from(suggestion.is_some());
            return Link {
                outcome: LinkOutcome::ExactNikMismatch,
                person: Some(h.person),
                score: h.score,
                probability: h.score.exp2() / denom,
                evidence: self.evidence(&h.cmp),
                suggestion,
                alternatives: scored
                    .iter()
                    .skip(skip)
                    .take(3)
                    .map(|s| self.candidate(s, denom))
                    .collect(),
                candidates: count + holders.len() as u32,
                slips: Vec::new(),
            };
        }
        self.prep_blocking(&mut q);
        let (scored, count) = self.search(&q, &[]);
        let denom = self.nobody + scored.iter().map(|s| s.score.exp2()).sum::<f64>();
        // A well-formed NIK that nobody holds is either a slip on the right person's NIK (one
        // digit, two swapped, the last one lost) or the NIK of someone the registry does not
        // know: only a NIK neighbour may then be linked with confidence, never a namesake
        // found by name and birth date alone.
        let unheld_nik = matches!(q.listed, Listed::Full { nik, .. } if well_formed_nik(nik));
        let Some(best) = scored.first() else {
            return Link {
                outcome: LinkOutcome::NotFound,
                person: None,
                score: f64::NEG_INFINITY,
                probability: 0.0,
                evidence: Vec::new(),
                suggestion: None,
                alternatives: Vec::new(),
                candidates: 0,
                slips: Vec::new(),
            };
        };
        let p = best.score.exp2() / denom;
        // The family card number written in the NIK column is a slip of its own kind.
        let near_miss = matches!(best.cmp.nik, Some((l, _)) if l != NikLevel::Exact && l != NikLevel::Other)
            || matches!(q.listed, Listed::Full { nik, .. } if ix.kk(best.person) == nik);
        let outcome = if self.is_probable(best, p, self.nobody) && (near_miss || !unheld_nik) {
            LinkOutcome::Probable { via: best.via }
        } else if best.score >= self.config.possible_threshold {
            LinkOutcome::Possible
        } else {
            LinkOutcome::NotFound
        };
        let found = outcome != LinkOutcome::NotFound;
        Link {
            outcome,
            person: found.then_some(best.person),
            score: best.score,
            probability: p,
            evidence: self.evidence(&best.cmp),
            suggestion: None,
            alternatives: scored
                .iter()
                .skip(usize::from(found))
                .take(3)
                .map(|s| self.candidate(s, denom))
                .collect(),
            candidates: count,
            slips: if matches!(outcome, LinkOutcome::Probable { .. }) {
                slips(&best.cmp)
            } else {
                Vec::new()
            },
        }
    }

    /// Links many rows in parallel. The output is in input order and does not depend on the
    /// number of threads.
    pub fn link_all(&self, queries: &[Query]) -> Vec<Link> {
        queries.par_iter().map(|q| self.link(q)).collect()
    }

    /// Estimates the model from the roster itself: m by EM over candidate pairs from blocking
    /// (a deterministic sample of at most `em_max_queries` rows), u of name/date/sex/region from
    /// random pairs, u of the NIK levels from the actual density of NIK neighbours in the
    /// registry. With fewer than 1,000 candidate pairs (or `use_em = false`) the defaults stay.
    pub fn train(&mut self, queries: &[Query]) -> EmReport {
        let n = self.index.len();
        let step = queries
            .len()
            .div_ceil(self.config.em_max_queries.max(1))
            .max(1);
        let sample: Vec<&Query> = queries.iter().step_by(step).collect();
        let per_query: Vec<TrainRow> = sample
            .par_iter()
            .enumerate()
            .map(|(k, query)| {
                let mut q = self.prep(query);
                self.prep_blocking(&mut q);
                // The same candidates as linking sees: the NIK holders plus the search.
                let holders: Vec<u32> = match q.listed {
                    Listed::Full { nik, .. } => self.index.lookup_nik(nik),
                    _ => Vec::new(),
                };
                let holders = holders.as_slice();
                let mut cands: Vec<(u32, Via)> = holders.iter().map(|&i| (i, Via::Nik)).collect();
                let scored = if holders.is_empty() {
                    self.search(&q, holders).0
                } else {
                    // Rows with a NIK holder: stage-1 blocks only (cheap, and enough to see
                    // non-matches that share birth date or NIK digits).
                    let mut c = Vec::new();
                    self.gather(&q, 1, &mut c);
                    let mut s = self.score_candidates(&q, &mut c, holders);
                    s.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.person.cmp(&b.person)));
                    s
                };
                cands.extend(
                    scored
                        .iter()
                        .take(MAX_TRAIN_CANDIDATES)
                        .map(|s| (s.person, s.via)),
                );
                // NIK-neighbour density around the listed NIK (for the u of the NIK levels).
                let mut nik_counts = [0.0; fs::NIK_LEVELS];
                if let Listed::Full { nik, .. } = q.listed {
                    for (n, _) in compare::nik_neighbours(nik) {
                        self.index.for_each_nik(n, |i| {
                            if let Some((l, t)) = compare_nik(q.listed, self.index.nik(i)) {
                                nik_counts[nik_level_index(l, t)] += 1.0;
                            }
                        });
                    }
                    nik_counts[nik_level_index(NikLevel::Truncated15, seg::SERIAL)] +=
                        self.index
                            .lookup_prefix15(nik / 10)
                            .iter()
                            .filter(|&&i| self.index.nik(i) != nik)
                            .count() as f64;
                }
                let mut gammas = Vec::with_capacity(cands.len());
                for &(i, _) in &cands {
                    let cmp = self.compare(&q, i);
                    gammas.push(self.gamma(&cmp));
                }
                // Random pairs for u.
                let mut random = Vec::new();
                if n > 0 {
                    for r in 0..20u64 {
                        let i = (splitmix((k as u64) << 8 | r) % n as u64) as u32;
                        let mut cmp = self.compare(&q, i);
                        cmp.nik = None;
                        random.push(self.gamma(&cmp));
                    }
                }
                // The holder the row keeps: every level as observed, implied or not.
                let kept = holders
                    .iter()
                    .map(|&i| self.compare(&q, i))
                    .find(|c| self.score(c) >= self.config.holder_min_score);
                let holder = kept.as_ref().map(raw_gamma);
                let holder_kk = kept.and_then(|c| c.kk);
                // Registry NIKs one insertion or deletion from a garbled cell.
                let repair_hits = q
                    .repairs
                    .iter()
                    .map(|&n| self.index.lookup_nik(n).len() as f64)
                    .sum::<f64>();
                TrainRow {
                    gammas,
                    repair_hits: (!q.repairs.is_empty()).then_some(repair_hits),
                    nik_counts,
                    random,
                    full: matches!(q.listed, Listed::Full { .. }),
                    exists: !holders.is_empty(),
                    holder,
                    holder_kk,
                }
            })
            .collect();
        let mut pairs = Vec::new();
        let mut random = Vec::new();
        let mut nik_sum = [0.0; fs::NIK_LEVELS];
        let mut with_nik = 0usize;
        let mut holder_pairs: Vec<Gamma> = Vec::new();
        let (mut exists, mut mismatched) = (0usize, 0usize);
        let (mut garbled, mut repair_hits) = (0usize, 0.0);
        let (mut kk_seen, mut kk_equal) = (0usize, 0usize);
        let mut kept_holder = Vec::with_capacity(per_query.len());
        for t in per_query {
            kept_holder.push(t.holder.is_some());
            if let Some(e) = t.holder_kk {
                kk_seen += 1;
                kk_equal += usize::from(e);
            }
            if let Some(h) = t.repair_hits {
                garbled += 1;
                repair_hits += h;
            }
            exists += usize::from(t.exists);
            mismatched += usize::from(t.exists && t.holder.is_none());
            holder_pairs.extend(t.holder);
            pairs.extend(t.gammas);
            random.extend(t.random);
            with_nik += usize::from(t.full);
            for (sum, c) in nik_sum.iter_mut().zip(t.nik_counts) {
                *sum += c;
            }
        }
        let defaults = Params::defaults(n);
        if !self.config.use_em || pairs.len() < 1000 {
            self.params = defaults.clone();
            self.refresh();
            return EmReport {
                pairs: pairs.len(),
                iterations: 0,
                converged: false,
                lambda: 0.0,
                m: defaults.m,
                u_candidates: defaults.u,
                fallback_fields: Vec::new(),
                holder_pairs: holder_pairs.len(),
                m_from_holders: Vec::new(),
                absent: None,
            };
        }
        if pairs.len() > MAX_EM_PAIRS {
            let step = pairs.len().div_ceil(MAX_EM_PAIRS);
            pairs = pairs.into_iter().step_by(step).collect();
        }
        let mut report = fs::em(&pairs, &defaults, self.config.em_max_iterations);
        let mut params = defaults.clone();
        for f in 0..5 {
            for l in 0..fs::LEVELS[f] {
                params.m[f][l] = report.m[f][l].max(1e-4);
            }
        }
        // m of name, birth date, sex and region from the rows that keep their listed NIK's
        // holder: a large sample of near-certain matches, where EM over blocked pairs sees
        // few matches with these fields observed (the NIK settles most of them) and can learn
        // that a wholly different birth date is common among matches. Smoothed towards the
        // defaults with 20 pseudo-pairs.
        report.holder_pairs = holder_pairs.len();
        if holder_pairs.len() >= MIN_HOLDER_PAIRS {
            for f in 1..5 {
                let mut counts = vec![0.0; fs::LEVELS[f]];
                for g in &holder_pairs {
                    if let Some(l) = g[f] {
                        counts[l as usize] += 1.0;
                    }
                }
                let total: f64 = counts.iter().sum();
                if total < MIN_HOLDER_PAIRS as f64 {
                    continue;
                }
                for (l, c) in counts.iter().enumerate() {
                    params.m[f][l] = ((c + 20.0 * defaults.m[f][l]) / (total + 20.0)).max(1e-4);
                }
                report.m_from_holders.push(FIELDS[f]);
            }
        }
        // u from random pairs, smoothed towards the defaults.
        let prior_pairs = 10_000.0;
        for f in 1..5 {
            let mut counts = vec![0.0; fs::LEVELS[f]];
            for g in &random {
                if let Some(l) = g[f] {
                    counts[l as usize] += 1.0;
                }
            }
            params.u[f] = fs::u_from_counts(&counts, &defaults.u[f], prior_pairs);
        }
        // NIK u: neighbours actually present per listed NIK, over the registry size.
        let nf = n.max(1) as f64;
        let q = with_nik.max(1) as f64;
        let near = fs::NIK_LEVELS - 1;
        for (l, sum) in nik_sum.iter().enumerate().take(near).skip(1) {
            params.u[0][l] = ((sum / q).max(0.5)) / nf;
        }
        let one_edit = nik_level_index(NikLevel::OneEdit, 0xff);
        params.u[0][one_edit] = if garbled > 0 {
            (repair_hits / garbled as f64).max(0.5) / nf
        } else {
            defaults.u[0][one_edit]
        };
        // An exact NIK belongs to someone else on the rows whose holder disagrees: u of the
        // exact level is that share over the registry size (one in N when every listed NIK
        // that exists were someone else's), smoothed as one mismatch in a hundred rows.
        let share = ((mismatched as f64 + 1.0) / (exists as f64 + 100.0)).clamp(1e-4, 1.0);
        params.u[0][0] = share / nf;
        params.u[0][near] = 1.0 - params.u[0][..near].iter().sum::<f64>();
        // Fields whose estimated weights do not look like an identity comparison keep the
        // default m.
        for (f, field) in FIELDS.iter().enumerate() {
            let w: Vec<f64> = (0..fs::LEVELS[f]).map(|l| params.weight(f, l)).collect();
            if !fs::sane_weights(*field, &w) {
                params.m[f] = defaults.m[f].clone();
                report.fallback_fields.push(*field);
            }
        }
        // The listed KK: m among the rows that keep their NIK's holder, u one over the
        // registry's number of families (a random other person shares the row's card about
        // that often).
        if kk_seen >= MIN_HOLDER_PAIRS {
            let mut kks: Vec<u64> = (0..n as u32)
                .map(|i| self.index.kk(i))
                .filter(|&k| k > 0)
                .collect();
            kks.sort_unstable();
            kks.dedup();
            if !kks.is_empty() {
                params.kk = [
                    (kk_equal as f64 + 1.0) / (kk_seen as f64 + 2.0),
                    1.0 / kks.len() as f64,
                ];
            }
        }
        self.params = params;
        self.refresh();
        // The share of the list's rows whose person the registry does not hold, by EM over
        // the sampled rows with the model just learnt: a row's odds of "nobody" against the
        // sum of its candidates' likelihood ratios, each at the prior the share implies.
        // Rows that keep their listed NIK's holder are in the registry. Rows without a name
        // carry no evidence beyond the NIK to tell "someone else" from "nobody" and are left
        // out: a list of bare NIKs gets no estimate (and the stricter bar).
        let named = |q: &Query| !q.name.trim().is_empty();
        let rest: Vec<&Query> = sample
            .iter()
            .zip(&kept_holder)
            .filter(|(q, k)| !**k && named(q))
            .map(|(q, _)| *q)
            .collect();
        let n_named = sample.iter().filter(|q| named(q)).count();
        if n_named >= MIN_HOLDER_PAIRS {
            let ratios: Vec<f64> = rest
                .par_iter()
                .map(|query| self.likelihood_sum(query))
                .collect();
            let nf = n.max(1) as f64;
            let mut a = 0.1;
            for _ in 0..200 {
                let nobody: f64 = ratios.iter().map(|l| a / (a + (1.0 - a) / nf * l)).sum();
                let next = (nobody / n_named as f64).clamp(MIN_ABSENT, MAX_ABSENT);
                let done = (next - a).abs() < 1e-6;
                a = next;
                if done {
                    break;
                }
            }
            self.params.absent = Some(a);
            self.refresh();
        }
        report.absent = self.params.absent;
        report
    }

    /// Σ over a row's candidates (the listed NIK's holders and the search) of their
    /// likelihood ratios (2^(score − prior)).
    fn likelihood_sum(&self, query: &Query) -> f64 {
        let mut q = self.prep(query);
        let holders: Vec<u32> = match q.listed {
            Listed::Full { nik, .. } => self.index.lookup_nik(nik),
            _ => Vec::new(),
        };
        let mut sum: f64 = holders
            .iter()
            .map(|&i| (self.score(&self.compare(&q, i)) - self.prior).exp2())
            .sum();
        self.prep_blocking(&mut q);
        let (scored, _) = self.search(&q, &holders);
        sum += scored
            .iter()
            .map(|s| (s.score - self.prior).exp2())
            .sum::<f64>();
        sum
    }
}
