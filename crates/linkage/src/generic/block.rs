//! Blocking: which pairs are compared. Every rule turns a record into zero or more 64-bit keys
//! (a phonetic name key gives one per token); records of the two lists sharing a key form a
//! block, and every pair within a block is a candidate. Keys are sorted and merged, not hashed
//! into maps, and the candidate pairs are deduplicated across rules.

use rayon::prelude::*;
use serde::Serialize;

use super::config::{Checked, KeyTransform};
use super::prepare::{MISSING, Prepared, Value, year};
use crate::names;

/// Counts of the blocking step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlockStats {
    /// Distinct pairs compared.
    pub compared: u64,
    /// Pairs each rule produced (before removing pairs found by several rules).
    pub per_rule: Vec<u64>,
    /// Distinct keys whose block exceeded `max_block` and was not compared.
    pub skipped_blocks: u64,
    /// The records in the largest skipped block.
    pub largest_skipped: u64,
    /// Pairs those blocks would have produced.
    pub skipped_pairs: u64,
}

/// The candidate pairs, `(left, right)` sorted (`left < right` when deduplicating).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub(crate) pairs: Vec<u64>,
    /// Comparison levels of every pair, one byte per scored field, pair after pair (filled by
    /// [`super::GenericLinker::candidates`]: computed once, used by EM and by scoring).
    pub(crate) levels: Vec<u8>,
    /// What blocking did.
    pub stats: BlockStats,
}

impl Candidates {
    /// Number of candidate pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
    /// The pairs as (left, right) indexes.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.pairs.iter().map(|&p| unpack(p))
    }
}

pub(crate) fn pack(i: u32, j: u32) -> u64 {
    (u64::from(i) << 32) | u64::from(j)
}
pub(crate) fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A token in more than this share of a column's values (STREET, JALAN, MUHAMMAD) makes no
/// phonetic key when its value has another token.
pub const FREQUENT_TOKEN_SHARE: f64 = 0.01;
/// ... and only when it is in at least this many values (small lists keep every token).
pub const FREQUENT_TOKEN_MIN: u64 = 50;

