//! The in-memory population registry index: columnar, packed, about 100 bytes per person.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinergi_model::Sex;

use crate::names;

/// One person of the population registry, as handed to [`RegistryIndex::build`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPerson {
    /// NIK as a number.
    pub nik: u64,
    /// Full name (raw or normalised: it is normalised again, which is idempotent).
    pub name_norm: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Current village code, 10 digits (`PPKKCCVVVV`).
    pub region: u64,
    /// Family card number.
    pub kk: u64,
}

/// A compressed sparse row map from `u64` keys to sorted lists of person indexes.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    keys: Vec<u64>,
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl Postings {
    /// Builds from unsorted `(key, idx)` pairs.
    fn from_pairs(mut pairs: Vec<(u64, u32)>) -> Postings {
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut keys = Vec::new();
        let mut offsets = Vec::new();
        let mut ids = Vec::with_capacity(pairs.len());
        for (k, i) in pairs {
            if keys.last() != Some(&k) {
                keys.push(k);
                offsets.push(ids.len() as u32);
            }
            ids.push(i);
        }
        offsets.push(ids.len() as u32);
        keys.shrink_to_fit();
        offsets.shrink_to_fit();
        Postings { keys, offsets, ids }
    }

    pub(crate) fn get(&self, key: u64) -> &[u32] {
        match self.keys.binary_search(&key) {
            Ok(p) => &self.ids[self.offsets[p] as usize..self.offsets[p + 1] as usize],
            Err(_) => &[],
        }
    }

    fn bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.offsets.capacity() * 4 + self.ids.capacity() * 4
    }
}

/// Indexed, memory-lean registry. Person indexes (`u32`) are positions in the `Vec` given to
/// [`RegistryIndex::build`].
#[derive(Debug)]
pub struct RegistryIndex {
    nik: Vec<u64>,
    kk: Vec<u64>,
    birth: Vec<i32>,
    sex: Vec<u8>,
    village: Vec<u32>,
    villages: Vec<u64>,
    name_off: Vec<u32>,
    names: String,
    sig: Vec<u64>,
    /// NIKs sorted, with the person index beside each.
    nik_sorted: Vec<u64>,
    nik_idx: Vec<u32>,
    /// (birth day number × 2 + sex) → persons.
    by_date_sex: Postings,
    /// (phonetic hash of a token << 16 | birth year) → persons.
    by_token_year: Postings,
    /// village id → persons.
    by_village: Postings,
    token_freq: HashMap<u32, u32>,
}

/// Counts that describe an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Persons indexed.
    pub persons: usize,
    /// Distinct villages.
    pub villages: usize,
    /// Approximate heap bytes held by the index.
    pub heap_bytes: usize,
}

pub(crate) fn sex_code(s: Sex) -> u8 {
    match s {
        Sex::L => 0,
        Sex::P => 1,
    }
}

pub(crate) fn token_year_key(token_hash: u32, year: i32) -> u64 {
    ((token_hash as u64) << 16) | (year.clamp(0, 65_535) as u64)
}

pub(crate) fn date_sex_key(days: i32, sex: u8) -> u64 {
    ((days as i64 as u64) << 1) | sex as u64
}

struct Prepared {
    canonical: String,
    sig: u64,
    hashes: Vec<u32>,
}

fn prepare(name: &str) -> Prepared {
    let canonical = names::canonical_name(name);
    let mut hashes: Vec<u32> = canonical
        .split(' ')
        .filter(|t| t.len() > 1)
        .map(names::phonetic_hash)
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    Prepared {
        sig: names::signature(&canonical),
        canonical,
        hashes,
    }
}

