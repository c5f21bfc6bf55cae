//! The in-memory population registry index: columnar, packed, about 100 bytes per person.

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
    /// Full-token bits of each posted person's name signature, beside `ids`, so the
    /// pre-filter scans a block sequentially instead of reading each person's record.
    sigs: Vec<u32>,
}

impl Postings {
    /// Builds from unsorted `(key, idx)` pairs; `sig` gives each person's signature.
    fn from_pairs(mut pairs: Vec<(u64, u32)>, sig: impl Fn(u32) -> u64 + Sync) -> Postings {
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
        // Random reads of the person records: in parallel (an indexed collect keeps the order).
        let sigs: Vec<u32> = ids.par_iter().map(|&i| sig(i) as u32).collect();
        keys.shrink_to_fit();
        offsets.shrink_to_fit();
        Postings {
            keys,
            offsets,
            ids,
            sigs,
        }
    }

    /// The persons under `key` and their full-token signature bits.
    pub(crate) fn get(&self, key: u64) -> (&[u32], &[u32]) {
        match self.keys.binary_search(&key) {
            Ok(p) => {
                let r = self.offsets[p] as usize..self.offsets[p + 1] as usize;
                (&self.ids[r.clone()], &self.sigs[r])
            }
            Err(_) => (&[], &[]),
        }
    }

    fn bytes(&self) -> usize {
        self.keys.capacity() * 8
            + self.offsets.capacity() * 4
            + self.ids.capacity() * 4
            + self.sigs.capacity() * 4
    }
}

/// Indexed, memory-lean registry. Person indexes (`u32`) are positions in the `Vec` given to
/// [`RegistryIndex::build`].
#[derive(Debug)]
pub struct RegistryIndex {
    /// One 48-byte record per person: everything a comparison reads sits in one cache line.
    recs: Vec<Rec>,
    villages: Vec<u64>,
    names: String,
    /// Open-addressing hash table NIK → person index + 1 (0 = empty), load ≤ 0.6.
    nik_table: Vec<u32>,
    nik_mask: usize,
    /// (birth day number × 2 + sex) → persons.
    by_date_sex: Postings,
    /// (phonetic hash of a token << 16 | birth year) → persons.
    by_token_year: Postings,
    /// village id → persons.
    by_village: Postings,
    /// (phonetic hash, number of persons with that token), sorted by hash.
    token_freq: Vec<(u32, u32)>,
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

#[derive(Debug, Clone, Copy)]
struct Rec {
    nik: u64,
    kk: u64,
    sig: u64,
    /// Up to four 16-bit phonetic token hashes ([`token16`]), 0 when the name has more.
    toks: u64,
    birth: i32,
    name_off: u32,
    village: u32,
    name_len: u8,
    sex: u8,
}

fn nik_hash(nik: u64) -> usize {
    let mut z = nik.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^= z >> 29;
    z.wrapping_mul(0xbf58_476d_1ce4_e5b9) as usize
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

/// The 16-bit form of a phonetic token hash kept per person for the exact shared-token
/// pre-filter (never 0).
pub(crate) fn token16(hash: u32) -> u16 {
    ((hash ^ (hash >> 16)) as u16).max(1)
}

/// Packs the 16-bit hashes of a name's phonetic tokens (at most four; 0 = more than four,
/// which disables the pre-filter for that person).
fn pack_toks(hashes: &[u32]) -> u64 {
    let mut t = [0u16; 4];
    let mut n = 0;
    for &h in hashes {
        let v = token16(h);
        if t[..n].contains(&v) {
            continue;
        }
        if n == 4 {
            return 0;
        }
        t[n] = v;
        n += 1;
    }
    t.iter()
        .enumerate()
        .fold(0u64, |acc, (k, &v)| acc | (v as u64) << (16 * k))
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

        let slots = (n * 5 / 3).max(16).next_power_of_two();
        let mut idx = RegistryIndex {
            recs: Vec::with_capacity(n),
            villages,
            names: String::with_capacity(n * 18),
            nik_table: vec![0; slots],
            nik_mask: slots - 1,
            by_date_sex: Postings::default(),
            by_token_year: Postings::default(),
            by_village: Postings::default(),
            token_freq: Vec::new(),
        };
        let mut token_pairs: Vec<(u64, u32)> = Vec::with_capacity(n * 5 / 2);
        const CHUNK: usize = 1 << 16;
        for (c, chunk) in persons.chunks(CHUNK).enumerate() {
            let villages = &idx.villages;
            let prepared: Vec<(Prepared, u32)> = chunk
                .par_iter()
                .map(|p| {
                    let v = villages.binary_search(&p.region).unwrap_or(0) as u32;
                    (prepare(&p.name_norm), v)
                })
                .collect();
            for (k, (p, (prep, v))) in chunk.iter().zip(prepared).enumerate() {
                let i = (c * CHUNK + k) as u32;
                // Names longer than 255 bytes are cut at a token boundary.
                let mut name = prep.canonical.as_str();
                while name.len() > 255 {
                    name = name.rsplit_once(' ').map_or(&name[..0], |(a, _)| a);
                }
                let name_off = idx.names.len() as u32;
                idx.names.push_str(name);
                idx.recs.push(Rec {
                    nik: p.nik,
                    kk: p.kk,
                    sig: prep.sig,
                    toks: pack_toks(&prep.hashes),
                    birth: p.birth_date.num_days_from_ce(),
                    name_off,
                    village: v,
                    name_len: name.len() as u8,
                    sex: sex_code(p.sex),
                });
                let mut slot = nik_hash(p.nik) & idx.nik_mask;
                while idx.nik_table[slot] != 0 {
                    slot = (slot + 1) & idx.nik_mask;
                }
                idx.nik_table[slot] = i + 1;
                let year = p.birth_date.year();
                for h in prep.hashes {
                    token_pairs.push((token_year_key(h, year), i));
                }
            }
        }
        drop(persons);
        idx.names.shrink_to_fit();

        idx.by_date_sex = Postings::from_pairs(
            (0..n)
                .map(|i| (date_sex_key(idx.recs[i].birth, idx.recs[i].sex), i as u32))
                .collect(),
            |i| idx.recs[i as usize].sig,
        );
        idx.by_village = Postings::from_pairs(
            (0..n)
                .map(|i| (idx.recs[i].village as u64, i as u32))
                .collect(),
            |i| idx.recs[i as usize].sig,
        );
        idx.by_token_year = Postings::from_pairs(token_pairs, |i| idx.recs[i as usize].sig);
        // Token frequencies from the token + year postings (a person holds each of their
        // tokens under exactly one year).
        let p = &idx.by_token_year;
        let mut freq: Vec<(u32, u32)> = Vec::new();
        for (k, key) in p.keys.iter().enumerate() {
            let h = (key >> 16) as u32;
            let c = p.offsets[k + 1] - p.offsets[k];
            match freq.last_mut() {
                Some(last) if last.0 == h => last.1 += c,
                _ => freq.push((h, c)),
            }
        }
        freq.shrink_to_fit();
        idx.token_freq = freq;
        idx
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Size figures.
    pub fn stats(&self) -> IndexStats {
        let heap = self.recs.capacity() * std::mem::size_of::<Rec>()
            + self.villages.capacity() * 8
            + self.names.capacity()
            + self.nik_table.capacity() * 4
            + self.by_date_sex.bytes()
            + self.by_token_year.bytes()
            + self.by_village.bytes()
            + self.token_freq.capacity() * 8;
        IndexStats {
            persons: self.len(),
            villages: self.villages.len(),
            heap_bytes: heap,
        }
    }

    /// NIK of person `i`.
    pub fn nik(&self, i: u32) -> u64 {
        self.recs[i as usize].nik
    }
    /// KK of person `i`.
    pub fn kk(&self, i: u32) -> u64 {
        self.recs[i as usize].kk
    }
    /// Canonical (normalised and spelling-folded) name of person `i`.
    pub fn name(&self, i: u32) -> &str {
        let r = &self.recs[i as usize];
        let start = r.name_off as usize;
        self.names
            .get(start..start + r.name_len as usize)
            .unwrap_or_default()
    }
    /// Birth date of person `i`.
    pub fn birth_date(&self, i: u32) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.recs[i as usize].birth).unwrap_or(NaiveDate::MIN)
    }
    pub(crate) fn birth_days(&self, i: u32) -> i32 {
        self.recs[i as usize].birth
    }
    /// Sex of person `i`.
    pub fn sex(&self, i: u32) -> Sex {
        if self.recs[i as usize].sex == 0 {
            Sex::L
        } else {
            Sex::P
        }
    }
    /// Village code of person `i`.
    pub fn region(&self, i: u32) -> u64 {
        self.villages[self.recs[i as usize].village as usize]
    }
    pub(crate) fn sig(&self, i: u32) -> u64 {
        self.recs[i as usize].sig
    }
    /// Packed 16-bit token hashes of person `i` (0 = unknown: more than four tokens).
    pub(crate) fn toks(&self, i: u32) -> u64 {
        self.recs[i as usize].toks
    }

