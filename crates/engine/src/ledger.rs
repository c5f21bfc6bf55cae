//! The household overlap ledger: which family (KK) receives which programme in which period,
//! across every roster loaded in the store plus the roster being validated. It answers
//! PROGRAM_OVERLAP and sums the budget involved in overlaps per programme and region.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::facts::RosterRow;
use crate::keymap::{KeyMap, id16};
use crate::registries::{Registries, region_number, text};

/// A period as a closed range of months (`year * 12 + month - 1`), or an unparsed label that
/// only overlaps itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// Months `start..=end`.
    Months(u32, u32),
    /// A label that is not a year, quarter, semester or month.
    Label(String),
}

impl Period {
    /// Parses `2026`, `2026-Q4`, `2026-S1`/`2026-H1`, `2026-11`, `2026/11`; anything else is a
    /// label compared as written (upper-cased, trimmed).
    pub fn parse(s: &str) -> Period {
        let t = s.trim().to_ascii_uppercase();
        let label = || Period::Label(t.clone());
        let (y, rest) = match t.split_once(['-', '/', ' ']) {
            Some((y, r)) => (y, Some(r.trim())),
            None => (t.as_str(), None),
        };
        let Ok(year) = y.parse::<u32>() else {
            return label();
        };
        if !(1900..=2999).contains(&year) {
            return label();
        }
        let base = year * 12;
        match rest {
            None => Period::Months(base, base + 11),
            Some(r) => {
                if let Some(q) = r.strip_prefix('Q').and_then(|q| q.parse::<u32>().ok()) {
                    if (1..=4).contains(&q) {
                        return Period::Months(base + (q - 1) * 3, base + q * 3 - 1);
                    }
                } else if let Some(h) = r
                    .strip_prefix('S')
                    .or_else(|| r.strip_prefix('H'))
                    .and_then(|h| h.parse::<u32>().ok())
                {
                    if (1..=2).contains(&h) {
                        return Period::Months(base + (h - 1) * 6, base + h * 6 - 1);
                    }
                } else if let Ok(m) = r.parse::<u32>() {
                    if (1..=12).contains(&m) {
                        return Period::Months(base + m - 1, base + m - 1);
                    }
                }
                label()
            }
        }
    }

    /// Whether two periods share a month (or are the same label).
    pub fn overlaps(&self, other: &Period) -> bool {
        match (self, other) {
            (Period::Months(a, b), Period::Months(c, d)) => a <= d && c <= b,
            (Period::Label(a), Period::Label(b)) => a == b,
            _ => false,
        }
    }
}

/// One family receiving one programme in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Programme index into [`Ledger::programs`].
    pub program: u16,
    /// Period index into [`Ledger::periods`].
    pub period: u32,
    /// Benefit amount of the row (0 if not stated).
    pub amount: i64,
    /// Village of the row (10-digit number, 0 if unknown).
    pub village: u64,
}

/// Which programmes may not be combined in the same period, symmetric.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    pairs: BTreeSet<(String, String)>,
}

impl Exclusions {
    /// Declares that `a` may not be combined with `b` (and so `b` with `a`).
    pub fn forbid(&mut self, a: &str, b: &str) {
        self.pairs.insert((a.to_string(), b.to_string()));
        self.pairs.insert((b.to_string(), a.to_string()));
    }

    /// Whether `a` and `b` may not be combined.
    pub fn forbidden(&self, a: &str, b: &str) -> bool {
        a != b && self.pairs.contains(&(a.to_string(), b.to_string()))
    }
}

/// A conflicting entry found for a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// The other programme.
    pub program: String,
    /// Its period as written.
    pub period: String,
}

/// Ledger accumulation before indexing.
#[derive(Debug, Default)]
pub struct LedgerBuilder {
    programs: Vec<String>,
    periods: Vec<(String, Period)>,
    entries: Vec<(u64, Entry)>,
    /// (program, period) pairs whose stored rows are replaced by the roster being validated.
    replaced: BTreeSet<(String, String)>,
    /// Roster rows without a usable household key.
    pub unkeyed: u64,
    /// The stored snapshots each programme's rows came from (for citations).
    snapshots: BTreeMap<String, BTreeSet<i64>>,
}

impl LedgerBuilder {
    /// A new, empty builder.
    pub fn new() -> LedgerBuilder {
        LedgerBuilder::default()
    }

