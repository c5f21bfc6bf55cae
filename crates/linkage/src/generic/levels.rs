//! Agreement levels of two normalised values, per comparator.

use super::config::Comparator;
use super::prepare::{Histogram, MISSING, NameValue, Value, overlap};
use crate::compare::{compare_dates, compare_regions};
use crate::names::{self, NameLevel};

/// Level of two value ids of one field (`None` when either is missing). Equal ids are the
/// best level.
pub(crate) fn level(c: Comparator, values: &[Value], a: u32, b: u32) -> Option<u8> {
    if a == MISSING || b == MISSING {
        return None;
    }
    if a == b {
        return Some(0);
    }
    Some(match (&values[a as usize], &values[b as usize]) {
        (Value::Name(x), Value::Name(y)) => name_level(x, y),
        (Value::Date(x), Value::Date(y)) => compare_dates(*x, *y) as u8,
        (Value::Region(x), Value::Region(y)) => compare_regions(*x, *y) as u8,
        (Value::Text(x, hx), Value::Text(y, hy)) => match c {
            Comparator::Exact => u8::from(x != y),
            _ => text_level(x, hx, y, hy),
        },
        (Value::Code(x), Value::Code(y)) => match osa_distance(x.as_bytes(), y.as_bytes(), 2) {
            0 => 0,
            1 => 1,
            2 => 2,
            _ => 3,
        },
        _ => (c.levels() - 1) as u8,
    })
}

/// Level of two name values of different fields (given name against family name).
pub(crate) fn cross_name_level(a: &Value, b: &Value) -> Option<u8> {
    match (a, b) {
        (Value::Name(x), Value::Name(y)) => Some(if x.text == y.text {
            0
        } else {
            name_level(x, y)
        }),
        _ => None,
    }
}

/// Whether Jaro-Winkler of two texts can reach 0.80, from their histograms: it exceeds Jaro
/// only above 0.7 (where the Winkler boost starts), and Jaro ≤ (m/|x| + m/|y| + 1) / 3 where
/// the matching characters m are at most the histograms' overlap. Most pairs of different
/// values fail this bound, and the bound never changes a level.
#[inline]
fn may_reach_080(hx: &Histogram, lx: usize, hy: &Histogram, ly: usize) -> bool {
    let m = f64::from(overlap(hx, hy));
    let (lx, ly) = (lx.clamp(1, 64) as f64, ly.clamp(1, 64) as f64);
    (m / lx + m / ly + 1.0) / 3.0 > 0.7
}

/// Names: the token comparison of the registry linker, and, when one side has a space the
/// other lacks (`MIC HAELA` / `MICHAELA`), the letters without spaces.
fn name_level(x: &NameValue, y: &NameValue) -> u8 {
    // No pair of tokens (nor the names without spaces) can agree at 0.80 or more: the names
    // are different. Initials (one-letter tokens) are compared by the full comparison.
    if x.shortest > 1
        && y.shortest > 1
        && !may_reach_080(&x.hist, x.shortest.into(), &y.hist, y.shortest.into())
    {
        return NameLevel::Other as u8;
    }
    let l = names::compare_names(&x.text, &y.text).map_or(NameLevel::Other, |l| l) as u8;
    if l > NameLevel::Strong as u8 && x.tokens != y.tokens {
        let squash = |s: &str| s.replace(' ', "");
        let (sx, sy) = (squash(&x.text), squash(&y.text));
        if sx == sy || names::jaro_winkler(&sx, &sy) >= 0.92 {
            return NameLevel::Strong as u8;
        }
    }
    l
}

fn text_level(x: &str, hx: &Histogram, y: &str, hy: &Histogram) -> u8 {
    if x == y {
        return 0;
    }
    if !may_reach_080(hx, x.len(), hy, y.len()) {
        return 3;
    }
    let s = names::jaro_winkler(x, y);
    if s >= 0.92 {
        1
    } else if s >= 0.80 {
        2
    } else {
        3
    }
}

