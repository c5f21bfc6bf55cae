//! Behaviour of the registry linker and the generic linker on hand-written data.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use sinergi_linkage::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// NIK from district (6 digits), birth date, sex and serial.
fn nik(district: u64, birth: NaiveDate, sex: Sex, serial: u64) -> u64 {
    let day = birth.day() as u64 + if sex == Sex::P { 40 } else { 0 };
    let dmy = day * 10_000 + birth.month() as u64 * 100 + (birth.year() % 100) as u64;
    (district * 1_000_000 + dmy) * 10_000 + serial
}

fn person(name: &str, sex: Sex, birth: NaiveDate, village: u64, serial: u64) -> RegistryPerson {
    RegistryPerson {
        nik: nik(village / 10_000, birth, sex, serial),
        name_norm: name.to_string(),
        sex,
        birth_date: birth,
        region: village,
        kk: village * 1_000_000 + serial,
    }
}

const V1: u64 = 3201010001;
const V2: u64 = 3201010002;
const V3: u64 = 3273050007;

/// A small registry: named people plus filler, including dense NIK neighbourhoods
/// (same district, date and sex, consecutive serials) as in the real registry.
fn registry() -> Vec<RegistryPerson> {
    let mut v = vec![
        person("MUHAMMAD SOLEH", Sex::L, date(1980, 1, 23), V1, 1), // 0
        person("SITI AMINAH", Sex::P, date(1985, 8, 23), V1, 1),    // 1
        person("SUPARMAN", Sex::L, date(1970, 3, 7), V2, 1),        // 2
        person("RUTH MARIA SIMANJUNTAK", Sex::P, date(1990, 12, 5), V3, 1), // 3
        person("AGUS SETIAWAN", Sex::L, date(1980, 1, 23), V1, 2),  // 4: NIK neighbour of 0
        person("DEWI LESTARI", Sex::P, date(1992, 4, 11), V2, 1),   // 5
        person("BAMBANG HERMAWAN", Sex::L, date(1975, 6, 30), V3, 3), // 6
        person("NUR HIDAYAH", Sex::P, date(1988, 2, 14), V1, 5),    // 7
    ];
    // Twelve BUDI SANTOSO born in 1980 in the same village.
    for k in 0..12u32 {
        v.push(person(
            "BUDI SANTOSO",
            Sex::L,
            date(1980, 1 + k % 12, 1 + 2 * k),
            V2,
            10 + k as u64,
        ));
    }
    // Filler: dense neighbourhoods around person 0's NIK.
    let firsts = [
        "ANDI", "RINA", "YUSUF", "WAHYU", "LINA", "HENDRA", "FITRI", "JOKO",
    ];
    let lasts = [
        "PRATAMA",
        "KURNIAWAN",
        "SARI",
        "WIJAYA",
        "NASUTION",
        "HARAHAP",
    ];
    for s in 3..40u64 {
        let name = format!(
            "{} {}",
            firsts[s as usize % firsts.len()],
            lasts[s as usize % lasts.len()]
        );
        v.push(person(&name, Sex::L, date(1980, 1, 23), V1, s));
    }
    for k in 0..200u64 {
        let name = format!(
            "{} {}",
            firsts[(k / 6) as usize % firsts.len()],
            lasts[k as usize % lasts.len()]
        );
        let d = date(
            1950 + (k % 50) as i32,
            1 + (k % 12) as u32,
            1 + (k % 28) as u32,
        );
        let sex = if k % 2 == 0 { Sex::L } else { Sex::P };
        v.push(person(&name, sex, d, [V1, V2, V3][k as usize % 3], 100 + k));
    }
    v
}

struct World {
    index: RegistryIndex,
    persons: Vec<RegistryPerson>,
}