    fn program_index(&mut self, p: &str) -> u16 {
        match self.programs.iter().position(|x| x == p) {
            Some(i) => i as u16,
            None => {
                self.programs.push(p.to_string());
                (self.programs.len() - 1) as u16
            }
        }
    }

    fn period_index(&mut self, p: &str) -> u32 {
        match self.periods.iter().position(|x| x.0 == p) {
            Some(i) => i as u32,
            None => {
                self.periods.push((p.to_string(), Period::parse(p)));
                (self.periods.len() - 1) as u32
            }
        }
    }

    /// Marks a programme and period as the one being validated: stored roster rows of the same
    /// programme and period are ignored (the list being validated takes their place).
    pub fn replace(&mut self, program: &str, period: &str) {
        self.replaced
            .insert((program.to_string(), period.trim().to_string()));
    }

    /// Adds a row for a household.
    pub fn add(&mut self, kk: u64, program: &str, period: &str, amount: i64, village: u64) {
        let program = self.program_index(program);
        let period = self.period_index(period.trim());
        self.entries.push((
            kk,
            Entry {
                program,
                period,
                amount,
                village,
            },
        ));
    }

    /// The `roster_entry` fields [`stored_row`] reads, in its order (`snapshot_id` says which
    /// stored version of which list the row is from).
    pub const STORED_FIELDS: [&'static str; 10] = [
        "program",
        "period",
        "nik",
        "kk",
        "amount",
        "region",
        "snapshot_id",
        "nik_raw",
        "name",
        "birth_date",
    ];

    /// Whether a stored row of this programme and period counts (rows of the programme and
    /// period being validated are replaced by the list itself, see [`LedgerBuilder::replace`]).
    pub fn counts(&self, program: &str, period: &str) -> bool {
        self.replaced.is_empty()
            || !self
                .replaced
                .contains(&(program.to_string(), period.trim().to_string()))
    }

    /// Adds a stored roster row (see [`stored_row`]) whose person linkage resolved to `person`
    /// (as validation resolves a row): the household is that person's registry KK, or, when
    /// nobody was linked, the KK stated in the list.
    pub fn add_stored(
        &mut self,
        row: &RosterRow,
        snapshot: Option<i64>,
        person: Option<u64>,
        registries: &Registries,
    ) {
        let kk = person
            .and_then(|n| registries.persons.get(n).map(|p| p.kk))
            .or(row.kk);
        self.add_list_row(row, snapshot, kk);
    }

    /// Adds a row of a recipient list held as `snapshot` (a stored roster, or a list a node
    /// validated) for the household `kk` (`None`: the row has no household key and is
    /// counted as unkeyed).
    pub fn add_list_row(&mut self, row: &RosterRow, snapshot: Option<i64>, kk: Option<u64>) {
        if row.program.is_empty() || row.period.is_empty() {
            self.unkeyed += 1;
            return;
        }
        let Some(kk) = kk else {
            self.unkeyed += 1;
            return;
        };
        if let Some(sid) = snapshot
            && !self
                .snapshots
                .get(&row.program)
                .is_some_and(|set| set.contains(&sid))
        {
            self.snapshots
                .entry(row.program.clone())
                .or_default()
                .insert(sid);
        }
        self.add(
            kk,
            &row.program,
            &row.period,
            row.amount.unwrap_or(0),
            row.village.unwrap_or(0),
        );
    }

    /// Indexes the ledger.
    pub fn finish(self, exclusions: Exclusions) -> Ledger {
        Ledger {
            entries: KeyMap::from_multi(self.entries),
            programs: self.programs,
            periods: self.periods,
            exclusions,
            unkeyed: self.unkeyed,
            snapshots: self.snapshots,
        }
    }
}

/// A stored `roster_entry` row given as text in the order of [`LedgerBuilder::STORED_FIELDS`]
/// (what `Store::scan_text` hands out), as a roster row to link, and its snapshot id.
pub fn stored_row(row: &[Option<&str>]) -> (RosterRow, Option<i64>) {
    let field = |i: usize| text(row, i);
    let r = RosterRow {
        program: field(0).unwrap_or("").to_string(),
        period: field(1).unwrap_or("").trim().to_string(),
        nik: field(2).and_then(id16),
        kk: field(3).and_then(id16),
        amount: field(4).and_then(|a| a.parse().ok()),
        village: field(5).and_then(region_number),
        nik_raw: field(7).unwrap_or("").to_string(),
        name: field(8).unwrap_or("").to_string(),
        birth_date: field(9).map(str::to_string),
        ..RosterRow::default()
    };
    (r, field(6).and_then(|s| s.parse().ok()))
}

