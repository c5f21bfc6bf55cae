//! Pass 2: programme rosters (what Dinas Sosial sends) and their ground truth.
//!
//! Each roster row is planned from its own random stream (seed, programme, row): a person is
//! drawn by index and the family regenerated on demand, anomalies are injected at the rates of
//! [`crate::Rates`], and the truth codes are computed from the resulting state, never from the
//! intent. Plans are compact (no text); text is rebuilt when the XLSX is written.

use std::collections::BTreeMap;
use std::path::Path;

use fastrand::Rng;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign};

use crate::agency::{Out, WorldIndex, new_workbook, summarise_file, xerr};
use crate::family::{Family, Rel, Segment, gen_core};
use crate::ids;
use crate::names::{gen_address, gen_names, variant};
use crate::refdata::Ref;
use crate::util::{Domain, IntSet, civil_from_days, push_padded, push_u64, stream};
use crate::{FileSummary, Phase, Progress, Rates, SynthError};

/// The demo programmes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Pkh,
    Bpnt,
    PbiJk,
    BltDd,
}

impl Program {
    pub fn code(self) -> &'static str {
        match self {
            Program::Pkh => "PKH",
            Program::Bpnt => "BPNT",
            Program::PbiJk => "PBI_JK",
            Program::BltDd => "BLT_DD",
        }
    }
    /// Highest eligible DTSEN decile.
    pub fn cut(self) -> u8 {
        match self {
            Program::PbiJk => 5,
            _ => 4,
        }
    }
    pub fn is_family(self) -> bool {
        self != Program::PbiJk
    }
    /// Roster length for a world of `families` families and `people` people.
    pub fn rows(self, families: u64, people: u64) -> u64 {
        let n = match self {
            Program::Pkh => families * 4 / 100,
            Program::Bpnt => families * 7 / 100,
            Program::PbiJk => people * 6 / 100,
            Program::BltDd => families * 15 / 1000,
        };
        n.min(MAX_ROWS)
    }
}

/// Rows per roster at most (one worksheet holds 1,048,576 rows).
pub const MAX_ROWS: u64 = 1_000_000;

/// Reason codes as bit flags; [`CODE_NAMES`] gives their names in sorted order.
pub mod code {
    pub const CIVIL_SERVANT: u16 = 1 << 0;
    pub const DECEASED: u16 = 1 << 1;
    pub const DECILE_ABOVE_CUT: u16 = 1 << 2;
    pub const DUPLICATE_IN_LIST: u16 = 1 << 3;
    pub const EXCEPTION_CATASTROPHIC: u16 = 1 << 4;
    pub const FORMAL_EMPLOYEE_INSURED: u16 = 1 << 5;
    pub const IDENTITY_MISMATCH: u16 = 1 << 6;
    pub const KK_MISMATCH: u16 = 1 << 7;
    pub const NIK_INVALID: u16 = 1 << 8;
    pub const NIK_NOT_FOUND: u16 = 1 << 9;
    pub const NOT_IN_DTSEN: u16 = 1 << 10;
    pub const OUT_OF_REGION: u16 = 1 << 11;
    pub const PROGRAM_OVERLAP: u16 = 1 << 12;
    pub const WAGE_ABOVE_MINIMUM: u16 = 1 << 13;
}

/// Code names, alphabetically sorted, in bit order.
pub const CODE_NAMES: [&str; 14] = [
    "CIVIL_SERVANT",
    "DECEASED",
    "DECILE_ABOVE_CUT",
    "DUPLICATE_IN_LIST",
    "EXCEPTION_CATASTROPHIC",
    "FORMAL_EMPLOYEE_INSURED",
    "IDENTITY_MISMATCH",
    "KK_MISMATCH",
    "NIK_INVALID",
    "NIK_NOT_FOUND",
    "NOT_IN_DTSEN",
    "OUT_OF_REGION",
    "PROGRAM_OVERLAP",
    "WAGE_ABOVE_MINIMUM",
];

/// How the NIK cell is written.
#[derive(Clone, Copy, Debug)]
enum NikCell {
    /// Text cell with the 16 digits.
    Text(u64),
    /// Text cell with the 16 digits and a stray trailing space.
    TextSpace(u64),
    /// No cell at all.
    Missing,
    /// Number cell; Excel keeps 15 significant digits so the 16th reads as 0.
    Number(u64),
    /// Text cell with an invalid string.
    Raw([u8; 20], u8),
}

/// Injected-anomaly kinds (for truth/injected.csv).
mod inj {
    pub const GHOST: u32 = 1 << 0;
    pub const DUP_SAME: u32 = 1 << 1;
    pub const DUP_TYPO: u32 = 1 << 2;
    pub const TYPO: u32 = 1 << 3;
    pub const SWAP: u32 = 1 << 4;
    pub const INVALID: u32 = 1 << 5;
    pub const MISSING: u32 = 1 << 6;
    pub const TRUNCATED: u32 = 1 << 7;
    pub const SPACE: u32 = 1 << 8;
    pub const KK: u32 = 1 << 9;
    pub const REGION: u32 = 1 << 10;
    pub const NAME: u32 = 1 << 11;
    pub const DATE: u32 = 1 << 12;
    pub const NAME_TYPO: u32 = 1 << 13;
    pub const BIN_BINTI: u32 = 1 << 14;
    pub const DROPPED_TOKEN: u32 = 1 << 15;
    pub const INITIALS: u32 = 1 << 16;
    pub const DATE_DEFAULT: u32 = 1 << 17;
    pub const DAY_TYPO: u32 = 1 << 18;
    pub const NAMES: [&str; 19] = [
        "ghost",
        "dup_same_nik",
        "dup_mistyped_nik",
        "nik_one_digit",
        "nik_swap",
        "nik_invalid",
        "nik_missing",
        "nik_truncated",
        "nik_whitespace",
        "kk_mismatch",
        "out_of_region",
        "name_variant",
        "date_text",
        "name_typo",
        "name_bin_binti",
        "name_dropped_token",
        "name_initials",
        "date_default",
        "date_day_typo",
    ];
}

