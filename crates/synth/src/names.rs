//! Names and addresses of a family (their own random streams), and the spelling variants
//! rosters use.

use fastrand::Rng;

use crate::family::{Family, Occ, Rel};
use crate::refdata::{Culture, Ref};
use crate::util::age_on;

const BALI_ORDER: [&[&str]; 4] = [
    &["WAYAN", "PUTU", "GEDE"],
    &["MADE", "KADEK", "NENGAH"],
    &["NYOMAN", "KOMANG"],
    &["KETUT"],
];

const DEGREES: [&str; 8] = [
    ", S.PD", ", S.E", ", S.H", ", S.KOM", ", S.SOS", ", A.MD", ", S.T", ", S.AG",
];

fn one<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(0..list.len())]
}

fn given(rng: &mut Rng, list: &[&str], two_p: f32, out: &mut String) {
    let a = one(rng, list);
    out.push_str(a);
    if rng.f32() < two_p {
        let b = one(rng, list);
        if b != a {
            out.push(' ');
            out.push_str(b);
        }
    }
}

fn is_muslim_culture(c: Culture) -> bool {
    !matches!(
        c,
        Culture::Bali | Culture::Tionghoa | Culture::Timur | Culture::Batak
    )
}

/// Old (pre-1972) spelling of a Javanese/Sundanese name: U→OE, J→DJ, C→TJ, Y→J.
fn old_spelling(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for ch in name.chars() {
        match ch {
            'U' => out.push_str("OE"),
            'J' => out.push_str("DJ"),
            'C' => out.push_str("TJ"),
            'Y' => out.push('J'),
            c => out.push(c),
        }
    }
    out
}

/// Full registered names of every member of `fam`, in member order, into `out`.
pub fn gen_names(r: &Ref, rng: &mut Rng, fam: &Family, today: i32, out: &mut Vec<String>) {
    out.clear();
    let lists = r.names(fam.culture);
    let family_surname = if lists.surname.is_empty() {
        ""
    } else {
        one(rng, &lists.surname)
    };
    for m in &fam.members {
        let mut s = String::with_capacity(32);
        let age = age_on(m.birth, today);
        let list = if m.female { &lists.female } else { &lists.male };
        // Members born into the family carry its surname; a wife or parent her own.
        let surname = match m.rel {
            Rel::Head | Rel::Child | Rel::Grandchild => family_surname,
            _ if lists.surname.is_empty() => "",
            _ => one(rng, &lists.surname),
        };
        match fam.culture {
            Culture::Bali => {
                s.push_str(if m.female { "NI " } else { "I " });
                let order = ((m.order.max(1) - 1) % 4) as usize;
                s.push_str(one(rng, BALI_ORDER[order]));
                s.push(' ');
                given(rng, list, 0.35, &mut s);
            }
            Culture::Batak => {
                given(rng, list, 0.3, &mut s);
                s.push(' ');
                if m.female && rng.f32() < 0.5 {
                    s.push_str("BR ");
                }
                s.push_str(surname);
            }
            Culture::Tionghoa | Culture::Timur => {
                given(rng, list, 0.25, &mut s);
                if !(m.female && m.rel == Rel::Wife && rng.f32() < 0.4) {
                    s.push(' ');
                    s.push_str(surname);
                }
            }
            Culture::Arab => {
                if rng.f32() < 0.3 {
                    s.push_str(if m.female {
                        one(rng, &["SITI ", "NUR "])
                    } else {
                        one(rng, &["MUHAMMAD ", "AHMAD "])
                    });
                }
                given(rng, list, 0.5, &mut s);
            }
            Culture::Bugis => {
                if rng.f32() < 0.06 {
                    s.push_str("ANDI ");
                }
                given(rng, list, 0.5, &mut s);
            }
            _ => given(rng, list, 0.6, &mut s),
        }
        if matches!(fam.culture, Culture::Jawa | Culture::Sunda) && age >= 55 && rng.f32() < 0.3 {
            s = old_spelling(&s);
        }
        if is_muslim_culture(fam.culture) && age >= 45 && rng.f32() < 0.06 {
            s.insert_str(0, if m.female { "HJ. " } else { "H. " });
        }
        let educated = matches!(
            m.occ,
            Occ::Pns | Occ::Pppk | Occ::Guru | Occ::Karyawan | Occ::Pensiunan
        );
        if educated && age >= 24 {
            let x = rng.f32();
            if x < 0.05 && age >= 55 {
                s.insert_str(0, "DRS. ");
            } else if x < 0.08 && m.occ == Occ::Karyawan {
                s.insert_str(0, "IR. ");
            } else if x < 0.3 {
                s.push_str(one(rng, &DEGREES));
            }
        }
        out.push(s);
    }
}

const STREETS: [&str; 20] = [
    "MERDEKA",
    "SUDIRMAN",
    "DIPONEGORO",
    "AHMAD YANI",
    "GATOT SUBROTO",
    "PAHLAWAN",
    "MAWAR",
    "MELATI",
    "KENANGA",
    "ANGGREK",
    "DAHLIA",
    "CEMPAKA",
    "RAYA",
    "MASJID",
    "PASAR",
    "SEKOLAH",
    "KARTINI",
    "IMAM BONJOL",
    "HASANUDDIN",
    "PATTIMURA",
];

