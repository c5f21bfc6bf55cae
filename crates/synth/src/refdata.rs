//! Reference data the generator draws from: villages and their regencies (Kemendagri table),
//! province population weights, naming cultures and name lists, minimum wages.

use sinergi_model::{Level, RegionCode, minwage, wilayah};

const POPULATION: &str = include_str!("../data/population.csv");
const NAMES: &str = include_str!("../data/names.txt");

/// Naming cultures (see data/names.txt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Culture {
    Jawa,
    Sunda,
    Arab,
    Aceh,
    Melayu,
    Minang,
    Batak,
    Bugis,
    Bali,
    Tionghoa,
    Timur,
}

impl Culture {
    pub const ALL: [Culture; 11] = [
        Culture::Jawa,
        Culture::Sunda,
        Culture::Arab,
        Culture::Aceh,
        Culture::Melayu,
        Culture::Minang,
        Culture::Batak,
        Culture::Bugis,
        Culture::Bali,
        Culture::Tionghoa,
        Culture::Timur,
    ];
    fn key(self) -> &'static str {
        match self {
            Culture::Jawa => "JAWA",
            Culture::Sunda => "SUNDA",
            Culture::Arab => "ARAB",
            Culture::Aceh => "ACEH",
            Culture::Melayu => "MELAYU",
            Culture::Minang => "MINANG",
            Culture::Batak => "BATAK",
            Culture::Bugis => "BUGIS",
            Culture::Bali => "BALI",
            Culture::Tionghoa => "TIONGHOA",
            Culture::Timur => "TIMUR",
        }
    }
}

/// Mix of naming cultures per province, in percent (hand-chosen for plausible variety).
fn culture_mix(province: u32) -> &'static [(Culture, u32)] {
    use Culture::*;
    match province {
        11 => &[(Aceh, 85), (Melayu, 5), (Jawa, 8), (Batak, 2)],
        12 => &[
            (Batak, 45),
            (Melayu, 20),
            (Jawa, 25),
            (Tionghoa, 5),
            (Minang, 5),
        ],
        13 => &[(Minang, 88), (Jawa, 5), (Batak, 5), (Melayu, 2)],
        14 => &[
            (Melayu, 40),
            (Jawa, 25),
            (Minang, 15),
            (Batak, 12),
            (Tionghoa, 8),
        ],
        15 => &[
            (Melayu, 50),
            (Jawa, 30),
            (Minang, 10),
            (Bugis, 5),
            (Tionghoa, 5),
        ],
        16 => &[(Melayu, 70), (Jawa, 25), (Tionghoa, 5)],
        17 => &[(Melayu, 60), (Jawa, 25), (Minang, 10), (Sunda, 5)],
        18 => &[
            (Jawa, 60),
            (Melayu, 20),
            (Sunda, 15),
            (Bali, 3),
            (Tionghoa, 2),
        ],
        19 => &[(Melayu, 65), (Tionghoa, 30), (Jawa, 5)],
        21 => &[
            (Melayu, 40),
            (Jawa, 25),
            (Tionghoa, 15),
            (Batak, 10),
            (Minang, 10),
        ],
        31 => &[
            (Jawa, 35),
            (Sunda, 15),
            (Arab, 20),
            (Tionghoa, 10),
            (Batak, 8),
            (Minang, 7),
            (Bugis, 5),
        ],
        32 => &[(Sunda, 75), (Jawa, 15), (Arab, 8), (Tionghoa, 2)],
        33 => &[(Jawa, 93), (Arab, 5), (Tionghoa, 2)],
        34 => &[(Jawa, 95), (Arab, 3), (Tionghoa, 2)],
        35 => &[(Jawa, 80), (Arab, 17), (Tionghoa, 3)],
        36 => &[(Sunda, 45), (Arab, 30), (Jawa, 20), (Tionghoa, 5)],
        51 => &[(Bali, 88), (Jawa, 10), (Arab, 2)],
        52 => &[(Arab, 70), (Bugis, 10), (Bali, 10), (Melayu, 10)],
        53 => &[(Timur, 92), (Arab, 5), (Bugis, 3)],
        61 => &[
            (Melayu, 40),
            (Timur, 25),
            (Tionghoa, 20),
            (Jawa, 10),
            (Bugis, 5),
        ],
        62 => &[(Melayu, 45), (Timur, 25), (Jawa, 25), (Bugis, 5)],
        63 => &[(Melayu, 75), (Jawa, 20), (Bugis, 5)],
        64 => &[
            (Jawa, 30),
            (Bugis, 30),
            (Melayu, 25),
            (Timur, 10),
            (Tionghoa, 5),
        ],
        65 => &[(Bugis, 30), (Timur, 30), (Jawa, 20), (Melayu, 20)],
        71 => &[(Timur, 75), (Arab, 15), (Tionghoa, 5), (Bugis, 5)],
        72 => &[(Bugis, 45), (Arab, 25), (Timur, 20), (Jawa, 10)],
        73 => &[(Bugis, 90), (Arab, 5), (Timur, 5)],
        74 => &[(Bugis, 80), (Jawa, 10), (Arab, 10)],
        75 => &[(Arab, 90), (Bugis, 10)],
        76 => &[(Bugis, 85), (Arab, 10), (Timur, 5)],
        81 => &[(Timur, 55), (Arab, 40), (Bugis, 5)],
        82 => &[(Arab, 70), (Timur, 25), (Bugis, 5)],
        _ => &[(Timur, 75), (Jawa, 10), (Bugis, 10), (Arab, 5)],
    }
}

