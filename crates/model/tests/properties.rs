//! Property tests for the identifier, date and name parsers: round trips, agreement between the
//! full and the fast parsers, idempotent name normalisation, and no panics on any input.

use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use sinergi_model::date::DateFormat;
use sinergi_model::{
    Kk, Level, Nik, PersonName, RegionCode, Sex, from_excel_serial, normalize_name, parse_date,
    parse_date_format, phonetic_key, wilayah,
};

/// A district code: mostly from the current table, sometimes a structurally valid code with a
/// known province that the table lacks (as in NIKs issued before a region split).
fn district() -> impl Strategy<Value = RegionCode> {
    let table: Vec<RegionCode> = wilayah()
        .at_level(Level::District)
        .map(|r| r.code)
        .collect();
    let provinces: Vec<u32> = wilayah()
        .at_level(Level::Province)
        .map(|r| r.code.as_u64() as u32)
        .collect();
    prop_oneof![
        4 => (0..table.len()).prop_map(move |i| table[i]),
        1 => (0..provinces.len(), 1u32..100, 1u32..100)
            .prop_map(move |(p, k, c)| RegionCode::from_parts(&[provinces[p], k, c]).unwrap()),
    ]
}

/// A date between 1850 and 2100.
fn date() -> impl Strategy<Value = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(1850, 1, 1).unwrap();
    let days = NaiveDate::from_ymd_opt(2100, 12, 31)
        .unwrap()
        .signed_duration_since(start)
        .num_days() as u64;
    (0..=days).prop_map(move |d| start + Days::new(d))
}

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::L), Just(Sex::P)]
}

/// Strings that look like identifiers, with separators and foreign digits mixed in.
fn identifier_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{16}",
        "[0-9]{14,18}",
        "[0-9 .\\-]{10,24}",
        "[0-9x٣０\u{0}\t]{14,18}",
        "[1-9][0-9]{5}[0-7][0-9][01][0-9]{3}[0-9]{4}",
    ]
}

/// Strings that look like names, built from real name parts, titles and degrees.
fn name_like() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "H.", "HJ", "Hj.", "HAJI", "DR.", "dr.", "Drs.", "IR", "PROF.", "KH.", "NY.", "ALM.",
        "S.Pd.", "S.PD.I", "M.M.", "SE", "SH", "MM", "ST", "S.KEP.NS", "A.MD.KEP", "Sp.OG",
        "MUHAMMAD", "MOCH.", "M.", "M", "MUH", "MOH.", "M.ALI", "H.M.", "NOER", "ABDOEL", "ABD.",
        "ACHMAD", "SOEKARNO", "DJOKO", "TJAHJO", "SJAHRIR", "NJOMAN", "CHAIRUL", "SITTI", "ST.",
        "BIN", "BINTI", "ALI", "BUDI", "SANTOSO", "SITI", "AMINAH", "NUR", "I", "MADE", "MA'RUF",
        "José", "Ñoño", "ß", "OOE", "DDJ", "SSJ", "TTJJ", "LIE", "HADJI", ",", ".", "-", "李", "ΐ",
        "ﬁ", "ǅ", "ŉ",
    ]);
    let sep = prop::sample::select(vec![" ", "  ", ", ", ",", ".", "-", "\t", ""]);
    prop::collection::vec((words, sep), 0..8).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, s)| format!("{w}{s}"))
            .collect::<String>()
    })
}

/// Indonesian and English month names and abbreviations for month `m` (1-based).
fn month_names(m: u32) -> Vec<&'static str> {
    let table: [&[&str]; 12] = [
        &["Januari", "Jan", "January"],
        &["Februari", "Feb", "Pebruari", "Peb", "February"],
        &["Maret", "Mar", "March"],
        &["April", "Apr"],
        &["Mei", "May"],
        &["Juni", "Jun", "June"],
        &["Juli", "Jul", "July"],
        &["Agustus", "Agu", "Agt", "Ags", "Agus", "August", "Aug"],
        &["September", "Sep", "Sept"],
        &["Oktober", "Okt", "October", "Oct"],
        &["November", "Nov", "Nopember", "Nop"],
        &["Desember", "Des", "December", "Dec"],
    ];
    table[m as usize - 1].to_vec()
}