/// A name slip of a row (the error habits of real lists; see [`crate::Rates`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameSlip {
    None,
    Typo,
    BinBinti,
    DroppedToken,
    Initials,
}

/// A birth-date slip of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DateSlip {
    None,
    Default,
    DayTypo,
}

#[derive(Clone, Copy, Debug)]
struct RowPlan {
    /// Family index (world) or ghost stream index.
    fam: u64,
    member: u8,
    ghost: bool,
    nik: NikCell,
    kk_listed: u64,
    /// Kode Desa, index into `Ref::villages`.
    village: u32,
    /// Domicile village of the true person (index into `Ref::villages`).
    home: u32,
    /// 0 = Excel date; 1..=4 text formats.
    date_style: u8,
    name_variant: bool,
    name_slip: NameSlip,
    date_slip: DateSlip,
    nominal: u32,
    /// Codes that depend on the true person (computed at selection).
    person: u16,
    true_nik: u64,
    true_kk: u64,
    injected: u32,
    /// Generation order, for stable sorting and per-row streams.
    seq: u32,
}

struct Ctx<'a> {
    r: &'a Ref,
    index: &'a WorldIndex,
    seed: u64,
    today: i32,
    rates: &'a Rates,
    /// Rows for some rosters instead of the programme's share of the world (benchmarks).
    roster_rows: &'a BTreeMap<String, u64>,
    /// KKs of PKH and BPNT rows (for BLT_DD overlap) and their families.
    pkh_bpnt_kks: IntSet,
    pkh_bpnt_families: Vec<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Normal,
    Deceased,
    Civil,
    Wage,
    Ppu,
    Catastrophic,
    DecileAbove,
    NotInDtsen,
    Overlap,
}

impl Target {
    /// (wanted codes, codes allowed besides them at first).
    fn want(self) -> (u16, u16) {
        use code::*;
        match self {
            Target::Normal => (0, 0),
            Target::Deceased => (DECEASED, 0),
            Target::Civil => (
                CIVIL_SERVANT,
                WAGE_ABOVE_MINIMUM | DECILE_ABOVE_CUT | NOT_IN_DTSEN | FORMAL_EMPLOYEE_INSURED,
            ),
            Target::Wage => (
                WAGE_ABOVE_MINIMUM,
                DECILE_ABOVE_CUT | FORMAL_EMPLOYEE_INSURED,
            ),
            Target::Ppu => (FORMAL_EMPLOYEE_INSURED, WAGE_ABOVE_MINIMUM),
            Target::Catastrophic => (DECILE_ABOVE_CUT | EXCEPTION_CATASTROPHIC, 0),
            Target::DecileAbove => (DECILE_ABOVE_CUT, 0),
            Target::NotInDtsen => (NOT_IN_DTSEN, 0),
            Target::Overlap => (PROGRAM_OVERLAP, 0),
        }
    }
}

/// Codes of a true person that do not depend on how the row is written.
fn person_codes(ctx: &Ctx, prog: Program, fam: &Family, m: usize) -> u16 {
    use code::*;
    let p = &fam.members[m];
    let head = &fam.members[0];
    let fp = prog.is_family();
    let mut mask = 0;
    if p.death.is_some() {
        mask |= DECEASED;
    }
    if p.in_civil_file() || (fp && head.in_civil_file()) {
        mask |= CIVIL_SERVANT;
    }
    let umk = ctx.r.village_regency(fam.village).umk;
    if p.wage_row().is_some_and(|w| w > umk) || (fp && head.wage_row().is_some_and(|w| w > umk)) {
        mask |= WAGE_ABOVE_MINIMUM;
    }
    if prog == Program::PbiJk && p.segment == Segment::Ppu && p.active {
        mask |= FORMAL_EMPLOYEE_INSURED;
    }
    if !fam.in_dtsen {
        mask |= NOT_IN_DTSEN;
    } else if fam.decile > prog.cut() {
        mask |= DECILE_ABOVE_CUT;
    }
    if prog == Program::PbiJk && p.katastropik && mask & DECILE_ABOVE_CUT != 0 {
        mask |= EXCEPTION_CATASTROPHIC;
    }
    if prog == Program::BltDd && ctx.pkh_bpnt_kks.contains(&fam.kk) {
        mask |= PROGRAM_OVERLAP;
    }
    mask
}

/// One roster being generated.
struct Gen {
    prog: Program,
    rows: Vec<RowPlan>,
    listed: IntSet,
    used_people: IntSet,
    used_families: IntSet,
    /// Rows with a true person so far.
    real_rows: u64,
}

const MAX_TRIES: u32 = 3000;

fn representatives(prog: Program, rng: &mut Rng, fam: &Family, out: &mut Vec<usize>) {
    out.clear();
    let n = fam.members.len();
    if prog.is_family() {
        let wife = (n > 1 && fam.members[1].rel == crate::family::Rel::Wife).then_some(1);
        let wife_first = match prog {
            Program::Pkh => rng.f32() < 0.7,
            Program::Bpnt => rng.f32() < 0.4,
            _ => rng.f32() < 0.2,
        };
        match (wife, wife_first) {
            (Some(w), true) => out.extend([w, 0]),
            (Some(w), false) => out.extend([0, w]),
            (None, _) => out.push(0),
        }
    } else {
        let start = rng.usize(0..n);
        out.extend((0..n).map(|i| (start + i) % n));
    }
}

