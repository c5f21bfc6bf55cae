//! What to keep of the scored pairs: one-to-one links, the best candidate per left record,
//! clusters of a deduplicated list.

use super::ScoredPair;

/// Orders pairs best first: weight descending, then left, then right (deterministic).
pub fn sort_best_first(pairs: &mut [ScoredPair]) {
    pairs.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then(a.left.cmp(&b.left))
            .then(a.right.cmp(&b.right))
    });
}

/// One-to-one: every record in at most one pair. Greedy, best pair first: a pair is kept when
/// neither of its records is in a pair kept before. In a deduplicated list the two records
/// are of one list, so a record is used once whichever side it is on. Returns the kept pairs
/// best first.
pub fn one_to_one(mut pairs: Vec<ScoredPair>, dedup: bool) -> Vec<ScoredPair> {
    sort_best_first(&mut pairs);
    let mut left = std::collections::HashSet::new();
    let mut right = std::collections::HashSet::new();
    pairs.retain(|p| {
        let (l, r) = if dedup {
            (!left.contains(&p.left) && !left.contains(&p.right), true)
        } else {
            (!left.contains(&p.left), !right.contains(&p.right))
        };
        if l && r {
            left.insert(p.left);
            if dedup {
                left.insert(p.right);
            } else {
                right.insert(p.right);
            }
            true
        } else {
            false
        }
    });
    pairs
}

/// Best candidate: for every left record, its best pair (ties to the lower right index).
/// Returns the kept pairs best first.
pub fn best_per_left(mut pairs: Vec<ScoredPair>) -> Vec<ScoredPair> {
    sort_best_first(&mut pairs);
    let mut seen = std::collections::HashSet::new();
    pairs.retain(|p| seen.insert(p.left));
    pairs
}

/// Clusters of a deduplicated list of `n` records from its MATCH pairs (connected
/// components). Returns, per record, the index of its cluster's first record, or `None` for a
/// record that is in no MATCH pair.
pub fn clusters(n: usize, pairs: &[ScoredPair]) -> Vec<Option<u32>> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut linked = vec![false; n];
    for p in pairs.iter().filter(|p| p.is_match) {
        let (a, b) = (find(&mut parent, p.left), find(&mut parent, p.right));
        linked[p.left as usize] = true;
        linked[p.right as usize] = true;
        // The smaller index becomes the root, so a cluster is named by its first record.
        if a < b {
            parent[b as usize] = a;
        } else if b < a {
            parent[a as usize] = b;
        }
    }
    (0..n as u32)
        .map(|i| linked[i as usize].then(|| find(&mut parent, i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(left: u32, right: u32, weight: f64) -> ScoredPair {
        ScoredPair {
            left,
            right,
            weight,
            probability: 0.9,
            is_match: true,
            levels: Vec::new(),
        }
    }

    #[test]
    fn one_to_one_keeps_the_best_pair_of_every_record() {
        let pairs = vec![p(0, 0, 10.0), p(0, 1, 12.0), p(1, 1, 11.0), p(2, 2, 3.0)];
        let kept: Vec<(u32, u32)> = one_to_one(pairs.clone(), false)
            .iter()
            .map(|p| (p.left, p.right))
            .collect();
        assert_eq!(kept, [(0, 1), (2, 2)]);
        let best: Vec<(u32, u32)> = best_per_left(pairs)
            .iter()
            .map(|p| (p.left, p.right))
            .collect();
        assert_eq!(best, [(0, 1), (1, 1), (2, 2)]);
        // Deduplication: record 1 is used once, whichever side.
        let d = vec![p(0, 1, 10.0), p(1, 2, 9.0), p(2, 3, 8.0)];
        let kept: Vec<(u32, u32)> = one_to_one(d, true)
            .iter()
            .map(|p| (p.left, p.right))
            .collect();
        assert_eq!(kept, [(0, 1), (2, 3)]);
    }

    #[test]
    fn clusters_are_connected_components_named_by_their_first_record() {
        let pairs = vec![p(3, 5, 1.0), p(0, 5, 1.0), p(6, 7, 1.0)];
        let mut not_match = p(1, 2, 1.0);
        not_match.is_match = false;
        let mut all = pairs;
        all.push(not_match);
        assert_eq!(
            clusters(8, &all),
            [
                Some(0),
                None,
                None,
                Some(0),
                None,
                Some(0),
                Some(6),
                Some(6)
            ]
        );
    }
}
