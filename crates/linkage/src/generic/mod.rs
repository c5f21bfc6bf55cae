//! Generic linkage of two lists (or deduplication of one) that have no NIK, over the fields a
//! [`GenericConfig`] names. The CLI (`sinergi link`) reads the files and the TOML
//! configuration; this module prepares, blocks, learns and scores.
//!
//! 1. [`GenericLinker::prepare`]: every distinct value of a field is normalised once (names
//!    folded as the registry linker does, dates in every common layout with a two-digit-year
//!    pivot, codes cleaned, region codes checked against the Kemendagri table) and interned;
//!    per column, how many values were unreadable and which date layouts were seen
//!    ([`ColumnReport`]).
//! 2. [`GenericLinker::candidates`]: blocking rules → sorted 64-bit keys → pairs
//!    ([`Candidates`]); an oversized block is skipped and counted once.
//! 3. [`GenericLinker::train`]: u from random pairs, m and the match share by EM over the
//!    blocked pairs ([`crate::fs::em_levels`], shared with the registry linker), the prior
//!    (probability that two random records match) from it ([`GenericModel`]).
//! 4. [`GenericLinker::score`]: weight = Σ log2(m/u); probability =
//!    1 / (1 + 2^-(log2 prior odds + weight)); MATCH at or above the match probability (or a
//!    raw weight threshold), unless a `veto` field counts against the pair; POSSIBLE above the
//!    review threshold. Given and family names marked `swap_with` are compared crosswise when
//!    that agrees better.
//! 5. [`select`]: one-to-one, best candidate, clusters.
//!
//! Deterministic: values are interned in input order, keys and pairs sorted, sums taken in
//! pair order; the thread count changes nothing.

mod block;
mod config;
mod levels;
mod prepare;
pub mod select;
mod train;

pub use block::{BlockStats, Candidates};
pub use config::{
    Comparator, ConfigError, DEFAULT_MATCH_PROBABILITY, DEFAULT_POSSIBLE_PROBABILITY, FieldSpec,
    GenericConfig, KeyPart, KeyTransform, Threshold,
};
pub use prepare::{ColumnReport, Prepared, Unreadable};
pub use train::{
    FieldModel, GenericModel, MAX_EM_PAIRS, MAX_RANDOM_PAIRS, MIN_EM_PAIRS, TrainReport,
};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use block::unpack;
use config::Checked;
use names::NameLevel;
use prepare::MISSING;

use crate::names;

/// A record: one value per configured field, in `fields` order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericRecord {
    /// Values (`None` or empty = missing).
    pub values: Vec<Option<String>>,
}

/// Level byte of a missing comparison.
pub(crate) const MISSING_LEVEL: u8 = 0xff;
/// Flag on a level byte: the names were compared crosswise (`swap_with`).
pub(crate) const SWAPPED: u8 = 0x40;
/// The level without flags.
pub(crate) const LEVEL_MASK: u8 = 0x3f;

/// A scored pair (`left` < `right` when deduplicating).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredPair {
    /// Index in the left list.
    pub left: u32,
    /// Index in the right list (the one list when deduplicating).
    pub right: u32,
    /// Match weight: Σ log2(m/u) over the compared fields (the prior left out).
    pub weight: f64,
    /// Match probability, the prior included.
    pub probability: f64,
    /// At or above the match threshold and no `veto` field against it.
    pub is_match: bool,
    /// Per scored field: its level, `0xff` when missing, `0x40` set when compared crosswise.
    pub levels: Vec<u8>,
}

/// One field's evidence in a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenericEvidence {
    /// Field name.
    pub field: String,
    /// Level label.
    pub level: &'static str,
    /// log2 weight.
    pub weight: f64,
    /// The value was compared with the other record's `swap_with` field.
    pub swapped: bool,
}

/// Why a model cannot be used with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The model's fields, comparators or levels are not the configuration's.
    #[error(
        "the model does not fit the configuration: {0}; learn a new one (run without --model) or use the configuration it was learnt with"
    )]
    Mismatch(String),
}

impl ModelError {
    /// Stable code.
    pub const fn code(&self) -> &'static str {
        "LINK_MODEL_MISMATCH"
    }
}

/// Compares pairs of prepared records field by field.
pub(crate) struct Scorer<'a> {
    checked: &'a Checked,
    /// Indexes of the scored fields.
    pub scored: Vec<usize>,
    /// Per scored field: position of its swap partner among the scored fields.
    partner: Vec<Option<usize>>,
}