/// Draws a true person matching `target`. Returns (family, member, person codes).
fn select(
    ctx: &Ctx,
    g: &Gen,
    target: Target,
    rng: &mut Rng,
    fam: &mut Family,
    reps: &mut Vec<usize>,
) -> Option<(u64, usize, u16)> {
    let families = ctx.index.families;
    if families == 0 {
        return None;
    }
    let (want, extra) = target.want();
    for attempt in 0..MAX_TRIES {
        let f = if target == Target::Overlap {
            if ctx.pkh_bpnt_families.is_empty() {
                return None;
            }
            ctx.pkh_bpnt_families[rng.usize(0..ctx.pkh_bpnt_families.len())]
        } else {
            rng.u64(0..families)
        };
        if g.prog.is_family() && g.used_families.contains(&f) {
            continue;
        }
        ctx.index.family(ctx.r, ctx.seed, ctx.today, f, fam);
        if g.prog == Program::BltDd && !ctx.r.villages[fam.village as usize].desa {
            continue;
        }
        representatives(g.prog, rng, fam, reps);
        for &m in reps.iter() {
            let nik = fam.members[m].nik;
            if g.used_people.contains(&nik) || g.listed.contains(&nik) {
                continue;
            }
            let mask = person_codes(ctx, g.prog, fam, m);
            let ok = if target == Target::Normal {
                mask == 0
            } else if attempt < MAX_TRIES / 2 {
                mask & !extra == want
            } else {
                mask & want == want
            };
            if ok {
                return Some((f, m, mask));
            }
        }
    }
    None
}

fn digits_of(n: u64) -> [u8; 16] {
    let mut d = [0u8; 16];
    let mut v = n;
    for i in (0..16).rev() {
        d[i] = (v % 10) as u8;
        v /= 10;
    }
    d
}

fn from_digits(d: &[u8; 16]) -> u64 {
    d.iter().fold(0, |acc, &x| acc * 10 + x as u64)
}

/// One wrong digit (`swap` false) or two adjacent digits swapped.
fn mistype(rng: &mut Rng, nik: u64, swap: bool) -> u64 {
    let mut d = digits_of(nik);
    if swap {
        for _ in 0..32 {
            let i = rng.usize(0..15);
            if d[i] != d[i + 1] {
                d.swap(i, i + 1);
                return from_digits(&d);
            }
        }
        // All digits equal pairwise: fall back to a wrong digit.
    }
    let i = rng.usize(0..16);
    let old = d[i];
    d[i] = (old + rng.u8(1..10)) % 10;
    from_digits(&d)
}

fn raw(s: &str) -> NikCell {
    let mut b = [0u8; 20];
    let n = s.len().min(20);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    NikCell::Raw(b, n as u8)
}

/// A NIK string that fails the structural check, in one of the ways clerks break them.
fn invalid_nik(rng: &mut Rng, nik: u64, known: &[bool; 100]) -> NikCell {
    for _ in 0..16 {
        let s = format!("{nik:016}");
        let cand = match rng.u32(0..7) {
            0 => {
                // Letter O typed for zero, or l for one.
                let mut b = s.into_bytes();
                let pos: Vec<usize> = (0..16).filter(|&i| b[i] == b'0' || b[i] == b'1').collect();
                if pos.is_empty() {
                    continue;
                }
                let i = pos[rng.usize(0..pos.len())];
                b[i] = if b[i] == b'0' { b'O' } else { b'l' };
                String::from_utf8(b).expect("ascii")
            }
            1 => {
                let i = rng.usize(0..16);
                format!("{}{}", &s[..i], &s[i + 1..])
            }
            2 => {
                let i = rng.usize(0..16);
                format!("{}{}{}", &s[..i], rng.u8(0..10), &s[i..])
            }
            3 => format!(
                "{}{:02}{}",
                &s[..6],
                [0u8, 32, 35, 72, 80][rng.usize(0..5)],
                &s[8..]
            ),
            4 => format!("{}{:02}{}", &s[..8], rng.u8(13..20), &s[10..]),
            5 => format!("{}0000", &s[..12]),
            _ => format!(
                "{:02}{}",
                [0u8, 10, 20, 30, 40, 99][rng.usize(0..6)],
                &s[2..]
            ),
        };
        if !ids::nik_text_is_valid(&cand, known) {
            return raw(&cand);
        }
    }
    raw("-")
}

fn pick_target(prog: Program, rates: &Rates, rng: &mut Rng) -> Target {
    let mut x = rng.f64();
    let mut table = vec![
        (Target::Deceased, rates.deceased),
        (Target::Civil, rates.civil_servant),
        (Target::Wage, rates.wage_above_minimum),
        (Target::DecileAbove, rates.decile_above_cut),
        (Target::NotInDtsen, rates.not_in_dtsen),
    ];
    if prog == Program::PbiJk {
        table.push((Target::Ppu, rates.formal_employee_insured));
        table.push((Target::Catastrophic, rates.catastrophic_exception));
    }
    if prog == Program::BltDd {
        table.push((Target::Overlap, rates.program_overlap));
    }
    for (t, p) in table {
        if x < p {
            return t;
        }
        x -= p;
    }
    Target::Normal
}

