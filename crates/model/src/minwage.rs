//! Regional minimum wages (UMP/UMK), monthly, in rupiah.
//!
//! Backed by `data/minwage/ump2025.csv`: the 2025 provincial minimum wage (Upah Minimum
//! Provinsi, UMP) of every province, from the governors' UMP 2025 decrees (Permenaker 16/2024),
//! transcribed by hand. **Regency/city minimum wages (UMK) are approximated by the province's
//! UMP**: the real UMK of an industrial regency can be more than twice the UMP, so a wage
//! compared with [`umk`] is compared with a lower bound of the real UMK. A 4-digit regency row
//! in the CSV overrides the province figure for that regency; none are present yet.
//!
//! The synthetic generator and the validation engine both read this table, so the rule
//! `WAGE_ABOVE_MINIMUM` means the same thing on both sides.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::region::{Level, RegionCode};

const UMP_2025: &str = include_str!("../data/minwage/ump2025.csv");

/// The year of the minimum-wage table.
pub const YEAR: u16 = 2025;

struct Table {
    province: BTreeMap<RegionCode, u64>,
    regency: BTreeMap<RegionCode, u64>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table {
            province: BTreeMap::new(),
            regency: BTreeMap::new(),
        };
        for line in UMP_2025.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("code,") {
                continue;
            }
            let mut parts = line.split(',');
            let code = parts.next().unwrap_or_default();
            let wage = parts.next_back().unwrap_or_default();
            let code = RegionCode::parse(code)
                .unwrap_or_else(|e| panic!("bad minimum-wage code {code:?}: {e}"));
            let wage: u64 = wage
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("bad minimum wage {wage:?}: {e}"));
            match code.level() {
                Level::Province => t.province.insert(code, wage),
                Level::Regency => t.regency.insert(code, wage),
                _ => panic!("minimum-wage code {code} must be a province or regency"),
            };
        }
        t
    })
}

/// The provincial minimum wage (UMP 2025) of a province, monthly rupiah. Accepts a code at any
/// level and uses its province part. `None` for a province not in the table.
pub fn ump(region: RegionCode) -> Option<u64> {
    table().province.get(&region.province()).copied()
}

/// The minimum wage that applies in a regency/city (UMK), monthly rupiah.
///
/// Accepts a regency code or any code below it (district, village: its regency is used); a
/// province code gives the UMP. Returns the regency's own figure when the table has one,
/// otherwise the province's UMP (the documented approximation). `None` when the province is
/// unknown.
pub fn umk(regency: RegionCode) -> Option<u64> {
    if let Some(r) = regency.at(Level::Regency)
        && let Some(&w) = table().regency.get(&r)
    {
        return Some(w);
    }
    ump(regency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn every_province_of_the_region_table_has_a_wage() {
        for p in crate::wilayah().at_level(Level::Province) {
            let w = ump(p.code).unwrap_or_else(|| panic!("no UMP for {}", p.code));
            assert!((2_000_000..6_000_000).contains(&w), "{}: {w}", p.code);
        }
    }

    #[test]
    fn umk_falls_back_to_the_province_ump() {
        assert_eq!(umk(code("31.71")), Some(5_396_761));
        assert_eq!(umk(code("32.01")), Some(2_191_232));
        assert_eq!(umk(code("32.01.01.2001")), Some(2_191_232));
        assert_eq!(umk(code("33")), Some(2_169_349));
        assert_eq!(umk(code("99.01")), None);
    }
}