impl<'a> Scorer<'a> {
    fn new(checked: &'a Checked) -> Scorer<'a> {
        let scored: Vec<usize> = (0..checked.config.fields.len())
            .filter(|&f| checked.config.fields[f].score)
            .collect();
        let partner = scored
            .iter()
            .map(|&f| checked.swap[f].and_then(|g| scored.iter().position(|&x| x == g)))
            .collect();
        Scorer {
            checked,
            scored,
            partner,
        }
    }

    /// Levels of the pair (left record `i`, right record `j`), one byte per scored field.
    pub(crate) fn levels(&self, p: &Prepared, i: u32, j: u32, out: &mut [u8]) {
        let fields = &self.checked.config.fields;
        for (s, &f) in self.scored.iter().enumerate() {
            let fv = &p.fields[f];
            let (a, b) = (p.lid(i, f), p.rid(j, f));
            out[s] = levels::level(fields[f].comparator, &fv.values, a, b).unwrap_or(MISSING_LEVEL);
        }
        // Given and family names swapped: compare crosswise when both direct comparisons
        // are weak and the crosswise ones agree better.
        for (s, partner) in self.partner.iter().enumerate() {
            let Some(t) = *partner else { continue };
            if t < s {
                continue;
            }
            let weak = NameLevel::Weak as u8;
            let (ls, lt) = (out[s], out[t]);
            if ls == MISSING_LEVEL || lt == MISSING_LEVEL || ls.min(lt) < weak {
                continue;
            }
            let (f, g) = (self.scored[s], self.scored[t]);
            let cross = |x: usize, y: usize| {
                let a = p.lid(i, x);
                let b = p.rid(j, y);
                if a == MISSING || b == MISSING {
                    return None;
                }
                levels::cross_name_level(
                    &p.fields[x].values[a as usize],
                    &p.fields[y].values[b as usize],
                )
            };
            if let (Some(cs), Some(ct)) = (cross(f, g), cross(g, f))
                && u16::from(cs) + u16::from(ct) < u16::from(ls) + u16::from(lt)
            {
                out[s] = cs | SWAPPED;
                out[t] = ct | SWAPPED;
            }
        }
    }
}

/// Scores pairs of records over configured fields.
pub struct GenericLinker {
    checked: Checked,
}

impl GenericLinker {
    /// Checks the configuration.
    pub fn new(config: GenericConfig) -> Result<GenericLinker, ConfigError> {
        Ok(GenericLinker {
            checked: config::check(config)?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GenericConfig {
        &self.checked.config
    }

    /// The match threshold in force.
    pub fn match_threshold(&self) -> Threshold {
        self.checked.match_at
    }

    /// The review (POSSIBLE) threshold in force.
    pub fn possible_threshold(&self) -> Threshold {
        self.checked.possible_at
    }

    /// Replaces the match threshold (`--threshold`); the review threshold is lowered to it
    /// when it was higher.
    pub fn set_match_threshold(&mut self, t: Threshold) {
        self.checked.match_at = t;
        if let (Threshold::Probability(m), Threshold::Probability(p)) =
            (t, self.checked.possible_at)
            && p > m
        {
            self.checked.possible_at = Threshold::Probability(m);
        }
        if let (Threshold::Weight(m), Threshold::Weight(p)) = (t, self.checked.possible_at)
            && p > m
        {
            self.checked.possible_at = Threshold::Weight(m);
        }
    }

    /// Normalises both lists (`right = None`: deduplicate `left`).
    pub fn prepare(&self, left: &[GenericRecord], right: Option<&[GenericRecord]>) -> Prepared {
        prepare::prepare(&self.checked, left, right)
    }

    /// The candidate pairs of the blocking rules, each compared field by field.
    pub fn candidates(&self, p: &Prepared) -> Candidates {
        let mut c = block::candidates(&self.checked, p);
        let s = Scorer::new(&self.checked);
        let nf = s.scored.len();
        c.levels = c
            .pairs
            .par_chunks(4096)
            .flat_map_iter(|chunk| {
                let mut out = vec![0u8; chunk.len() * nf];
                for (k, &pair) in chunk.iter().enumerate() {
                    let (i, j) = unpack(pair);
                    s.levels(p, i, j, &mut out[k * nf..(k + 1) * nf]);
                }
                out
            })
            .collect();
        c
    }

    /// The model without learning: configured or default m and u, one match per record.
    pub fn default_model(&self, p: &Prepared) -> GenericModel {
        let s = Scorer::new(&self.checked);
        train::default_model(&self.checked, &s.scored, p)
    }

    /// Learns u from random pairs and, with `learn = true` and enough blocked pairs, m and the
    /// prior by EM. Configured m/u replace the learnt ones.
    pub fn train(&self, p: &Prepared, c: &Candidates) -> (GenericModel, TrainReport) {
        let s = Scorer::new(&self.checked);
        train::train(&self.checked, &s, p, c)
    }

    /// Checks that a saved model fits this configuration (same scored fields, comparators and
    /// levels, valid probabilities).
    pub fn check_model(&self, model: &GenericModel) -> Result<(), ModelError> {
        let s = Scorer::new(&self.checked);
        if model.fields.len() != s.scored.len() {
            return Err(ModelError::Mismatch(format!(
                "{} scored fields in the model, {} in the configuration",
                model.fields.len(),
                s.scored.len()
            )));
        }
        if !(model.prior > 0.0 && model.prior < 1.0) {
            return Err(ModelError::Mismatch(format!(
                "prior {} is not a probability",
                model.prior
            )));
        }
        for (fm, &f) in model.fields.iter().zip(&s.scored) {
            let spec = &self.checked.config.fields[f];
            let k = spec.comparator.levels();
            if fm.name != spec.name || fm.comparator != spec.comparator {
                return Err(ModelError::Mismatch(format!(
                    "field `{}` ({}) where the configuration has `{}` ({})",
                    fm.name,
                    fm.comparator.name(),
                    spec.name,
                    spec.comparator.name()
                )));
            }
            let ok = |v: &[f64]| v.len() == k && v.iter().all(|x| *x > 0.0 && *x <= 1.0);
            if !ok(&fm.m) || !ok(&fm.u) {
                return Err(ModelError::Mismatch(format!(
                    "field `{}` needs {k} values of m and u, each above 0 and at most 1",
                    fm.name
                )));
            }
        }
        Ok(())
    }

    /// Scores the candidate pairs under `model`. Returns the pairs at or above the review
    /// threshold (every candidate pair with `all`), in candidate order.
    pub fn score(
        &self,
        model: &GenericModel,
        p: &Prepared,
        c: &Candidates,
        all: bool,
    ) -> Vec<ScoredPair> {
        let s = Scorer::new(&self.checked);
        let weights: Vec<Vec<f64>> = model.fields.iter().map(FieldModel::weights).collect();
        let veto: Vec<bool> = s
            .scored
            .iter()
            .map(|&f| self.checked.config.fields[f].veto)
            .collect();
        let prior = model.prior_log2_odds();
        let passes = |t: Threshold, w: f64, prob: f64| match t {
            Threshold::Probability(x) => prob >= x,
            Threshold::Weight(x) => w >= x,
        };
        let nf = s.scored.len();
        let _ = p;
        c.pairs
            .par_chunks(4096)
            .zip(c.levels.par_chunks(4096 * nf.max(1)))
            .flat_map_iter(|(chunk, levels)| {
                let mut out = Vec::new();
                for (k, &pair) in chunk.iter().enumerate() {
                    let (i, j) = unpack(pair);
                    let lv = &levels[k * nf..(k + 1) * nf];
                    let mut w = 0.0;
                    let mut vetoed = false;
                    for (f, &l) in lv.iter().enumerate() {
                        if l != MISSING_LEVEL {
                            let x = weights[f][(l & LEVEL_MASK) as usize];
                            w += x;
                            vetoed |= veto[f] && x < 0.0;
                        }
                    }
                    let prob = 1.0 / (1.0 + (-(prior + w)).exp2());
                    let is_match = !vetoed && passes(self.checked.match_at, w, prob);
                    if all || is_match || passes(self.checked.possible_at, w, prob) {
                        out.push(ScoredPair {
                            left: i,
                            right: j,
                            weight: w,
                            probability: prob,
                            is_match,
                            levels: lv.to_vec(),
                        });
                    }
                }
                out
            })
            .collect()
    }

    /// The per-field evidence of a scored pair under `model`.
    pub fn evidence(&self, model: &GenericModel, pair: &ScoredPair) -> Vec<GenericEvidence> {
        model
            .fields
            .iter()
            .zip(&pair.levels)
            .filter(|(_, l)| **l != MISSING_LEVEL)
            .map(|(fm, &l)| {
                let k = (l & LEVEL_MASK) as usize;
                GenericEvidence {
                    field: fm.name.clone(),
                    level: fm.comparator.labels()[k],
                    weight: fm.weights()[k],
                    swapped: l & SWAPPED != 0,
                }
            })
            .collect()
    }

    fn run(
        &self,
        left: &[GenericRecord],
        right: Option<&[GenericRecord]>,
    ) -> (Vec<ScoredPair>, GenericModel, BlockStats) {
        let p = self.prepare(left, right);
        let c = self.candidates(&p);
        let model = if self.checked.config.learn {
            self.train(&p, &c).0
        } else {
            self.default_model(&p)
        };
        let pairs = self.score(&model, &p, &c, false);
        (pairs, model, c.stats)
    }

    /// Prepares, blocks, learns and scores two lists: the pairs at or above the review
    /// threshold, in (left, right) order, the model and the blocking counts.
    pub fn link(
        &self,
        left: &[GenericRecord],
        right: &[GenericRecord],
    ) -> (Vec<ScoredPair>, GenericModel, BlockStats) {
        self.run(left, Some(right))
    }

    /// [`GenericLinker::link`] within one list (`left < right`).
    pub fn dedup(&self, records: &[GenericRecord]) -> (Vec<ScoredPair>, GenericModel, BlockStats) {
        self.run(records, None)
    }
}