fn world() -> World {
    let persons = registry();
    World {
        index: RegistryIndex::build(persons.clone()),
        persons,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Exact(u32),
    Mismatch { holder: u32, suggest: u32 },
    Probable(u32),
    NotLinked,
}

fn query(nik: Option<&str>, name: &str, birth: Option<NaiveDate>, sex: Option<Sex>) -> Query {
    Query {
        nik_raw: nik.map(str::to_string),
        nik: None,
        name: name.to_string(),
        birth_date: birth,
        sex,
        region: None,
        kk: None,
    }
}

fn check(w: &World, case: &str, q: &Query, expected: Expect) -> Link {
    let linker = Linker::new(&w.index, LinkConfig::default());
    let link = linker.link(q);
    let ok = match expected {
        Expect::Exact(p) => link.outcome == LinkOutcome::ExactNik && link.person == Some(p),
        Expect::Mismatch { holder, suggest } => {
            link.outcome == LinkOutcome::ExactNikMismatch
                && link.person == Some(holder)
                && link
                    .suggestion
                    .as_ref()
                    .is_some_and(|s| s.candidate.person == suggest && s.probable)
        }
        Expect::Probable(p) => {
            matches!(link.outcome, LinkOutcome::Probable { .. }) && link.person == Some(p)
        }
        Expect::NotLinked => matches!(link.outcome, LinkOutcome::NotFound | LinkOutcome::Possible),
    };
    assert!(ok, "{case}: expected {expected:?}, got {link:#?}");
    link
}

fn nik_str(w: &World, i: usize) -> String {
    w.persons[i].nik.to_string()
}

fn one_sub(n: &str, pos: usize, digit: char) -> String {
    let mut c: Vec<char> = n.chars().collect();
    assert_ne!(c[pos], digit);
    c[pos] = digit;
    c.into_iter().collect()
}

#[test]
fn registry_linking_table() {
    let w = world();
    let soleh = nik_str(&w, 0);
    let siti = nik_str(&w, 1);
    let d_soleh = Some(date(1980, 1, 23));
    let d_siti = Some(date(1985, 8, 23));
    // Serial typo in Soleh's NIK that hits nobody: 0001 -> 0091.
    let soleh_typo = one_sub(&soleh, 14, '9');
    // Day typo: 23 -> 28 (row's birth date still right).
    let soleh_day_typo = one_sub(&soleh, 7, '8');
    // Adjacent swap of Siti's serial "0001" -> "0010".
    let mut siti_swap: Vec<char> = siti.chars().collect();
    siti_swap.swap(14, 15);
    let siti_swap: String = siti_swap.into_iter().collect();
    let suparman = nik_str(&w, 2);
    let truncated = suparman[..15].to_string();
    let cases: Vec<(&str, Query, Expect)> = vec![
        (
            "exact NIK",
            query(Some(&soleh), "MUHAMMAD SOLEH", d_soleh, Some(Sex::L)),
            Expect::Exact(0),
        ),
        (
            "exact NIK, title and spelling variant",
            query(
                Some(&soleh),
                "H. Mochamad Soleh, S.Pd.",
                d_soleh,
                Some(Sex::L),
            ),
            Expect::Exact(0),
        ),
        (
            "one wrong serial digit",
            query(Some(&soleh_typo), "MUHAMMAD SOLEH", d_soleh, Some(Sex::L)),
            Expect::Probable(0),
        ),
        (
            "one wrong day digit, stated birth date right",
            query(
                Some(&soleh_day_typo),
                "MUHAMMAD SOLEH",
                d_soleh,
                Some(Sex::L),
            ),
            Expect::Probable(0),
        ),
        (
            "adjacent digits swapped",
            query(Some(&siti_swap), "SITI AMINAH", d_siti, Some(Sex::P)),
            Expect::Probable(1),
        ),
        (
            "truncated to 15 digits",
            query(Some(&truncated), "SUPARMAN", Some(date(1970, 3, 7)), None),
            Expect::Probable(2),
        ),
        (
            "spreadsheet zero in the last digit",
            query(
                Some(&format!("{truncated}0")),
                "SUPARMAN",
                Some(date(1970, 3, 7)),
                None,
            ),
            Expect::Probable(2),
        ),
        (
            "NIK of another person: Siti's NIK on Soleh's row",
            query(Some(&siti), "MUHAMMAD SOLEH", d_soleh, Some(Sex::L)),
            Expect::Mismatch {
                holder: 1,
                suggest: 0,
            },
        ),
        (
            "missing NIK, name + birth date",
            query(None, "MUHAMMAD SOLEH", d_soleh, Some(Sex::L)),
            Expect::Probable(0),
        ),
        (
            "invalid NIK, initials",
            query(Some("12AB"), "M. SOLEH", d_soleh, Some(Sex::L)),
            Expect::Probable(0),
        ),
        (
            "day and month swapped",
            query(None, "DEWI LESTARI", Some(date(1992, 11, 4)), Some(Sex::P)),
            Expect::Probable(5),
        ),
        (
            "single-name person, missing NIK",
            query(None, "SUPARMAN", Some(date(1970, 3, 7)), Some(Sex::L)),
            Expect::Probable(2),
        ),
        (
            "dropped middle name",
            query(
                None,
                "RUTH SIMANJUNTAK",
                Some(date(1990, 12, 5)),
                Some(Sex::P),
            ),
            Expect::Probable(3),
        ),
        (
            "year off by one, old spelling",
            query(
                None,
                "BAMBANG HERMAWAN",
                Some(date(1974, 6, 30)),
                Some(Sex::L),
            ),
            Expect::Probable(6),
        ),
        (
            "absent person with a NIK one digit from a real one and a different name",
            query(
                Some(&one_sub(&soleh, 12, '9')),
                "RAHMAT HIDAYAT",
                d_soleh,
                Some(Sex::L),
            ),
            Expect::NotLinked,
        ),
        (
            "absent person, NIK one digit from Agus, different name",
            query(
                Some(&one_sub(&nik_str(&w, 4), 14, '8')),
                "YOGI PERMANA",
                d_soleh,
                Some(Sex::L),
            ),
            Expect::NotLinked,
        ),
        (
            "common name without NIK or birth date",
            Query {
                region: Some(V2),
                ..query(None, "BUDI SANTOSO", None, Some(Sex::L))
            },
            Expect::NotLinked,
        ),
        (
            "common name born the same year, no exact date",
            Query {
                region: Some(V2),
                ..query(None, "BUDI SANTOSO", Some(date(1980, 7, 2)), Some(Sex::L))
            },
            Expect::NotLinked,
        ),
    ];
    for (case, q, want) in cases {
        check(&w, case, &q, want);
    }
}

#[test]
fn a_near_miss_nik_does_not_link_a_different_name() {
    let w = world();
    // Every one-digit substitution of the serial of person 0 that hits a real neighbour, with
    // a name nobody in the neighbourhood has, must not be Probable.
    let linker = Linker::new(&w.index, LinkConfig::default());
    let soleh = nik_str(&w, 0);
    for pos in 12..16 {
        for d in '0'..='9' {
            if soleh.as_bytes()[pos] as char == d {
                continue;
            }
            let listed = one_sub(&soleh, pos, d);
            if !w.index.lookup_nik(listed.parse().unwrap()).is_empty() {
                continue; // that is an exact NIK of someone else
            }
            let link = linker.link(&query(
                Some(&listed),
                "RAHMAT HIDAYAT",
                Some(date(1980, 1, 23)),
                Some(Sex::L),
            ));
            assert!(
                matches!(link.outcome, LinkOutcome::NotFound | LinkOutcome::Possible),
                "{listed}: {link:#?}"
            );
            assert!(link.score < 0.0, "{listed}: score {}", link.score);
            // The evidence shows the NIK's date, sex and district were not counted again.
            let near_miss = link
                .evidence
                .iter()
                .any(|e| e.field == Field::Nik && e.level.starts_with("one_substitution"));
            if near_miss {
                assert!(link.evidence.iter().any(|e| e.level.contains("implied")));
            }
        }
    }
}

#[test]
fn evidence_explains_the_score() {
    let w = world();
    let linker = Linker::new(&w.index, LinkConfig::default());
    let link = linker.link(&query(
        Some(&nik_str(&w, 0)),
        "MUHAMMAD SOLEH",
        Some(date(1980, 1, 23)),
        Some(Sex::L),
    ));
    let sum: f64 = link.evidence.iter().map(|e| e.weight).sum();
    assert!((sum - link.score).abs() < 1e-9);
    let fields: Vec<Field> = link.evidence.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            Field::Prior,
            Field::Nik,
            Field::Name,
            Field::BirthDate,
            Field::Sex
        ]
    );
    assert!(link.probability > 0.99);
}

