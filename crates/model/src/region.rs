//! Kemendagri region codes (kode wilayah) and the embedded 2025 reference table.
//!
//! A [`RegionCode`] is a validated code at one of four [`Level`]s:
//! province `PP`, regency/city `PP.KK`, district `PP.KK.CC`, village `PP.KK.CC.VVVV`.
//! The [`Wilayah`] table (Kepmendagri 300.2.2-2138/2025, from the npm package
//! `idn-area-data` 4.0.1, data under ODbL; see `data/wilayah/ATTRIBUTION.md`) is compiled into
//! the binary and parsed once on first use by [`wilayah()`].
//!
//! These are Kemendagri codes. BPS statistical codes differ and must never be mixed with them
//! without a crosswalk.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The administrative level of a region code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Provinsi, 2 digits.
    Province,
    /// Kabupaten (01–69) or kota (71–99), 4 digits.
    Regency,
    /// Kecamatan, 6 digits.
    District,
    /// Desa (first serial digit 2) or kelurahan (first serial digit 1), 10 digits.
    Village,
}

impl Level {
    /// Number of digits of a code at this level, without dots.
    pub const fn digits(self) -> usize {
        match self {
            Level::Province => 2,
            Level::Regency => 4,
            Level::District => 6,
            Level::Village => 10,
        }
    }

    fn from_digits(n: usize) -> Option<Level> {
        match n {
            2 => Some(Level::Province),
            4 => Some(Level::Regency),
            6 => Some(Level::District),
            10 => Some(Level::Village),
            _ => None,
        }
    }

    /// Bahasa Indonesia name of the level, for user-facing text.
    pub const fn name_id(self) -> &'static str {
        match self {
            Level::Province => "provinsi",
            Level::Regency => "kabupaten/kota",
            Level::District => "kecamatan",
            Level::Village => "desa/kelurahan",
        }
    }
}

/// Why a string is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    /// The code has a number of digits that matches no level (2, 4, 6 or 10).
    #[error("region code must have 2, 4, 6 or 10 digits, found {0}")]
    WrongLength(usize),
    /// Something other than digits and dots.
    #[error("region code contains a character that is not a digit or a dot")]
    NonDigit,
    /// Dots in the wrong places (for example `1.101`).
    #[error("region code dots must separate PP.KK.CC.VVVV")]
    BadDots,
    /// A component is all zeros (`00` province, regency or district, `0000` village).
    #[error("region code has a zero component")]
    ZeroComponent,
}

impl RegionCodeError {
    /// What is wrong, in Bahasa Indonesia (the `Display` text is English).
    pub fn message_id(&self) -> String {
        match self {
            RegionCodeError::WrongLength(n) => {
                format!("kode wilayah harus 2, 4, 6 atau 10 digit, ditemukan {n}")
            }
            RegionCodeError::NonDigit => {
                "kode wilayah berisi karakter selain angka dan titik".to_string()
            }
            RegionCodeError::BadDots => {
                "titik pada kode wilayah harus memisahkan PP.KK.CC.VVVV".to_string()
            }
            RegionCodeError::ZeroComponent => {
                "kode wilayah memuat bagian yang semuanya nol".to_string()
            }
        }
    }

    /// Stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            RegionCodeError::WrongLength(_) => "REGION_WRONG_LENGTH",
            RegionCodeError::NonDigit => "REGION_NON_DIGIT",
            RegionCodeError::BadDots => "REGION_BAD_DOTS",
            RegionCodeError::ZeroComponent => "REGION_ZERO_COMPONENT",
        }
    }
}

/// A structurally valid Kemendagri region code. It is not necessarily present in the current
/// table (codes of split or renamed regions stay valid in old records); use
/// [`Wilayah::get`] to look it up.
///
/// Stored as its digits in a `u64` plus its level, so it is `Copy` and cheap to hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode {
    level: Level,
    value: u64,
}

