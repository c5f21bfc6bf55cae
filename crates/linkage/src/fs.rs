//! Fellegi–Sunter parameters (m and u per field and level) and their estimation by EM.

use serde::{Deserialize, Serialize};

/// A compared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The NIK's digits (see the crate docs for how the embedded date/sex/region are handled).
    Nik,
    /// Person name.
    Name,
    /// Birth date.
    BirthDate,
    /// Sex.
    Sex,
    /// Current village.
    Region,
    /// The prior odds that a given registry person is the row's person (1 in N).
    Prior,
    /// The family card number (KK) the row lists.
    Kk,
}

impl Field {
    /// Stable label.
    pub const fn label(self) -> &'static str {
        match self {
            Field::Nik => "nik",
            Field::Name => "name",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::Region => "region",
            Field::Prior => "prior",
            Field::Kk => "kk",
        }
    }
}

/// The five compared fields in model order.
pub const FIELDS: [Field; 5] = [
    Field::Nik,
    Field::Name,
    Field::BirthDate,
    Field::Sex,
    Field::Region,
];

/// Number of levels per field, in [`FIELDS`] order.
pub const LEVELS: [usize; 5] = [NIK_LEVELS, 5, 7, 2, 4];

/// Levels of the NIK field: exact, one substitution in the serial / the date / the region,
/// adjacent transposition, 15-digit truncation, one insertion or deletion, different.
pub const NIK_LEVELS: usize = 8;

/// m and u of every level of every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// `m[f][l]` = P(level l of field f | same person).
    pub m: Vec<Vec<f64>>,
    /// `u[f][l]` = P(level l of field f | different persons), over random pairs.
    pub u: Vec<Vec<f64>>,
    /// A listed KK equal to the candidate's: `[m, u]` (P(equal | same person) among rows that
    /// keep their listed NIK's holder, and one over the registry's number of families). Both
    /// 0 when not learnt: the KK then weighs nothing.
    #[serde(default)]
    pub kk: [f64; 2],
    /// Share of the list's rows whose person is not in the registry at all, estimated from
    /// the list itself ([`crate::Linker::train`]). `None` (defaults, an older model): the
    /// prior's fixed share is used and "nobody" weighs as much as odds of one.
    #[serde(default)]
    pub absent: Option<f64>,
}

impl Params {
    /// Defaults for a registry of `n` persons (used when there is too little data for EM).
    /// NIK u values are expected neighbour counts divided by `n`.
    pub fn defaults(n: usize) -> Params {
        let n = n.max(1) as f64;
        Params {
            m: vec![
                vec![0.88, 0.01, 0.015, 0.015, 0.015, 0.015, 0.01, 0.04],
                vec![0.80, 0.10, 0.06, 0.025, 0.015],
                vec![0.88, 0.01, 0.015, 0.02, 0.02, 0.03, 0.025],
                vec![0.98, 0.02],
                vec![0.85, 0.07, 0.03, 0.05],
            ],
            u: vec![
                vec![
                    1.0 / n,
                    1.0 / n,
                    2.0 / n,
                    1.0 / n,
                    1.0 / n,
                    3.0 / n,
                    3.0 / n,
                    1.0 - 12.0 / n,
                ],
                vec![2e-4, 1e-4, 1e-3, 0.02, 0.9787],
                vec![4.5e-5, 4e-5, 1e-4, 8e-4, 1.2e-3, 5e-4, 0.997_315],
                vec![0.5, 0.5],
                vec![1e-4, 1e-3, 1e-2, 0.9889],
            ],
            kk: [0.0, 0.0],
            absent: None,
        }
    }

    /// log2(m/u) of a level.
    pub fn weight(&self, f: usize, l: usize) -> f64 {
        let m = self.m[f][l].max(1e-9);
        let u = self.u[f][l].max(1e-12);
        (m / u).log2()
    }
}

/// EM stops when no m, u or λ moves by more than this between iterations.
pub const EM_TOLERANCE: f64 = 1e-4;

/// Result of an EM run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmReport {
    /// Candidate pairs used.
    pub pairs: usize,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the largest parameter change fell below the tolerance.
    pub converged: bool,
    /// Estimated share of matches among the candidate pairs.
    pub lambda: f64,
    /// m estimated by EM.
    pub m: Vec<Vec<f64>>,
    /// u among candidate pairs estimated by EM (differs from the random-pair u used for scoring,
    /// because blocking selects similar pairs).
    pub u_candidates: Vec<Vec<f64>>,
    /// Fields whose EM estimate failed the sanity check (see [`sane_weights`]) and kept the
    /// default m.
    pub fallback_fields: Vec<Field>,
    /// Rows that kept their listed NIK's holder (near-certain matches).
    pub holder_pairs: usize,
    /// Fields whose m was read from those rows instead of EM.
    pub m_from_holders: Vec<Field>,
    /// The share of the list's rows estimated absent from the registry (see
    /// [`Params::absent`]).
    pub absent: Option<f64>,
}