fn nominal(prog: Program, rng: &mut Rng) -> u32 {
    match prog {
        Program::Pkh => [225_000, 300_000, 375_000, 600_000, 750_000, 900_000][rng.usize(0..6)],
        Program::Bpnt => 200_000,
        Program::PbiJk => 42_000,
        Program::BltDd => 300_000,
    }
}

/// A different village for an out-of-region row: another desa of the same district (BLT_DD),
/// or a village of another regency (others).
fn other_village(r: &Ref, rng: &mut Rng, prog: Program, home: u32) -> Option<u32> {
    let hv = &r.villages[home as usize];
    if prog == Program::BltDd {
        // Villages are sorted by code: scan the neighbourhood for desa of the same district.
        let lo = home.saturating_sub(60) as usize;
        let hi = (home as usize + 60).min(r.villages.len());
        let cands: Vec<u32> = (lo..hi)
            .filter(|&i| {
                i as u32 != home && r.villages[i].district == hv.district && r.villages[i].desa
            })
            .map(|i| i as u32)
            .collect();
        if !cands.is_empty() {
            return Some(cands[rng.usize(0..cands.len())]);
        }
    }
    let prov = &r.provinces[r.regencies[hv.regency as usize].province as usize];
    for _ in 0..64 {
        let v = if rng.f32() < 0.7 {
            prov.villages[rng.usize(0..prov.villages.len())]
        } else {
            rng.u32(0..r.villages.len() as u32)
        };
        let vv = &r.villages[v as usize];
        if vv.regency != hv.regency && (prog != Program::BltDd || vv.desa) {
            return Some(v);
        }
    }
    None
}