/// Optimal-string-alignment distance (Damerau-Levenshtein with adjacent transpositions, each
/// substring edited once), stopping at `max + 1`. Strings beyond 64 bytes count as different
/// unless equal.
pub(crate) fn osa_distance(a: &[u8], b: &[u8], max: usize) -> usize {
    if a == b {
        return 0;
    }
    if a.len().abs_diff(b.len()) > max || a.len() > 64 || b.len() > 64 {
        return max + 1;
    }
    let (n, m) = (a.len(), b.len());
    // Three rows of at most 65 cells, used in rotation (row i lives at i % 3).
    let mut rows = [[0u8; 65]; 3];
    for (j, c) in rows[0].iter_mut().enumerate().take(m + 1) {
        *c = j as u8;
    }
    for i in 1..=n {
        let (r, p, p2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[r][0] = i as u8;
        let mut row_min = i as u8;
        for j in 1..=m {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[p][j] + 1)
                .min(rows[r][j - 1] + 1)
                .min(rows[p][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[p2][j - 2] + 1);
            }
            rows[r][j] = v;
            row_min = row_min.min(v);
        }
        if usize::from(row_min) > max {
            return max + 1;
        }
    }
    usize::from(rows[n % 3][m]).min(max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osa_counts_typos() {
        let d = |a: &str, b: &str| osa_distance(a.as_bytes(), b.as_bytes(), 2);
        assert_eq!(d("1804974", "1804974"), 0);
        assert_eq!(d("1804974", "1804975"), 1);
        assert_eq!(d("1804974", "1809474"), 1, "adjacent transposition");
        assert_eq!(d("1804974", "180497"), 1);
        assert_eq!(d("1804974", "18049745"), 1);
        assert_eq!(d("1804974", "1904975"), 2);
        assert_eq!(d("1804974", "2915085"), 3);
        assert_eq!(d("", "12"), 2);
        assert_eq!(d("", "123"), 3);
        let long = "9".repeat(100);
        assert_eq!(d(&long, &long), 0);
        assert_eq!(d(&long, &"9".repeat(99)), 3);
    }

    /// The histogram bound never changes a level: on every pair of a few hundred texts the
    /// level equals the plain Jaro-Winkler one.
    #[test]
    fn the_histogram_bound_is_exact() {
        use super::super::prepare::histogram;
        let words = [
            "STANLEY STREET",
            "STANLE YSTREET",
            "STANLEY ST",
            "PINKERTON CIRCUIT",
            "MIAMI",
            "BEGA FLATS",
            "KELA",
            "WINSTON HILLS",
            "RICHLANDS",
            "DAPTO",
            "SOUTH GRAFTON",
            "HOPPERS CROSSING",
            "A",
            "AB",
            "BA",
            "",
            "MACQUOID PLACE",
            "MACQUIOD PLACE",
        ];
        let plain = |x: &str, y: &str| {
            if x == y {
                0
            } else {
                let s = names::jaro_winkler(x, y);
                if s >= 0.92 {
                    1
                } else if s >= 0.80 {
                    2
                } else {
                    3
                }
            }
        };
        let mut texts: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        for w in words {
            for k in 0..w.len() {
                let mut v: Vec<u8> = w.bytes().collect();
                v.remove(k);
                texts.push(String::from_utf8(v).unwrap());
            }
        }
        for x in &texts {
            for y in &texts {
                if x.is_empty() || y.is_empty() {
                    continue;
                }
                assert_eq!(
                    text_level(x, &histogram(x), y, &histogram(y)),
                    plain(x, y),
                    "{x} / {y}"
                );
            }
        }
    }

    fn name(raw: &str) -> NameValue {
        match super::super::prepare::read_name(raw) {
            Some(Value::Name(n)) => n,
            _ => panic!("{raw}"),
        }
    }

    /// The bound never changes a name level either.
    #[test]
    fn the_name_bound_is_exact() {
        let raw = [
            "MICHAELA NEUMANN",
            "MIKHAELA NEUMAN",
            "NEUMANN MICHAELA",
            "M NEUMANN",
            "MIC HAELA",
            "JOSHUA",
            "JOSHAU",
            "JSOHUA",
            "SITI AMINAH",
            "SITI AMINA",
            "AMINAH",
            "BUDI SANTOSO",
            "BUDI",
            "SANTOSO BUDI",
            "AGUS SALIM",
            "RUTH MARIA SIMANJUNTAK",
            "RUTH SIMANJUNTAK",
            "LI",
            "LIU",
            "AL",
            "ALI",
            "MUHAMMAD RIZKI",
            "MUHAMAD RIZKY",
            "EMIILY",
            "EMILY",
        ];
        for a in raw {
            for b in raw {
                let (x, y) = (name(a), name(b));
                let plain = names::compare_names(&x.text, &y.text).map_or(4, |l| l as u8);
                let got = name_level(&x, &y);
                if got == NameLevel::Strong as u8 && plain > got && x.tokens != y.tokens {
                    continue; // the squashed-name rule
                }
                assert_eq!(got, plain, "{a} / {b}");
            }
        }
    }

    #[test]
    fn names_with_a_space_inserted_agree_strongly() {
        let c = |a: &str, b: &str| name_level(&name(a), &name(b));
        assert_eq!(c("mic haela", "michaela"), NameLevel::Strong as u8);
        assert_eq!(c("michaela", "michaela"), NameLevel::Exact as u8);
        assert_eq!(c("michaela", "jessica"), NameLevel::Other as u8);
    }
}