/// A synthetic roster over the test registry, for EM and determinism.
fn roster(w: &World) -> Vec<Query> {
    let mut out = Vec::new();
    for (i, p) in w.persons.iter().enumerate() {
        let mut nik = p.nik.to_string();
        if i % 7 == 3 {
            nik = one_sub(&nik, 13, if nik.as_bytes()[13] == b'5' { '6' } else { '5' });
        }
        out.push(Query {
            nik_raw: (i % 11 != 5).then_some(nik),
            nik: None,
            name: p.name_norm.clone(),
            birth_date: Some(p.birth_date),
            sex: Some(p.sex),
            region: Some(p.region),
            kk: None,
        });
    }
    out
}

#[test]
fn em_converges_and_m_exceeds_u_for_every_field() {
    let w = world();
    let mut linker = Linker::new(&w.index, LinkConfig::default());
    let qs = roster(&w);
    // The roster twice (a list may hold a person twice): enough pairs for EM.
    let report = linker.train(&[qs.clone(), qs.clone()].concat());
    assert!(report.pairs >= 1000, "pairs {}", report.pairs);
    assert!(report.converged, "{report:?}");
    let p = linker.params();
    for f in 0..5 {
        assert!(
            p.m[f][0] > p.u[f][0],
            "field {f}: m {} <= u {}",
            p.m[f][0],
            p.u[f][0]
        );
    }
    // Training keeps the linker accurate.
    let links = linker.link_all(&qs);
    let right = links
        .iter()
        .enumerate()
        .filter(|(i, l)| l.person == Some(*i as u32))
        .count();
    assert!(right * 100 >= qs.len() * 95, "{right} of {}", qs.len());
}

#[test]
fn scarce_data_keeps_defaults() {
    let w = world();
    let mut linker = Linker::new(&w.index, LinkConfig::default());
    let before = linker.params().clone();
    let report = linker.train(&roster(&w)[..3]);
    assert!(report.pairs < 1000);
    assert_eq!(linker.params(), &before);
}

#[test]
fn batch_output_does_not_depend_on_thread_count() {
    let w = world();
    let mut linker = Linker::new(&w.index, LinkConfig::default());
    let qs = roster(&w);
    linker.train(&qs);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| format!("{:?}", linker.link_all(&qs)))
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(1));
    let sequential: Vec<Link> = qs.iter().map(|q| linker.link(q)).collect();
    assert_eq!(one, format!("{sequential:?}"));
}

#[test]
fn weight_overrides_apply() {
    let w = world();
    let config = LinkConfig {
        weight_overrides: vec![WeightOverride {
            field: Field::Sex,
            level: "agree".into(),
            weight: 5.0,
        }],
        ..LinkConfig::default()
    };
    let linker = Linker::new(&w.index, config);
    let link = linker.link(&query(
        None,
        "SUPARMAN",
        Some(date(1970, 3, 7)),
        Some(Sex::L),
    ));
    let sex = link
        .evidence
        .iter()
        .find(|e| e.field == Field::Sex)
        .unwrap();
    assert_eq!(sex.weight, 5.0);
}

