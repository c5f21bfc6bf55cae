//! Reading the lists' values once: every distinct value of a field is normalised (names
//! folded, dates parsed, codes cleaned) and interned, so records carry one `u32` per field and
//! equal values compare by id. Unreadable values are counted per column with examples.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use sinergi_model::{DateShape, RegionCode, TWO_DIGIT_YEAR_PIVOT, parse_date_shape, wilayah};

use super::GenericRecord;
use super::config::{Checked, Comparator};
use crate::names;

/// Counts of a text's bytes in 32 bins (`byte & 31`: the letters fall in bins of their own),
/// spaces left out.
pub(crate) type Histogram = [u8; 32];

/// The histogram of a text.
pub(crate) fn histogram(s: &str) -> Histogram {
    let mut h = [0u8; 32];
    for b in s.bytes().filter(|&b| b != b' ') {
        let c = &mut h[(b & 31) as usize];
        *c = c.saturating_add(1);
    }
    h
}

/// Matching characters two texts can have at most: the overlap of their histograms.
#[inline]
pub(crate) fn overlap(a: &Histogram, b: &Histogram) -> u32 {
    a.iter().zip(b).map(|(x, y)| u32::from(*x.min(y))).sum()
}

/// Id of a missing value.
pub(crate) const MISSING: u32 = u32::MAX;

/// A normalised value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// Canonical name (tokens separated by one space).
    Name(NameValue),
    /// A date.
    Date(NaiveDate),
    /// Upper-case text, with its byte histogram (for a cheap bound on Jaro-Winkler).
    Text(String, Histogram),
    /// A code's letters and digits, upper case.
    Code(String),
    /// A region code's digits.
    Region(u64),
}

/// A canonical name and what bounds its comparisons.
#[derive(Debug, Clone)]
pub(crate) struct NameValue {
    /// Tokens separated by one space.
    pub text: String,
    /// Number of tokens.
    pub tokens: u8,
    /// Length of its shortest token.
    pub shortest: u8,
    /// Byte histogram.
    pub hist: Histogram,
}

/// Why a value was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// A date that is not in any known layout, does not exist or is out of 1850–2100 (the
    /// `DATE_*` code).
    Date(&'static str),
    /// Not a Kemendagri region code (or a regency not in the table).
    Region,
    /// Nothing left after normalisation (a name of titles or punctuation only).
    Empty,
}

impl Unreadable {
    /// Stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Unreadable::Date(code) => code,
            Unreadable::Region => "REGION_NOT_KEMENDAGRI",
            Unreadable::Empty => "VALUE_EMPTY_AFTER_NORMALISATION",
        }
    }
}

/// What was read in one column of one list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnReport {
    /// The field.
    pub field: String,
    /// Records with a non-empty value.
    pub present: u64,
    /// Of those, values that could not be read (treated as missing).
    pub unreadable: u64,
    /// Date layouts recognised, with counts (date fields only), most frequent first.
    pub date_shapes: Vec<(DateShape, u64)>,
    /// Up to five unreadable values: (record index, raw value, reason).
    pub examples: Vec<(u32, String, Unreadable)>,
}

impl ColumnReport {
    /// A column where more than half the values present cannot be read is almost certainly
    /// the wrong comparator or layout: an error, not silence.
    pub fn is_unusable(&self) -> bool {
        self.present > 0 && self.unreadable * 2 > self.present
    }
}

/// Values of one field: the distinct normalised values and how many records carry each.
#[derive(Debug, Clone)]
pub(crate) struct FieldValues {
    pub values: Vec<Value>,
    /// How many records of each list carry each value.
    pub count_left: Vec<u32>,
    pub count_right: Vec<u32>,
}

/// Both lists, normalised. Build with [`super::GenericLinker::prepare`].
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) fields: Vec<FieldValues>,
    /// Value ids, record after record (`fields.len()` per record): a record's ids share a
    /// cache line, which matters when pairs are compared in random order.
    pub(crate) left: Vec<u32>,
    pub(crate) right: Vec<u32>,
    pub(crate) n_left: usize,
    pub(crate) n_right: usize,
    pub(crate) dedup: bool,
    /// Per field: the left list's report, then the right list's (when linking).
    pub(crate) reports: Vec<(ColumnReport, Option<ColumnReport>)>,
}