impl RegionCode {
    /// Parses `PP`, `PP.KK`, `PP.KK.CC`, `PP.KK.CC.VVVV`, or the same digits without dots
    /// (`3201`, `3201010001`). Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<RegionCode, RegionCodeError> {
        let s = input.trim();
        let mut digits = String::with_capacity(10);
        let mut dotted = false;
        for c in s.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '.' => dotted = true,
                _ => return Err(RegionCodeError::NonDigit),
            }
        }
        let level =
            Level::from_digits(digits.len()).ok_or(RegionCodeError::WrongLength(digits.len()))?;
        if dotted {
            let parts: Vec<&str> = s.split('.').collect();
            let want = [2usize, 2, 2, 4];
            if parts.len() > 4 || parts.iter().zip(want).any(|(p, w)| p.len() != w) {
                return Err(RegionCodeError::BadDots);
            }
        }
        let code = RegionCode {
            level,
            value: digits.parse().expect("digits only"),
        };
        if code.components().contains(&0) {
            return Err(RegionCodeError::ZeroComponent);
        }
        Ok(code)
    }

    /// Builds a code from numeric components, e.g. `from_parts(&[32, 1, 1, 2001])`.
    /// Returns `None` when a component is zero or too large, or the slice length is not 1–4.
    pub fn from_parts(parts: &[u32]) -> Option<RegionCode> {
        let level = match parts.len() {
            1 => Level::Province,
            2 => Level::Regency,
            3 => Level::District,
            4 => Level::Village,
            _ => return None,
        };
        let mut value: u64 = 0;
        for (i, &p) in parts.iter().enumerate() {
            let limit = if i == 3 { 10_000 } else { 100 };
            if p == 0 || p >= limit {
                return None;
            }
            value = value * limit as u64 + p as u64;
        }
        Some(RegionCode { level, value })
    }

    /// The level of this code.
    pub const fn level(&self) -> Level {
        self.level
    }

    /// Numeric components: province, then regency, district, village as present.
    pub fn components(&self) -> Vec<u32> {
        let d = self.digits();
        let mut out = vec![d[0..2].parse().unwrap()];
        if d.len() >= 4 {
            out.push(d[2..4].parse().unwrap());
        }
        if d.len() >= 6 {
            out.push(d[4..6].parse().unwrap());
        }
        if d.len() == 10 {
            out.push(d[6..10].parse().unwrap());
        }
        out
    }

    /// The digits without dots, zero-padded (`"3201010001"`).
    pub fn digits(&self) -> String {
        format!("{:0width$}", self.value, width = self.level.digits())
    }

    /// The digits as a number (handy as a compact key; unique only within one level).
    pub const fn as_u64(&self) -> u64 {
        self.value
    }

    /// The code truncated to a higher (or the same) level. Returns `None` when `level` is
    /// lower than this code's level.
    pub fn at(&self, level: Level) -> Option<RegionCode> {
        if level > self.level {
            return None;
        }
        let drop = self.level.digits() - level.digits();
        Some(RegionCode {
            level,
            value: self.value / 10u64.pow(drop as u32),
        })
    }

    /// The enclosing region's code, `None` for a province.
    pub fn parent(&self) -> Option<RegionCode> {
        let up = match self.level {
            Level::Province => return None,
            Level::Regency => Level::Province,
            Level::District => Level::Regency,
            Level::Village => Level::District,
        };
        self.at(up)
    }

    /// The province part.
    pub fn province(&self) -> RegionCode {
        self.at(Level::Province).expect("province is the top level")
    }

    /// For a regency code: true for a kota (71–99), false for a kabupaten (01–69).
    /// `None` at other levels.
    pub fn is_kota(&self) -> Option<bool> {
        (self.level == Level::Regency).then_some(self.value % 100 >= 71)
    }

    /// For a village code: true for a kelurahan (serial starting with 1), false for a desa
    /// (starting with 2). `None` at other levels.
    pub fn is_kelurahan(&self) -> Option<bool> {
        (self.level == Level::Village).then_some((self.value % 10_000) / 1000 == 1)
    }
}

impl fmt::Display for RegionCode {
    /// Dotted form, `PP.KK.CC.VVVV`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        match self.level {
            Level::Province => write!(f, "{d}"),
            Level::Regency => write!(f, "{}.{}", &d[0..2], &d[2..4]),
            Level::District => write!(f, "{}.{}.{}", &d[0..2], &d[2..4], &d[4..6]),
            Level::Village => write!(f, "{}.{}.{}.{}", &d[0..2], &d[2..4], &d[4..6], &d[6..10]),
        }
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({self})")
    }
}

impl std::str::FromStr for RegionCode {
    type Err = RegionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.to_string()
    }
}

/// One row of the reference table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// The region's code.
    pub code: RegionCode,
    /// The official name as written in the table (e.g. `Kabupaten Bogor`, `Kota Bogor`).
    pub name: String,
}