fn plan_row(ctx: &Ctx, g: &mut Gen, i: u64, fam: &mut Family, reps: &mut Vec<usize>) {
    let rates = ctx.rates;
    let prog = g.prog;
    let mut rng = stream(ctx.seed, Domain::Roster, (prog as u64) << 40 | i);
    let r = ctx.r;
    let x = rng.f64();
    let mut plan;
    if x < rates.ghost {
        // A person who is not in the registry at all.
        let mut grng = stream(ctx.seed, Domain::Ghost, (prog as u64) << 40 | i);
        gen_core(r, &mut grng, i, ctx.today, None, fam);
        if prog == Program::BltDd && !r.villages[fam.village as usize].desa {
            return;
        }
        let m = if prog.is_family() {
            0
        } else {
            grng.usize(0..fam.members.len())
        };
        let nik = fam.members[m].nik;
        if g.listed.contains(&nik) {
            return;
        }
        plan = RowPlan {
            fam: i,
            member: m as u8,
            ghost: true,
            nik: NikCell::Text(nik),
            kk_listed: fam.kk,
            village: fam.village,
            home: fam.village,
            date_style: 0,
            name_variant: false,
            name_slip: NameSlip::None,
            date_slip: DateSlip::None,
            nominal: nominal(prog, &mut rng),
            person: 0,
            true_nik: 0,
            true_kk: 0,
            injected: inj::GHOST,
            seq: g.rows.len() as u32,
        };
    } else {
        let x = x - rates.ghost;
        let dup = if g.real_rows > 0 && x < rates.dup_same_nik + rates.dup_mistyped_nik {
            Some(x < rates.dup_same_nik)
        } else {
            None
        };
        if let Some(same) = dup {
            // The same person again, from an earlier row.
            let earlier = loop {
                let p = g.rows[rng.usize(0..g.rows.len())];
                if !p.ghost {
                    break p;
                }
            };
            ctx.index.family(r, ctx.seed, ctx.today, earlier.fam, fam);
            let mut p = earlier;
            p.person = person_codes(ctx, prog, fam, earlier.member as usize);
            p.nik = NikCell::Text(earlier.true_nik);
            p.kk_listed = fam.kk;
            p.village = fam.village;
            p.home = fam.village;
            p.date_style = 0;
            p.name_variant = false;
            p.name_slip = NameSlip::None;
            p.date_slip = DateSlip::None;
            p.injected = if same { inj::DUP_SAME } else { inj::DUP_TYPO };
            p.seq = g.rows.len() as u32;
            if !same {
                let mut ok = false;
                for _ in 0..16 {
                    let swap = rng.bool();
                    let t = mistype(&mut rng, earlier.true_nik, swap);
                    if t != earlier.true_nik
                        && !g.listed.contains(&t)
                        && !g.used_people.contains(&t)
                    {
                        p.nik = NikCell::Text(t);
                        ok = true;
                        break;
                    }
                }
                if !ok {
                    return;
                }
            }
            plan = p;
        } else {
            let target = pick_target(prog, rates, &mut rng);
            let Some((f, m, person)) = select(ctx, g, target, &mut rng, fam, reps) else {
                return;
            };
            let p = &fam.members[m];
            plan = RowPlan {
                fam: f,
                member: m as u8,
                ghost: false,
                nik: NikCell::Text(p.nik),
                kk_listed: fam.kk,
                village: fam.village,
                home: fam.village,
                date_style: 0,
                name_variant: false,
                name_slip: NameSlip::None,
                date_slip: DateSlip::None,
                nominal: nominal(prog, &mut rng),
                person,
                true_nik: p.nik,
                true_kk: fam.kk,
                injected: 0,
                seq: g.rows.len() as u32,
            };
            // How the NIK is written.
            let y = rng.f64();
            let c = [
                rates.nik_one_digit,
                rates.nik_swap,
                rates.nik_invalid,
                rates.nik_missing,
                rates.nik_truncated,
                rates.nik_whitespace,
            ];
            let mut acc = 0.0;
            let mut kind = usize::MAX;
            for (k, &pk) in c.iter().enumerate() {
                acc += pk;
                if y < acc {
                    kind = k;
                    break;
                }
            }
            match kind {
                0 | 1 => {
                    for _ in 0..16 {
                        let t = mistype(&mut rng, p.nik, kind == 1);
                        if t != p.nik && !g.listed.contains(&t) && !g.used_people.contains(&t) {
                            plan.nik = NikCell::Text(t);
                            plan.injected |= if kind == 1 { inj::SWAP } else { inj::TYPO };
                            break;
                        }
                    }
                }
                2 => {
                    plan.nik = invalid_nik(&mut rng, p.nik, &r.province_known);
                    plan.injected |= inj::INVALID;
                }
                3 => {
                    plan.nik = NikCell::Missing;
                    plan.injected |= inj::MISSING;
                }
                4 => {
                    plan.nik = NikCell::Number(p.nik - p.nik % 10);
                    plan.injected |= inj::TRUNCATED;
                }
                5 => {
                    plan.nik = NikCell::TextSpace(p.nik);
                    plan.injected |= inj::SPACE;
                }
                _ => {}
            }
        }
        // Stated KK and region.
        if rng.f64() < rates.kk_mismatch {
            let other = if rng.bool() && ctx.index.families > 1 {
                let mut f2 = rng.u64(0..ctx.index.families);
                if f2 == plan.fam {
                    f2 = (f2 + 1) % ctx.index.families;
                }
                let mut tmp = Family::default();
                ctx.index.family(r, ctx.seed, ctx.today, f2, &mut tmp);
                tmp.kk
            } else {
                mistype(&mut rng, plan.true_kk, false)
            };
            if other != plan.true_kk {
                plan.kk_listed = other;
                plan.injected |= inj::KK;
            }
        }
        if rng.f64() < rates.out_of_region
            && let Some(v) = other_village(r, &mut rng, prog, plan.village)
        {
            plan.village = v;
            plan.injected |= inj::REGION;
        }
    }
    if rng.f64() < rates.name_variant {
        plan.name_variant = true;
        plan.injected |= inj::NAME;
    }
    if rng.f64() < rates.date_text {
        plan.date_style = rng.u8(1..5);
        plan.injected |= inj::DATE;
    }
    // The error habits draw from a stream of their own, so worlds without them are unchanged.
    let mut hrng = stream(ctx.seed, Domain::Roster, (prog as u64) << 40 | 1 << 38 | i);
    let x = hrng.f64();
    if !plan.name_variant {
        let kinds = [
            (NameSlip::Typo, rates.name_typo, inj::NAME_TYPO),
            (NameSlip::BinBinti, rates.name_bin_binti, inj::BIN_BINTI),
            (
                NameSlip::DroppedToken,
                rates.name_dropped_token,
                inj::DROPPED_TOKEN,
            ),
            (NameSlip::Initials, rates.name_initials, inj::INITIALS),
        ];
        let mut acc = 0.0;
        for (kind, p, flag) in kinds {
            acc += p;
            if x < acc {
                plan.name_slip = kind;
                plan.injected |= flag;
                break;
            }
        }
    }
    let y = hrng.f64();
    if y < rates.date_default {
        plan.date_slip = DateSlip::Default;
        plan.injected |= inj::DATE_DEFAULT;
    } else if y < rates.date_default + rates.date_day_typo {
        plan.date_slip = DateSlip::DayTypo;
        plan.injected |= inj::DAY_TYPO;
    }
    // Bookkeeping for uniqueness guarantees (see docs/TRUTH.md).
    match plan.nik {
        NikCell::Text(n) | NikCell::TextSpace(n) => {
            g.listed.insert(n);
        }
        _ => {}
    }
    if !plan.ghost {
        g.real_rows += 1;
        g.used_people.insert(plan.true_nik);
        g.used_families.insert(plan.fam);
    }
    g.rows.push(plan);
}

fn generate_plans(ctx: &Ctx, prog: Program) -> Gen {
    let n = ctx.roster_rows.get(prog.code()).map_or_else(
        || prog.rows(ctx.index.families, ctx.index.people),
        |n| (*n).min(MAX_ROWS),
    );
    let mut g = Gen {
        prog,
        rows: Vec::with_capacity(n as usize),
        listed: IntSet::default(),
        used_people: IntSet::default(),
        used_families: IntSet::default(),
        real_rows: 0,
    };
    let mut fam = Family::default();
    let mut reps = Vec::with_capacity(10);
    for i in 0..n {
        plan_row(ctx, &mut g, i, &mut fam, &mut reps);
    }
    if prog == Program::BltDd {
        // Lists are per village: group rows by Kode Desa.
        g.rows
            .sort_by_key(|p| (ctx.r.villages[p.village as usize].digits, p.seq));
    }
    g
}