#[test]
fn config_reads_from_toml() {
    let c: LinkConfig = toml::from_str("match_threshold = 4.0\nuse_em = false").unwrap();
    assert_eq!(c.match_threshold, 4.0);
    assert!(!c.use_em);
    assert!(toml::from_str::<LinkConfig>("bogus = 1").is_err());
}

#[test]
fn jaro_winkler_agrees_with_strsim() {
    let pairs = [
        ("MUHAMAD", "MUHAMMAD"),
        ("SOLEH", "SALEH"),
        ("MARTHA", "MARHTA"),
        ("DWAYNE", "DUANE"),
        ("A", "B"),
        ("", ""),
        ("SITI", ""),
        ("SUPRIYADI", "SUPRIADI"),
        ("KURNIAWAN", "KURNIAWATI"),
    ];
    for (a, b) in pairs {
        let mine = names::jaro_winkler(a, b);
        let oracle = strsim::jaro_winkler(a, b);
        assert!((mine - oracle).abs() < 1e-9, "{a} {b}: {mine} vs {oracle}");
    }
}

proptest! {
    #[test]
    fn jaro_winkler_matches_strsim_on_ascii(a in "[A-Z ]{0,20}", b in "[A-Z ]{0,20}") {
        let mine = names::jaro_winkler(&a, &b);
        let oracle = strsim::jaro_winkler(&a, &b);
        prop_assert!((mine - oracle).abs() < 1e-9);
    }

    #[test]
    fn link_never_panics(
        nik_raw in proptest::option::of(".{0,24}"),
        nik in proptest::option::of(any::<u64>()),
        name in ".{0,40}",
        days in proptest::option::of(600_000i32..800_000),
        sex in proptest::option::of(any::<bool>()),
        region in proptest::option::of(any::<u64>()),
    ) {
        let w = world_cached();
        let linker = Linker::new(&w.index, LinkConfig::default());
        let q = Query {
            nik_raw,
            nik,
            name,
            birth_date: days.and_then(NaiveDate::from_num_days_from_ce_opt),
            sex: sex.map(|s| if s { Sex::L } else { Sex::P }),
            region,
            kk: None,
        };
        let link = linker.link(&q);
        prop_assert!(link.alternatives.len() <= 3);
        prop_assert!(link.probability.is_nan() || (0.0..=1.0).contains(&link.probability));
    }
}

fn world_cached() -> &'static World {
    static W: std::sync::OnceLock<World> = std::sync::OnceLock::new();
    W.get_or_init(world)
}

fn generic_config() -> GenericConfig {
    toml::from_str(
        r#"
        match_threshold = 14.0
        possible_threshold = 6.0
        blocking = [
          [{ field = "nama", transform = "phonetic" }, { field = "tgl_lahir", transform = "year" }],
          [{ field = "tgl_lahir", transform = "exact" }],
        ]
        [[fields]]
        name = "nama"
        comparator = "name"
        [[fields]]
        name = "tgl_lahir"
        comparator = "date"
        [[fields]]
        name = "desa"
        comparator = "region"
        "#,
    )
    .unwrap()
}

fn rec(v: &[&str]) -> GenericRecord {
    GenericRecord {
        values: v
            .iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect(),
    }
}

#[test]
fn generic_link_and_dedup() {
    let linker = GenericLinker::new(generic_config()).unwrap();
    let left = vec![
        rec(&["H. MOCHAMAD SOLEH", "23-01-1980", "3201010001"]),
        rec(&["SITI AMINAH", "1985-08-23", "3201010001"]),
        rec(&["JOKO WIDODO", "1961-06-21", "3372010001"]),
    ];
    let right = vec![
        rec(&["SITI AMINAH", "23/08/1985", "3201010002"]),
        rec(&["MUHAMMAD SOLEH", "1980-01-23", "3201010001"]),
        rec(&["AGUS SETIAWAN", "1980-01-23", "3201010001"]),
    ];
    let (pairs, _, stats) = linker.link(&left, &right);
    assert!(stats.compared >= 2);
    let matches: Vec<(u32, u32)> = pairs
        .iter()
        .filter(|p| p.is_match)
        .map(|p| (p.left, p.right))
        .collect();
    assert_eq!(matches, vec![(0, 1), (1, 0)]);
    let mut with_dup = left.clone();
    with_dup.push(rec(&["MUHAMAD SOLEH", "1980-01-23", ""]));
    let (pairs, model, _) = linker.dedup(&with_dup);
    let matches: Vec<(u32, u32)> = pairs
        .iter()
        .filter(|p| p.is_match)
        .map(|p| (p.left, p.right))
        .collect();
    assert_eq!(matches, vec![(0, 3)]);
    assert!(
        linker
            .evidence(&model, &pairs[0])
            .iter()
            .any(|e| e.field == "nama")
    );
}

