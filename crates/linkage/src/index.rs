//! The in-memory population registry index: columnar, packed, about 100 bytes per person.

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinergi_model::Sex;

use std::io::{self, Read, Write};

use crate::codec::{Dec, Enc, Fixed};
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
    /// Open-addressing NIK table: per slot, the high 32 bits of the NIK's hash (a tag) and
    /// the person index + 1 (0 = empty). The tag spares a random read of the person record for
    /// every occupied slot passed: a NIK that is not there (the ~160 neighbours of a mistyped
    /// one) costs about one cache line, not one record per slot probed.
    nik_table: Vec<u64>,
    nik_mask: usize,
    /// (birth day number × 2 + sex) → persons.
    by_date_sex: Postings,
    /// (phonetic hash of a token << 16 | birth year) → persons.
    by_token_year: Postings,
    /// village id → persons.
    by_village: Postings,
    /// (phonetic hash, number of persons with that token), sorted by hash.
    token_freq: Vec<(u32, u32)>,
    /// (full-name key, number of persons with that name) for names held by two or more
    /// persons, sorted by key ([`names::name_key`]); a name not listed is held by at most one.
    name_freq: Vec<(u64, u32)>,
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

impl Fixed for Rec {
    const SIZE: usize = 8 * 4 + 4 * 3 + 2;
    fn put(&self, o: &mut [u8]) {
        self.nik.put(&mut o[0..8]);
        self.kk.put(&mut o[8..16]);
        self.sig.put(&mut o[16..24]);
        self.toks.put(&mut o[24..32]);
        self.birth.put(&mut o[32..36]);
        self.name_off.put(&mut o[36..40]);
        self.village.put(&mut o[40..44]);
        o[44] = self.name_len;
        o[45] = self.sex;
    }
    fn get(b: &[u8]) -> Option<Rec> {
        Some(Rec {
            nik: u64::get(&b[0..8])?,
            kk: u64::get(&b[8..16])?,
            sig: u64::get(&b[16..24])?,
            toks: u64::get(&b[24..32])?,
            birth: i32::get(&b[32..36])?,
            name_off: u32::get(&b[36..40])?,
            village: u32::get(&b[40..44])?,
            name_len: b[44],
            sex: (b[45] <= 1).then_some(b[45])?,
        })
    }
}