/// Final codes of every row, in row order.
fn final_codes(ctx: &Ctx, g: &Gen, overlap_kks: &IntSet) -> Vec<u16> {
    use code::*;
    let mut seen = IntSet::default();
    let mut out = Vec::with_capacity(g.rows.len());
    for p in &g.rows {
        let mut c = p.person & !PROGRAM_OVERLAP;
        match p.nik {
            NikCell::Missing | NikCell::Number(_) | NikCell::Raw(..) => c |= NIK_INVALID,
            NikCell::Text(n) | NikCell::TextSpace(n) => {
                if !ids::nik_text_is_valid(&format!("{n:016}"), &ctx.r.province_known) {
                    c |= NIK_INVALID;
                } else if !ctx.index.niks.contains(&n) {
                    c |= NIK_NOT_FOUND;
                } else if p.ghost || n != p.true_nik {
                    c |= IDENTITY_MISMATCH;
                }
            }
        }
        if !p.ghost {
            if !seen.insert(p.true_nik) {
                c |= DUPLICATE_IN_LIST;
            }
            if p.kk_listed != p.true_kk {
                c |= KK_MISMATCH;
            }
            let home = p.home;
            let (hv, lv) = (
                &ctx.r.villages[home as usize],
                &ctx.r.villages[p.village as usize],
            );
            let out_of_region = if g.prog == Program::BltDd {
                home != p.village
            } else {
                hv.regency != lv.regency
            };
            if out_of_region {
                c |= OUT_OF_REGION;
            }
            if overlap_kks.contains(&p.true_kk) {
                c |= PROGRAM_OVERLAP;
            }
        }
        out.push(c);
    }
    out
}

pub struct RosterOutput {
    pub files: Vec<FileSummary>,
    /// Rows per programme and per code, for the summary.
    pub code_counts: Vec<(String, Vec<(String, u64)>)>,
}

const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// Everything written for one programme.
struct Emitted {
    truth: FileSummary,
    xlsx: FileSummary,
    counts: [u64; 14],
    injected: Vec<u8>,
    injected_rows: u64,
}

fn emit(
    ctx: &Ctx,
    g: &Gen,
    overlap: &IntSet,
    period: &str,
    out: &Path,
) -> Result<Emitted, SynthError> {
    let codes = final_codes(ctx, g, overlap);
    let mut counts = [0u64; 14];
    let mut truth = Out::create(out, &format!("truth/{}.csv", g.prog.code()))?;
    truth.buf.extend_from_slice(b"row_no,true_nik,codes\n");
    let mut injected = Vec::new();
    let mut injected_rows = 0;
    for (i, (p, &c)) in g.rows.iter().zip(&codes).enumerate() {
        push_u64(&mut truth.buf, i as u64 + 1);
        truth.buf.push(b',');
        if !p.ghost {
            push_padded(&mut truth.buf, p.true_nik, 16);
        }
        truth.buf.push(b',');
        let mut first = true;
        for (b, name) in CODE_NAMES.iter().enumerate() {
            if c & (1 << b) != 0 {
                counts[b] += 1;
                if !first {
                    truth.buf.push(b';');
                }
                truth.buf.extend_from_slice(name.as_bytes());
                first = false;
            }
        }
        truth.end_row(false)?;
        if p.injected != 0 {
            let b = &mut injected;
            b.extend_from_slice(g.prog.code().as_bytes());
            b.push(b',');
            push_u64(b, i as u64 + 1);
            b.push(b',');
            if !p.ghost {
                push_padded(b, p.true_nik, 16);
            }
            b.push(b',');
            let mut first = true;
            for (k, name) in inj::NAMES.iter().enumerate() {
                if p.injected & (1 << k) != 0 {
                    if !first {
                        b.push(b';');
                    }
                    b.extend_from_slice(name.as_bytes());
                    first = false;
                }
            }
            b.push(b'\n');
            injected_rows += 1;
        }
    }
    let rows = write_xlsx(ctx, g, period, out)?;
    Ok(Emitted {
        truth: truth.finish()?,
        xlsx: summarise_file(out, &format!("rosters/{}.xlsx", g.prog.code()), rows)?,
        counts,
        injected,
        injected_rows,
    })
}

/// Plans, truth and XLSX of the four rosters. Independent work runs on scoped threads; the
/// output does not depend on scheduling (each roster has its own streams and files).
#[allow(clippy::too_many_arguments)]
pub fn write_rosters(
    r: &Ref,
    index: &WorldIndex,
    seed: u64,
    today: i32,
    rates: &Rates,
    roster_rows: &BTreeMap<String, u64>,
    period: &str,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<RosterOutput, SynthError> {
    let mut ctx = Ctx {
        r,
        index,
        seed,
        today,
        rates,
        roster_rows,
        pkh_bpnt_kks: IntSet::default(),
        pkh_bpnt_families: Vec::new(),
    };
    let report = |progress: &mut dyn FnMut(Progress)| {
        progress(Progress {
            phase: Phase::Rosters,
            people_done: index.people,
            people_total: index.people,
        })
    };
    report(progress);
    let (pkh, bpnt, pbi) = std::thread::scope(|s| {
        let c = &ctx;
        let a = s.spawn(move || generate_plans(c, Program::Pkh));
        let b = s.spawn(move || generate_plans(c, Program::Bpnt));
        let pbi = generate_plans(c, Program::PbiJk);
        (
            a.join().expect("PKH planning thread"),
            b.join().expect("BPNT planning thread"),
            pbi,
        )
    });
    for p in pkh.rows.iter().chain(&bpnt.rows).filter(|p| !p.ghost) {
        if ctx.pkh_bpnt_kks.insert(p.true_kk) {
            ctx.pkh_bpnt_families.push(p.fam);
        }
    }
    report(progress);
    let blt = generate_plans(&ctx, Program::BltDd);
    let blt_kks: IntSet = blt
        .rows
        .iter()
        .filter(|p| !p.ghost)
        .map(|p| p.true_kk)
        .collect();
    report(progress);
    let none = IntSet::default();
    let emitted: Vec<Result<Emitted, SynthError>> = std::thread::scope(|s| {
        let c = &ctx;
        let jobs = [(&pkh, &blt_kks), (&bpnt, &blt_kks), (&blt, &c.pkh_bpnt_kks)];
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(g, ov)| s.spawn(move || emit(c, g, ov, period, out)))
            .collect();
        let pbi_done = emit(c, &pbi, &none, period, out);
        let mut res: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("roster writing thread"))
            .collect();
        res.insert(2, pbi_done);
        res
    });
    let mut files = Vec::new();
    let mut code_counts = Vec::new();
    let mut injected = Out::create(out, "truth/injected.csv")?;
    injected
        .buf
        .extend_from_slice(b"program,row_no,true_nik,injected\n");
    for (e, prog) in
        emitted
            .into_iter()
            .zip([Program::Pkh, Program::Bpnt, Program::PbiJk, Program::BltDd])
    {
        let e = e?;
        files.push(e.truth);
        files.push(e.xlsx);
        code_counts.push((
            prog.code().to_string(),
            CODE_NAMES
                .iter()
                .zip(e.counts)
                .map(|(n, c)| (n.to_string(), c))
                .collect(),
        ));
        injected.buf.extend_from_slice(&e.injected);
        injected.rows += e.injected_rows;
        injected.flush()?;
    }
    files.push(injected.finish()?);
    report(progress);
    Ok(RosterOutput { files, code_counts })
}