impl Region {
    /// The enclosing region's code.
    pub fn parent(&self) -> Option<RegionCode> {
        self.code.parent()
    }
}

/// The embedded Kemendagri 2025 table: lookup by code and by name, parents and children.
pub struct Wilayah {
    /// All regions sorted by (level, code).
    regions: Vec<Region>,
    by_code: HashMap<RegionCode, usize>,
    /// Normalised name (prefixes such as KABUPATEN/KOTA/KEC. removed) → indexes.
    by_name: HashMap<String, Vec<usize>>,
    /// [`loose_key`] of the normalised name → indexes (spelling variants).
    by_loose: HashMap<String, Vec<usize>>,
    /// Parent code → indexes of direct children, in code order.
    children: HashMap<RegionCode, Vec<usize>>,
}

const PROVINCES: &str = include_str!("../data/wilayah/provinces.csv");
const REGENCIES: &str = include_str!("../data/wilayah/regencies.csv");
const DISTRICTS: &str = include_str!("../data/wilayah/districts.csv");
const VILLAGES: &str = include_str!("../data/wilayah/villages.csv");

/// The embedded table, parsed on first use (about 84,000 rows; a few milliseconds).
pub fn wilayah() -> &'static Wilayah {
    static TABLE: OnceLock<Wilayah> = OnceLock::new();
    TABLE.get_or_init(|| Wilayah::from_csv([PROVINCES, REGENCIES, DISTRICTS, VILLAGES]))
}

/// Splits one line of the table's CSV into its first and last field (code and name),
/// honouring double quotes in the name (`"Lubuk Pakam I,II"`, `"Soka""an"`).
fn split_row(line: &str) -> Option<(&str, String)> {
    let (code, rest) = line.split_once(',')?;
    let name_field = if line.ends_with('"') {
        let start = rest.find('"')?;
        let inner = &rest[start + 1..rest.len() - 1];
        inner.replace("\"\"", "\"")
    } else {
        rest.rsplit(',').next()?.to_string()
    };
    Some((code, name_field))
}

