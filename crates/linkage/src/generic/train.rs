//! The Fellegi–Sunter model of a generic linkage and how it is learnt from the lists:
//! u from random pairs (the share of an exact agreement computed exactly from the value counts),
//! m and the match share λ by EM over the blocked pairs ([`crate::fs::em_levels`], the same EM
//! as the registry linker's), the prior from λ.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Scorer;
use super::block::Candidates;
use super::config::{Checked, Comparator};
use super::prepare::{MISSING, Prepared};
use crate::fs;

/// m and u of one scored field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldModel {
    /// The field.
    pub name: String,
    /// Its comparator.
    pub comparator: Comparator,
    /// Level labels, best first.
    pub levels: Vec<String>,
    /// P(level | same person).
    pub m: Vec<f64>,
    /// P(level | different people), over random pairs.
    pub u: Vec<f64>,
    /// Where m comes from: `em`, `default` (too little data, or EM's estimate did not look
    /// like an identity comparison) or `config`.
    pub m_from: String,
    /// Where u comes from: `random_pairs`, `default` or `config`.
    pub u_from: String,
}

impl FieldModel {
    /// log2(m/u) per level; no level weighs more than full agreement (the first level): a
    /// level that is rare among random pairs and among matches has an ill-determined ratio,
    /// and a typo is never stronger evidence than no typo.
    pub fn weights(&self) -> Vec<f64> {
        let w: Vec<f64> = self
            .m
            .iter()
            .zip(&self.u)
            .map(|(m, u)| (m.max(1e-12) / u.max(1e-15)).log2())
            .collect();
        let top = w.first().copied().unwrap_or(0.0);
        w.iter()
            .enumerate()
            .map(|(l, &x)| if l == 0 { x } else { x.min(top) })
            .collect()
    }
}

/// A linkage model: saved with `--simpan-model`, reused with `--model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericModel {
    /// Probability that two records drawn at random (one from each list, or two of the one
    /// list) are the same person.
    pub prior: f64,
    /// The scored fields, in configuration order.
    pub fields: Vec<FieldModel>,
}

impl GenericModel {
    /// log2 prior odds.
    pub fn prior_log2_odds(&self) -> f64 {
        let p = self.prior.clamp(1e-300, 1.0 - 1e-12);
        (p / (1.0 - p)).log2()
    }
}

/// What training did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrainReport {
    /// Whether m was learnt by EM (false: too few blocked pairs, or `learn = false`).
    pub em_ran: bool,
    /// Blocked pairs EM saw.
    pub em_pairs: usize,
    /// EM iterations.
    pub iterations: usize,
    /// Whether EM converged.
    pub converged: bool,
    /// EM's share of matches among the blocked pairs.
    pub lambda_blocked: f64,
    /// Random pairs compared for u.
    pub random_pairs: u64,
    /// Fields whose EM estimate failed the sanity check and kept the default m.
    pub fallback_fields: Vec<String>,
}

/// Fewer blocked pairs than this: EM is not run, default m stays.
pub const MIN_EM_PAIRS: usize = 200;
/// Blocked pairs at most in one EM run (a deterministic subsample beyond).
pub const MAX_EM_PAIRS: usize = 500_000;
/// Random pairs at most for u (all pairs when there are fewer).
pub const MAX_RANDOM_PAIRS: u64 = 300_000;
/// Pseudo-matches at the comparator's default m that smooth EM's m.
const M_PRIOR_MATCHES: f64 = 10.0;
/// Pseudo-pairs at the comparator's default u that smooth the random-pair counts.
const U_PRIOR_PAIRS: f64 = 100.0;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// All pairs of the lists (`n(n-1)/2` when deduplicating).
pub(crate) fn total_pairs(p: &Prepared) -> f64 {
    if p.dedup {
        let n = p.n_left as f64;
        n * (n - 1.0) / 2.0
    } else {
        p.n_left as f64 * p.n_right as f64
    }
}