/// Whether one field's weights (best level first) look like an identity comparison: the best
/// level weighs most, the last ("different") level least and negatively, and, for fields
/// whose levels are ordered (NIK aside, whose middle levels are kinds of typo; birth date
/// likewise), non-increasing from best to worst. EM on blocked pairs can latch onto "same
/// birth date and village" instead of "same person" when names are common; this catches it.
pub fn sane_weights(field: Field, w: &[f64]) -> bool {
    let ordered = matches!(field, Field::Name | Field::Region | Field::Sex);
    sane_level_weights(w, ordered)
}

/// [`sane_weights`] for any comparison: `ordered` when its levels go from best to worst
/// agreement (then the weights must not increase along them).
pub fn sane_level_weights(w: &[f64], ordered: bool) -> bool {
    let Some((&first, rest)) = w.split_first() else {
        return false;
    };
    let last = *w.last().unwrap_or(&first);
    let top_is_max = rest.iter().all(|&x| x < first);
    let last_is_min = w[..w.len() - 1].iter().all(|&x| x > last) && last < 0.0;
    let ordered = !ordered || w.windows(2).all(|p| p[0] >= p[1]);
    top_is_max && last_is_min && ordered
}

/// Whether one field's weights look like an identity comparison when its middle levels are
/// kinds of disagreement rather than degrees (a short code two edits away is as random as one
/// wholly different): the best level weighs most and counts for the pair, the last ("different")
/// counts against it.
pub fn identity_weights(w: &[f64]) -> bool {
    let Some((&first, rest)) = w.split_first() else {
        return false;
    };
    first > 0.0 && rest.iter().all(|&x| x <= first) && w.last().is_some_and(|&l| l < 0.0)
}

/// A comparison vector: level per field, `None` when the field is missing or its agreement is
/// implied by the NIK digits.
pub type Gamma = [Option<u8>; 5];

/// EM over comparison vectors, estimating m, u (among candidates) and λ.
pub fn em(pairs: &[Gamma], init: &Params, max_iter: usize) -> EmReport {
    let flat: Vec<Option<u8>> = pairs.iter().flatten().copied().collect();
    let fit = em_levels(&flat, &LEVELS, &init.m, max_iter);
    EmReport {
        pairs: pairs.len(),
        iterations: fit.iterations,
        converged: fit.converged,
        lambda: fit.lambda,
        m: fit.m,
        u_candidates: fit.u,
        fallback_fields: Vec::new(),
        holder_pairs: 0,
        m_from_holders: Vec::new(),
        absent: None,
    }
}

/// What [`em_levels`] estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct EmFit {
    /// `m[f][l]`.
    pub m: Vec<Vec<f64>>,
    /// u among the pairs given (not over random pairs).
    pub u: Vec<Vec<f64>>,
    /// Share of matches among the pairs given.
    pub lambda: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the largest parameter change fell below [`EM_TOLERANCE`].
    pub converged: bool,
}

/// EM of the two-class (match / non-match) model over comparison vectors of any shape: field
/// `f` has `levels[f]` levels, `gammas` holds one level (or `None`: missing, left out) per
/// field per pair, pair after pair (`gammas.len()` is a multiple of `levels.len()`). `init_m`
/// starts m; u starts at the level frequencies (most pairs are non-matches) and λ at 0.05.
/// Sums run in pair order, so the result does not depend on threads.
pub fn em_levels(
    gammas: &[Option<u8>],
    levels: &[usize],
    init_m: &[Vec<f64>],
    max_iter: usize,
) -> EmFit {
    let nf = levels.len();
    let n_pairs = gammas.len().checked_div(nf).unwrap_or(0);
    let mut m = init_m.to_vec();
    let mut u: Vec<Vec<f64>> = levels.iter().map(|&k| vec![1.0; k]).collect();
    for g in gammas.chunks_exact(nf.max(1)) {
        for f in 0..nf {
            if let Some(l) = g[f] {
                u[f][l as usize] += 1.0;
            }
        }
    }
    normalise(&mut u);
    let mut lambda: f64 = 0.05;
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..max_iter {
        iterations += 1;
        let mut sm: Vec<Vec<f64>> = levels.iter().map(|&k| vec![1e-3; k]).collect();
        let mut su: Vec<Vec<f64>> = levels.iter().map(|&k| vec![1e-3; k]).collect();
        let mut total_p = 0.0;
        for g in gammas.chunks_exact(nf.max(1)) {
            let mut lm = lambda.ln();
            let mut lu = (1.0 - lambda).ln();
            for f in 0..nf {
                if let Some(l) = g[f] {
                    lm += m[f][l as usize].ln();
                    lu += u[f][l as usize].ln();
                }
            }
            let p = 1.0 / (1.0 + (lu - lm).exp());
            total_p += p;
            for f in 0..nf {
                if let Some(l) = g[f] {
                    sm[f][l as usize] += p;
                    su[f][l as usize] += 1.0 - p;
                }
            }
        }
        normalise(&mut sm);
        normalise(&mut su);
        let new_lambda = (total_p / n_pairs.max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
        let mut delta = (new_lambda - lambda).abs();
        for f in 0..nf {
            for l in 0..levels[f] {
                delta = delta
                    .max((sm[f][l] - m[f][l]).abs())
                    .max((su[f][l] - u[f][l]).abs());
            }
        }
        m = sm;
        u = su;
        lambda = new_lambda;
        if delta < EM_TOLERANCE {
            converged = true;
            break;
        }
    }
    EmFit {
        m,
        u,
        lambda,
        iterations,
        converged,
    }
}

/// u of one field from the level counts of random pairs, smoothed towards `defaults` as if
/// `prior_pairs` pairs had shown the default frequencies (a level never seen among a few
/// thousand random pairs keeps a small, non-zero u).
pub fn u_from_counts(counts: &[f64], defaults: &[f64], prior_pairs: f64) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .zip(defaults)
        .map(|(c, d)| (c + prior_pairs * d) / (total + prior_pairs))
        .collect()
}

