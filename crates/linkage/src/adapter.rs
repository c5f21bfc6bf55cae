//! Adapter to the identifier and name helpers of `sinergi_model`.
//!
//! `sinergi_model::name` (`normalize_name`, `name_tokens`, `phonetic_key`) and
//! `sinergi_model::nik` (`Nik::parse_strict`) were placeholders when this crate was written.
//! Everything this crate needs from them goes through the few functions below, so switching to
//! the model's versions is a change in this file only. The linkage-specific part (spelling
//! folds for comparison, phonetic keys for blocking) stays in [`crate::names`]: it is tuned for
//! matching, not for display.

/// Upper-case, title-free, punctuation-free form of a person's name, tokens separated by one
/// space. Idempotent. `"H. Mochamad Soleh, S.Pd."` → `"MOCHAMAD SOLEH"`. A leading initial
/// `M.` stays `M` (it may stand for MUHAMMAD or for MARYAM): the comparison treats it as an
/// initial.
pub fn normalize_name(raw: &str) -> String {
    sinergi_model::name::normalize_name_keep_initial(raw)
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

/// Readings of a NIK cell that does not parse ([`NikInput::Invalid`], or 15 digits) as a clerk
/// most likely garbled it: letters typed for digits (`O`/`o` for 0, `l`/`I`/`i` for 1),
/// one digit typed twice or one too many (17 digits: every deletion), one digit left out (15
/// digits: every insertion, the last position aside, which [`NikInput::Digits15`] covers).
/// Returns (the letter-fixed 16-digit NIK, if that is what it gives; the one-edit variants).
pub fn nik_repairs(raw: &str) -> (Option<u64>, Vec<u64>) {
    let mut digits: Vec<u8> = Vec::with_capacity(17);
    let mut letters = false;
    for c in raw.trim().chars() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            'O' | 'o' => {
                digits.push(0);
                letters = true;
            }
            'l' | 'I' | 'i' => {
                digits.push(1);
                letters = true;
            }
            ' ' | '.' | '-' | '\u{a0}' | '\'' | '"' | '`' => {}
            _ => return (None, Vec::new()),
        }
        if digits.len() > 17 {
            return (None, Vec::new());
        }
    }
    let value = |d: &[u8]| d.iter().fold(0u64, |a, &x| a * 10 + x as u64);
    let mut variants = Vec::new();
    match digits.len() {
        16 if letters => return (Some(value(&digits)), Vec::new()),
        17 => {
            for i in 0..17 {
                let mut d = digits.clone();
                d.remove(i);
                variants.push(value(&d));
            }
        }
        15 => {
            for i in 0..15 {
                for x in 0..10 {
                    let mut d = digits.clone();
                    d.insert(i, x);
                    if d[0] != 0 {
                        variants.push(value(&d));
                    }
                }
            }
        }
        _ => {}
    }
    variants.sort_unstable();
    variants.dedup();
    (None, variants)
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
    fn garbled_niks_are_read_as_a_clerk_garbled_them() {
        assert_eq!(
            nik_repairs("74150253l1950001"),
            (Some(7415025311950001), Vec::new())
        );
        assert_eq!(nik_repairs("7415O56904540002").0, Some(7415056904540002));
        // One digit too many: every deletion, the right one among them.
        let (_, v) = nik_repairs("77415032807690001");
        assert!(v.contains(&7415032807690001) && v.len() <= 17);
        // One left out: every insertion.
        let (_, v) = nik_repairs("415021809740001");
        assert!(v.contains(&7415021809740001) && v.len() <= 150);
        // Nothing to read.
        assert_eq!(nik_repairs("12AB"), (None, Vec::new()));
        assert_eq!(nik_repairs("3201012301800001"), (None, Vec::new()));
        assert_eq!(nik_repairs(&"9".repeat(40)), (None, Vec::new()));
    }

    #[test]
    fn embedded_fields() {
        assert_eq!(nik_embedded(3201016308850002), (23, 8, 85, true));
        assert_eq!(nik_embedded(3201012301800001), (23, 1, 80, false));
    }
}
