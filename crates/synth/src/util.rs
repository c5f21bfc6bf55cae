//! Small helpers: seeded random streams, civil dates as day numbers, fast text formatting.

use std::hash::{BuildHasherDefault, Hasher};

/// SplitMix64 finaliser: a good 64-bit mixer.
pub const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Random-stream domains: each kind of decision draws from its own stream so one can be
/// regenerated without the others (family core without names, for example).
#[derive(Clone, Copy)]
#[repr(u64)]
pub enum Domain {
    Core = 1,
    Names = 2,
    Address = 3,
    Agency = 4,
    Roster = 5,
    Ghost = 6,
    GhostNames = 7,
    /// Choosing the districts of a crowded NIK space.
    Density = 8,
}

/// The random stream of one (seed, domain, index).
pub fn stream(seed: u64, domain: Domain, idx: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(mix(
        mix(seed ^ 0x5349_4E45_5247_4921) ^ mix((domain as u64) << 56 ^ idx)
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// (year, month, day) of a day number.
pub const fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whole years between two day numbers (age on `at` of someone born on `birth`).
pub fn age_on(birth: i32, at: i32) -> i32 {
    let (by, bm, bd) = civil_from_days(birth);
    let (ay, am, ad) = civil_from_days(at);
    let mut age = ay - by;
    if (am, ad) < (bm, bd) {
        age -= 1;
    }
    age
}

pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Zero-padded to `width` digits.
pub fn push_padded(buf: &mut Vec<u8>, mut v: u64, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    let mut i = start + width;
    while v > 0 && i > start {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `DD{sep}MM{sep}YYYY`.
pub fn push_dmy(buf: &mut Vec<u8>, day: i32, sep: u8) {
    let (y, m, d) = civil_from_days(day);
    push_padded(buf, d as u64, 2);
    buf.push(sep);
    push_padded(buf, m as u64, 2);
    buf.push(sep);
    push_padded(buf, y as u64, 4);
}

/// `YYYY-MM-DD`.
pub fn push_ymd(buf: &mut Vec<u8>, day: i32) {
    let (y, m, d) = civil_from_days(day);
    push_padded(buf, y as u64, 4);
    buf.push(b'-');
    push_padded(buf, m as u64, 2);
    buf.push(b'-');
    push_padded(buf, d as u64, 2);
}

/// Appends a delimited-text field, quoting it (RFC 4180 style) when it contains the
/// delimiter, a quote or a line break.
pub fn push_field(buf: &mut Vec<u8>, s: &str, delim: u8) {
    let b = s.as_bytes();
    if b.iter()
        .any(|&c| c == delim || c == b'"' || c == b'\n' || c == b'\r')
    {
        buf.push(b'"');
        for &c in b {
            if c == b'"' {
                buf.push(b'"');
            }
            buf.push(c);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(b);
    }
}

/// Appends a JSON string literal.
pub fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                buf.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

/// A fast hasher for keys that are already well-spread integers (NIK, KK numbers).
#[derive(Default)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0 ^ b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = mix(v);
    }
}

pub type IntSet = std::collections::HashSet<u64, BuildHasherDefault<IntHasher>>;
pub type IntMap<V> = std::collections::HashMap<u64, V, BuildHasherDefault<IntHasher>>;

/// Draws an index from cumulative weights (last element = total).
pub fn pick_cumulative(rng: &mut fastrand::Rng, cum: &[u32]) -> usize {
    let total = *cum.last().expect("non-empty weights");
    let x = rng.u32(0..total);
    cum.partition_point(|&c| c <= x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for d in [-25_000, -1, 0, 1, 11_016, 20_758, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(
            age_on(days_from_civil(1990, 11, 2), days_from_civil(2026, 11, 1)),
            35
        );
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut b = Vec::new();
        push_field(&mut b, "JL. MAWAR", b'|');
        b.push(b'|');
        push_field(&mut b, "A|B \"C\"", b'|');
        assert_eq!(String::from_utf8(b).unwrap(), "JL. MAWAR|\"A|B \"\"C\"\"\"");
    }
}