/// The household key of a person: their registry KK, else the KK stated in the list.
pub fn household(registries: &Registries, nik: Option<u64>, stated_kk: Option<u64>) -> Option<u64> {
    nik.and_then(|n| registries.persons.get(n).map(|p| p.kk))
        .or(stated_kk)
}

/// The household of each row of a recipient list, found as validation finds it: the
/// identity stage (the answerer learns the list's model on its first block of `block` rows),
/// then, for a linked person, the population stage's KK; the KK the list states when nobody
/// is linked. For a node that keeps the ledger of lists whose registries are elsewhere.
pub fn households_of(
    answerer: &mut dyn crate::answers::Answerer,
    rows: &[RosterRow],
    block: usize,
) -> Vec<Option<u64>> {
    use crate::answers::{IdentityQuestion, PopulationQuestion};
    let mut out = Vec::with_capacity(rows.len());
    for (i, chunk) in rows.chunks(block.max(1)).enumerate() {
        let questions: Vec<IdentityQuestion> = chunk.iter().map(IdentityQuestion::of).collect();
        if i == 0 {
            answerer.train(&questions);
        }
        let persons: Vec<Option<u64>> = answerer
            .identify(&questions)
            .into_iter()
            .map(|a| a.person)
            .collect();
        let (linked, asked): (Vec<usize>, Vec<PopulationQuestion>) = chunk
            .iter()
            .zip(&persons)
            .enumerate()
            .filter_map(|(k, (row, p))| {
                Some((
                    k,
                    PopulationQuestion {
                        nik: (*p)?,
                        period: row.period.clone(),
                        head: false,
                    },
                ))
            })
            .unzip();
        let mut kk: Vec<Option<u64>> = chunk.iter().map(|r| r.kk).collect();
        for (k, a) in linked.into_iter().zip(answerer.population(&asked)) {
            if let Some(a) = a {
                kk[k] = Some(a.kk);
            }
        }
        out.extend(kk);
    }
    out
}

/// Households × programmes × periods, indexed by KK.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: KeyMap<Entry>,
    programs: Vec<String>,
    periods: Vec<(String, Period)>,
    exclusions: Exclusions,
    /// Stored roster rows that had no household key.
    pub unkeyed: u64,
    /// The stored snapshots each programme's rows came from.
    snapshots: BTreeMap<String, BTreeSet<i64>>,
}

/// Budget involved in overlaps for one programme, period and region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OverlapImpact {
    /// Rows (households) of this programme that overlap a non-combinable programme.
    pub households: u64,
    /// Sum of their amounts (rupiah).
    pub amount: i64,
}

impl Ledger {
    /// Programme names in first-seen order.
    pub fn programs(&self) -> &[String] {
        &self.programs
    }

    /// The stored roster snapshots (ids) that hold rows of `program`, ascending: what a
    /// PROGRAM_OVERLAP reason cites.
    pub fn snapshots_of(&self, program: &str) -> impl Iterator<Item = i64> + '_ {
        self.snapshots.get(program).into_iter().flatten().copied()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ledger has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Programmes the family also receives, in overlapping periods, that may not be combined
    /// with `program`. Sorted and de-duplicated.
    pub fn overlaps(&self, kk: u64, program: &str, period: &str) -> Vec<Overlap> {
        let me = Period::parse(period);
        let mut out: Vec<Overlap> = self
            .entries
            .range(kk)
            .iter()
            .filter(|e| {
                let other = &self.programs[e.program as usize];
                self.exclusions.forbidden(program, other)
                    && self.periods[e.period as usize].1.overlaps(&me)
            })
            .map(|e| Overlap {
                program: self.programs[e.program as usize].clone(),
                period: self.periods[e.period as usize].0.clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.program, &a.period).cmp(&(&b.program, &b.period)));
        out.dedup();
        out
    }

    /// This ledger and another in one (same exclusions as `self`).
    pub fn merged(&self, other: &Ledger) -> Ledger {
        let mut b = LedgerBuilder::new();
        for l in [self, other] {
            for i in 0..l.entries.len() {
                let (kk, e) = l.entries.at(i);
                b.add(
                    kk,
                    &l.programs[e.program as usize],
                    &l.periods[e.period as usize].0,
                    e.amount,
                    e.village,
                );
            }
        }
        b.finish(self.exclusions.clone())
    }

