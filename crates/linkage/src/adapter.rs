//! Adapter to the identifier and name helpers of `sinergi_model`.
//!
//! `sinergi_model::name` (`normalize_name`, `name_tokens`, `phonetic_key`) and
//! `sinergi_model::nik` (`Nik::parse_strict`) were placeholders when this crate was written.
//! Everything this crate needs from them goes through the few functions below, so switching to
//! the model's versions is a change in this file only. The linkage-specific part (spelling
//! folds for comparison, phonetic keys for blocking) stays in [`crate::names`]: it is tuned for
//! matching, not for display.

/// Upper-case, title-free, punctuation-free form of a person's name, tokens separated by one
/// space. Idempotent. `"H. Mochamad Soleh, S.Pd."` → `"MOCHAMAD SOLEH"`.
pub fn normalize_name(raw: &str) -> String {
    sinergi_model::name::normalize_name(raw)
}

/// What a roster's NIK cell says once cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NikInput {
    /// No NIK (empty cell, dashes, zeros).
    Missing,
    /// 16 digits. `truncated` is true when the last digit is 0 and the cell looks like it went
    /// through a spreadsheet (scientific notation), or when it is a 16-digit number ending in 0
    /// whose serial is `0000` (impossible for a real NIK).
    Digits16 { nik: u64, suspect_truncated: bool },
    /// 15 digits: a spreadsheet dropped the last one. Holds the 15-digit prefix.
    Digits15 { prefix: u64 },
    /// Something else (too short, too long, letters): unusable.
    Invalid,
}

/// Cleans a raw NIK cell: strips spaces, quotes, apostrophes (Excel text prefix), dots and
/// dashes; reads scientific notation (`3.20101E+15`) as a truncated number.
pub fn parse_nik(raw: &str) -> NikInput {
    let s = raw
        .trim()
        .trim_matches(|c| c == '\'' || c == '"' || c == '`');
    if s.is_empty() || s.chars().all(|c| c == '-' || c == '0' || c.is_whitespace()) {
        return NikInput::Missing;
    }
    if s.contains(['E', 'e']) {
        // 3.20101230180001E+15: the mantissa keeps at most 15 significant digits.
        let Ok(v) = s.replace(',', ".").parse::<f64>() else {
            return NikInput::Invalid;
        };
        if !(1e15..1e16).contains(&v) {
            return NikInput::Invalid;
        }
        let prefix = (v / 10.0).round() as u64;
        return NikInput::Digits15 { prefix };
    }
    let mut digits = 0u32;
    let mut value: u64 = 0;
    for c in s.chars() {
        match c {
            '0'..='9' => {
                digits += 1;
                if digits > 16 {
                    return NikInput::Invalid;
                }
                value = value * 10 + (c as u64 - '0' as u64);
            }
            ' ' | '.' | '-' | '\u{a0}' => {}
            _ => return NikInput::Invalid,
        }
    }
    match digits {
        16 => NikInput::Digits16 {
            nik: value,
            suspect_truncated: value % 10_000 == 0,
        },
        15 => NikInput::Digits15 { prefix: value },
        _ => NikInput::Invalid,
    }
}

/// Day of month, month, two-digit year and sex embedded in a 16-digit NIK
/// (`PP KK CC DD MM YY SSSS`, women's day + 40). No validity checks.
pub fn nik_embedded(nik: u64) -> (u32, u32, u32, bool) {
    let dmy = ((nik / 10_000) % 1_000_000) as u32;
    let dd = dmy / 10_000;
    let mm = (dmy / 100) % 100;
    let yy = dmy % 100;
    let female = dd > 40;
    (if female { dd - 40 } else { dd }, mm, yy, female)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_cells() {
        let cases: &[(&str, NikInput)] = &[
            ("", NikInput::Missing),
            ("-", NikInput::Missing),
            ("0000000000000000", NikInput::Missing),
            (
                "3201012301800001",
                NikInput::Digits16 {
                    nik: 3201012301800001,
                    suspect_truncated: false,
                },
            ),
            (
                "'3201 0123 0180 0001",
                NikInput::Digits16 {
                    nik: 3201012301800001,
                    suspect_truncated: false,
                },
            ),
            (
                "320101230180000",
                NikInput::Digits15 {
                    prefix: 320101230180000,
                },
            ),
            (
                "3.20101230180001E+15",
                NikInput::Digits15 {
                    prefix: 320101230180001,
                },
            ),
            ("32010123018000011", NikInput::Invalid),
            ("12AB", NikInput::Invalid),
            ("1234", NikInput::Invalid),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_nik(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn embedded_fields() {
        assert_eq!(nik_embedded(3201016308850002), (23, 8, 85, true));
        assert_eq!(nik_embedded(3201012301800001), (23, 1, 80, false));
    }
}