/// Normalises a region name for lookup: upper case, punctuation to spaces, collapsed
/// whitespace, administrative prefixes removed. Returns the key and the kind of prefix seen.
fn name_key(name: &str) -> (String, Option<Prefix>) {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .collect();
    // Initials written with dots ("D.I. YOGYAKARTA", "D K I") become one word ("DI", "DKI").
    let mut merged: Vec<String> = Vec::new();
    let mut prev_single = false;
    for t in upper.split_whitespace() {
        let single = t.chars().count() == 1 && t.chars().all(char::is_alphabetic);
        match merged.last_mut() {
            Some(last) if single && prev_single => last.push_str(t),
            _ => merged.push(t.to_owned()),
        }
        prev_single = single;
    }
    let mut tokens: Vec<&str> = merged.iter().map(String::as_str).collect();
    let mut prefix = None;
    while let Some(first) = tokens.first() {
        let p = match *first {
            "KABUPATEN" | "KAB" => Prefix::Kabupaten,
            "KOTA" | "KOT" if tokens.len() > 1 => Prefix::Kota,
            "PROVINSI" | "PROV" | "PROP" | "PROPINSI" => Prefix::Provinsi,
            "KECAMATAN" | "KEC" => Prefix::Kecamatan,
            "KELURAHAN" | "KEL" => Prefix::Kelurahan,
            "DESA" | "DS" if tokens.len() > 1 => Prefix::Desa,
            _ => break,
        };
        prefix = Some(p);
        tokens.remove(0);
    }
    // "Kota Administrasi Jakarta Pusat", "KAB. ADM. KEP. SERIBU": the word is not part of
    // the name people use.
    while tokens.len() > 1 && matches!(tokens[0], "ADMINISTRASI" | "ADM") {
        tokens.remove(0);
    }
    let joined = tokens
        .iter()
        .map(|t| match *t {
            "DKI" => "DAERAH KHUSUS IBUKOTA",
            "DIY" => "DAERAH ISTIMEWA YOGYAKARTA",
            "DI" => "DAERAH ISTIMEWA",
            "KEP" => "KEPULAUAN",
            "SUMATRA" => "SUMATERA",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ");
    (joined, prefix)
}

/// A looser key for spelling variants, used only when the exact key finds nothing: no
/// spaces or hyphens, the old spelling (`OE` → `U`, `DJ` → `J`, `TJ` → `C`, `SJ` → `SY`,
/// `NJ` → `NY`, `CH` → `KH`) and doubled letters single (`BUKIT TINGGI` = `Bukittinggi`,
/// `TJILATJAP` = `Cilacap`).
fn loose_key(key: &str) -> String {
    let squeezed: String = key.chars().filter(|c| c.is_alphanumeric()).collect();
    let s = squeezed
        .replace("OE", "U")
        .replace("DJ", "J")
        .replace("TJ", "C")
        .replace("SJ", "SY")
        .replace("NJ", "NY")
        .replace("CH", "KH");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Province names and abbreviations in common use that are not the table's name.
const PROVINCE_ALIASES: &[(&str, &str)] = &[
    ("NAD", "ACEH"),
    ("NANGGROE ACEH DARUSSALAM", "ACEH"),
    ("ACEH DARUSSALAM", "ACEH"),
    ("SUMUT", "SUMATERA UTARA"),
    ("SUMBAR", "SUMATERA BARAT"),
    ("SUMSEL", "SUMATERA SELATAN"),
    ("BABEL", "KEPULAUAN BANGKA BELITUNG"),
    ("BANGKA BELITUNG", "KEPULAUAN BANGKA BELITUNG"),
    ("KEPRI", "KEPULAUAN RIAU"),
    ("JAKARTA", "DAERAH KHUSUS IBUKOTA JAKARTA"),
    ("DAERAH KHUSUS JAKARTA", "DAERAH KHUSUS IBUKOTA JAKARTA"),
    ("DKJ", "DAERAH KHUSUS IBUKOTA JAKARTA"),
    ("JABAR", "JAWA BARAT"),
    ("JATENG", "JAWA TENGAH"),
    ("YOGYAKARTA", "DAERAH ISTIMEWA YOGYAKARTA"),
    ("JOGJAKARTA", "DAERAH ISTIMEWA YOGYAKARTA"),
    ("DAERAH ISTIMEWA JOGJAKARTA", "DAERAH ISTIMEWA YOGYAKARTA"),
    ("JATIM", "JAWA TIMUR"),
    ("NTB", "NUSA TENGGARA BARAT"),
    ("NTT", "NUSA TENGGARA TIMUR"),
    ("KALBAR", "KALIMANTAN BARAT"),
    ("KALTENG", "KALIMANTAN TENGAH"),
    ("KALSEL", "KALIMANTAN SELATAN"),
    ("KALTIM", "KALIMANTAN TIMUR"),
    ("KALTARA", "KALIMANTAN UTARA"),
    ("SULUT", "SULAWESI UTARA"),
    ("SULTENG", "SULAWESI TENGAH"),
    ("SULSEL", "SULAWESI SELATAN"),
    ("SULTRA", "SULAWESI TENGGARA"),
    ("SULBAR", "SULAWESI BARAT"),
    ("MALUT", "MALUKU UTARA"),
];

/// Why names did not give exactly one region ([`Wilayah::resolve_names`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameLookupError {
    /// No region of this level has this name (inside the regions named above it, when
    /// `within` is given).
    Unknown {
        /// The level looked up.
        level: Level,
        /// The name as given.
        name: String,
        /// The regions the name was looked for in (those the higher levels matched).
        within: Vec<RegionCode>,
    },
    /// More than one region fits every name given; nothing is chosen.
    Ambiguous {
        /// The deepest level given.
        level: Level,
        /// The codes that fit (at most 10 shown).
        candidates: Vec<RegionCode>,
        /// How many fit.
        count: usize,
    },
}

impl NameLookupError {
    /// Stable code: `REGION_NAME_UNKNOWN` or `REGION_NAME_AMBIGUOUS`.
    pub fn code(&self) -> &'static str {
        match self {
            NameLookupError::Unknown { .. } => "REGION_NAME_UNKNOWN",
            NameLookupError::Ambiguous { .. } => "REGION_NAME_AMBIGUOUS",
        }
    }

    /// What is wrong and what to do, in `lang`.
    pub fn message(&self, lang: crate::Lang) -> String {
        let level = |l: Level| match (l, lang.is_en()) {
            (Level::Province, false) => "provinsi",
            (Level::Regency, false) => "kabupaten/kota",
            (Level::District, false) => "kecamatan",
            (Level::Village, false) => "desa/kelurahan",
            (Level::Province, true) => "province",
            (Level::Regency, true) => "regency/city",
            (Level::District, true) => "district",
            (Level::Village, true) => "village",
        };
        let list = |c: &[RegionCode]| {
            c.iter()
                .map(|c| {
                    let name = wilayah().name(*c).unwrap_or("?");
                    format!("{c} {name}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            NameLookupError::Unknown {
                level: l,
                name,
                within,
            } => {
                let inside = if within.is_empty() || within.len() > 3 {
                    String::new()
                } else if lang.is_en() {
                    format!(" in {}", list(within))
                } else {
                    format!(" di {}", list(within))
                };
                lang.pick(
                    &format!(
                        "{} {name:?}{inside} tidak ada di tabel Kemendagri 2025; periksa ejaannya atau isi kode wilayah",
                        level(*l)
                    ),
                    &format!(
                        "no {} named {name:?}{inside} in the Kemendagri 2025 table; check the spelling or give the region code",
                        level(*l)
                    ),
                )
                .to_owned()
            }
            NameLookupError::Ambiguous {
                level: l,
                candidates,
                count,
            } => lang
                .pick(
                    &format!(
                        "nama {} ini cocok dengan {count} wilayah ({}); tidak ditebak — tambahkan kolom wilayah di atasnya atau isi kode wilayah",
                        level(*l),
                        list(candidates)
                    ),
                    &format!(
                        "the {} names fit {count} regions ({}); none is guessed — map the higher levels' columns or give the region code",
                        level(*l),
                        list(candidates)
                    ),
                )
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Provinsi,
    Kabupaten,
    Kota,
    Kecamatan,
    Kelurahan,
    Desa,
}

impl Prefix {
    fn admits(self, code: RegionCode) -> bool {
        match self {
            Prefix::Provinsi => code.level() == Level::Province,
            Prefix::Kabupaten => code.is_kota() == Some(false),
            Prefix::Kota => code.is_kota() == Some(true),
            Prefix::Kecamatan => code.level() == Level::District,
            Prefix::Kelurahan => code.is_kelurahan() == Some(true),
            Prefix::Desa => code.is_kelurahan() == Some(false),
        }
    }
}

impl Wilayah {
    fn from_csv(files: [&str; 4]) -> Wilayah {
        let mut regions = Vec::with_capacity(92_000);
        for file in files {
            for line in file.lines().skip(1).filter(|l| !l.trim().is_empty()) {
                let (code, name) =
                    split_row(line).unwrap_or_else(|| panic!("bad wilayah row: {line}"));
                let code = RegionCode::parse(code)
                    .unwrap_or_else(|e| panic!("bad wilayah code {code}: {e}"));
                regions.push(Region { code, name });
            }
        }
        regions.sort_by_key(|r| (r.code.level(), r.code));
        let mut by_code = HashMap::with_capacity(regions.len());
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_loose: HashMap<String, Vec<usize>> = HashMap::new();
        let mut children: HashMap<RegionCode, Vec<usize>> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            by_code.insert(r.code, i);
            let key = name_key(&r.name).0;
            by_loose.entry(loose_key(&key)).or_default().push(i);
            by_name.entry(key).or_default().push(i);
            if let Some(p) = r.code.parent() {
                children.entry(p).or_default().push(i);
            }
        }
        Wilayah {
            regions,
            by_code,
            by_name,
            by_loose,
            children,
        }
    }

    /// The region with this exact code, if it is in the current table.
    pub fn get(&self, code: RegionCode) -> Option<&Region> {
        self.by_code.get(&code).map(|&i| &self.regions[i])
    }

    /// The name of the region with this code, if it is in the current table.
    pub fn name(&self, code: RegionCode) -> Option<&str> {
        self.get(code).map(|r| r.name.as_str())
    }

    /// Whether the code is in the current table.
    pub fn contains(&self, code: RegionCode) -> bool {
        self.by_code.contains_key(&code)
    }

    /// Regions whose name matches, insensitive to case, spacing, punctuation and
    /// administrative prefixes. A `KOTA` prefix in the query keeps only cities, `KAB.` or
    /// `KABUPATEN` only regencies, `KEC.` only districts, and so on; `level` narrows further.
    /// Results are ordered by level, then code.
    pub fn find_by_name(&self, query: &str, level: Option<Level>) -> Vec<&Region> {
        let (key, prefix) = name_key(query);
        let Some(hits) = self.by_name.get(&key) else {
            return Vec::new();
        };
        hits.iter()
            .map(|&i| &self.regions[i])
            .filter(|r| level.is_none_or(|l| r.code.level() == l))
            .filter(|r| prefix.is_none_or(|p| p.admits(r.code)))
            .collect()
    }

    /// Regions of `level` called `name` that `keep` accepts: the exact key first; when that
    /// finds none, a province alias, then the loose spelling key. A `DESA`/`KEL.` prefix does
    /// not exclude the other kind (lists confuse them); `KOTA`/`KAB.` does.
    fn lookup_level(
        &self,
        name: &str,
        level: Level,
        keep: impl Fn(&Region) -> bool,
    ) -> Vec<&Region> {
        let (key, prefix) = name_key(name);
        if key.is_empty() {
            return Vec::new();
        }
        let prefix = prefix.filter(|p| !matches!(p, Prefix::Desa | Prefix::Kelurahan));
        let pick = |ids: Option<&Vec<usize>>| -> Vec<&Region> {
            ids.into_iter()
                .flatten()
                .map(|&i| &self.regions[i])
                .filter(|r| r.code.level() == level)
                .filter(|r| prefix.is_none_or(|p| p.admits(r.code)))
                .filter(|r| keep(r))
                .collect()
        };
        let hits = pick(self.by_name.get(&key));
        if !hits.is_empty() {
            return hits;
        }
        if level == Level::Province
            && let Some((_, to)) = PROVINCE_ALIASES.iter().find(|(from, _)| *from == key)
        {
            let hits = pick(self.by_name.get(*to));
            if !hits.is_empty() {
                return hits;
            }
        }
        pick(self.by_loose.get(&loose_key(&key)))
    }

    /// The one region that the names of its levels designate, as a data officer writes
    /// them: `names` lists (level, name) from the highest level given to the deepest (any
    /// of province, regency/city, district, village may be left out). Each level is looked
    /// for inside the regions the levels above matched; the known variants are accepted
    /// (`KAB.`/`KABUPATEN`, `KOTA`, `ADM.`/`ADMINISTRASI`, `PROV.`, `KEC.`, `DESA`/`KEL.`,
    /// `KEP.`, province abbreviations such as `DKI`, `DIY`, `JABAR`, `NTT`, old spelling and
    /// spacing such as `TJILATJAP` or `BUKIT TINGGI`). Several fits are an error, never a
    /// guess.
    pub fn resolve_names(&self, names: &[(Level, &str)]) -> Result<&Region, NameLookupError> {
        let mut current: Option<Vec<&Region>> = None;
        let mut last_level = Level::Province;
        for &(level, name) in names {
            let hits = match &current {
                None => self.lookup_level(name, level, |_| true),
                Some(above) => self.lookup_level(name, level, |r| {
                    above
                        .iter()
                        .any(|a| r.code.at(a.code.level()) == Some(a.code))
                }),
            };
            if hits.is_empty() {
                return Err(NameLookupError::Unknown {
                    level,
                    name: name.trim().to_owned(),
                    within: current
                        .map(|a| a.iter().map(|r| r.code).collect())
                        .unwrap_or_default(),
                });
            }
            current = Some(hits);
            last_level = level;
        }
        match current {
            Some(c) if c.len() == 1 => Ok(c[0]),
            Some(c) => Err(NameLookupError::Ambiguous {
                level: last_level,
                candidates: c.iter().take(10).map(|r| r.code).collect(),
                count: c.len(),
            }),
            None => Err(NameLookupError::Unknown {
                level: last_level,
                name: String::new(),
                within: Vec::new(),
            }),
        }
    }

    /// Direct children of a region, in code order (empty for villages or unknown codes).
    pub fn children(&self, code: RegionCode) -> impl Iterator<Item = &Region> + '_ {
        self.children
            .get(&code)
            .into_iter()
            .flat_map(|v| v.iter().map(|&i| &self.regions[i]))
    }

    /// All regions of one level, in code order.
    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &Region> + '_ {
        let start = self.regions.partition_point(|r| r.code.level() < level);
        self.regions[start..]
            .iter()
            .take_while(move |r| r.code.level() == level)
    }

    /// Number of regions of one level.
    pub fn count(&self, level: Level) -> usize {
        self.at_level(level).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn the_embedded_table_has_the_2025_counts() {
        let w = wilayah();
        assert_eq!(w.count(Level::Province), 38);
        assert_eq!(w.count(Level::Regency), 514);
        assert_eq!(w.count(Level::District), 7_285);
        assert_eq!(w.count(Level::Village), 83_762);
    }

    #[test]
    fn codes_parse_with_and_without_dots() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("32", Ok("32")),
            ("32.01", Ok("32.01")),
            ("3201", Ok("32.01")),
            (" 32.01.01 ", Ok("32.01.01")),
            ("3201010001", Ok("32.01.01.0001")),
            ("11.01.01.2001", Ok("11.01.01.2001")),
            ("320", Err("REGION_WRONG_LENGTH")),
            ("32.1", Err("REGION_WRONG_LENGTH")),
            ("3.201", Err("REGION_BAD_DOTS")),
            ("32-01", Err("REGION_NON_DIGIT")),
            ("", Err("REGION_WRONG_LENGTH")),
            ("00", Err("REGION_ZERO_COMPONENT")),
            ("3200", Err("REGION_ZERO_COMPONENT")),
            ("32.01.01.0000", Err("REGION_ZERO_COMPONENT")),
        ];
        for (input, want) in cases {
            let got = RegionCode::parse(input)
                .map(|c| c.to_string())
                .map_err(|e| e.code());
            assert_eq!(got, want.map(str::to_string), "input {input:?}");
        }
    }

    #[test]
    fn parents_levels_and_kinds() {
        let v = code("32.01.01.2001");
        assert_eq!(v.parent(), Some(code("32.01.01")));
        assert_eq!(v.province(), code("32"));
        assert_eq!(v.at(Level::Regency), Some(code("32.01")));
        assert_eq!(code("32").parent(), None);
        assert_eq!(code("32.01").at(Level::Village), None);
        assert_eq!(code("32.01").is_kota(), Some(false));
        assert_eq!(code("32.71").is_kota(), Some(true));
        assert_eq!(v.is_kelurahan(), Some(false));
        assert_eq!(code("32.01.01.1001").is_kelurahan(), Some(true));
        assert_eq!(RegionCode::from_parts(&[32, 1, 1, 2001]), Some(v));
        assert_eq!(RegionCode::from_parts(&[32, 0]), None);
    }

    #[test]
    fn lookup_by_code_and_children() {
        let w = wilayah();
        assert_eq!(w.name(code("32")), Some("Jawa Barat"));
        assert_eq!(w.name(code("32.71")), Some("Kota Bogor"));
        assert_eq!(w.name(code("35.13.15.2017")), Some("Soka\"an"));
        assert_eq!(w.name(code("12.07.28.1007")), Some("Lubuk Pakam I,II"));
        assert!(
            w.get(code("91.01")).is_none(),
            "Merauke moved to 93.01 in 2022"
        );
        assert_eq!(w.name(code("93.01")), Some("Kabupaten Merauke"));
        let papua: Vec<String> = w.children(code("91")).map(|r| r.code.to_string()).collect();
        assert_eq!(papua.first().map(String::as_str), Some("91.03"));
        assert_eq!(w.children(code("11")).count(), 23);
        assert!(
            w.children(code("11.01.01"))
                .all(|r| r.code.level() == Level::Village)
        );
    }

    #[test]
    fn lookup_by_name_ignores_case_spacing_and_prefixes() {
        let w = wilayah();
        let codes = |q: &str, l: Option<Level>| -> Vec<String> {
            w.find_by_name(q, l)
                .iter()
                .map(|r| r.code.to_string())
                .collect()
        };
        assert_eq!(codes("jawa  barat", None), vec!["32"]);
        assert_eq!(codes("KAB. BOGOR", None), vec!["32.01"]);
        assert_eq!(codes("Kabupaten Bogor", None), vec!["32.01"]);
        assert_eq!(codes("kota bogor", None), vec!["32.71"]);
        let bogor = codes("BOGOR", Some(Level::Regency));
        assert_eq!(bogor, vec!["32.01", "32.71"]);
        assert_eq!(codes("Prov. DKI Jakarta", None).len(), 1);
        assert!(codes("Atlantis", None).is_empty());
    }

    #[test]
    fn names_of_levels_resolve_to_one_code_with_the_known_variants() {
        use Level::*;
        let w = wilayah();
        let ok = |names: &[(Level, &str)]| -> String {
            w.resolve_names(names)
                .unwrap_or_else(|e| panic!("{names:?}: {e:?}"))
                .code
                .to_string()
        };
        // A village by the four names, as Dukcapil exports write them.
        assert_eq!(
            ok(&[
                (Province, "JAWA BARAT"),
                (Regency, "KAB. BOGOR"),
                (District, "CIBINONG"),
                (Village, "KEL. PONDOK RAJEG")
            ]),
            "32.01.01.1001"
        );
        // DESA written for a kelurahan still finds it; the level above decides.
        assert_eq!(
            ok(&[
                (Province, "Jawa Barat"),
                (Regency, "Kabupaten Bogor"),
                (District, "Kec. Cibinong"),
                (Village, "Desa Pondok Rajeg")
            ]),
            "32.01.01.1001"
        );
        // ADM./ADMINISTRASI, KEP., DKI and the plain city name.
        assert_eq!(
            ok(&[
                (Province, "DKI JAKARTA"),
                (Regency, "KOTA ADM. JAKARTA PUSAT")
            ]),
            "31.71"
        );
        assert_eq!(
            ok(&[(Province, "DKI Jakarta"), (Regency, "Jakarta Pusat")]),
            "31.71"
        );
        assert_eq!(ok(&[(Regency, "KAB. ADM. KEP. SERIBU")]), "31.01");
        // Province abbreviations and older names.
        assert_eq!(ok(&[(Province, "NAD")]), "11");
        assert_eq!(ok(&[(Province, "JABAR"), (Regency, "KAB BOGOR")]), "32.01");
        assert_eq!(ok(&[(Province, "D.I. Yogyakarta")]), "34");
        assert_eq!(ok(&[(Province, "SUMATRA BARAT")]), "13");
        // Spelling and spacing variants.
        assert_eq!(ok(&[(Regency, "KABUPATEN TJILATJAP")]), "33.01");
        assert_eq!(ok(&[(Regency, "KOTA BUKIT TINGGI")]), "13.75");
        assert_eq!(ok(&[(Regency, "Kota Pangkalpinang")]), "19.71");
        // KOTA and KAB. are kept apart.
        assert_eq!(
            ok(&[(Province, "JAWA BARAT"), (Regency, "KOTA BOGOR")]),
            "32.71"
        );
    }

    #[test]
    fn names_that_fit_several_regions_or_none_are_errors_not_guesses() {
        use Level::*;
        let w = wilayah();
        let err = |names: &[(Level, &str)]| w.resolve_names(names).unwrap_err();
        // "BOGOR" without KAB./KOTA is both.
        match err(&[(Province, "JAWA BARAT"), (Regency, "BOGOR")]) {
            NameLookupError::Ambiguous {
                level, candidates, ..
            } => {
                assert_eq!(level, Regency);
                let c: Vec<String> = candidates.iter().map(|c| c.to_string()).collect();
                assert_eq!(c, vec!["32.01", "32.71"]);
            }
            other => panic!("{other:?}"),
        }
        // A district name used in three regencies of the province.
        let e = err(&[(Province, "JAWA BARAT"), (District, "SUKARAJA")]);
        assert_eq!(e.code(), "REGION_NAME_AMBIGUOUS");
        assert!(
            e.message(crate::Lang::En).contains("32.01.04"),
            "{}",
            e.message(crate::Lang::En)
        );
        // The regency disambiguates.
        assert_eq!(
            w.resolve_names(&[(Regency, "KAB. BOGOR"), (District, "SUKARAJA")])
                .unwrap()
                .code
                .to_string(),
            "32.01.04"
        );
        // A real village in the wrong district is unknown there, not moved elsewhere.
        let e = err(&[
            (Regency, "KAB. BOGOR"),
            (District, "SUKARAJA"),
            (Village, "PONDOK RAJEG"),
        ]);
        assert_eq!(e.code(), "REGION_NAME_UNKNOWN");
        assert!(e.message(crate::Lang::Id).contains("desa/kelurahan"));
        assert!(e.message(crate::Lang::En).contains("32.01.04 Sukaraja"));
        assert_eq!(err(&[(Province, "ATLANTIS")]).code(), "REGION_NAME_UNKNOWN");
        assert_eq!(err(&[(Province, "")]).code(), "REGION_NAME_UNKNOWN");
    }
}