#[test]
fn generic_config_errors_are_explained() {
    let mut c = generic_config();
    c.blocking.push(vec![KeyPart {
        field: "alamat".into(),
        transform: KeyTransform::Exact,
    }]);
    let err = GenericLinker::new(c).err().unwrap();
    assert_eq!(err.code(), "LINK_CONFIG_UNKNOWN_FIELD");
    assert!(err.to_string().contains("alamat"));
}

// ---------------------------------------------------------------------------------------------
// Issue 17: verdicts that hold on the world as it is. Registries of a few rows.
// ---------------------------------------------------------------------------------------------

/// Four people, two of them namesakes born in the same year (one on a default date).
fn four() -> World {
    let persons = vec![
        // 0: listed with her own NIK in the tests below.
        RegistryPerson {
            nik: nik(320101, date(1961, 5, 17), Sex::P, 1),
            ..person("SRI WAHYUNI", Sex::P, date(1961, 5, 17), V1, 1)
        },
        // 1: her namesake, born on 01-01 of the same year, registered elsewhere.
        RegistryPerson {
            nik: nik(327305, date(1961, 1, 1), Sex::P, 3),
            ..person("SRI WAHYUNI", Sex::P, date(1961, 1, 1), V3, 3)
        },
        person("BAMBANG SUSILO", Sex::L, date(1970, 9, 9), V1, 2),
        person("ANI SURYANI", Sex::P, date(1975, 6, 14), V2, 4),
    ];
    World {
        index: RegistryIndex::build(persons.clone()),
        persons,
    }
}

#[test]
fn a_correct_nik_with_a_small_slip_links_to_its_holder() {
    let w = four();
    let sri = nik_str(&w, 0);
    let bambang = nik_str(&w, 2);
    let ani = nik_str(&w, 3);
    let cases = [
        (
            "default birth date 01-01 (same year)",
            query(Some(&sri), "SRI WAHYUNI", Some(date(1961, 1, 1)), None),
            0,
        ),
        (
            "default birth date 31-12 (same year)",
            query(Some(&sri), "SRI WAHYUNI", Some(date(1961, 12, 31)), None),
            0,
        ),
        (
            "day off by one across a ten (09 -> 10)",
            query(
                Some(&bambang),
                "BAMBANG SUSILO",
                Some(date(1970, 9, 10)),
                None,
            ),
            2,
        ),
        (
            "day with one wrong digit (09 -> 19)",
            query(
                Some(&bambang),
                "BAMBANG SUSILO",
                Some(date(1970, 9, 19)),
                None,
            ),
            2,
        ),
        (
            "one letter wrong in a short token",
            query(Some(&ani), "AMI SURYANI", Some(date(1975, 6, 14)), None),
            3,
        ),
        (
            "one letter wrong and a default date",
            query(Some(&ani), "ANI SURYAMI", Some(date(1975, 1, 1)), None),
            3,
        ),
    ];
    let linker = Linker::new(&w.index, LinkConfig::default());
    for (case, q, holder) in cases {
        let link = linker.link(&q);
        assert_eq!(
            (link.outcome, link.person),
            (LinkOutcome::ExactNik, Some(holder)),
            "{case}: {link:#?}"
        );
        // The slip shows in the evidence (for the officer's data-correction note).
        assert!(
            link.evidence
                .iter()
                .any(|e| matches!(e.field, Field::Name | Field::BirthDate)
                    && e.level != "exact"
                    && !e.level.contains("implied")),
            "{case}: {:?}",
            link.evidence
        );
    }
}

#[test]
fn a_namesake_on_a_default_date_never_replaces_the_holder_of_a_valid_nik() {
    let w = four();
    let linker = Linker::new(&w.index, LinkConfig::default());
    // Her own NIK, the namesake's exact birth date (a default 01-01): still her.
    let link = linker.link(&query(
        Some(&nik_str(&w, 0)),
        "SRI WAHYUNI",
        Some(date(1961, 1, 1)),
        Some(Sex::P),
    ));
    assert_eq!(link.person, Some(0), "{link:#?}");
    assert_eq!(link.outcome, LinkOutcome::ExactNik);
    assert!(link.suggestion.is_none(), "{link:#?}");
}

#[test]
fn a_one_token_name_near_one_token_of_another_is_not_a_name_agreement() {
    use names::{NameLevel, canonical_name, compare_names};
    let c = |a: &str, b: &str| compare_names(&canonical_name(a), &canonical_name(b));
    // A fuzzy single token against one token of a longer name says little.
    assert!(c("TARI", "TRI ADRIANSYAH") > Some(NameLevel::Partial));
    assert!(c("TARI", "TRI ADRIANSYAH").is_some());
    // An exact single name inside a longer one is still a subset (single-name people).
    assert_eq!(c("SUPARMAN", "SUPARMAN HADI"), Some(NameLevel::Partial));
}