impl Prepared {
    /// Records of the left list (or the one list when deduplicating).
    pub fn n_left(&self) -> usize {
        self.n_left
    }
    /// Records of the right list (the one list when deduplicating).
    pub fn n_right(&self) -> usize {
        if self.dedup {
            self.n_left
        } else {
            self.n_right
        }
    }
    /// Whether this is one list against itself.
    pub fn is_dedup(&self) -> bool {
        self.dedup
    }
    /// What was read per field: the left list's report and the right list's (`None` when
    /// deduplicating).
    pub fn reports(&self) -> &[(ColumnReport, Option<ColumnReport>)] {
        &self.reports
    }
    /// Value id of field `f` of left record `i`.
    #[inline]
    pub(crate) fn lid(&self, i: u32, f: usize) -> u32 {
        self.left[i as usize * self.fields.len() + f]
    }
    /// Value id of field `f` of right record `j` (of the one list when deduplicating).
    #[inline]
    pub(crate) fn rid(&self, j: u32, f: usize) -> u32 {
        let ids = if self.dedup { &self.left } else { &self.right };
        ids[j as usize * self.fields.len() + f]
    }
}

/// A name read on its own (tests).
#[cfg(test)]
pub(crate) fn read_name(raw: &str) -> Option<Value> {
    read_value(raw, Comparator::Name, None)
        .ok()
        .map(|(_, v, _)| v)
}

/// A raw value read: (interning key, value, date shape), or why not.
type Read = Result<(String, Value, Option<DateShape>), Unreadable>;

/// Normalises one raw value for a comparator.
fn read_value(raw: &str, c: Comparator, date_format: Option<sinergi_model::DateFormat>) -> Read {
    match c {
        Comparator::Name => {
            let canon = names::canonical_name(raw);
            if canon.is_empty() {
                return Err(Unreadable::Empty);
            }
            let tokens = canon.split(' ').count().min(255) as u8;
            let shortest = canon.split(' ').map(str::len).min().unwrap_or(0).min(255) as u8;
            let hist = histogram(&canon);
            let v = NameValue {
                text: canon.clone(),
                tokens,
                shortest,
                hist,
            };
            Ok((canon, Value::Name(v), None))
        }
        Comparator::Date => {
            let parsed = match date_format {
                Some(f) => f.parse(raw).map(|d| (d, shape_of(f))),
                None => parse_date_shape(raw, Some(TWO_DIGIT_YEAR_PIVOT)),
            };
            match parsed {
                Ok((d, shape)) => Ok((d.to_string(), Value::Date(d), Some(shape))),
                Err(e) => Err(Unreadable::Date(e.code())),
            }
        }
        Comparator::Text | Comparator::Exact => {
            let t = raw
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase();
            if t.is_empty() {
                return Err(Unreadable::Empty);
            }
            let h = histogram(&t);
            Ok((t.clone(), Value::Text(t, h), None))
        }
        Comparator::Code => {
            let t: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_uppercase)
                .collect();
            if t.is_empty() {
                return Err(Unreadable::Empty);
            }
            Ok((t.clone(), Value::Code(t), None))
        }
        Comparator::Region => {
            let code = RegionCode::parse(raw).map_err(|_| Unreadable::Region)?;
            // A code whose regency (or province) is not in the Kemendagri table is not a
            // region code: a postcode, a phone number, a typo.
            let anchor = code
                .at(sinergi_model::region::Level::Regency)
                .unwrap_or(code);
            if !wilayah().contains(anchor) {
                return Err(Unreadable::Region);
            }
            let digits = code.digits();
            let v: u64 = digits.parse().map_err(|_| Unreadable::Region)?;
            Ok((digits, Value::Region(v), None))
        }
    }
}

/// The shape an explicit format stands for (for the report).
fn shape_of(f: sinergi_model::DateFormat) -> DateShape {
    use sinergi_model::DateFormat as F;
    match f {
        F::DmyDash | F::DmySlash | F::DmyDot => DateShape::DayFirst,
        F::YmdDash => DateShape::YearFirst,
        F::YmdCompact => DateShape::CompactYearFirst,
        F::DmyCompact => DateShape::CompactDayFirst,
        F::DmyDashShort | F::DmySlashShort | F::DmyDotShort => DateShape::DayFirstTwoDigitYear,
        F::Excel => DateShape::ExcelSerial,
        F::Auto => DateShape::DayFirst,
    }
}

