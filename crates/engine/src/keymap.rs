//! Compact read-only maps keyed by 16-digit numbers (NIK, KK).
//!
//! Ten million entries must cost little more than the keys and values themselves, so a
//! [`KeyMap`] is two parallel sorted vectors plus, for large maps, an open-addressing hash
//! table of `u32` positions (the first entry of each distinct key), at most two-thirds full.
//! A lookup is one or two table slots and one key comparison: about two cache misses, where a
//! binary search over ten million keys (or over the ~1,500 keys sharing a district prefix)
//! costs five to ten. The table costs 4 bytes a slot: 64 MiB for ten million distinct keys.

use std::io::{self, Read, Write};

use sinergi_linkage::codec::{Dec, Enc, Fixed};

/// Below this many entries a plain binary search is as fast and costs no table.
const MIN_HASHED: usize = 1 << 14;

/// A sorted map from `u64` keys to values; duplicate keys are allowed (see [`KeyMap::range`]).
#[derive(Debug, Clone)]
pub struct KeyMap<V> {
    keys: Vec<u64>,
    vals: Vec<V>,
    /// Open addressing (linear probing): `slots[h]` is 1 + the position of the first entry
    /// of a key, 0 when empty; empty for small maps. Length is a power of two.
    slots: Vec<u32>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            keys: Vec::new(),
            vals: Vec::new(),
            slots: Vec::new(),
        }
    }
}

/// Slot of a key: NIK and KK digits are far from random (region prefix, dates), so mix all
/// bits before taking the top ones.
fn home(key: u64, mask: usize) -> usize {
    let mut x = key ^ (key >> 33);
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x as usize) & mask
}

impl<V> KeyMap<V> {
    /// Builds a map keeping every entry, duplicates included, in key order; entries with equal
    /// keys keep their input order.
    pub fn from_multi(mut entries: Vec<(u64, V)>) -> KeyMap<V> {
        entries.sort_by_key(|e| e.0);
        let mut keys = Vec::with_capacity(entries.len());
        let mut vals = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            keys.push(k);
            vals.push(v);
        }
        Self::from_sorted(keys, vals)
    }

    /// Builds a map with one value per key; `merge(kept, new)` folds later duplicates (in input
    /// order) into the kept value.
    pub fn from_unique(mut entries: Vec<(u64, V)>, mut merge: impl FnMut(&mut V, V)) -> KeyMap<V> {
        entries.sort_by_key(|e| e.0);
        let mut keys: Vec<u64> = Vec::with_capacity(entries.len());
        let mut vals: Vec<V> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if keys.last() == Some(&k) {
                merge(vals.last_mut().expect("parallel vectors"), v);
            } else {
                keys.push(k);
                vals.push(v);
            }
        }
        keys.shrink_to_fit();
        vals.shrink_to_fit();
        Self::from_sorted(keys, vals)
    }

    fn from_sorted(keys: Vec<u64>, vals: Vec<V>) -> KeyMap<V> {
        let mut slots = Vec::new();
        if keys.len() >= MIN_HASHED && keys.len() < u32::MAX as usize {
            let distinct = 1 + keys.windows(2).filter(|w| w[0] != w[1]).count();
            let size = (distinct * 3 / 2).next_power_of_two();
            let mask = size - 1;
            slots = vec![0u32; size];
            for (i, &k) in keys.iter().enumerate() {
                if i > 0 && keys[i - 1] == k {
                    continue;
                }
                let mut h = home(k, mask);
                while slots[h] != 0 {
                    h = (h + 1) & mask;
                }
                slots[h] = i as u32 + 1;
            }
        }
        KeyMap { keys, vals, slots }
    }

    /// Index of the first entry with this key.
    pub fn index_of(&self, key: u64) -> Option<usize> {
        if self.slots.is_empty() {
            let i = self.keys.partition_point(|&k| k < key);
            return (i < self.keys.len() && self.keys[i] == key).then_some(i);
        }
        let mask = self.slots.len() - 1;
        let mut h = home(key, mask);
        loop {
            let s = self.slots[h];
            if s == 0 {
                return None;
            }
            let i = (s - 1) as usize;
            if self.keys[i] == key {
                return Some(i);
            }
            h = (h + 1) & mask;
        }
    }

    /// The (first) value for a key.
    pub fn get(&self, key: u64) -> Option<&V> {
        self.index_of(key).map(|i| &self.vals[i])
    }

    /// Whether the key is present.
    pub fn contains(&self, key: u64) -> bool {
        self.index_of(key).is_some()
    }

    /// Every value stored under a key, in input order.
    pub fn range(&self, key: u64) -> &[V] {
        let Some(a) = self.index_of(key) else {
            return &[];
        };
        let n = self.keys[a..].iter().take_while(|&&k| k == key).count();
        &self.vals[a..a + n]
    }

    /// Key and value at an index.
    pub fn at(&self, i: usize) -> (u64, &V) {
        (self.keys[i], &self.vals[i])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bytes held by the map (keys, values and hash table), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8
            + self.vals.capacity() * std::mem::size_of::<V>()
            + self.slots.capacity() * 4
    }
}

