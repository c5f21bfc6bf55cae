//! Region names for pages, from the embedded Kemendagri table (`sinergi_model::wilayah`).

use sinergi_model::region::{RegionCode, wilayah};

/// The name of a region code (2, 4, 6 or 10 digits, dotted or not), when the table knows it.
pub fn name(code: &str) -> Option<String> {
    let c = RegionCode::parse(code).ok()?;
    wilayah().name(c).map(str::to_string)
}

/// The name of a kabupaten/kota (4 digits `PPKK`), when the table knows it.
pub fn regency_name(code: &str) -> Option<String> {
    if code.len() != 4 {
        return None;
    }
    name(code)
}

/// The kabupaten/kota (first 4 digits) of a village code as listed, or "" when it has none.
pub fn regency_of(village: &str) -> String {
    let d: String = village.chars().filter(|c| c.is_ascii_digit()).collect();
    if d.len() >= 4 {
        d[..4].to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regency_names_and_codes() {
        assert!(regency_name("3301").is_some_and(|n| n.to_uppercase().contains("CILACAP")));
        assert_eq!(regency_name("9999"), None);
        assert_eq!(regency_name("33"), None);
        assert_eq!(regency_of("3301012001"), "3301");
        assert_eq!(regency_of("33.01.01.2001"), "3301");
        assert_eq!(regency_of(""), "");
    }
}