/// Raw value of field `f` of a record (trimmed, `None` when empty).
fn raw(r: &GenericRecord, f: usize) -> Option<&str> {
    r.values
        .get(f)
        .and_then(|v| v.as_deref())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub(crate) fn prepare(
    checked: &Checked,
    left: &[GenericRecord],
    right: Option<&[GenericRecord]>,
) -> Prepared {
    let config = &checked.config;
    let lists: Vec<&[GenericRecord]> = match right {
        Some(r) => vec![left, r],
        None => vec![left],
    };
    let nf = config.fields.len();
    let mut fields = Vec::with_capacity(nf);
    let mut reports = Vec::with_capacity(nf);
    let mut rows: Vec<Vec<u32>> = lists.iter().map(|l| vec![MISSING; l.len() * nf]).collect();
    for (f, spec) in config.fields.iter().enumerate() {
        // Distinct raw values across the lists, then each normalised once (in parallel).
        let mut raw_ids: HashMap<&str, u32> = HashMap::new();
        let mut raws: Vec<&str> = Vec::new();
        let per_list: Vec<Vec<u32>> = lists
            .iter()
            .map(|list| {
                list.iter()
                    .map(|r| match raw(r, f) {
                        None => MISSING,
                        Some(v) => *raw_ids.entry(v).or_insert_with(|| {
                            raws.push(v);
                            (raws.len() - 1) as u32
                        }),
                    })
                    .collect()
            })
            .collect();
        let read: Vec<Read> = raws
            .par_iter()
            .map(|v| read_value(v, spec.comparator, checked.date_format[f]))
            .collect();
        // Intern the normalised keys (in raw order: deterministic).
        let mut key_ids: HashMap<&str, u32> = HashMap::new();
        let mut values = Vec::new();
        let canon_of: Vec<u32> = read
            .iter()
            .map(|r| match r {
                Ok((key, value, _)) => *key_ids.entry(key.as_str()).or_insert_with(|| {
                    values.push(value.clone());
                    (values.len() - 1) as u32
                }),
                Err(_) => MISSING,
            })
            .collect();
        let mut fv = FieldValues {
            count_left: vec![0; values.len()],
            count_right: vec![0; values.len()],
            values,
        };
        let mut side_reports = Vec::new();
        for (side, ids) in per_list.into_iter().enumerate() {
            let mut rep = ColumnReport {
                field: spec.name.clone(),
                ..ColumnReport::default()
            };
            let mut shapes: HashMap<DateShape, u64> = HashMap::new();
            let mut out = Vec::with_capacity(ids.len());
            for (i, raw_id) in ids.into_iter().enumerate() {
                if raw_id == MISSING {
                    out.push(MISSING);
                    continue;
                }
                rep.present += 1;
                let id = canon_of[raw_id as usize];
                match &read[raw_id as usize] {
                    Ok((_, _, Some(shape))) => *shapes.entry(*shape).or_default() += 1,
                    Ok(_) => {}
                    Err(why) => {
                        rep.unreadable += 1;
                        if rep.examples.len() < 5 {
                            rep.examples
                                .push((i as u32, raws[raw_id as usize].to_string(), *why));
                        }
                    }
                }
                if id != MISSING {
                    if side == 0 {
                        fv.count_left[id as usize] += 1;
                    } else {
                        fv.count_right[id as usize] += 1;
                    }
                }
                out.push(id);
            }
            let mut shapes: Vec<(DateShape, u64)> = shapes.into_iter().collect();
            shapes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            rep.date_shapes = shapes;
            side_reports.push(rep);
            for (i, id) in out.into_iter().enumerate() {
                rows[side][i * nf + f] = id;
            }
        }
        let mut it = side_reports.into_iter();
        let l = it.next().unwrap_or_default();
        reports.push((l, it.next()));
        fields.push(fv);
    }
    let mut rows = rows.into_iter();
    Prepared {
        fields,
        left: rows.next().unwrap_or_default(),
        right: rows.next().unwrap_or_default(),
        n_left: left.len(),
        n_right: right.map_or(0, <[GenericRecord]>::len),
        dedup: right.is_none(),
        reports,
    }
}

/// The year of a date value (blocking).
pub(crate) fn year(v: &Value) -> Option<i32> {
    match v {
        Value::Date(d) => Some(d.year()),
        _ => None,
    }
}
