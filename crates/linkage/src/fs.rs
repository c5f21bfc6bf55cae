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
}

/// Whether one field's weights (best level first) look like an identity comparison: the best
/// level weighs most, the last ("different") level least and negatively, and, for fields
/// whose levels are ordered (NIK aside, whose middle levels are kinds of typo; birth date
/// likewise), non-increasing from best to worst. EM on blocked pairs can latch onto "same
/// birth date and village" instead of "same person" when names are common; this catches it.
pub fn sane_weights(field: Field, w: &[f64]) -> bool {
    let Some((&first, rest)) = w.split_first() else {
        return false;
    };
    let last = *w.last().unwrap_or(&first);
    let top_is_max = rest.iter().all(|&x| x < first);
    let last_is_min = w[..w.len() - 1].iter().all(|&x| x > last) && last < 0.0;
    let ordered = match field {
        Field::Name | Field::Region | Field::Sex => w.windows(2).all(|p| p[0] >= p[1]),
        _ => true,
    };
    top_is_max && last_is_min && ordered
}

/// A comparison vector: level per field, `None` when the field is missing or its agreement is
/// implied by the NIK digits.
pub type Gamma = [Option<u8>; 5];

/// EM over comparison vectors, estimating m, u (among candidates) and λ.
pub fn em(pairs: &[Gamma], init: &Params, max_iter: usize) -> EmReport {
    let mut m = init.m.clone();
    // Initial u among candidates: level frequencies (most candidate pairs are non-matches).
    let mut u: Vec<Vec<f64>> = LEVELS.iter().map(|&k| vec![1.0; k]).collect();
    for g in pairs {
        for f in 0..5 {
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
        let mut sm: Vec<Vec<f64>> = LEVELS.iter().map(|&k| vec![1e-3; k]).collect();
        let mut su: Vec<Vec<f64>> = LEVELS.iter().map(|&k| vec![1e-3; k]).collect();
        let mut total_p = 0.0;
        for g in pairs {
            let mut lm = lambda.ln();
            let mut lu = (1.0 - lambda).ln();
            for f in 0..5 {
                if let Some(l) = g[f] {
                    lm += m[f][l as usize].ln();
                    lu += u[f][l as usize].ln();
                }
            }
            let p = 1.0 / (1.0 + (lu - lm).exp());
            total_p += p;
            for f in 0..5 {
                if let Some(l) = g[f] {
                    sm[f][l as usize] += p;
                    su[f][l as usize] += 1.0 - p;
                }
            }
        }
        normalise(&mut sm);
        normalise(&mut su);
        let new_lambda = (total_p / pairs.len().max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
        let mut delta = (new_lambda - lambda).abs();
        for f in 0..5 {
            for l in 0..LEVELS[f] {
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
    EmReport {
        pairs: pairs.len(),
        iterations,
        converged,
        lambda,
        m,
        u_candidates: u,
        fallback_fields: Vec::new(),
        holder_pairs: 0,
        m_from_holders: Vec::new(),
    }
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