fn excel_serial(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
        .num_days()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn nik_encode_parse_round_trip(
        d in district(), s in sex(), birth in date(), serial in 1u16..=9999,
    ) {
        let nik = Nik::encode(d, s, birth, serial).unwrap();
        let parsed = Nik::parse(&nik.to_string());
        prop_assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        prop_assert_eq!(parsed.nik, Some(nik));
        prop_assert_eq!(Nik::parse_strict(nik.as_str()), Ok(nik));
        prop_assert_eq!(nik.district(), d);
        prop_assert_eq!(nik.regency(), d.parent().unwrap());
        prop_assert_eq!(nik.province(), d.province());
        prop_assert_eq!(nik.sex(), s);
        prop_assert_eq!(nik.birth_day() as u32, birth.day());
        prop_assert_eq!(nik.birth_month() as u32, birth.month());
        prop_assert_eq!(nik.birth_year_2d() as i32, birth.year() % 100);
        prop_assert_eq!(nik.serial(), serial);
        // Any reference date up to 99 years later recovers the century.
        let reference = birth + Days::new(serial as u64 * 3);
        prop_assert_eq!(nik.birth_date(reference), Some(birth));
        // Serde goes through the 16-digit string.
        let json = serde_json::to_string(&nik).unwrap();
        prop_assert_eq!(serde_json::from_str::<Nik>(&json).unwrap(), nik);
        // Separators come back with a warning and the same NIK.
        let digits = nik.as_str();
        let spaced = format!("{}.{}.{}", &digits[..6], &digits[6..12], &digits[12..]);
        let p = Nik::parse(&spaced);
        prop_assert_eq!(p.nik, Some(nik));
        prop_assert_eq!(p.warnings[0].code(), "NIK_SEPARATORS_STRIPPED");
    }

    #[test]
    fn kk_encode_parse_round_trip(d in district(), issued in date(), serial in 1u16..=9999) {
        let kk = Kk::encode(d, issued, serial).unwrap();
        let parsed = Kk::parse(&kk.to_string());
        prop_assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        prop_assert_eq!(parsed.kk, Some(kk));
        prop_assert_eq!(Kk::parse_strict(kk.as_str()), Ok(kk));
        prop_assert_eq!(kk.region(), d);
        prop_assert_eq!(kk.serial(), serial);
        prop_assert_eq!(kk.issue_day() as u32, issued.day());
        prop_assert_eq!(kk.issue_month() as u32, issued.month());
        let reference = issued + Days::new(serial as u64 * 3);
        prop_assert_eq!(kk.issue_date(reference), Some(issued));
        let json = serde_json::to_string(&kk).unwrap();
        prop_assert_eq!(serde_json::from_str::<Kk>(&json).unwrap(), kk);
    }

    #[test]
    fn strict_parsers_agree_with_full_parsers(s in identifier_like()) {
        let full = Nik::parse(&s);
        let strict = Nik::parse_strict(&s);
        prop_assert_eq!(strict.err(), full.errors.first().copied());
        prop_assert_eq!(strict.ok(), full.nik);
        let full = Kk::parse(&s);
        let strict = Kk::parse_strict(&s);
        prop_assert_eq!(strict.err(), full.errors.first().copied());
        prop_assert_eq!(strict.ok(), full.kk);
    }

    #[test]
    fn valid_niks_display_as_their_digits(s in "[1-9][0-9]{15}") {
        if let Ok(n) = Nik::parse_strict(&s) {
            prop_assert_eq!(n.as_str(), s.as_str());
            prop_assert_eq!(n.to_u64().to_string(), s.clone());
            prop_assert_eq!(Nik::parse_strict(&n.to_string()), Ok(n));
        }
        if let Ok(k) = Kk::parse_strict(&s) {
            prop_assert_eq!(k.as_str(), s.as_str());
        }
    }

    #[test]
    fn non_ascii_digits_are_never_accepted(s in "[0-9٠-٩۰-۹０-９]{16}") {
        let ascii_only = s.bytes().all(|b| b.is_ascii_digit());
        if !ascii_only {
            prop_assert!(Nik::parse_strict(&s).is_err());
            prop_assert!(Kk::parse_strict(&s).is_err());
            prop_assert!(Nik::parse(&s).errors.iter().any(|e| e.code() == "NIK_NON_DIGIT"));
        }
    }

    #[test]
    fn dates_round_trip_in_every_format(
        d in date(), pick in any::<prop::sample::Index>(), upper in any::<bool>(),
    ) {
        let (y, m, day) = (d.year(), d.month(), d.day());
        let numeric = [
            (format!("{day:02}-{m:02}-{y}"), "DD-MM-YYYY"),
            (format!("{day}-{m}-{y}"), "DD-MM-YYYY"),
            (format!("{day:02}/{m:02}/{y}"), "DD/MM/YYYY"),
            (format!("{day}/{m}/{y}"), "DD/MM/YYYY"),
            (format!("{day:02}.{m:02}.{y}"), "DD.MM.YYYY"),
            (format!("{y}-{m:02}-{day:02}"), "YYYY-MM-DD"),
            (format!("{y}-{m:02}-{day:02} 00:00:00"), "YYYY-MM-DD"),
        ];
        for (text, format) in &numeric {
            prop_assert_eq!(parse_date(text), Ok(d), "auto {}", text);
            prop_assert_eq!(parse_date_format(text, format), Ok(d), "{} as {}", text, format);
            prop_assert_eq!(parse_date_format(text, "AUTO"), Ok(d));
        }
        prop_assert_eq!(parse_date(&format!("{y}{m:02}{day:02}")), Ok(d));
        prop_assert_eq!(parse_date(&format!("{day:02}{m:02}{y}")), Ok(d));
        let names = month_names(m);
        let name = *pick.get(&names);
        let name = if upper { name.to_uppercase() } else { name.to_lowercase() };
        for text in [
            format!("{day} {name} {y}"),
            format!("{day:02}-{name}-{y}"),
            format!("{day} {name}. {y}"),
            format!("{name} {day}, {y}"),
        ] {
            prop_assert_eq!(parse_date(&text), Ok(d), "{}", text);
        }
        if d >= NaiveDate::from_ymd_opt(1900, 3, 1).unwrap() {
            let serial = excel_serial(d);
            prop_assert_eq!(from_excel_serial(serial as f64 + 0.25), Some(d));
            prop_assert_eq!(parse_date_format(&serial.to_string(), "EXCEL"), Ok(d));
            prop_assert_eq!(parse_date_format(&format!("{serial}.0"), "EXCEL"), Ok(d));
            // A bare four-digit number in 1850–2100 reads as a year, not a serial.
            if !(1850..=2100).contains(&serial) {
                prop_assert_eq!(parse_date(&serial.to_string()), Ok(d));
                prop_assert_eq!(parse_date(&format!("{serial}.0")), Ok(d));
            }
        }
    }

    #[test]
    fn normalize_name_is_idempotent_on_names(s in name_like()) {
        let once = normalize_name(&s);
        prop_assert_eq!(normalize_name(&once), once.clone(), "input {:?}", s);
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        let key = phonetic_key(&once);
        prop_assert!(key.len() <= 5);
        let person = PersonName::new(&s);
        prop_assert_eq!(person.normalized(), once.as_str());
    }

    #[test]
    fn normalize_name_is_idempotent_on_anything(s in any::<String>()) {
        let once = normalize_name(&s);
        prop_assert_eq!(normalize_name(&once), once.clone(), "input {:?}", s);
    }

    #[test]
    fn parsers_never_panic(s in any::<String>()) {
        let _ = Nik::parse(&s);
        let _ = Nik::parse_strict(&s);
        let _ = Kk::parse(&s);
        let _ = Kk::parse_strict(&s);
        let _ = parse_date(&s);
        for f in DateFormat::ALL {
            let _ = f.parse(&s);
        }
        let _ = parse_date_format(&s, &s);
        let _ = phonetic_key(&s);
        let _ = PersonName::new(&s).phonetic_key();
    }

    #[test]
    fn excel_serials_never_panic(x in any::<f64>()) {
        let _ = from_excel_serial(x);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// One-megabyte inputs made of random pieces: every parser returns, none panics.
    #[test]
    fn parsers_survive_megabyte_inputs(piece in any::<String>(), digits in "[0-9 .]{1,32}") {
        for unit in [piece, digits] {
            if unit.is_empty() {
                continue;
            }
            let big = unit.repeat((1 << 20) / unit.len() + 1);
            let p = Nik::parse(&big);
            prop_assert!(p.nik.is_none());
            prop_assert!(Nik::parse_strict(&big).is_err());
            prop_assert!(Kk::parse(&big).kk.is_none());
            prop_assert!(Kk::parse_strict(&big).is_err());
            prop_assert!(parse_date(&big).is_err());
            let n = normalize_name(&big);
            prop_assert_eq!(normalize_name(&n), n.clone());
            let _ = phonetic_key(&n);
        }
    }
}