    /// Every other programme the family receives in a period overlapping `period`, sorted and
    /// de-duplicated (the rules decide which may not be combined).
    pub fn programs_of(&self, kk: u64, program: &str, period: &str) -> Vec<String> {
        let me = Period::parse(period);
        let mut out: Vec<String> = self
            .entries
            .range(kk)
            .iter()
            .filter(|e| {
                self.programs[e.program as usize] != program
                    && self.periods[e.period as usize].1.overlaps(&me)
            })
            .map(|e| self.programs[e.program as usize].clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Budget involved in overlaps: for every entry whose family also receives a
    /// non-combinable programme in an overlapping period, its amount, summed by
    /// (programme, period, regency `PP.KK`). Deterministic (sorted keys).
    pub fn impact(&self) -> BTreeMap<(String, String, String), OverlapImpact> {
        let mut out: BTreeMap<(String, String, String), OverlapImpact> = BTreeMap::new();
        let mut i = 0;
        while i < self.entries.len() {
            let (kk, _) = self.entries.at(i);
            let group = self.entries.range(kk);
            if group.len() > 1 {
                for e in group {
                    let conflicting = group.iter().any(|f| {
                        self.exclusions.forbidden(
                            &self.programs[e.program as usize],
                            &self.programs[f.program as usize],
                        ) && self.periods[e.period as usize]
                            .1
                            .overlaps(&self.periods[f.period as usize].1)
                    });
                    if conflicting {
                        let regency = if e.village == 0 {
                            String::new()
                        } else {
                            let r = e.village / 1_000_000;
                            format!("{:02}.{:02}", r / 100, r % 100)
                        };
                        let slot = out
                            .entry((
                                self.programs[e.program as usize].clone(),
                                self.periods[e.period as usize].0.clone(),
                                regency,
                            ))
                            .or_default();
                        slot.households += 1;
                        slot.amount += e.amount;
                    }
                }
            }
            i += group.len();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_overlap() {
        let q4 = Period::parse("2026-Q4");
        assert_eq!(q4, Period::Months(2026 * 12 + 9, 2026 * 12 + 11));
        assert!(q4.overlaps(&Period::parse("2026-11")));
        assert!(!q4.overlaps(&Period::parse("2026-09")));
        assert!(Period::parse("2026").overlaps(&Period::parse("2026-S1")));
        assert!(!Period::parse("2025").overlaps(&Period::parse("2026-01")));
        assert!(Period::parse("tahap 3").overlaps(&Period::parse(" TAHAP 3")));
        assert!(!Period::parse("tahap 3").overlaps(&Period::parse("2026")));
    }

    #[test]
    fn overlaps_need_a_forbidden_pair_and_a_shared_month() {
        let mut b = LedgerBuilder::new();
        b.add(1, "PKH", "2026-Q4", 750_000, 3_201_010_001);
        b.add(1, "BPNT", "2026-11", 200_000, 3_201_010_001);
        b.add(1, "BLT_DD", "2026-11", 300_000, 3_201_010_001);
        b.add(2, "PKH", "2026-Q3", 750_000, 3_201_010_001);
        b.add(2, "BLT_DD", "2026-11", 300_000, 3_201_010_001);
        let mut ex = Exclusions::default();
        ex.forbid("BLT_DD", "PKH");
        ex.forbid("BLT_DD", "BPNT");
        let l = b.finish(ex);
        let o = l.overlaps(1, "BLT_DD", "2026-11");
        assert_eq!(
            o.iter().map(|o| o.program.as_str()).collect::<Vec<_>>(),
            vec!["BPNT", "PKH"]
        );
        assert_eq!(l.overlaps(1, "PKH", "2026-Q4").len(), 1, "symmetric");
        assert!(
            l.overlaps(2, "BLT_DD", "2026-11").is_empty(),
            "Q3 is before November"
        );
        let impact = l.impact();
        let blt = &impact[&("BLT_DD".into(), "2026-11".into(), "32.01".into())];
        assert_eq!(blt.households, 1);
        assert_eq!(blt.amount, 300_000);
        assert_eq!(impact.len(), 3);
    }
}