/// Phonetic hashes of a value's tokens (longer than one letter), sorted, deduplicated.
fn phonetic_tokens(v: &Value) -> Vec<u64> {
    let text = match v {
        Value::Name(n) => n.text.as_str(),
        Value::Text(s, _) => s.as_str(),
        _ => return Vec::new(),
    };
    let mut k: Vec<u64> = text
        .split(' ')
        .filter(|t| t.len() > 1)
        .map(|t| u64::from(names::phonetic_hash(t)))
        .collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The key material one value gives under a transform.
fn parts(v: &Value, t: KeyTransform, id: u32) -> Vec<u64> {
    match (v, t) {
        (_, KeyTransform::Exact) => vec![u64::from(id)],
        (_, KeyTransform::Phonetic) => phonetic_tokens(v),
        (_, KeyTransform::Year) => year(v).map(|y| vec![y as u64]).unwrap_or_default(),
        (Value::Region(r), KeyTransform::District) => {
            vec![if *r >= 1_000_000_000 { r / 10_000 } else { *r }]
        }
        _ => Vec::new(),
    }
}

/// Phonetic key material of every value of a field, frequent tokens left out of values that
/// have a rarer one.
fn phonetic_table(p: &Prepared, f: usize) -> Vec<Vec<u64>> {
    let fv = &p.fields[f];
    let tokens: Vec<Vec<u64>> = fv.values.par_iter().map(phonetic_tokens).collect();
    let mut freq: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    let mut present = 0u64;
    for (id, toks) in tokens.iter().enumerate() {
        let n = u64::from(fv.count_left[id]) + u64::from(fv.count_right[id]);
        present += n;
        for t in toks {
            *freq.entry(*t).or_default() += n;
        }
    }
    let limit = ((present as f64 * FREQUENT_TOKEN_SHARE) as u64).max(FREQUENT_TOKEN_MIN);
    tokens
        .into_iter()
        .map(|toks| {
            let rare: Vec<u64> = toks.iter().copied().filter(|t| freq[t] <= limit).collect();
            if rare.is_empty() { toks } else { rare }
        })
        .collect()
}

/// Per rule part: the key material of every distinct value of its field.
struct RuleTables {
    /// (field, table by value id)
    parts: Vec<(usize, Vec<Vec<u64>>)>,
    /// Pairs of part positions whose fields are swap partners: their material is combined
    /// in either order.
    swapped: Vec<(usize, usize)>,
}

fn tables(checked: &Checked, p: &Prepared) -> Vec<RuleTables> {
    checked
        .rules
        .iter()
        .map(|rule| {
            let parts: Vec<(usize, Vec<Vec<u64>>)> = rule
                .iter()
                .map(|&(f, t)| {
                    let table = if t == KeyTransform::Phonetic {
                        phonetic_table(p, f)
                    } else {
                        p.fields[f]
                            .values
                            .par_iter()
                            .enumerate()
                            .map(|(id, v)| parts(v, t, id as u32))
                            .collect()
                    };
                    (f, table)
                })
                .collect();
            let mut swapped = Vec::new();
            for a in 0..rule.len() {
                for b in a + 1..rule.len() {
                    if checked.swap[rule[a].0] == Some(rule[b].0) {
                        swapped.push((a, b));
                    }
                }
            }
            RuleTables { parts, swapped }
        })
        .collect()
}

/// Keys of one record under one rule, appended to `out`.
fn record_keys(rule: usize, t: &RuleTables, ids: impl Fn(usize) -> u32, out: &mut Vec<u64>) {
    let mut material: Vec<&[u64]> = Vec::with_capacity(t.parts.len());
    for (f, table) in &t.parts {
        let id = ids(*f);
        if id == MISSING {
            return;
        }
        let m = &table[id as usize];
        if m.is_empty() {
            return;
        }
        material.push(m);
    }
    let mut keys = vec![mix(rule as u64 + 1)];
    let mut combined = vec![false; material.len()];
    for &(a, b) in &t.swapped {
        // Either order: the unordered pair of the two fields' material.
        let mut next = Vec::with_capacity(keys.len() * material[a].len() * material[b].len());
        for k in &keys {
            for &x in material[a] {
                for &y in material[b] {
                    next.push(mix(k ^ mix(x.min(y)) ^ mix(x.max(y)).rotate_left(17)));
                }
            }
        }
        keys = next;
        combined[a] = true;
        combined[b] = true;
    }
    for (i, m) in material.iter().enumerate() {
        if combined[i] {
            continue;
        }
        let mut next = Vec::with_capacity(keys.len() * m.len());
        for k in &keys {
            for &x in m.iter() {
                next.push(mix(k.rotate_left(5) ^ mix(x ^ (i as u64) << 56)));
            }
        }
        keys = next;
    }
    out.extend(keys);
}

/// The candidate pairs of both lists (or of one list against itself).
pub(crate) fn candidates(checked: &Checked, p: &Prepared) -> Candidates {
    let t = tables(checked, p);
    let max_block = checked.config.max_block.max(1) as u64;
    let mut stats = BlockStats::default();
    let mut all: Vec<u64> = Vec::new();
    for (r, rt) in t.iter().enumerate() {
        let left = keyed_rule(r, rt, |i, f| p.lid(i, f), p.n_left);
        let out = if p.dedup {
            let blocks: Vec<_> = runs(&left).map(|a| (a.clone(), a)).collect();
            emit(&left, &left, &blocks, max_block, true, &mut stats)
        } else {
            let right = keyed_rule(r, rt, |j, f| p.rid(j, f), p.n_right);
            let blocks = merge(&left, &right);
            emit(&left, &right, &blocks, max_block, false, &mut stats)
        };
        stats.per_rule.push(out.len() as u64);
        all.extend(out);
    }
    all.par_sort_unstable();
    all.dedup();
    stats.compared = all.len() as u64;
    Candidates {
        pairs: all,
        levels: Vec::new(),
        stats,
    }
}

/// (key, record) for every record of a list under one rule, sorted.
fn keyed_rule(
    r: usize,
    rt: &RuleTables,
    ids: impl Fn(u32, usize) -> u32 + Sync,
    n: usize,
) -> Vec<(u64, u32)> {
    let mut v: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .fold(Vec::new, |mut acc, i| {
            let mut keys = Vec::new();
            record_keys(r, rt, |f| ids(i as u32, f), &mut keys);
            keys.sort_unstable();
            keys.dedup();
            acc.extend(keys.iter().map(|&k| (k, i as u32)));
            acc
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    v.par_sort_unstable();
    v
}

/// Runs of equal keys in a sorted list.
fn runs(v: &[(u64, u32)]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= v.len() {
            return None;
        }
        let k = v[start].0;
        let mut end = start + 1;
        while end < v.len() && v[end].0 == k {
            end += 1;
        }
        let r = start..end;
        start = end;
        Some(r)
    })
}

/// Blocks present in both sorted lists: (left run, right run).
fn merge(
    left: &[(u64, u32)],
    right: &[(u64, u32)],
) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let l: Vec<_> = runs(left).collect();
    let r: Vec<_> = runs(right).collect();
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < l.len() && j < r.len() {
        let (kl, kr) = (left[l[i].start].0, right[r[j].start].0);
        match kl.cmp(&kr) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((l[i].clone(), r[j].clone()));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Every pair of every block small enough; oversized blocks counted.
fn emit(
    left: &[(u64, u32)],
    right: &[(u64, u32)],
    blocks: &[(std::ops::Range<usize>, std::ops::Range<usize>)],
    max_block: u64,
    dedup: bool,
    stats: &mut BlockStats,
) -> Vec<u64> {
    let mut ok = Vec::with_capacity(blocks.len());
    for (a, b) in blocks {
        let size = (a.len() as u64).max(b.len() as u64);
        if dedup && a.len() < 2 {
            continue;
        }
        if size > max_block {
            stats.skipped_blocks += 1;
            stats.largest_skipped = stats.largest_skipped.max(size);
            stats.skipped_pairs += if dedup {
                size * (size - 1) / 2
            } else {
                a.len() as u64 * b.len() as u64
            };
            continue;
        }
        ok.push((a.clone(), b.clone()));
    }
    let mut out: Vec<u64> = ok
        .par_iter()
        .flat_map_iter(|(a, b)| {
            let (a, b) = (a.clone(), b.clone());
            a.flat_map(move |x| {
                let b = b.clone();
                b.filter_map(move |y| {
                    let (i, j) = (left[x].1, right[y].1);
                    if dedup {
                        (i < j).then(|| pack(i, j))
                    } else {
                        Some(pack(i, j))
                    }
                })
            })
        })
        .collect();
    out.par_sort_unstable();
    out.dedup();
    out
}
