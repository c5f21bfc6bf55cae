//! Compact read-only maps keyed by 16-digit numbers (NIK, KK).
//!
//! Ten million entries must cost little more than the keys and values themselves, so a
//! [`KeyMap`] is two parallel sorted vectors plus, for large maps, a bucket index on the first
//! six digits (the region of first registration, which both NIK and KK start with). A lookup is
//! a bucket read and a binary search over a few hundred neighbouring keys.

/// Divisor that leaves the first six of sixteen digits.
const BUCKET_DIV: u64 = 10_000_000_000;
/// Number of buckets: six digits.
const BUCKETS: usize = 1_000_000;
/// Below this many entries a plain binary search is as fast and costs no bucket table.
const MIN_BUCKETED: usize = 1 << 14;

/// A sorted map from `u64` keys to values; duplicate keys are allowed (see [`KeyMap::range`]).
#[derive(Debug, Clone)]
pub struct KeyMap<V> {
    keys: Vec<u64>,
    vals: Vec<V>,
    /// `starts[b]..starts[b + 1]` is the slice of keys in bucket `b`; empty for small maps.
    starts: Vec<u32>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            keys: Vec::new(),
            vals: Vec::new(),
            starts: Vec::new(),
        }
    }
}

fn bucket(key: u64) -> usize {
    ((key / BUCKET_DIV) as usize).min(BUCKETS - 1)
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
        let mut starts = Vec::new();
        if keys.len() >= MIN_BUCKETED {
            starts = vec![0u32; BUCKETS + 1];
            for &k in &keys {
                starts[bucket(k) + 1] += 1;
            }
            for b in 0..BUCKETS {
                starts[b + 1] += starts[b];
            }
        }
        KeyMap { keys, vals, starts }
    }

    fn window(&self, key: u64) -> (usize, usize) {
        if self.starts.is_empty() {
            (0, self.keys.len())
        } else {
            let b = bucket(key);
            (self.starts[b] as usize, self.starts[b + 1] as usize)
        }
    }

    /// Index of the first entry with this key.
    pub fn index_of(&self, key: u64) -> Option<usize> {
        let (lo, hi) = self.window(key);
        let slice = &self.keys[lo..hi];
        let i = slice.partition_point(|&k| k < key);
        (i < slice.len() && slice[i] == key).then_some(lo + i)
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
        let (lo, hi) = self.window(key);
        let slice = &self.keys[lo..hi];
        let a = slice.partition_point(|&k| k < key);
        let b = slice.partition_point(|&k| k <= key);
        &self.vals[lo + a..lo + b]
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

    /// Bytes held by the map (keys, values and bucket index), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8
            + self.vals.capacity() * std::mem::size_of::<V>()
            + self.starts.capacity() * 4
    }
}

/// Parses a 16-digit identifier (NIK or KK) into a number; `None` unless exactly 16 digits.
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