/// Parses a 16-digit identifier (NIK or KK) into a number; `None` unless exactly 16 digits.
impl<V: Fixed> KeyMap<V> {
    /// Writes the map with the linkage crate's codec (registry snapshot).
    pub fn encode<W: Write>(&self, e: &mut Enc<W>) -> io::Result<()> {
        e.slice(&self.keys)?;
        e.slice(&self.vals)?;
        e.slice(&self.slots)
    }

    /// Reads a map written by [`KeyMap::encode`], checking that keys are sorted, values match
    /// keys, and every hash slot points at the first entry of its key.
    pub fn decode<R: Read>(d: &mut Dec<R>) -> io::Result<KeyMap<V>> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let keys: Vec<u64> = d.slice()?;
        let vals: Vec<V> = d.slice()?;
        let slots: Vec<u32> = d.slice()?;
        if vals.len() != keys.len() || !keys.windows(2).all(|w| w[0] <= w[1]) {
            return Err(bad("key map entries"));
        }
        if !slots.is_empty() {
            let ok = slots.len().is_power_of_two()
                && slots.iter().all(|&s| {
                    s == 0 || {
                        let i = (s - 1) as usize;
                        i < keys.len() && (i == 0 || keys[i - 1] != keys[i])
                    }
                })
                && slots.contains(&0);
            if !ok {
                return Err(bad("key map slots"));
            }
        }
        Ok(KeyMap { keys, vals, slots })
    }
}

pub fn id16(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Formats a number as a 16-digit identifier.
pub fn fmt16(id: u64) -> String {
    format!("{id:016}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_bucketed_maps_answer_the_same() {
        for n in [10usize, 40_000] {
            let entries: Vec<(u64, u32)> = (0..n as u64)
                .map(|i| {
                    (
                        3_201_010_000_000_000 + i * 7_919 % 9_000_000_000_000,
                        i as u32,
                    )
                })
                .collect();
            let map = KeyMap::from_unique(entries.clone(), |_, _| {});
            for (k, v) in &entries {
                assert_eq!(map.get(*k), Some(v));
            }
            assert!(map.get(1).is_none());
            assert!(map.get(9_999_999_999_999_999).is_none());
        }
    }

    #[test]
    fn hashed_multi_map_ranges_keep_input_order() {
        // Many keys, some repeated, so the hashed path and its duplicate scan both run.
        let entries: Vec<(u64, u32)> = (0..50_000u32)
            .map(|i| (3_201_010_000_000_000 + u64::from(i % 20_000) * 13, i))
            .collect();
        let map = KeyMap::from_multi(entries);
        assert!(!map.slots.is_empty());
        for k in 0..20_000u64 {
            let want: Vec<u32> = (0..50_000u32)
                .filter(|i| u64::from(i % 20_000) == k)
                .collect();
            assert_eq!(map.range(3_201_010_000_000_000 + k * 13), &want[..]);
        }
        assert!(map.range(3_201_010_000_000_001).is_empty());
    }

    #[test]
    fn duplicates_merge_or_stay_in_input_order() {
        let e = vec![(5u64, 1u8), (3, 2), (5, 3)];
        let uniq = KeyMap::from_unique(e.clone(), |a, b| *a = (*a).max(b));
        assert_eq!(uniq.get(5), Some(&3));
        assert_eq!(uniq.len(), 2);
        let multi = KeyMap::from_multi(e);
        assert_eq!(multi.range(5), &[1, 3]);
        assert_eq!(multi.range(4), &[] as &[u8]);
    }

    #[test]
    fn ids_are_exactly_sixteen_digits() {
        assert_eq!(id16("3201010101900001"), Some(3_201_010_101_900_001));
        assert_eq!(id16(" 3201010101900001 "), Some(3_201_010_101_900_001));
        assert_eq!(id16("320101010190000"), None);
        assert_eq!(id16("320101010190000X"), None);
        assert_eq!(fmt16(101_900_001), "0000000101900001");
    }
}