#[test]
fn an_absent_person_does_not_link_to_a_crowded_nik_neighbour_with_another_name() {
    // A crowded NIK space: forty women registered in one district on one day and living in one
    // village, serials 0001-0040, as in the national registry. One is TRI ADRIANSYAH.
    let others = [
        "SITI RAHMAWATI",
        "DEWI SARTIKA",
        "NUR AINI",
        "YULIANTI",
        "RINA MARLINA",
        "KARTINI",
        "ENDANG SUSILAWATI",
        "LILIS SURYANI",
    ];
    let mut persons = vec![person("TRI ADRIANSYAH", Sex::P, date(1990, 3, 4), V1, 1)];
    for s in 2..=40u64 {
        let name = format!(
            "{} {}",
            others[s as usize % 8],
            ["A", "B", "C", "D", "E"][s as usize % 5]
        );
        persons.push(person(&name, Sex::P, date(1990, 3, 4), V1, s));
    }
    let w = World {
        index: RegistryIndex::build(persons.clone()),
        persons,
    };
    let linker = Linker::new(&w.index, LinkConfig::default());
    let tri = nik_str(&w, 0); // serial 0001
    // TARI is not in the registry. Her own NIK (serial 0099, not registered), a neighbour's
    // NIK one digit off (serial 0041), or no NIK at all.
    for listed in [
        Some(one_sub(&one_sub(&tri, 14, '9'), 15, '9')),
        Some(one_sub(&tri, 14, '4')),
        None,
    ] {
        if let Some(l) = &listed {
            assert!(w.index.lookup_nik(l.parse().unwrap()).is_empty());
        }
        let q = Query {
            region: Some(V1),
            ..query(
                listed.as_deref(),
                "TARI",
                Some(date(1990, 3, 4)),
                Some(Sex::P),
            )
        };
        let link = linker.link(&q);
        assert!(
            !matches!(
                link.outcome,
                LinkOutcome::Probable { .. } | LinkOutcome::ExactNik
            ),
            "{listed:?}: {link:#?}"
        );
    }
}

#[test]
fn a_garbled_nik_cell_is_read_as_the_clerk_meant_it() {
    let w = world();
    let soleh = nik_str(&w, 0);
    let d = Some(date(1980, 1, 23));
    let letter = soleh.replacen('0', "O", 1);
    let extra = format!("{}{}", &soleh[..5], &soleh[4..]);
    let dropped = soleh[1..].to_string();
    let linker = Linker::new(&w.index, LinkConfig::default());
    // Letter O for zero: the holder of the NIK as meant.
    let l = linker.link(&query(Some(&letter), "MUHAMMAD SOLEH", d, Some(Sex::L)));
    assert_eq!(
        (l.outcome, l.person),
        (LinkOutcome::ExactNik, Some(0)),
        "{l:#?}"
    );
    // A digit typed twice, or the first one left out: one edit from the right NIK.
    for raw in [extra, dropped] {
        let l = linker.link(&query(Some(&raw), "MUHAMMAD SOLEH", None, None));
        assert_eq!(l.person, Some(0), "{raw}: {l:#?}");
        assert!(
            matches!(
                l.outcome,
                LinkOutcome::Probable {
                    via: Via::NikRepaired
                }
            ),
            "{raw}: {l:#?}"
        );
    }
}

#[test]
fn a_row_that_agrees_with_its_own_nik_is_no_typo_of_a_neighbour() {
    // PUTRI born 30-06-1993 is registered; another PUTRI, born 30-06-1995, is not. Their NIKs
    // differ in one digit of the year, and so do their birth dates: one discrepancy, not a
    // near miss twice over.
    let mut persons = vec![person("PUTRI", Sex::P, date(1993, 6, 30), V1, 1)];
    for s in 2..30u64 {
        persons.push(person(
            &format!("ANI {s}"),
            Sex::P,
            date(1993, 6, 30),
            V1,
            s,
        ));
    }
    let w = World {
        index: RegistryIndex::build(persons.clone()),
        persons,
    };
    let linker = Linker::new(&w.index, LinkConfig::default());
    let own = nik(320101, date(1995, 6, 30), Sex::P, 1).to_string();
    let l = linker.link(&query(
        Some(&own),
        "PUTRI",
        Some(date(1995, 6, 30)),
        Some(Sex::P),
    ));
    assert!(!matches!(l.outcome, LinkOutcome::Probable { .. }), "{l:#?}");
    // The registered PUTRI with her NIK's year mistyped (her own birth date right) links.
    let l = linker.link(&query(
        Some(&own),
        "PUTRI",
        Some(date(1993, 6, 30)),
        Some(Sex::P),
    ));
    assert_eq!(l.person, Some(0), "{l:#?}");
}