/// The given name of a registered name: its first token that is not a title.
fn first_name(name: &str) -> &str {
    name.split(' ')
        .find(|t| !t.is_empty() && !t.ends_with('.') && !t.ends_with(','))
        .unwrap_or(name)
        .trim_end_matches(',')
}

/// A name as a clerk slips on it (see [`NameSlip`]). Titles (`H.`, `HJ.`) and a degree after
/// a comma are kept as they are; the slip falls on the name itself. When the name has no room
/// for the slip (one token, nothing long enough to mistype) it is returned unchanged.
fn name_slip(rng: &mut Rng, name: &str, kind: NameSlip, female: bool, father: &str) -> String {
    let (base, degree) = match name.find(", ") {
        Some(p) => (&name[..p], &name[p..]),
        None => (name, ""),
    };
    let mut tokens: Vec<String> = base.split(' ').map(str::to_string).collect();
    let is_word = |t: &str| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_uppercase());
    let words: Vec<usize> = (0..tokens.len()).filter(|&i| is_word(&tokens[i])).collect();
    match kind {
        NameSlip::None => {}
        NameSlip::Typo => {
            let long: Vec<usize> = words
                .iter()
                .copied()
                .filter(|&i| tokens[i].len() >= 3)
                .collect();
            if !long.is_empty() {
                let t = &mut tokens[long[rng.usize(0..long.len())]];
                let mut b = t.clone().into_bytes();
                let k = rng.usize(1..b.len());
                match rng.u8(0..4) {
                    0 => {
                        let mut c = b'A' + rng.u8(0..26);
                        if c == b[k] {
                            c = if c == b'Z' { b'A' } else { c + 1 };
                        }
                        b[k] = c;
                    }
                    1 => {
                        b.remove(k);
                    }
                    2 => b.insert(k, b'A' + rng.u8(0..26)),
                    _ => {
                        let k = k.min(b.len() - 1);
                        b.swap(k - 1, k);
                    }
                }
                *t = String::from_utf8(b).expect("ascii letters");
            }
        }
        NameSlip::BinBinti => {
            tokens.push(if female { "BINTI" } else { "BIN" }.to_string());
            tokens.push(father.to_string());
        }
        NameSlip::DroppedToken => {
            if words.len() >= 2 {
                let i = if words.len() >= 3 {
                    words[rng.usize(1..words.len())]
                } else {
                    words[rng.usize(0..2)]
                };
                tokens.remove(i);
            }
        }
        NameSlip::Initials => {
            if words.len() >= 2 {
                let i = words[rng.usize(0..words.len() - 1)];
                let first = tokens[i].chars().next().unwrap_or('A');
                tokens[i] = format!("{first}.");
            }
        }
    }
    let mut out = tokens.join(" ");
    out.push_str(degree);
    out
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A birth date `(y, m, d)` as a clerk slips on it (see [`DateSlip`]): a default in the right
/// year (01-01, 31-12, 01-07, or the 1st or 15th of the right month), or a day typo (off by
/// one, or one digit of the day wrong), always a real date.
fn date_slip(rng: &mut Rng, (y, m, d): (i32, u32, u32), slip: DateSlip) -> (i32, u32, u32) {
    match slip {
        DateSlip::None => (y, m, d),
        DateSlip::Default => match rng.u32(0..20) {
            0..9 => (y, 1, 1),
            9..14 => (y, 12, 31),
            14..16 => (y, 7, 1),
            16..18 => (y, m, 1),
            _ => (y, m, 15),
        },
        DateSlip::DayTypo => {
            let last = days_in_month(y, m);
            for _ in 0..16 {
                let nd = if rng.u32(0..10) < 6 {
                    if rng.bool() {
                        d + 1
                    } else {
                        d.saturating_sub(1)
                    }
                } else if rng.bool() {
                    // Tens digit wrong.
                    (rng.u32(0..4)) * 10 + d % 10
                } else {
                    // Units digit wrong.
                    d / 10 * 10 + rng.u32(0..10)
                };
                if nd != d && (1..=last).contains(&nd) {
                    return (y, m, nd);
                }
            }
            (y, m, d)
        }
    }
}