impl RegistryIndex {
    /// Builds the index. Names are canonicalised in parallel; everything else is sequential
    /// or a deterministic parallel sort, so the result does not depend on the thread count.
    pub fn build(persons: Vec<RegistryPerson>) -> RegistryIndex {
        let n = persons.len();
        assert!(
            n < u32::MAX as usize,
            "registry larger than 4 billion persons"
        );
        let mut villages: Vec<u64> = persons.iter().map(|p| p.region).collect();
        villages.par_sort_unstable();
        villages.dedup();
        villages.shrink_to_fit();

        let mut idx = RegistryIndex {
            nik: Vec::with_capacity(n),
            kk: Vec::with_capacity(n),
            birth: Vec::with_capacity(n),
            sex: Vec::with_capacity(n),
            village: Vec::with_capacity(n),
            villages,
            name_off: Vec::with_capacity(n + 1),
            names: String::with_capacity(n * 18),
            sig: Vec::with_capacity(n),
            nik_sorted: Vec::new(),
            nik_idx: Vec::new(),
            by_date_sex: Postings::default(),
            by_token_year: Postings::default(),
            by_village: Postings::default(),
            token_freq: HashMap::new(),
        };
        let mut token_pairs: Vec<(u64, u32)> = Vec::with_capacity(n * 5 / 2);
        idx.name_off.push(0);
        const CHUNK: usize = 1 << 16;
        for (c, chunk) in persons.chunks(CHUNK).enumerate() {
            let prepared: Vec<Prepared> =
                chunk.par_iter().map(|p| prepare(&p.name_norm)).collect();
            for (k, (p, prep)) in chunk.iter().zip(prepared).enumerate() {
                let i = (c * CHUNK + k) as u32;
                idx.nik.push(p.nik);
                idx.kk.push(p.kk);
                idx.birth.push(p.birth_date.num_days_from_ce());
                idx.sex.push(sex_code(p.sex));
                let v = idx.villages.binary_search(&p.region).unwrap_or(0) as u32;
                idx.village.push(v);
                idx.names.push_str(&prep.canonical);
                idx.name_off.push(idx.names.len() as u32);
                idx.sig.push(prep.sig);
                let year = p.birth_date.year();
                for h in prep.hashes {
                    token_pairs.push((token_year_key(h, year), i));
                    *idx.token_freq.entry(h).or_insert(0) += 1;
                }
            }
        }
        drop(persons);
        idx.names.shrink_to_fit();

        let mut nik_pairs: Vec<(u64, u32)> = idx
            .nik
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        nik_pairs.par_sort_unstable();
        idx.nik_sorted = nik_pairs.iter().map(|p| p.0).collect();
        idx.nik_idx = nik_pairs.iter().map(|p| p.1).collect();
        drop(nik_pairs);

        idx.by_date_sex = Postings::from_pairs(
            (0..n)
                .map(|i| (date_sex_key(idx.birth[i], idx.sex[i]), i as u32))
                .collect(),
        );
        idx.by_village = Postings::from_pairs(
            (0..n)
                .map(|i| (idx.village[i] as u64, i as u32))
                .collect(),
        );
        idx.by_token_year = Postings::from_pairs(token_pairs);
        idx
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.nik.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.nik.is_empty()
    }

    /// Size figures.
    pub fn stats(&self) -> IndexStats {
        let heap = self.nik.capacity() * 8
            + self.kk.capacity() * 8
            + self.birth.capacity() * 4
            + self.sex.capacity()
            + self.village.capacity() * 4
            + self.villages.capacity() * 8
            + self.name_off.capacity() * 4
            + self.names.capacity()
            + self.sig.capacity() * 8
            + self.nik_sorted.capacity() * 8
            + self.nik_idx.capacity() * 4
            + self.by_date_sex.bytes()
            + self.by_token_year.bytes()
            + self.by_village.bytes()
            + self.token_freq.capacity() * 12;
        IndexStats {
            persons: self.len(),
            villages: self.villages.len(),
            heap_bytes: heap,
        }
    }

    /// NIK of person `i`.
    pub fn nik(&self, i: u32) -> u64 {
        self.nik[i as usize]
    }
    /// KK of person `i`.
    pub fn kk(&self, i: u32) -> u64 {
        self.kk[i as usize]
    }
    /// Canonical (normalised and spelling-folded) name of person `i`.
    pub fn name(&self, i: u32) -> &str {
        let i = i as usize;
        &self.names[self.name_off[i] as usize..self.name_off[i + 1] as usize]
    }
    /// Birth date of person `i`.
    pub fn birth_date(&self, i: u32) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.birth[i as usize]).unwrap_or(NaiveDate::MIN)
    }
    pub(crate) fn birth_days(&self, i: u32) -> i32 {
        self.birth[i as usize]
    }
    /// Sex of person `i`.
    pub fn sex(&self, i: u32) -> Sex {
        if self.sex[i as usize] == 0 {
            Sex::L
        } else {
            Sex::P
        }
    }
    /// Village code of person `i`.
    pub fn region(&self, i: u32) -> u64 {
        self.villages[self.village[i as usize] as usize]
    }
    pub(crate) fn sig(&self, i: u32) -> u64 {
        self.sig[i as usize]
    }

    /// Persons holding exactly this NIK (several when the registry has duplicates), in index
    /// order.
    pub fn lookup_nik(&self, nik: u64) -> &[u32] {
        let lo = self.nik_sorted.partition_point(|&x| x < nik);
        let hi = self.nik_sorted[lo..].partition_point(|&x| x == nik) + lo;
        &self.nik_idx[lo..hi]
    }

    /// Persons whose NIK's first 15 digits are `prefix`.
    pub(crate) fn lookup_prefix15(&self, prefix: u64) -> &[u32] {
        let start = prefix.saturating_mul(10);
        let end = start.saturating_add(10);
        let lo = self.nik_sorted.partition_point(|&x| x < start);
        let hi = self.nik_sorted[lo..].partition_point(|&x| x < end) + lo;
        &self.nik_idx[lo..hi]
    }

    pub(crate) fn block_date_sex(&self, days: i32, sex: u8) -> &[u32] {
        self.by_date_sex.get(date_sex_key(days, sex))
    }

    pub(crate) fn block_token_year(&self, hash: u32, year: i32) -> &[u32] {
        self.by_token_year.get(token_year_key(hash, year))
    }

    pub(crate) fn block_village(&self, village: u64) -> &[u32] {
        match self.villages.binary_search(&village) {
            Ok(v) => self.by_village.get(v as u64),
            Err(_) => &[],
        }
    }

    /// Number of persons having a token with this phonetic hash.
    pub(crate) fn token_count(&self, hash: u32) -> u32 {
        self.token_freq.get(&hash).copied().unwrap_or(0)
    }
}