/// The comparators' default model (and configured m/u), with the prior of one match per
/// record of the larger list.
pub(crate) fn default_model(checked: &Checked, scored: &[usize], p: &Prepared) -> GenericModel {
    let n = p.n_left.max(p.n_right()).max(2) as f64;
    GenericModel {
        prior: 1.0 / n,
        fields: scored
            .iter()
            .map(|&f| {
                let spec = &checked.config.fields[f];
                let (dm, du) = spec.comparator.default_mu();
                FieldModel {
                    name: spec.name.clone(),
                    comparator: spec.comparator,
                    levels: spec
                        .comparator
                        .labels()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    m_from: if spec.m.is_some() {
                        "config"
                    } else {
                        "default"
                    }
                    .into(),
                    u_from: if spec.u.is_some() {
                        "config"
                    } else {
                        "default"
                    }
                    .into(),
                    m: spec.m.clone().unwrap_or(dm),
                    u: spec.u.clone().unwrap_or(du),
                }
            })
            .collect(),
    }
}

/// Learns the model: m and λ by EM over the blocked pairs, u from random pairs.
///
/// Random pairs show how often each level happens between two records drawn at random, P(l).
/// That includes the pairs that are the same person: few, but for a field such as an identity
/// number they are most of the agreements. So u(l) = (P(l) − prior · m(l)) / (1 − prior),
/// with the prior and m from EM, kept above a floor of U_PRIOR_PAIRS pseudo-pairs at the
/// comparator's default u (a level never seen keeps a small u).
pub(crate) fn train(
    checked: &Checked,
    scorer: &Scorer<'_>,
    p: &Prepared,
    c: &Candidates,
) -> (GenericModel, TrainReport) {
    let scored = &scorer.scored;
    let mut model = default_model(checked, scored, p);
    let mut report = TrainReport::default();
    let levels: Vec<usize> = scored
        .iter()
        .map(|&f| checked.config.fields[f].comparator.levels())
        .collect();

    // m and λ: EM over the blocked pairs (every k-th beyond MAX_EM_PAIRS).
    if checked.config.learn && c.len() >= MIN_EM_PAIRS {
        let step = c.len().div_ceil(MAX_EM_PAIRS).max(1);
        let nf = scored.len();
        let gammas: Vec<Option<u8>> = c
            .levels
            .chunks_exact(nf.max(1))
            .step_by(step)
            .flatten()
            .map(|&l| (l != super::MISSING_LEVEL).then_some(l & super::LEVEL_MASK))
            .collect();
        let sample_len = gammas.len() / nf.max(1);
        let init: Vec<Vec<f64>> = model.fields.iter().map(|f| f.m.clone()).collect();
        let fit = fs::em_levels(&gammas, &levels, &init, 200);
        report.em_ran = true;
        report.em_pairs = sample_len;
        report.iterations = fit.iterations;
        report.converged = fit.converged;
        report.lambda_blocked = fit.lambda;
        // m smoothed towards the default as if M_PRIOR_MATCHES matches had shown it: a level
        // no match showed keeps a small m instead of one that makes its weight absurd.
        let matches_seen = fit.lambda * sample_len as f64;
        for (s, &f) in scored.iter().enumerate() {
            let spec = &checked.config.fields[f];
            if spec.m.is_none() {
                let (dm, _) = spec.comparator.default_mu();
                model.fields[s].m = fit.m[s]
                    .iter()
                    .zip(&dm)
                    .map(|(x, d)| {
                        (x * matches_seen + M_PRIOR_MATCHES * d) / (matches_seen + M_PRIOR_MATCHES)
                    })
                    .collect();
                model.fields[s].m_from = "em".into();
            }
        }
        let matches = fit.lambda * c.len() as f64;
        model.prior = (matches / total_pairs(p).max(1.0)).clamp(1e-12, 0.5);
    }

    // u: level frequencies over random pairs (all pairs when there are few). Identical values
    // are counted exactly from the value counts; the sample gives the other levels.
    let counts = random_pair_levels(scorer, p, &levels);
    report.random_pairs = counts.1;
    for (s, &f) in scored.iter().enumerate() {
        let spec = &checked.config.fields[f];
        if spec.u.is_some() {
            continue;
        }
        let (_, du) = spec.comparator.default_mu();
        let ident = identical_share(p, f);
        let seen: f64 = counts.0[s].iter().sum();
        let prior = model.prior;
        let u: Vec<f64> = (0..levels[s])
            .map(|l| {
                let share = if seen > 0.0 {
                    counts.0[s][l] / seen
                } else {
                    0.0
                };
                let all = share * (1.0 - ident) + if l == 0 { ident } else { 0.0 };
                let same_person = prior * model.fields[s].m[l];
                let floor = U_PRIOR_PAIRS * du[l] / (seen + U_PRIOR_PAIRS);
                ((all - same_person) / (1.0 - prior)).max(floor)
            })
            .collect();
        let sum: f64 = u.iter().sum();
        model.fields[s].u = u.iter().map(|x| x / sum).collect();
        model.fields[s].u_from = "random_pairs".into();
    }

    // A field whose learnt weights do not look like an identity comparison keeps the default m.
    if report.em_ran {
        for (s, &f) in scored.iter().enumerate() {
            let spec = &checked.config.fields[f];
            if spec.m.is_none() && !fs::identity_weights(&model.fields[s].weights()) {
                model.fields[s].m = spec.comparator.default_mu().0;
                model.fields[s].m_from = "default".into();
                report.fallback_fields.push(spec.name.clone());
            }
        }
    }
    (model, report)
}

