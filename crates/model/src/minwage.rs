//! Regional minimum wages (UMP/UMK), monthly, in rupiah.
//!
//! Backed by `data/minwage/ump2025.csv`: the 2025 provincial minimum wage (Upah Minimum
//! Provinsi, UMP) of every province, from the governors' UMP 2025 decrees (Permenaker 16/2024),
//! and the regency/city minimum wage (Upah Minimum Kabupaten/Kota, UMK) of the regencies whose
//! decrees were transcribed (a 4-digit regency row), all by hand. [`minimum_wage`] says which
//! one applies to a place: the regency's UMK when the table has it, otherwise the province's
//! UMP — a lower bound of the real UMK (an industrial regency's UMK can be more than twice its
//! province's UMP) — and [`WageLevel`] says which it is, so a verdict names it correctly.
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

/// Which minimum wage a figure is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum WageLevel {
    /// The regency/city's own minimum wage (UMK).
    #[default]
    Regency,
    /// The province's minimum wage (UMP), used where the regency's UMK is not in the table.
    Province,
}

/// The minimum wage that applies in a place, and which one it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumWage {
    /// Monthly rupiah.
    pub monthly: u64,
    /// UMK or UMP.
    pub level: WageLevel,
    /// The regency (for a UMK) or province (for a UMP) the figure is for.
    pub region: RegionCode,
}

/// The minimum wage that applies in a regency/city, or in any place below it (district,
/// village: its regency is used): the regency's UMK when the table has it, otherwise its
/// province's UMP. A province code gives the UMP. `None` when the province is unknown.
pub fn minimum_wage(place: RegionCode) -> Option<MinimumWage> {
    if let Some(r) = place.at(Level::Regency)
        && let Some(&w) = table().regency.get(&r)
    {
        return Some(MinimumWage {
            monthly: w,
            level: WageLevel::Regency,
            region: r,
        });
    }
    ump(place).map(|w| MinimumWage {
        monthly: w,
        level: WageLevel::Province,
        region: place.province(),
    })
}

/// The minimum wage that applies in a regency/city, monthly rupiah: the amount of
/// [`minimum_wage`].
pub fn umk(regency: RegionCode) -> Option<u64> {
    minimum_wage(regency).map(|m| m.monthly)
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
    fn a_regency_uses_its_umk_where_known_and_its_province_ump_otherwise() {
        let m = minimum_wage(code("32.01.01.2001")).unwrap();
        assert_eq!(
            (m.monthly, m.level, m.region),
            (4_877_211, WageLevel::Regency, code("32.01"))
        );
        let m = minimum_wage(code("32.02")).unwrap();
        assert_eq!(
            (m.monthly, m.level, m.region),
            (2_191_232, WageLevel::Province, code("32"))
        );
        assert_eq!(umk(code("31.71")), Some(5_396_761));
        assert_eq!(umk(code("33")), Some(2_169_349));
        assert_eq!(umk(code("99.01")), None);
    }

    #[test]
    fn every_umk_is_a_known_regency_and_not_below_its_province_ump() {
        let w = crate::wilayah();
        for (r, &wage) in &table().regency {
            assert!(w.name(*r).is_some(), "{r} is not in the region table");
            let ump = ump(*r).unwrap();
            assert!(wage >= ump, "{r}: UMK {wage} below UMP {ump}");
        }
    }
}