/// Issue 17, item 4: compound errors. A damaged NIK, a village in another regency (people on a
/// list that live elsewhere: what OUT_OF_REGION reports) and a patronymic the registry does not
/// write (`YUDI ILHAM BIN SUYANTO`), or an initial of a word the spelling folds change (`D.`
/// for DJOKO, folded to JOKO): the person is still found, so their reasons are not lost. The
/// father's name once made the row's name look like one with an extra word (a weak subset) and
/// kept blocking from finding a one-word own name (`INDAH BINTI TRI` among the INDAHs).
#[test]
fn a_damaged_nik_a_patronymic_and_another_regency_still_find_the_person() {
    let mut persons = vec![
        person("YUDI ILHAM", Sex::L, date(1952, 12, 16), V1, 1),
        person("INDAH", Sex::P, date(1985, 2, 7), V2, 1),
        person("DJOKO GIJONO", Sex::L, date(1954, 6, 10), V1, 7),
    ];
    // A crowded neighbourhood: people born the same days in the same villages.
    let fill = ["SITI RAHMAWATI", "DEWI SARTIKA", "NUR AINI", "BUDI SANTOSO"];
    for s in (2..=30u64).filter(|&s| s != 10) {
        let name = fill[s as usize % 4];
        persons.push(person(name, Sex::L, date(1952, 12, 16), V1, s));
        persons.push(person(name, Sex::P, date(1985, 2, 7), V2, s));
    }
    let w = World {
        index: RegistryIndex::build(persons.clone()),
        persons,
    };
    let yudi = nik_str(&w, 0);
    let indah = nik_str(&w, 1);
    // The serial's last two digits swapped (…0001 → …0010: nobody's NIK).
    let swapped = format!("{}10", &yudi[..14]);
    assert!(w.index.lookup_nik(swapped.parse().unwrap()).is_empty());
    let elsewhere = |q: Query| Query {
        region: Some(V3),
        ..q
    };
    let cases = [
        (
            "transposed serial, patronymic, another regency",
            elsewhere(query(
                Some(&swapped),
                "YUDI ILHAM BIN SUYANTO",
                Some(date(1952, 12, 16)),
                None,
            )),
            0,
        ),
        (
            "unknown province, patronymic, default date, another regency",
            elsewhere(query(
                Some(&format!("20{}", &indah[2..])),
                "INDAH BINTI TRI",
                Some(date(1985, 7, 1)),
                None,
            )),
            1,
        ),
        (
            "no NIK, an initial of DJOKO, another regency",
            elsewhere(query(None, "D. GIJONO", Some(date(1954, 6, 10)), None)),
            2,
        ),
    ];
    // The engine's setting for lists: a domicile in another regency is weak evidence.
    let config = LinkConfig {
        weight_overrides: vec![WeightOverride {
            field: Field::Region,
            level: "different".to_string(),
            weight: -1.0,
        }],
        ..LinkConfig::default()
    };
    let linker = Linker::new(&w.index, config);
    for (case, q, expected) in cases {
        let link = linker.link(&q);
        assert!(
            matches!(link.outcome, LinkOutcome::Probable { .. }) && link.person == Some(expected),
            "{case}: {link:#?}"
        );
    }
    // His own NIK with the patronymic: his, with the own name agreeing exactly.
    let own = linker.link(&query(
        Some(&yudi),
        "YUDI ILHAM BIN SUYANTO",
        Some(date(1952, 12, 16)),
        None,
    ));
    assert_eq!((own.outcome, own.person), (LinkOutcome::ExactNik, Some(0)));
    assert!(
        own.evidence
            .iter()
            .any(|e| e.field == Field::Name && e.level == "exact"),
        "{own:#?}"
    );
}

/// The linker of [`world`] with a KK model as training would learn it (m 0.95, u one over
/// the number of families).
fn with_kk(w: &World) -> Linker<'_> {
    let mut linker = Linker::new(&w.index, LinkConfig::default());
    let mut fams: Vec<u64> = w.persons.iter().map(|p| p.kk).collect();
    fams.sort_unstable();
    fams.dedup();
    linker.set_params(Params {
        kk: [0.95, 1.0 / fams.len() as f64],
        ..linker.params().clone()
    });
    linker
}

#[test]
fn a_listed_kk_finds_the_person_when_the_nik_and_the_region_are_lost() {
    let w = world();
    let linker = with_kk(&w);
    let siti = &w.persons[1]; // SITI AMINAH, V1, on the KK of MUHAMMAD SOLEH (0)
    let row = |name: &str, birth, kk| Query {
        region: Some(V3), // another regency
        kk,
        ..query(None, name, Some(birth), None)
    };
    // No NIK cell, another regency, and a name or date slip: not enough alone, enough with
    // her family card.
    for (name, birth) in [
        ("AMINAH", date(1985, 1, 1)),
        ("S. AMINAH", date(1984, 8, 23)),
    ] {
        let alone = linker.link(&row(name, birth, None));
        assert!(
            !matches!(alone.outcome, LinkOutcome::Probable { .. }),
            "{name} without KK: {alone:#?}"
        );
        let link = linker.link(&row(name, birth, Some(siti.kk)));
        assert!(
            matches!(link.outcome, LinkOutcome::Probable { .. }) && link.person == Some(1),
            "{name} with KK: {link:#?}"
        );
        assert!(
            link.evidence
                .iter()
                .any(|e| e.field == Field::Kk && e.level == "equal" && e.weight > 0.0),
            "{:#?}",
            link.evidence
        );
    }
    // A child the registry does not know, listed on the family's card, links to nobody in it.
    let child = linker.link(&row("AHMAD FAUZI", date(2010, 3, 2), Some(siti.kk)));
    assert!(
        !matches!(child.outcome, LinkOutcome::Probable { .. }),
        "{child:#?}"
    );
    // Another family's card counts against her when she is found by name and birth date
    // (her name and date still carry her)...
    let exact = linker.link(&row("SITI AMINAH", siti.birth_date, None));
    let other = linker.link(&row("SITI AMINAH", siti.birth_date, Some(w.persons[2].kk)));
    assert!(matches!(other.outcome, LinkOutcome::Probable { .. }) && other.person == Some(1));
    assert!(
        other.score < exact.score - 2.0,
        "{} vs {}",
        other.score,
        exact.score
    );
    // ...and nothing against the holder of the NIK the row lists (a KK_MISMATCH of its own).
    let listed = |kk| Query {
        kk,
        ..query(
            Some(&nik_str(&w, 1)),
            "SITI AMINA",
            Some(date(1985, 1, 1)),
            None,
        )
    };
    let own = linker.link(&listed(None));
    let old_card = linker.link(&listed(Some(w.persons[2].kk)));
    assert_eq!(old_card.outcome, LinkOutcome::ExactNik);
    assert_eq!(old_card.score, own.score);
}