/// Level counts of random pairs per scored field, over pairs whose values are both present and
/// not identical; and the number of pairs drawn.
fn random_pair_levels(scorer: &Scorer<'_>, p: &Prepared, levels: &[usize]) -> (Vec<Vec<f64>>, u64) {
    let scored = &scorer.scored;
    let nf = scored.len();
    let (nl, nr) = (p.n_left as u64, p.n_right() as u64);
    let all = nl.saturating_mul(nr);
    let exhaustive = all <= MAX_RANDOM_PAIRS;
    let draws = if exhaustive { all } else { MAX_RANDOM_PAIRS };
    let zero = || {
        levels
            .iter()
            .map(|&k| vec![0.0; k])
            .collect::<Vec<Vec<f64>>>()
    };
    // The pairs, sorted so the left records are read in order (the comparison is bound by
    // memory reads, not arithmetic).
    let mut pairs: Vec<(u32, u32)> = (0..draws)
        .into_par_iter()
        .filter_map(|k| {
            // Exhaustive: every (i, j) once (i < j when deduplicating). Sampled: two
            // independent uniform draws.
            let (i, j) = if exhaustive {
                (k / nr, k % nr)
            } else {
                (splitmix(2 * k) % nl, splitmix(2 * k + 1) % nr)
            };
            if p.dedup && (i == j || (exhaustive && i > j)) {
                return None;
            }
            let (i, j) = if p.dedup {
                (i.min(j), i.max(j))
            } else {
                (i, j)
            };
            Some((i as u32, j as u32))
        })
        .collect();
    pairs.par_sort_unstable();
    let counts = pairs
        .par_iter()
        .fold(
            || (vec![0u8; nf], zero()),
            |(mut lv, mut acc), &(i, j)| {
                scorer.levels(p, i, j, &mut lv);
                for (s, &f) in scored.iter().enumerate() {
                    let (a, b) = (p.lid(i, f), p.rid(j, f));
                    if a == MISSING || b == MISSING || a == b || lv[s] == super::MISSING_LEVEL {
                        continue;
                    }
                    acc[s][(lv[s] & super::LEVEL_MASK) as usize] += 1.0;
                }
                (lv, acc)
            },
        )
        .map(|(_, acc)| acc)
        .reduce(zero, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                for (u, v) in x.iter_mut().zip(y) {
                    *u += v;
                }
            }
            a
        });
    (counts, draws)
}

/// Share of present pairs whose values are identical, from the value counts.
fn identical_share(p: &Prepared, f: usize) -> f64 {
    let fv = &p.fields[f];
    if p.dedup {
        let present: f64 = fv.count_left.iter().map(|&c| f64::from(c)).sum();
        let same: f64 = fv
            .count_left
            .iter()
            .map(|&c| f64::from(c) * (f64::from(c) - 1.0))
            .sum();
        if present < 2.0 {
            0.0
        } else {
            same / (present * (present - 1.0))
        }
    } else {
        let pl: f64 = fv.count_left.iter().map(|&c| f64::from(c)).sum();
        let pr: f64 = fv.count_right.iter().map(|&c| f64::from(c)).sum();
        let same: f64 = fv
            .count_left
            .iter()
            .zip(&fv.count_right)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        if pl == 0.0 || pr == 0.0 {
            0.0
        } else {
            same / (pl * pr)
        }
    }
}