/// A NIK table slot: the hash's tag (high 32 bits) and person index + 1.
fn nik_slot(h: usize, i: u32) -> u64 {
    ((h as u64 >> 32) << 32) | u64::from(i + 1)
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
            name_freq: Vec::new(),
        };
        let mut name_keys: Vec<u64> = Vec::with_capacity(n);
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
                name_keys.push(names::name_key(name));
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
                let h = nik_hash(p.nik);
                let mut slot = h & idx.nik_mask;
                while idx.nik_table[slot] != 0 {
                    slot = (slot + 1) & idx.nik_mask;
                }
                idx.nik_table[slot] = nik_slot(h, i);
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
        name_keys.par_sort_unstable();
        let mut name_freq: Vec<(u64, u32)> = Vec::new();
        for k in name_keys.chunk_by(|a, b| a == b) {
            if k.len() > 1 {
                name_freq.push((k[0], k.len() as u32));
            }
        }
        name_freq.shrink_to_fit();
        idx.name_freq = name_freq;
        idx
    }

    /// Writes the index with [`crate::codec`] (for the engine's registry snapshot).
    pub fn encode<W: Write>(&self, e: &mut Enc<W>) -> io::Result<()> {
        e.slice(&self.recs)?;
        e.slice(&self.villages)?;
        e.str(&self.names)?;
        e.slice(&self.nik_table)?;
        for p in [&self.by_date_sex, &self.by_token_year, &self.by_village] {
            e.slice(&p.keys)?;
            e.slice(&p.offsets)?;
            e.slice(&p.ids)?;
            e.slice(&p.sigs)?;
        }
        e.slice(&self.token_freq)?;
        e.slice(&self.name_freq)
    }

    /// Reads an index written by [`RegistryIndex::encode`], checking every internal reference
    /// (name spans, villages, NIK table, postings) so that a damaged input is an error here
    /// rather than a panic during linkage.
    pub fn decode<R: Read>(d: &mut Dec<R>) -> io::Result<RegistryIndex> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let recs: Vec<Rec> = d.slice()?;
        let villages: Vec<u64> = d.slice()?;
        let names = d.string()?;
        let nik_table: Vec<u64> = d.slice()?;
        let n = recs.len();
        if !nik_table.len().is_power_of_two() || nik_table.len() <= n {
            return Err(bad("NIK table size"));
        }
        for &v in &nik_table {
            if v == 0 {
                continue;
            }
            let i = (v as u32).wrapping_sub(1) as usize;
            // Every entry names a person and carries the tag of that person's NIK.
            let ok = i < n && nik_slot(nik_hash(recs[i].nik), i as u32) == v;
            if !ok {
                return Err(bad("NIK table entry"));
            }
        }
        for r in &recs {
            let (a, b) = (
                r.name_off as usize,
                r.name_off as usize + r.name_len as usize,
            );
            if b > names.len() || !names.is_char_boundary(a) || !names.is_char_boundary(b) {
                return Err(bad("name span"));
            }
            if r.village as usize >= villages.len().max(1) {
                return Err(bad("village reference"));
            }
        }
        let mut postings = Vec::with_capacity(3);
        for _ in 0..3 {
            let p = Postings {
                keys: d.slice()?,
                offsets: d.slice()?,
                ids: d.slice()?,
                sigs: d.slice()?,
            };
            let ok = p.offsets.len() == p.keys.len() + 1
                && p.offsets.first() == Some(&0)
                && p.offsets.windows(2).all(|w| w[0] <= w[1])
                && p.offsets.last().is_some_and(|&l| l as usize == p.ids.len())
                && p.sigs.len() == p.ids.len()
                && p.keys.windows(2).all(|w| w[0] < w[1])
                && p.ids.iter().all(|&i| (i as usize) < n);
            if !ok {
                return Err(bad("postings"));
            }
            postings.push(p);
        }
        let token_freq: Vec<(u32, u32)> = d.slice()?;
        let name_freq: Vec<(u64, u32)> = d.slice()?;
        if !name_freq.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(bad("name frequencies"));
        }
        let by_village = postings.pop().expect("three postings");
        let by_token_year = postings.pop().expect("three postings");
        let by_date_sex = postings.pop().expect("three postings");
        Ok(RegistryIndex {
            recs,
            villages,
            names,
            nik_mask: nik_table.len() - 1,
            nik_table,
            by_date_sex,
            by_token_year,
            by_village,
            token_freq,
            name_freq,
        })
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
            + self.nik_table.capacity() * 8
            + self.by_date_sex.bytes()
            + self.by_token_year.bytes()
            + self.by_village.bytes()
            + self.token_freq.capacity() * 8
            + self.name_freq.capacity() * 16;
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
        let h = nik_hash(nik);
        let tag = h as u64 >> 32;
        let mut slot = h & self.nik_mask;
        loop {
            let v = self.nik_table[slot];
            if v == 0 {
                return;
            }
            if v >> 32 == tag {
                let i = (v as u32) - 1;
                if self.recs[i as usize].nik == nik {
                    f(i);
                }
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

    /// Number of persons whose canonical name has this [`names::name_key`] (at least 1: the
    /// caller asks about a name it saw in the registry).
    pub(crate) fn name_count(&self, key: u64) -> u32 {
        self.name_freq
            .binary_search_by_key(&key, |e| e.0)
            .map_or(1, |p| self.name_freq[p].1)
    }

    /// Number of persons having a token with this phonetic hash.
    pub(crate) fn token_count(&self, hash: u32) -> u32 {
        self.token_freq
            .binary_search_by_key(&hash, |e| e.0)
            .map_or(0, |p| self.token_freq[p].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persons(n: u64) -> Vec<RegistryPerson> {
        let names = [
            "SITI AMINAH",
            "MUHAMMAD NUR HIDAYAT",
            "I GUSTI AYU KADEK",
            "BUDI",
            "Ñ 漢字",
        ];
        (0..n)
            .map(|i| RegistryPerson {
                nik: 3_201_010_101_900_000 + i,
                name_norm: format!("{} {}", names[(i % 5) as usize], i % 7),
                sex: if i % 2 == 0 { Sex::L } else { Sex::P },
                birth_date: NaiveDate::from_ymd_opt(1950 + (i % 60) as i32, 1 + (i % 12) as u32, 1)
                    .unwrap(),
                region: 3_201_010_001 + i % 13,
                kk: 3_201_010_000_000_000 + i / 4,
            })
            .collect()
    }

    fn encoded(idx: &RegistryIndex) -> Vec<u8> {
        let mut e = Enc::new(Vec::new());
        idx.encode(&mut e).unwrap();
        e.into_inner()
    }

    #[test]
    fn decode_gives_back_the_same_index() {
        for n in [0, 1, 5_000] {
            let idx = RegistryIndex::build(persons(n));
            let bytes = encoded(&idx);
            let back =
                RegistryIndex::decode(&mut Dec::new(bytes.as_slice(), bytes.len() as u64)).unwrap();
            assert_eq!(format!("{idx:?}"), format!("{back:?}"), "{n} persons");
            if n > 3 {
                assert_eq!(back.lookup_nik(3_201_010_101_900_003), vec![3]);
                assert_eq!(back.name(3), idx.name(3));
            }
        }
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let idx = RegistryIndex::build(persons(300));
        let bytes = encoded(&idx);
        // Cut anywhere: always an error.
        for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
            let part = &bytes[..cut];
            assert!(RegistryIndex::decode(&mut Dec::new(part, part.len() as u64)).is_err());
        }
        // A name span pointing past the names: the first record's name_off (bytes 8 + 36..40).
        let mut bad = bytes.clone();
        bad[8 + 36..8 + 40].copy_from_slice(&u32::MAX.to_le_bytes());
        let err =
            RegistryIndex::decode(&mut Dec::new(bad.as_slice(), bad.len() as u64)).unwrap_err();
        assert!(err.to_string().contains("name span"), "{err}");
    }
}