    /// Calls `f` with every person holding exactly this NIK (in table order).
    pub(crate) fn for_each_nik(&self, nik: u64, mut f: impl FnMut(u32)) {
        let mut slot = nik_hash(nik) & self.nik_mask;
        loop {
            let v = self.nik_table[slot];
            if v == 0 {
                return;
            }
            if self.recs[(v - 1) as usize].nik == nik {
                f(v - 1);
            }
            slot = (slot + 1) & self.nik_mask;
        }
    }

    /// Persons holding exactly this NIK (several when the registry has duplicates), in index
    /// order.
    pub fn lookup_nik(&self, nik: u64) -> Vec<u32> {
        let mut out = Vec::new();
        self.for_each_nik(nik, |i| out.push(i));
        out.sort_unstable();
        out
    }

    /// Persons whose NIK's first 15 digits are `prefix`, in index order.
    pub(crate) fn lookup_prefix15(&self, prefix: u64) -> Vec<u32> {
        let mut out = Vec::new();
        for d in 0..10 {
            self.for_each_nik(prefix.saturating_mul(10).saturating_add(d), |i| out.push(i));
        }
        out.sort_unstable();
        out
    }

    pub(crate) fn block_date_sex(&self, days: i32, sex: u8) -> (&[u32], &[u32]) {
        self.by_date_sex.get(date_sex_key(days, sex))
    }

    pub(crate) fn block_token_year(&self, hash: u32, year: i32) -> (&[u32], &[u32]) {
        self.by_token_year.get(token_year_key(hash, year))
    }

    pub(crate) fn block_village(&self, village: u64) -> (&[u32], &[u32]) {
        match self.villages.binary_search(&village) {
            Ok(v) => self.by_village.get(v as u64),
            Err(_) => (&[], &[]),
        }
    }

    /// Number of persons having a token with this phonetic hash.
    pub(crate) fn token_count(&self, hash: u32) -> u32 {
        self.token_freq
            .binary_search_by_key(&hash, |e| e.0)
            .map_or(0, |p| self.token_freq[p].1)
    }
}