fn normalise(v: &mut [Vec<f64>]) {
    for row in v {
        let s: f64 = row.iter().sum();
        if s > 0.0 {
            for x in row.iter_mut() {
                *x /= s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs drawn from a known model (λ = 0.2; three fields of 2, 3 and 4 levels) give back
    /// m, u and λ close to the truth, and em() on the roster's five fields is em_levels.
    #[test]
    fn em_levels_recovers_a_known_model() {
        let levels = [2usize, 3, 4];
        let m = [
            vec![0.9, 0.1],
            vec![0.8, 0.15, 0.05],
            vec![0.7, 0.1, 0.1, 0.1],
        ];
        let u = [
            vec![0.05, 0.95],
            vec![0.01, 0.09, 0.9],
            vec![0.02, 0.03, 0.15, 0.8],
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let draw = |p: &[f64], r: f64| {
            let mut acc = 0.0;
            for (i, v) in p.iter().enumerate() {
                acc += v;
                if r < acc {
                    return i as u8;
                }
            }
            (p.len() - 1) as u8
        };
        let mut gammas = Vec::new();
        for _ in 0..40_000 {
            let is_match = next() < 0.2;
            for f in 0..3 {
                let p = if is_match { &m[f] } else { &u[f] };
                // One value in twenty missing.
                let missing = next() < 0.05;
                let level = draw(p, next());
                gammas.push((!missing).then_some(level));
            }
        }
        let init: Vec<Vec<f64>> = levels.iter().map(|&k| vec![1.0 / k as f64; k]).collect();
        let mut init = init;
        for row in &mut init {
            row[0] += 0.5;
        }
        normalise(&mut init);
        let fit = em_levels(&gammas, &levels, &init, 200);
        assert!(fit.converged);
        assert!((fit.lambda - 0.2).abs() < 0.02, "λ {}", fit.lambda);
        for f in 0..3 {
            for l in 0..levels[f] {
                assert!(
                    (fit.m[f][l] - m[f][l]).abs() < 0.03,
                    "m[{f}][{l}] {:?}",
                    fit.m
                );
                assert!(
                    (fit.u[f][l] - u[f][l]).abs() < 0.03,
                    "u[{f}][{l}] {:?}",
                    fit.u
                );
            }
        }
        // The roster's entry point is the same computation.
        let five: Vec<Gamma> = (0..500u32)
            .map(|i| {
                let b = |k: u32| Some(((i / k) % 2) as u8);
                [b(1), b(2), b(3), b(5), b(7)]
            })
            .collect();
        let init = Params::defaults(1000);
        let a = em(&five, &init, 20);
        let flat: Vec<Option<u8>> = five.iter().flatten().copied().collect();
        let b = em_levels(&flat, &LEVELS, &init.m, 20);
        assert_eq!((a.m, a.u_candidates, a.lambda), (b.m, b.u, b.lambda));
    }

    #[test]
    fn u_from_counts_smooths_towards_the_defaults() {
        let u = u_from_counts(&[0.0, 10.0, 90.0], &[0.01, 0.09, 0.9], 100.0);
        assert!((u.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(u[0] > 0.0 && u[0] < 0.01);
        assert!(sane_level_weights(&[5.0, 1.0, -3.0], true));
        assert!(!sane_level_weights(&[5.0, 6.0, -3.0], false));
        assert!(!sane_level_weights(&[5.0, -4.0, -3.0], true));
        assert!(sane_level_weights(&[5.0, -4.0, -3.0, -5.0], false));
    }
}