#[test]
fn a_well_formed_nik_nobody_holds_links_only_to_a_neighbour() {
    let w = world();
    let linker = with_kk(&w);
    let ruth = &w.persons[3]; // RUTH MARIA SIMANJUNTAK, the only one of her name
    let ruth_nik = nik_str(&w, 3);
    let row = |listed: Option<&str>| {
        query(
            listed,
            "RUTH MARIA SIMANJUNTAK",
            Some(ruth.birth_date),
            Some(Sex::P),
        )
    };
    // Her name and birth date are found through the birth-date block whatever the NIK says.
    let probable =
        |l: &Link| matches!(l.outcome, LinkOutcome::Probable { .. }) && l.person == Some(3);
    assert!(probable(&linker.link(&row(None))));
    // One digit off hers: a slip on her NIK.
    let slip = one_sub(&ruth_nik, 15, '7');
    assert!(w.index.lookup_nik(slip.parse().unwrap()).is_empty());
    assert!(probable(&linker.link(&row(Some(&slip)))));
    // Her family card number in the NIK column.
    assert!(probable(
        &linker.link(&row(Some(&format!("{:016}", ruth.kk))))
    ));
    // A well-formed NIK two digits away that nobody holds: someone the registry does not
    // know, as far as the NIK says; a namesake is not linked on a guess.
    let far = format!("{}77", &ruth_nik[..14]);
    assert!(w.index.lookup_nik(far.parse().unwrap()).is_empty());
    let link = linker.link(&row(Some(&far)));
    assert!(
        !matches!(
            link.outcome,
            LinkOutcome::Probable { .. } | LinkOutcome::ExactNik
        ),
        "{link:#?}"
    );
    // A NIK that could never have been issued (province 20) is a garbled cell: found.
    assert!(probable(
        &linker.link(&row(Some(&format!("20{}", &far[2..]))))
    ));
}

#[test]
fn training_estimates_the_absent_share_and_the_kk_model_from_the_list() {
    let w = world();
    let mut linker = Linker::new(&w.index, LinkConfig::default());
    // Every registry person listed eight times with their NIK and KK, plus one row in five of
    // people the registry does not know (well-formed NIKs nobody holds, names nobody bears).
    let mut rows = Vec::new();
    for _ in 0..8 {
        for p in &w.persons {
            rows.push(Query {
                region: Some(p.region),
                kk: Some(p.kk),
                ..query(
                    Some(&p.nik.to_string()),
                    &p.name_norm,
                    Some(p.birth_date),
                    Some(p.sex),
                )
            });
        }
    }
    let present = rows.len();
    let given = ["XAVERIUS", "OKTAVIANUS", "YOHANA", "MARSELINA", "GREGORIUS"];
    let family = ["LAOLI", "ZEBUA", "HAREFA", "GULO"];
    for k in 0..present / 4 {
        let birth = date(
            1950 + (k % 50) as i32,
            1 + (k % 12) as u32,
            1 + (k % 27) as u32,
        );
        let sex = if k % 2 == 0 { Sex::L } else { Sex::P };
        rows.push(Query {
            region: Some(V2),
            ..query(
                Some(&nik(351702, birth, sex, 5000 + k as u64).to_string()),
                &format!("{} {}", given[k % 5], family[k % 4]),
                Some(birth),
                Some(sex),
            )
        });
    }
    let truth = (rows.len() - present) as f64 / rows.len() as f64;
    let report = linker.train(&rows);
    let absent = report.absent.expect("estimated");
    assert_eq!(linker.params().absent, Some(absent));
    assert!(
        (absent - truth).abs() < 0.03,
        "absent {absent}, truth {truth}"
    );
    let [m, u] = linker.params().kk;
    assert!(m > 0.95 && u > 0.0 && u < 0.01, "kk m {m} u {u}");
    // Too few rows to learn from, or rows without names: no estimate, and "nobody" keeps
    // odds of one.
    let mut small = Linker::new(&w.index, LinkConfig::default());
    assert_eq!(small.train(&rows[..50]).absent, None);
    let bare: Vec<Query> = rows
        .iter()
        .map(|q| Query {
            name: String::new(),
            ..q.clone()
        })
        .collect();
    let mut bare_linker = Linker::new(&w.index, LinkConfig::default());
    assert_eq!(bare_linker.train(&bare).absent, None);
}
