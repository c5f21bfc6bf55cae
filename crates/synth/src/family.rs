//! One synthetic family (one KK), generated as a pure function of (seed, family index).
//!
//! The *core* (composition, dates, NIK/KK digits, occupations, wages, decile, deaths, health
//! insurance) comes from one random stream and the *names* and *address* from two others, so
//! roster sampling can regenerate a family's core cheaply without building any text.

use fastrand::Rng;

use crate::ids;
use crate::refdata::{Culture, Ref};
use crate::util::{Domain, age_on, pick_cumulative, stream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Head,
    Wife,
    Child,
    Parent,
    Grandchild,
}

impl Rel {
    pub fn dukcapil(self) -> &'static str {
        match self {
            Rel::Head => "KEPALA KELUARGA",
            Rel::Wife => "ISTRI",
            Rel::Child => "ANAK",
            Rel::Parent => "ORANG TUA",
            Rel::Grandchild => "CUCU",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occ {
    Pns,
    Pppk,
    Tni,
    Polri,
    Wiraswasta,
    Petani,
    Buruh,
    Karyawan,
    Mrt,
    Pelajar,
    Belum,
    Pensiunan,
    Nelayan,
    Pedagang,
    Guru,
    Sopir,
}

impl Occ {
    /// JENIS_PKRJN as Dukcapil writes it. PPPK staff appear as KARYAWAN HONORER.
    pub fn dukcapil(self) -> &'static str {
        match self {
            Occ::Pns => "PEGAWAI NEGERI SIPIL",
            Occ::Pppk => "KARYAWAN HONORER",
            Occ::Tni => "TENTARA NASIONAL INDONESIA",
            Occ::Polri => "KEPOLISIAN RI",
            Occ::Wiraswasta => "WIRASWASTA",
            Occ::Petani => "PETANI/PEKEBUN",
            Occ::Buruh => "BURUH HARIAN LEPAS",
            Occ::Karyawan => "KARYAWAN SWASTA",
            Occ::Mrt => "MENGURUS RUMAH TANGGA",
            Occ::Pelajar => "PELAJAR/MAHASISWA",
            Occ::Belum => "BELUM/TIDAK BEKERJA",
            Occ::Pensiunan => "PENSIUNAN",
            Occ::Nelayan => "NELAYAN/PERIKANAN",
            Occ::Pedagang => "PEDAGANG",
            Occ::Guru => "GURU",
            Occ::Sopir => "SOPIR",
        }
    }
    pub fn is_civil(self) -> bool {
        matches!(self, Occ::Pns | Occ::Pppk | Occ::Tni | Occ::Polri)
    }
    pub fn is_asn(self) -> bool {
        matches!(self, Occ::Pns | Occ::Pppk)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    None,
    PbiApbn,
    PbiApbd,
    Ppu,
    Pbpu,
    Bp,
}

impl Segment {
    pub fn text(self) -> &'static str {
        match self {
            Segment::None => "",
            Segment::PbiApbn => "PBI APBN",
            Segment::PbiApbd => "PBI APBD",
            Segment::Ppu => "PPU",
            Segment::Pbpu => "PBPU",
            Segment::Bp => "BP",
        }
    }
}

pub const RELIGIONS: [&str; 6] = [
    "ISLAM",
    "KRISTEN",
    "KATHOLIK",
    "HINDU",
    "BUDHA",
    "KHONGHUCU",
];

pub const MARITAL: [&str; 4] = ["BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI"];

#[derive(Clone, Debug)]
pub struct Member {
    pub rel: Rel,
    pub female: bool,
    pub birth: i32,
    /// District of first registration (NIK digits 1–6; in a crowded world the NIK is
    /// registered in one of fewer districts, see `Ref::nik_district`).
    pub reg_district: u32,
    pub nik: u64,
    pub marital: u8,
    pub occ: Occ,
    /// Appointment date (civil servants).
    pub appointed: i32,
    /// Monthly wage reported to BPJS Ketenagakerjaan, 0 when none.
    pub wage: u64,
    pub death: Option<i32>,
    pub segment: Segment,
    pub kelas: u8,
    pub active: bool,
    pub katastropik: bool,
    /// 1-based birth order among the children (Balinese names), or a random order for adults.
    pub order: u8,
}

impl Member {
    pub fn alive(&self) -> bool {
        self.death.is_none()
    }
    /// Listed in BKN (PNS/PPPK) or TNI/Polri personnel: living civil servants only.
    pub fn in_civil_file(&self) -> bool {
        self.occ.is_civil() && self.alive()
    }
    /// The UPAH_BULANAN row of this person, if any (living workers only).
    pub fn wage_row(&self) -> Option<u64> {
        (self.wage > 0 && self.alive()).then_some(self.wage)
    }
}

#[derive(Clone, Debug)]
pub struct Family {
    pub idx: u64,
    pub ghost: bool,
    pub village: u32,
    pub culture: Culture,
    pub religion: u8,
    pub kk: u64,
    pub kk_issued: i32,
    pub decile: u8,
    pub in_dtsen: bool,
    pub members: Vec<Member>,
}

impl Default for Family {
    fn default() -> Self {
        Family {
            idx: 0,
            ghost: false,
            village: 0,
            culture: Culture::Jawa,
            religion: 0,
            kk: 0,
            kk_issued: 0,
            decile: 1,
            in_dtsen: false,
            members: Vec::with_capacity(10),
        }
    }
}

const YEAR: i32 = 36_525; // days per 100 years

fn years(n: i32) -> i32 {
    n * YEAR / 100
}

fn chance(rng: &mut Rng, p: f32) -> bool {
    rng.f32() < p
}

fn pick(rng: &mut Rng, items: &[(&Occ, u32)]) -> Occ {
    let total: u32 = items.iter().map(|x| x.1).sum();
    let mut x = rng.u32(0..total);
    for &(o, w) in items {
        if x < w {
            return *o;
        }
        x -= w;
    }
    *items[0].0
}

fn religion_for(rng: &mut Rng, c: Culture, province: u32) -> u8 {
    let x = rng.u32(0..100);
    // ISLAM 0, KRISTEN 1, KATHOLIK 2, HINDU 3, BUDHA 4, KHONGHUCU 5
    match c {
        Culture::Jawa => match x {
            0..94 => 0,
            94..97 => 1,
            _ => 2,
        },
        Culture::Batak => match x {
            0..60 => 1,
            60..72 => 2,
            _ => 0,
        },
        Culture::Bali => match x {
            0..94 => 3,
            94..97 => 0,
            _ => 1,
        },
        Culture::Tionghoa => match x {
            0..45 => 4,
            45..75 => 1,
            75..90 => 2,
            90..95 => 5,
            _ => 0,
        },
        Culture::Timur if province == 53 => match x {
            0..55 => 2,
            55..95 => 1,
            _ => 0,
        },
        Culture::Timur => match x {
            0..78 => 1,
            78..93 => 2,
            _ => 0,
        },
        _ => match x {
            0..99 => 0,
            _ => 1,
        },
    }
}

/// Occupation for a person of this age and sex.
fn occupation(rng: &mut Rng, age: i32, female: bool, rel: Rel, kota: bool) -> Occ {
    use Occ::*;
    if age < 5 {
        return Belum;
    }
    if age < 18 {
        return if chance(rng, 0.92) { Pelajar } else { Belum };
    }
    if age < 25 && rel != Rel::Head && rel != Rel::Wife && chance(rng, 0.45) {
        return Pelajar;
    }
    if age >= 58 {
        if chance(rng, 0.08) {
            return Pensiunan;
        }
        return if female {
            if chance(rng, 0.7) { Mrt } else { Belum }
        } else {
            pick(
                rng,
                &[
                    (&Petani, 40),
                    (&Wiraswasta, 20),
                    (&Pedagang, 10),
                    (&Belum, 30),
                ],
            )
        };
    }
    if age >= 20 {
        let x = rng.f32();
        let (pns, pppk, tni, polri) = if female {
            (0.025, 0.008, 0.0005, 0.001)
        } else {
            (0.022, 0.007, 0.0065, 0.0055)
        };
        if x < pns {
            return Pns;
        }
        if x < pns + pppk {
            return Pppk;
        }
        if x < pns + pppk + tni {
            return Tni;
        }
        if x < pns + pppk + tni + polri {
            return Polri;
        }
    }
    if female {
        if chance(rng, 0.5) {
            return Mrt;
        }
        return if kota {
            pick(
                rng,
                &[
                    (&Karyawan, 40),
                    (&Wiraswasta, 20),
                    (&Pedagang, 20),
                    (&Guru, 5),
                    (&Buruh, 5),
                    (&Belum, 10),
                ],
            )
        } else {
            pick(
                rng,
                &[
                    (&Petani, 25),
                    (&Pedagang, 20),
                    (&Wiraswasta, 20),
                    (&Karyawan, 15),
                    (&Buruh, 10),
                    (&Guru, 5),
                    (&Belum, 5),
                ],
            )
        };
    }
    if kota {
        pick(
            rng,
            &[
                (&Karyawan, 34),
                (&Wiraswasta, 24),
                (&Buruh, 12),
                (&Pedagang, 10),
                (&Sopir, 5),
                (&Petani, 3),
                (&Guru, 2),
                (&Belum, 10),
            ],
        )
    } else {
        pick(
            rng,
            &[
                (&Petani, 30),
                (&Buruh, 18),
                (&Wiraswasta, 18),
                (&Karyawan, 12),
                (&Pedagang, 8),
                (&Nelayan, 4),
                (&Sopir, 4),
                (&Guru, 1),
                (&Belum, 5),
            ],
        )
    }
}

fn round_to(v: f64, step: u64) -> u64 {
    ((v / step as f64).round() as u64) * step
}

fn wage_for(rng: &mut Rng, occ: Occ, umk: u64) -> u64 {
    let has = match occ {
        Occ::Pns | Occ::Pppk => true,
        Occ::Karyawan => chance(rng, 0.88),
        Occ::Buruh => chance(rng, 0.08),
        Occ::Sopir => chance(rng, 0.15),
        Occ::Guru => chance(rng, 0.25),
        _ => false,
    };
    if !has {
        return 0;
    }
    match occ {
        Occ::Pns => round_to(rng.f64() * 8_000_000.0 + 4_000_000.0, 1000),
        Occ::Pppk => round_to(rng.f64() * 3_200_000.0 + 2_800_000.0, 1000),
        _ => {
            let u = rng.f64();
            let factor = if u < 0.12 {
                0.6 + 0.4 * rng.f64()
            } else if u < 0.30 {
                return umk;
            } else if u < 0.75 {
                1.0 + 0.6 * rng.f64()
            } else if u < 0.95 {
                1.6 + 1.4 * rng.f64()
            } else {
                3.0 + 5.0 * rng.f64()
            };
            round_to(umk as f64 * factor, 500).max(500)
        }
    }
}

fn decile_base(occ: Occ) -> f32 {
    match occ {
        Occ::Pns => 0.72,
        Occ::Pppk => 0.55,
        Occ::Tni => 0.62,
        Occ::Polri => 0.65,
        Occ::Karyawan => 0.55,
        Occ::Wiraswasta => 0.52,
        Occ::Pedagang => 0.50,
        Occ::Guru => 0.45,
        Occ::Pensiunan => 0.60,
        Occ::Sopir => 0.40,
        Occ::Petani => 0.32,
        Occ::Buruh => 0.27,
        Occ::Nelayan => 0.28,
        Occ::Pelajar => 0.35,
        Occ::Mrt | Occ::Belum => 0.30,
    }
}

/// Yearly probability of death by age.
fn hazard(age: i32) -> f32 {
    match age {
        0 => 0.02,
        1..45 => 0.0015,
        45..60 => 0.006,
        60..70 => 0.018,
        70..80 => 0.045,
        _ => 0.11,
    }
}

/// Draws a registration district: usually the domicile's, sometimes elsewhere.
fn reg_district(rng: &mut Rng, r: &Ref, home: u32, province: usize, moved: f32) -> u32 {
    if !chance(rng, moved) {
        return home;
    }
    if chance(rng, 0.5) {
        let ds = &r.provinces[province].districts;
        r.districts[ds[rng.usize(0..ds.len())] as usize]
    } else {
        r.districts[rng.usize(0..r.districts.len())]
    }
}

fn serial(rng: &mut Rng) -> u32 {
    let x = rng.u32(0..100);
    match x {
        0..60 => rng.u32(1..10),
        60..90 => rng.u32(10..100),
        _ => rng.u32(100..1000),
    }
}

/// Generates the core of a family into `fam` (reusing its allocation).
/// `truncate`: keep at most this many members (the last family of a world).
pub fn gen_core(
    r: &Ref,
    rng: &mut Rng,
    idx: u64,
    today: i32,
    truncate: Option<usize>,
    fam: &mut Family,
) {
    fam.idx = idx;
    fam.ghost = false;
    fam.members.clear();
    let prov = pick_cumulative(rng, &r.province_cum);
    let pv = &r.provinces[prov];
    fam.village = pv.villages[rng.usize(0..pv.villages.len())];
    let village = &r.villages[fam.village as usize];
    let regency = &r.regencies[village.regency as usize];
    let kota = regency.kota;
    fam.culture = pv.cultures[pick_cumulative(rng, &pv.culture_cum)];
    fam.religion = religion_for(rng, fam.culture, pv.code);

    // Composition.
    let head_age = {
        let decade = pick_cumulative(rng, &[14, 38, 62, 81, 93, 100]) as i32;
        22 + decade * 10 + rng.i32(0..10) - 2
    };
    let head_female = chance(rng, if head_age > 55 { 0.25 } else { 0.10 });
    let married = !head_female
        && chance(
            rng,
            match head_age {
                0..25 => 0.55,
                25..60 => 0.93,
                _ => 0.78,
            },
        );
    let head_marital = if married {
        1
    } else if head_age < 30 {
        0
    } else if head_age > 50 || chance(rng, 0.5) {
        3
    } else {
        2
    };
    let mut ages: Vec<(Rel, bool, i32, u8)> = Vec::with_capacity(10);
    ages.push((Rel::Head, head_female, head_age, head_marital));
    let mother_age = if married {
        let a = (head_age - rng.i32(0..9)).max(18);
        ages.push((Rel::Wife, true, a, 1));
        Some(a)
    } else if head_marital >= 2 {
        Some(head_age - if head_female { 0 } else { 3 })
    } else {
        None
    };
    if let Some(ma) = mother_age {
        let want = pick_cumulative(rng, &[10, 32, 65, 85, 95, 100]) + 1;
        let mut age = ma - rng.i32(19..31);
        for _ in 0..want {
            if age < 0 {
                break;
            }
            let keep = age < 23 || (age < 35 && chance(rng, 0.25));
            if keep {
                ages.push((Rel::Child, chance(rng, 0.49), age, 0));
            }
            age -= rng.i32(1..6);
        }
    }
    if (30..=60).contains(&head_age) && chance(rng, 0.07) {
        let a = (head_age + rng.i32(20..33)).min(95);
        ages.push((Rel::Parent, chance(rng, 0.7), a, 3));
    }
    if head_age >= 50 && chance(rng, 0.05) {
        ages.push((Rel::Grandchild, chance(rng, 0.5), rng.i32(0..9), 0));
    }
    if let Some(n) = truncate {
        ages.truncate(n.max(1));
    }

    let home_district = village.district;
    let umk = regency.umk;
    let mut child_no = 0u8;
    for &(rel, female, age, marital) in &ages {
        let birth = today - years(age) - rng.i32(1..366);
        let moved = match rel {
            Rel::Head | Rel::Wife => 0.2,
            Rel::Parent => 0.5,
            _ => 0.07,
        };
        let district = reg_district(rng, r, home_district, prov, moved);
        // In a crowded world NIKs are registered in fewer districts, and serials are numbered
        // from 0001 per region and birth date (pass 1 bumps a taken one to the next free); the
        // draw is still made, so the sparse and the crowded world of a seed hold the same
        // people.
        let drawn = serial(rng);
        let nik = ids::compose(
            r.nik_district(district),
            birth,
            female,
            if r.crowded() { 1 } else { drawn },
        );
        let occ = occupation(rng, age, female, rel, kota);
        let appointed = if occ.is_civil() {
            let earliest = birth + years(20);
            let lo = if occ == Occ::Pppk {
                crate::util::days_from_civil(2019, 1, 1).max(earliest)
            } else {
                earliest
            };
            let hi = today - 30;
            if hi > lo {
                lo + rng.i32(0..hi - lo)
            } else {
                hi
            }
        } else {
            0
        };
        let wage = wage_for(rng, occ, umk);
        let order = if rel == Rel::Child {
            child_no += 1;
            child_no
        } else {
            rng.u8(1..5)
        };
        let death = if chance(rng, (3.0 * hazard(age)).min(0.5)) {
            let lo = (today - 3 * 365).max(birth + 1);
            Some(lo + rng.i32(0..(today - lo).max(1)))
        } else {
            None
        };
        fam.members.push(Member {
            rel,
            female,
            birth,
            reg_district: district,
            nik,
            marital,
            occ,
            appointed,
            wage,
            death,
            segment: Segment::None,
            kelas: 3,
            active: true,
            katastropik: false,
            order,
        });
    }

    // Welfare decile of the family.
    let head = &fam.members[0];
    let mut score = decile_base(head.occ);
    if let Some(w) = fam.members.get(1).filter(|m| m.rel == Rel::Wife)
        && (w.occ.is_civil() || w.wage > 0)
    {
        score += 0.08;
    }
    if head.wage as f32 > 1.5 * umk as f32 {
        score += 0.08;
    }
    score += match pv.code {
        31 => 0.10,
        53 | 81 | 82 | 91..=96 => -0.08,
        _ => 0.0,
    };
    if kota {
        score += 0.04;
    }
    score += (rng.f32() + rng.f32() + rng.f32() + rng.f32() - 2.0) * 0.28;
    fam.decile = ((score * 10.0).floor() as i32 + 1).clamp(1, 10) as u8;
    fam.in_dtsen = chance(
        rng,
        match fam.decile {
            1..=4 => 0.96,
            5..=6 => 0.88,
            7..=8 => 0.65,
            _ => 0.45,
        },
    );

    // KK: issued in the domicile district, after the youngest member's birth.
    let youngest = fam.members.iter().map(|m| m.birth).max().unwrap_or(today);
    let head_adult = fam.members[0].birth + years(17);
    let lo = youngest
        .max(today - years(15))
        .max(head_adult)
        .min(today - 31);
    fam.kk_issued = lo + rng.i32(0..(today - 30 - lo).max(1));
    fam.kk = ids::compose(home_district, fam.kk_issued, false, serial(rng));

    assign_insurance(rng, fam, today);
}

fn assign_insurance(rng: &mut Rng, fam: &mut Family, today: i32) {
    // The PPU worker of the family, if any: a living head or wife in formal work.
    let worker = fam.members.iter().take(2).position(|m| {
        matches!(m.rel, Rel::Head | Rel::Wife)
            && m.alive()
            && (m.occ.is_civil() || (m.wage > 0 && m.occ != Occ::Pns && m.occ != Occ::Pppk))
    });
    let worker_kelas = worker.map(|w| {
        let m = &fam.members[w];
        if m.occ.is_civil() || m.wage > 4_500_000 {
            1
        } else {
            2
        }
    });
    let none_family = chance(rng, 0.04);
    let pbi = fam.in_dtsen
        && (fam.decile <= 4 || (fam.decile == 5 && chance(rng, 0.4)))
        && chance(rng, 0.93);
    let apbd = chance(rng, 0.25);
    let pbpu_kelas = [3u8, 3, 3, 2, 2, 1][rng.usize(0..6)];
    let pbpu_arrears = chance(rng, 0.3);
    for i in 0..fam.members.len() {
        let m = &fam.members[i];
        let age = age_on(m.birth, today);
        let dependent = worker.is_some()
            && (matches!(m.rel, Rel::Head | Rel::Wife)
                || (m.rel == Rel::Child && (age < 21 || (age < 25 && m.occ == Occ::Pelajar))));
        let (segment, kelas, active_p) = if dependent {
            (Segment::Ppu, worker_kelas.unwrap_or(2), 0.97)
        } else if none_family || chance(rng, 0.01) {
            (Segment::None, 3, 1.0)
        } else if pbi {
            (
                if apbd {
                    Segment::PbiApbd
                } else {
                    Segment::PbiApbn
                },
                3,
                0.95,
            )
        } else if m.occ == Occ::Pensiunan {
            (Segment::Bp, 1, 0.92)
        } else {
            (
                Segment::Pbpu,
                pbpu_kelas,
                if pbpu_arrears { 0.05 } else { 0.9 },
            )
        };
        let dead = m.death.is_some();
        let active = if dead {
            chance(rng, 0.3)
        } else {
            chance(rng, active_p)
        };
        let kat = segment != Segment::None && chance(rng, if age >= 40 { 0.02 } else { 0.003 });
        let m = &mut fam.members[i];
        m.segment = segment;
        m.kelas = kelas;
        m.active = active;
        m.katastropik = kat;
    }
}

/// Core of family `idx` of the world (applies the last-family truncation).
pub fn world_core(
    r: &Ref,
    seed: u64,
    idx: u64,
    today: i32,
    truncate: Option<usize>,
    fam: &mut Family,
) {
    let mut rng = stream(seed, Domain::Core, idx);
    gen_core(r, &mut rng, idx, today, truncate, fam);
}