/// Name lists of one culture.
#[derive(Default)]
pub struct NameList {
    pub male: Vec<&'static str>,
    pub female: Vec<&'static str>,
    pub surname: Vec<&'static str>,
}

/// A village with what the generator needs to know about it.
pub struct Village {
    /// 10 digits as a number.
    pub digits: u64,
    /// Index into `Ref::regencies`.
    pub regency: u32,
    /// District code, 6 digits as a number.
    pub district: u32,
    pub desa: bool,
}

pub struct Regency {
    pub code: RegionCode,
    /// Upper-case name without the KABUPATEN/KOTA prefix (used as place of birth).
    pub short_name: String,
    pub kota: bool,
    pub umk: u64,
    /// Index into `Ref::provinces`.
    pub province: u32,
}

pub struct Province {
    pub code: u32,
    pub name: String,
    /// Indexes into `Ref::villages`.
    pub villages: Vec<u32>,
    /// Indexes into `Ref::districts`.
    pub districts: Vec<u32>,
    pub culture_cum: Vec<u32>,
    pub cultures: Vec<Culture>,
}

pub struct Ref {
    pub villages: Vec<Village>,
    pub regencies: Vec<Regency>,
    /// District codes (6 digits as numbers), in code order.
    pub districts: Vec<u32>,
    pub provinces: Vec<Province>,
    /// Cumulative population weights over `provinces`.
    pub province_cum: Vec<u32>,
    pub names: Vec<NameList>,
    pub province_known: [bool; 100],
    /// For a crowded NIK space ([`crate::NikDensity::National`]): the districts NIKs are
    /// registered in (empty: every district, the sparse world).
    pub nik_districts: Vec<u32>,
}

/// People in the national registry and districts in the Kemendagri table: a world of N people
/// is as crowded as the nation when its NIKs use `7,285 × N / 280,000,000` districts.
const NATIONAL_PEOPLE: f64 = 280_000_000.0;

fn parse_u32(s: &str) -> u32 {
    s.trim().parse().expect("embedded table holds numbers")
}

impl Ref {
    pub fn build() -> Ref {
        let w = wilayah();
        let mut provinces: Vec<Province> = Vec::new();
        let mut province_known = [false; 100];
        let mut prov_index = [u32::MAX; 100];
        for p in w.at_level(Level::Province) {
            let code = p.code.as_u64() as u32;
            province_known[code as usize] = true;
            prov_index[code as usize] = provinces.len() as u32;
            let mix = culture_mix(code);
            let mut cum = Vec::new();
            let mut acc = 0;
            for &(_, pct) in mix {
                acc += pct;
                cum.push(acc);
            }
            provinces.push(Province {
                code,
                name: p.name.to_uppercase(),
                villages: Vec::new(),
                districts: Vec::new(),
                culture_cum: cum,
                cultures: mix.iter().map(|&(c, _)| c).collect(),
            });
        }
        let mut regencies = Vec::new();
        let mut reg_index = std::collections::BTreeMap::new();
        for r in w.at_level(Level::Regency) {
            let upper = r.name.to_uppercase();
            let short = upper
                .strip_prefix("KABUPATEN ")
                .or_else(|| upper.strip_prefix("KOTA "))
                .unwrap_or(&upper)
                .to_string();
            let prov = prov_index[r.code.province().as_u64() as usize];
            reg_index.insert(r.code, regencies.len() as u32);
            regencies.push(Regency {
                code: r.code,
                short_name: short,
                kota: r.code.is_kota() == Some(true),
                umk: minwage::umk(r.code).unwrap_or(2_500_000),
                province: prov,
            });
        }
        let mut districts = Vec::new();
        for d in w.at_level(Level::District) {
            let prov = prov_index[d.code.province().as_u64() as usize] as usize;
            provinces[prov].districts.push(districts.len() as u32);
            districts.push(d.code.as_u64() as u32);
        }
        let mut villages = Vec::new();
        for v in w.at_level(Level::Village) {
            let regency = v.code.at(Level::Regency).expect("village has a regency");
            let Some(&ri) = reg_index.get(&regency) else {
                continue;
            };
            let prov = regencies[ri as usize].province as usize;
            provinces[prov].villages.push(villages.len() as u32);
            villages.push(Village {
                digits: v.code.as_u64(),
                regency: ri,
                district: (v.code.as_u64() / 10_000) as u32,
                desa: v.code.is_kelurahan() == Some(false),
            });
        }
        let mut weight = vec![0u32; provinces.len()];
        for line in POPULATION.lines() {
            if line.starts_with('#') || line.starts_with("code") || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split(',');
            let code = parse_u32(parts.next().unwrap_or_default());
            let pop = parse_u32(parts.next_back().unwrap_or_default());
            if let Some(&i) = prov_index.get(code as usize)
                && i != u32::MAX
            {
                weight[i as usize] = pop;
            }
        }
        let mut province_cum = Vec::with_capacity(provinces.len());
        let mut acc = 0;
        for (i, p) in provinces.iter().enumerate() {
            // A province without villages cannot host families.
            if !p.villages.is_empty() {
                acc += weight[i].max(1);
            }
            province_cum.push(acc);
        }
        Ref {
            villages,
            regencies,
            districts,
            provinces,
            province_cum,
            names: parse_names(),
            province_known,
            nik_districts: Vec::new(),
        }
    }