fn write_xlsx(ctx: &Ctx, g: &Gen, period: &str, out: &Path) -> Result<u64, SynthError> {
    let path = out.join(format!("rosters/{}.xlsx", g.prog.code()));
    let perr = xerr(&path);
    let mut wb = new_workbook(civil_from_days(ctx.today))?;
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let date_fmt = Format::new().set_num_format("dd/mm/yyyy");
    let money = Format::new().set_num_format("#,##0");
    let nik_num = Format::new().set_num_format("0");
    let ws = wb.add_worksheet_with_constant_memory().map_err(&perr)?;
    ws.set_name(g.prog.code()).map_err(&perr)?;
    let headers = [
        ("No", 6.0),
        ("NIK", 20.0),
        ("No KK", 20.0),
        ("Nama KPM", 32.0),
        ("Tanggal Lahir", 16.0),
        ("Alamat", 40.0),
        ("Kode Desa", 12.0),
        ("Program", 9.0),
        ("Nominal", 12.0),
        ("Periode", 9.0),
    ];
    for (c, (h, w)) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(&perr)?;
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(&perr)?;
    }
    let mut fam = Family::default();
    let mut names = Vec::new();
    for (i, p) in g.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let (name, alamat, rt, rw) = if p.ghost {
            let mut grng = stream(ctx.seed, Domain::Ghost, (g.prog as u64) << 40 | p.fam);
            gen_core(ctx.r, &mut grng, p.fam, ctx.today, None, &mut fam);
            let mut nrng = stream(ctx.seed, Domain::GhostNames, (g.prog as u64) << 40 | p.fam);
            gen_names(ctx.r, &mut nrng, &fam, ctx.today, &mut names);
            let (a, rt, rw) = gen_address(ctx.r, &mut nrng, &fam);
            (names[p.member as usize].clone(), a, rt, rw)
        } else {
            ctx.index
                .family(ctx.r, ctx.seed, ctx.today, p.fam, &mut fam);
            gen_names(
                ctx.r,
                &mut stream(ctx.seed, Domain::Names, p.fam),
                &fam,
                ctx.today,
                &mut names,
            );
            let (a, rt, rw) =
                gen_address(ctx.r, &mut stream(ctx.seed, Domain::Address, p.fam), &fam);
            (names[p.member as usize].clone(), a, rt, rw)
        };
        let mut vrng = stream(
            ctx.seed,
            Domain::Roster,
            (g.prog as u64) << 40 | 1 << 39 | p.seq as u64,
        );
        let name = if p.name_variant {
            variant(&mut vrng, &name)
        } else {
            name
        };
        let mut hrng = stream(
            ctx.seed,
            Domain::Roster,
            (g.prog as u64) << 40 | 1 << 37 | p.seq as u64,
        );
        let name = match p.name_slip {
            NameSlip::None => name,
            kind => {
                let m = &fam.members[p.member as usize];
                let father =
                    if matches!(m.rel, Rel::Child | Rel::Grandchild) && !fam.members[0].female {
                        first_name(&names[0]).to_string()
                    } else {
                        let male = &ctx.r.names(fam.culture).male;
                        male[hrng.usize(0..male.len())].to_string()
                    };
                name_slip(&mut hrng, &name, kind, m.female, &father)
            }
        };
        let birth = fam.members[p.member as usize].birth;
        ws.write_number(row, 0, row as f64).map_err(&perr)?;
        match p.nik {
            NikCell::Text(n) => {
                ws.write_string(row, 1, format!("{n:016}")).map_err(&perr)?;
            }
            NikCell::TextSpace(n) => {
                ws.write_string(row, 1, format!("{n:016} "))
                    .map_err(&perr)?;
            }
            NikCell::Missing => {}
            NikCell::Number(n) => {
                ws.write_number_with_format(row, 1, n as f64, &nik_num)
                    .map_err(&perr)?;
            }
            NikCell::Raw(b, len) => {
                let s = std::str::from_utf8(&b[..len as usize]).unwrap_or("-");
                ws.write_string(row, 1, s).map_err(&perr)?;
            }
        }
        ws.write_string(row, 2, format!("{:016}", p.kk_listed))
            .map_err(&perr)?;
        ws.write_string(row, 3, &name).map_err(&perr)?;
        let (y, m, d) = date_slip(&mut hrng, civil_from_days(birth), p.date_slip);
        match p.date_style {
            0 => {
                let dt = ExcelDateTime::from_ymd(y as u16, m as u8, d as u8).map_err(&perr)?;
                ws.write_datetime_with_format(row, 4, &dt, &date_fmt)
                    .map_err(&perr)?;
            }
            s => {
                let text = match s {
                    1 => format!("{d:02}-{m:02}-{y:04}"),
                    2 => format!("{d} {} {y:04}", MONTHS[m as usize - 1]),
                    3 => format!("{y:04}-{m:02}-{d:02}"),
                    _ => format!("{d:02}/{m:02}/{y:04}"),
                };
                ws.write_string(row, 4, text).map_err(&perr)?;
            }
        }
        ws.write_string(row, 5, format!("{alamat} RT {rt:03} RW {rw:03}"))
            .map_err(&perr)?;
        ws.write_string(
            row,
            6,
            format!("{:010}", ctx.r.villages[p.village as usize].digits),
        )
        .map_err(&perr)?;
        ws.write_string(row, 7, g.prog.code()).map_err(&perr)?;
        ws.write_number_with_format(row, 8, p.nominal as f64, &money)
            .map_err(&perr)?;
        ws.write_string(row, 9, period).map_err(&perr)?;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SynthError::io(parent, e))?;
    }
    wb.save(&path).map_err(&perr)?;
    Ok(g.rows.len() as u64)
}