const HAMLETS: [&str; 14] = [
    "KRAJAN",
    "SUKAMAJU",
    "SUKAMAKMUR",
    "MEKARSARI",
    "TANJUNG",
    "SIDOMULYO",
    "KARANGANYAR",
    "SUMBERSARI",
    "MARGAMULYA",
    "BANGUNREJO",
    "PASIR",
    "CIBEUREUM",
    "LEMBANG",
    "SUKARAJA",
];

/// ALAMAT, NO_RT, NO_RW of the family. A few addresses contain `|` or a line break, as
/// clerks type them.
pub fn gen_address(r: &Ref, rng: &mut Rng, fam: &Family) -> (String, u8, u8) {
    let v = &r.villages[fam.village as usize];
    let mut s = String::with_capacity(40);
    if !v.desa || rng.f32() < 0.2 {
        match rng.u32(0..10) {
            0..6 => {
                s.push_str("JL. ");
                s.push_str(one(rng, &STREETS));
                s.push_str(" NO. ");
                s.push_str(&rng.u32(1..200).to_string());
            }
            6..8 => {
                s.push_str("GG. ");
                s.push_str(one(rng, &STREETS));
                s.push_str(" NO. ");
                s.push_str(&rng.u32(1..60).to_string());
            }
            _ => {
                s.push_str("PERUM ");
                s.push_str(one(
                    rng,
                    &["GRIYA ASRI", "BUMI INDAH", "PURI MAS", "TAMAN SARI"],
                ));
                s.push_str(" BLOK ");
                s.push((b'A' + rng.u8(0..8)) as char);
                s.push('-');
                s.push_str(&rng.u32(1..40).to_string());
            }
        }
    } else {
        let prefix = match fam.culture {
            Culture::Sunda => "KP. ",
            Culture::Bali => "BANJAR ",
            Culture::Minang => "JORONG ",
            _ => "DUSUN ",
        };
        s.push_str(prefix);
        s.push_str(one(rng, &HAMLETS));
    }
    let x = rng.u32(0..1000);
    if x < 3 {
        s.push_str(" | ");
        s.push_str(one(rng, &["BELAKANG MASJID", "DEKAT PASAR", "SEBELAH SD"]));
    } else if x < 6 {
        s.push('\n');
        s.push_str(one(rng, &["BELAKANG MASJID", "DEKAT PASAR", "SEBELAH SD"]));
    }
    (s, rng.u8(1..16), rng.u8(1..11))
}

/// A spelling variant of `name` of the kinds the truth calls "spelling variants": MUHAMMAD
/// forms, OE/U, DJ/J, TJ/C, KH/CH, NUR/NOOR, titles added or removed, letter case.
pub fn variant(rng: &mut Rng, name: &str) -> String {
    const SWAPS: [(&str, &str); 12] = [
        ("MUHAMMAD", "MOCHAMAD"),
        ("MUHAMMAD", "MUHAMAD"),
        ("MUHAMMAD", "MOH."),
        ("AHMAD", "ACHMAD"),
        ("OE", "U"),
        ("DJ", "J"),
        ("TJ", "C"),
        ("KH", "CH"),
        ("NUR", "NOOR"),
        ("SY", "SJ"),
        ("U", "OE"),
        ("J", "DJ"),
    ];
    let start = rng.usize(0..SWAPS.len());
    for k in 0..SWAPS.len() {
        let (a, b) = SWAPS[(start + k) % SWAPS.len()];
        if let Some(pos) = name.find(a) {
            let mut s = String::with_capacity(name.len() + 4);
            s.push_str(&name[..pos]);
            s.push_str(b);
            s.push_str(&name[pos + a.len()..]);
            return s;
        }
    }
    match rng.u32(0..3) {
        0 => {
            let base = name
                .trim_start_matches("H. ")
                .trim_start_matches("HJ. ")
                .trim_start_matches("DRS. ");
            if base.len() != name.len() {
                base.to_string()
            } else {
                format!("H. {name}")
            }
        }
        1 => title_case(name),
        _ => match name.find(", ") {
            Some(p) => name[..p].to_string(),
            None => format!("{name}, S.PD"),
        },
    }
}

/// "BAMBANG SUSILO" → "Bambang Susilo".
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        if start {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic() && c != '\'';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_change_the_name_but_not_beyond_spelling() {
        let mut rng = Rng::with_seed(1);
        for name in ["MUHAMMAD RIZKI", "SOEPARMAN", "BAMBANG", "SITI KHADIJAH"] {
            let v = variant(&mut rng, name);
            assert_ne!(v, name);
        }
        assert_eq!(title_case("MA'RUF AMIN, S.PD"), "Ma'ruf Amin, S.Pd");
        assert_eq!(old_spelling("JOKO SUYANTO"), "DJOKO SOEJANTO");
    }
}