    /// Makes the NIK space as crowded as the national registry for a world of `people`: NIKs
    /// are registered in whole regencies (so neighbouring district codes exist), drawn by
    /// `seed`, as many districts as `7,285 × people / 280M` (at least one).
    pub fn crowd_nik_districts(&mut self, people: u64, seed: u64) {
        let want = ((self.districts.len() as f64 * people as f64 / NATIONAL_PEOPLE).ceil()
            as usize)
            .clamp(1, self.districts.len());
        let mut rng = crate::util::stream(seed, crate::util::Domain::Density, 0);
        let mut order: Vec<usize> = (0..self.regencies.len()).collect();
        rng.shuffle(&mut order);
        let mut chosen = Vec::new();
        for ri in order {
            let code = self.regencies[ri].code.as_u64() as u32;
            chosen.extend(self.districts.iter().filter(|d| *d / 100 == code));
            if chosen.len() >= want {
                break;
            }
        }
        chosen.truncate(want);
        chosen.sort_unstable();
        self.nik_districts = chosen;
    }

    /// The district a NIK is registered in for a person whose district of first registration
    /// is `district` (itself in a sparse world).
    pub fn nik_district(&self, district: u32) -> u32 {
        if self.nik_districts.is_empty() {
            return district;
        }
        let h = crate::util::mix(district as u64 ^ 0x4E49_4B44);
        self.nik_districts[(h % self.nik_districts.len() as u64) as usize]
    }

    /// Whether NIK serials start at 0001 per region and birth date (the crowded world).
    pub fn crowded(&self) -> bool {
        !self.nik_districts.is_empty()
    }

    pub fn names(&self, c: Culture) -> &NameList {
        &self.names[c as usize]
    }

    pub fn village_regency(&self, v: u32) -> &Regency {
        &self.regencies[self.villages[v as usize].regency as usize]
    }
}

fn parse_names() -> Vec<NameList> {
    let mut lists: Vec<NameList> = Culture::ALL.iter().map(|_| NameList::default()).collect();
    let mut current: Option<usize> = None;
    for line in NAMES.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(key) = line.strip_prefix('@') {
            current = Culture::ALL.iter().position(|c| c.key() == key);
            continue;
        }
        let (Some(i), Some((kind, rest))) = (current, line.split_once(':')) else {
            continue;
        };
        let names = rest.split(',').map(str::trim).filter(|s| !s.is_empty());
        let list = &mut lists[i];
        match kind.trim() {
            "male" => list.male.extend(names),
            "female" => list.female.extend(names),
            "surname" => list.surname.extend(names),
            _ => {}
        }
    }
    for (c, l) in Culture::ALL.iter().zip(&lists) {
        assert!(
            !l.male.is_empty() && !l.female.is_empty(),
            "names.txt: culture {} needs male and female names",
            c.key()
        );
    }
    lists
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_covers_every_province() {
        let r = Ref::build();
        assert_eq!(r.provinces.len(), 38);
        assert!(r.villages.len() > 80_000);
        assert!(r.provinces.iter().all(|p| !p.villages.is_empty()));
        let total = *r.province_cum.last().unwrap();
        assert!((270_000..290_000).contains(&total), "{total}");
        assert!(!r.names(Culture::Batak).surname.is_empty());
    }
}
