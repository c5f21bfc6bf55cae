//! Behaviour of programme rules and verdicts that officers, citizens and the engine rely on.

use proptest::prelude::*;
use sinergi_rules::*;

const PKH: &str = include_str!("../../../config/programs/PKH.toml");
const BPNT: &str = include_str!("../../../config/programs/BPNT.toml");
const PBI_JK: &str = include_str!("../../../config/programs/PBI_JK.toml");
const BLT_DD: &str = include_str!("../../../config/programs/BLT_DD.toml");

fn program(name: &str) -> Program {
    let (origin, text) = match name {
        "PKH" => ("PKH.toml", PKH),
        "BPNT" => ("BPNT.toml", BPNT),
        "PBI_JK" => ("PBI_JK.toml", PBI_JK),
        "BLT_DD" => ("BLT_DD.toml", BLT_DD),
        _ => unreachable!(),
    };
    Program::parse(origin, text).unwrap_or_else(|e| panic!("{e}"))
}

fn src(agency: &str, dataset: &str) -> Source {
    Source::new(agency, dataset, &format!("{dataset}-v1"), "2026-11-01")
}

fn region(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

/// A row about which every registry was asked and nothing is wrong.
fn clean() -> Facts {
    let mut f = Facts::new(7, src("Daftar (list itself)", "roster"));
    f.row.list_region = Some(region("32.01.01.2001"));
    f.identity = IdentityFacts {
        nik_status: NikStatus::Valid,
        source: src("Dukcapil", "penduduk"),
        link: None,
        kk_stated_matches: Some(true),
        ..IdentityFacts::default()
    };
    f.person = PersonFacts {
        sex: Some(Sex::P),
        age: Some(41),
        is_family_head: Some(false),
        domicile: Lookup::Found {
            value: region("32.01.01.2001"),
            source: src("Dukcapil", "penduduk"),
        },
        death: Lookup::Absent {
            source: src("Dukcapil", "kematian"),
        },
        civil_servant: Lookup::Absent {
            source: src("BKN, TNI/Polri", "asn"),
        },
        wage: Lookup::Absent {
            source: src("BPJS Ketenagakerjaan", "upah"),
        },
        umk: Some(Observed {
            value: 2_191_232,
            source: src("Kemnaker", "umk"),
        }),
        umk_level: WageLevel::Regency,
        bpjs: Lookup::Found {
            value: BpjsMembership {
                segment: BpjsSegment::PbiApbn,
                active: true,
                catastrophic: false,
            },
            source: src("BPJS Kesehatan", "peserta"),
        },
    };
    f.family = FamilyFacts {
        kk: Some("3201010101010001".into()),
        size: Some(4),
        dtsen: Lookup::Found {
            value: Dtsen { decile: 2 },
            source: src("DTSEN (BPS)", "dtsen"),
        },
        head_civil_servant: Lookup::Absent {
            source: src("BKN, TNI/Polri", "asn"),
        },
        head_wage: Lookup::Absent {
            source: src("BPJS Ketenagakerjaan", "upah"),
        },
        other_programs: Some(Observed {
            value: vec![],
            source: src("Daftar program lain (all rosters)", "rosters 2026-11"),
        }),
    };
    f
}

fn check(facts: &Facts, program: &Program, verdict: Decision, codes: &[&str]) {
    let v = evaluate(program, facts);
    assert_eq!(
        (v.verdict, v.codes()),
        (verdict, codes.to_vec()),
        "programme {}: {v:#?}",
        program.code()
    );
    assert_eq!(v.rules_version, program.version());
    assert_eq!(v.program, program.code());
    for r in &v.reasons {
        assert!(
            !r.message.id.is_empty() && !r.message.en.is_empty(),
            "{r:?}"
        );
        assert!(
            !r.next_step.id.is_empty() && !r.next_step.en.is_empty(),
            "{r:?}"
        );
        assert!(!r.source.agency.is_empty(), "{r:?}");
    }
}

type Edit = fn(&mut Facts);

fn found<T>(value: T, agency: &str) -> Lookup<T> {
    Lookup::Found {
        value,
        source: src(agency, "x"),
    }
}

#[test]
fn every_catalogue_code_fires_on_its_facts() {
    use Decision::*;
    let cases: &[(&str, &str, Edit, Decision, &[&str])] = &[
        ("clean", "PKH", |_| {}, Layak, &[]),
        (
            "nik invalid",
            "PKH",
            |f| {
                f.identity.nik_status = NikStatus::Invalid {
                    problems: vec!["NIK_BAD_DATE".into()],
                }
            },
            TidakLayak,
            &["NIK_INVALID"],
        ),
        (
            "nik missing",
            "BPNT",
            |f| f.identity.nik_status = NikStatus::Missing,
            TidakLayak,
            &["NIK_INVALID"],
        ),
        (
            "nik not found",
            "PKH",
            |f| f.identity.nik_status = NikStatus::NotFound,
            Tinjau,
            &["NIK_NOT_FOUND"],
        ),
        (
            "identity mismatch",
            "PKH",
            |f| f.identity.nik_status = NikStatus::ExactMismatch,
            Tinjau,
            &["IDENTITY_MISMATCH"],
        ),
        (
            "duplicate",
            "PKH",
            |f| f.row.duplicate_of_row = Some(3),
            TidakLayak,
            &["DUPLICATE_IN_LIST"],
        ),
        (
            "kk mismatch",
            "PKH",
            |f| f.identity.kk_stated_matches = Some(false),
            Tinjau,
            &["KK_MISMATCH"],
        ),
        (
            "deceased",
            "PKH",
            |f| {
                f.person.death = found(
                    Death {
                        date: "2026-03-02".into(),
                    },
                    "Dukcapil",
                )
            },
            TidakLayak,
            &["DECEASED"],
        ),
        (
            "civil servant",
            "PBI_JK",
            |f| {
                f.person.civil_servant = found(
                    CivilServant {
                        kind: CivilServantKind::Pns,
                    },
                    "BKN",
                )
            },
            TidakLayak,
            &["CIVIL_SERVANT"],
        ),
        (
            "head civil servant, family programme",
            "PKH",
            |f| {
                f.family.head_civil_servant = found(
                    CivilServant {
                        kind: CivilServantKind::Polri,
                    },
                    "TNI/Polri",
                )
            },
            TidakLayak,
            &["CIVIL_SERVANT"],
        ),
        (
            "head civil servant, person programme",
            "PBI_JK",
            |f| {
                f.family.head_civil_servant = found(
                    CivilServant {
                        kind: CivilServantKind::Tni,
                    },
                    "TNI/Polri",
                )
            },
            Layak,
            &[],
        ),
        (
            "wage above umk",
            "PKH",
            |f| f.person.wage = found(Wage { monthly: 4_500_000 }, "BPJS Ketenagakerjaan"),
            Tinjau,
            &["WAGE_ABOVE_MINIMUM"],
        ),
        (
            "wage equal to umk is not above",
            "PKH",
            |f| f.person.wage = found(Wage { monthly: 2_191_232 }, "BPJS Ketenagakerjaan"),
            Layak,
            &[],
        ),
        (
            "head wage above umk, family",
            "BPNT",
            |f| f.family.head_wage = found(Wage { monthly: 9_000_000 }, "BPJS Ketenagakerjaan"),
            Tinjau,
            &["WAGE_ABOVE_MINIMUM"],
        ),
        (
            "head wage above umk, person",
            "PBI_JK",
            |f| f.family.head_wage = found(Wage { monthly: 9_000_000 }, "BPJS Ketenagakerjaan"),
            Layak,
            &[],
        ),
        (
            "ppu for PBI JK",
            "PBI_JK",
            |f| {
                f.person.bpjs = found(
                    BpjsMembership {
                        segment: BpjsSegment::Ppu,
                        active: true,
                        catastrophic: false,
                    },
                    "BPJS Kesehatan",
                )
            },
            TidakLayak,
            &["FORMAL_EMPLOYEE_INSURED"],
        ),
        (
            "a past (NONAKTIF) PPU membership does not bar PBI JK",
            "PBI_JK",
            |f| {
                f.person.bpjs = found(
                    BpjsMembership {
                        segment: BpjsSegment::Ppu,
                        active: false,
                        catastrophic: false,
                    },
                    "BPJS Kesehatan",
                )
            },
            Layak,
            &[],
        ),
        (
            "ppu is not checked for PKH",
            "PKH",
            |f| {
                f.person.bpjs = found(
                    BpjsMembership {
                        segment: BpjsSegment::Ppu,
                        active: true,
                        catastrophic: false,
                    },
                    "BPJS Kesehatan",
                )
            },
            Layak,
            &[],
        ),
        (
            "decile above cut",
            "PKH",
            |f| f.family.dtsen = found(Dtsen { decile: 7 }, "DTSEN (BPS)"),
            TidakLayak,
            &["DECILE_ABOVE_CUT"],
        ),
        (
            "decile at cut",
            "PKH",
            |f| f.family.dtsen = found(Dtsen { decile: 4 }, "DTSEN (BPS)"),
            Layak,
            &[],
        ),
        (
            "decile 5 ok for PBI JK",
            "PBI_JK",
            |f| f.family.dtsen = found(Dtsen { decile: 5 }, "DTSEN (BPS)"),
            Layak,
            &[],
        ),
        (
            "decile 5 not ok for BPNT",
            "BPNT",
            |f| f.family.dtsen = found(Dtsen { decile: 5 }, "DTSEN (BPS)"),
            TidakLayak,
            &["DECILE_ABOVE_CUT"],
        ),
        (
            "not in dtsen",
            "PKH",
            |f| {
                f.family.dtsen = Lookup::Absent {
                    source: src("DTSEN (BPS)", "dtsen"),
                }
            },
            Tinjau,
            &["NOT_IN_DTSEN"],
        ),
        (
            "BLT DD with PKH",
            "BLT_DD",
            |f| {
                f.family.other_programs.as_mut().unwrap().value =
                    vec!["PKH".into(), "PBI_JK".into()]
            },
            Tinjau,
            &["PROGRAM_OVERLAP"],
        ),
        (
            "BLT DD with PBI JK only",
            "BLT_DD",
            |f| f.family.other_programs.as_mut().unwrap().value = vec!["PBI_JK".into()],
            Layak,
            &[],
        ),
        (
            "PKH with BPNT combines",
            "PKH",
            |f| {
                f.family.other_programs.as_mut().unwrap().value =
                    vec!["BPNT".into(), "PBI_JK".into()]
            },
            Layak,
            &[],
        ),
        (
            "PKH with BLT DD: both rows are flagged",
            "PKH",
            |f| f.family.other_programs.as_mut().unwrap().value = vec!["BLT_DD".into()],
            Tinjau,
            &["PROGRAM_OVERLAP"],
        ),
        (
            "other regency",
            "PKH",
            |f| f.person.domicile = found(region("32.02.01.2001"), "Dukcapil"),
            Tinjau,
            &["OUT_OF_REGION"],
        ),
        (
            "other village same regency, regency scope",
            "PKH",
            |f| f.person.domicile = found(region("32.01.02.2003"), "Dukcapil"),
            Layak,
            &[],
        ),
        (
            "other village, village scope",
            "BLT_DD",
            |f| f.person.domicile = found(region("32.01.01.2002"), "Dukcapil"),
            Tinjau,
            &["OUT_OF_REGION"],
        ),
    ];
    for (name, prog, edit, verdict, codes) in cases {
        let mut f = clean();
        edit(&mut f);
        eprintln!("case: {name}");
        check(&f, &program(prog), *verdict, codes);
    }
}

#[test]
fn every_applicable_reason_is_carried_in_catalogue_order() {
    let mut f = clean();
    f.person.death = found(
        Death {
            date: "2026-01-01".into(),
        },
        "Dukcapil",
    );
    f.family.dtsen = found(Dtsen { decile: 9 }, "DTSEN (BPS)");
    f.row.duplicate_of_row = Some(1);
    f.identity.nik_status = NikStatus::NotFound;
    f.person.domicile = found(region("33.01.01.2001"), "Dukcapil");
    f.person.wage = found(
        Wage {
            monthly: 10_000_000,
        },
        "BPJS Ketenagakerjaan",
    );
    check(
        &f,
        &program("PKH"),
        Decision::TidakLayak,
        &[
            "NIK_NOT_FOUND",
            "DUPLICATE_IN_LIST",
            "DECEASED",
            "WAGE_ABOVE_MINIMUM",
            "DECILE_ABOVE_CUT",
            "OUT_OF_REGION",
        ],
    );
}

#[test]
fn catastrophic_exception_overrides_decile_only() {
    let pbi = program("PBI_JK");
    let catastrophic = BpjsMembership {
        segment: BpjsSegment::PbiApbn,
        active: true,
        catastrophic: true,
    };
    let mut f = clean();
    f.family.dtsen = found(Dtsen { decile: 8 }, "DTSEN (BPS)");
    f.person.bpjs = found(catastrophic, "BPJS Kesehatan");
    check(
        &f,
        &pbi,
        Decision::Layak,
        &["DECILE_ABOVE_CUT", "EXCEPTION_CATASTROPHIC"],
    );
    let v = evaluate(&pbi, &f);
    assert_eq!(
        v.reasons[0].overridden_by.as_deref(),
        Some("EXCEPTION_CATASTROPHIC")
    );
    assert_eq!(v.reasons[1].severity, Decision::Layak);

    // Not a catastrophic case: the decile stands.
    f.person.bpjs = found(
        BpjsMembership {
            catastrophic: false,
            ..catastrophic
        },
        "BPJS Kesehatan",
    );
    check(&f, &pbi, Decision::TidakLayak, &["DECILE_ABOVE_CUT"]);

    // Catastrophic but decile within the cut: no exception needed, none reported.
    let mut g = clean();
    g.person.bpjs = found(catastrophic, "BPJS Kesehatan");
    check(&g, &pbi, Decision::Layak, &[]);

    // The exception does not cancel other reasons.
    f.person.bpjs = found(catastrophic, "BPJS Kesehatan");
    f.person.death = found(
        Death {
            date: "2026-01-01".into(),
        },
        "Dukcapil",
    );
    check(
        &f,
        &pbi,
        Decision::TidakLayak,
        &["DECEASED", "DECILE_ABOVE_CUT", "EXCEPTION_CATASTROPHIC"],
    );

    // Not a PBI JK rule: PKH has no exception.
    let mut h = clean();
    h.family.dtsen = found(Dtsen { decile: 8 }, "DTSEN (BPS)");
    h.person.bpjs = found(catastrophic, "BPJS Kesehatan");
    check(
        &h,
        &program("PKH"),
        Decision::TidakLayak,
        &["DECILE_ABOVE_CUT"],
    );
}

/// Issue 15, item 8: the minimum wage a wage is compared with is named for what it is.
#[test]
fn the_minimum_wage_used_is_named_umk_or_ump_as_it_is() {
    let p = program("PKH");
    let mut f = clean();
    f.person.wage = found(Wage { monthly: 4_500_000 }, "BPJS Ketenagakerjaan");
    let reason = |f: &Facts| {
        evaluate(&p, f)
            .reasons
            .into_iter()
            .find(|r| r.code == "WAGE_ABOVE_MINIMUM")
            .expect("wage above the minimum")
    };
    let umk = reason(&f);
    assert!(umk.message.id.contains("(UMK)") && !umk.message.id.contains("UMP"));
    assert!(umk.detail.contains("> UMK"), "{}", umk.detail);
    f.person.umk_level = WageLevel::Province;
    let ump = reason(&f);
    assert!(
        ump.message.id.contains("upah minimum provinsi (UMP)")
            && ump
                .message
                .id
                .contains("UMK kabupaten/kota ini belum tersedia"),
        "{}",
        ump.message.id
    );
    assert!(ump.message.en.contains("provincial minimum wage (UMP)"));
    assert!(ump.detail.contains("> UMP"), "{}", ump.detail);
}

#[test]
fn messages_name_the_agency_and_date_and_suggest_the_right_nik() {
    let mut f = clean();
    f.person.death = Lookup::Found {
        value: Death {
            date: "2026-10-15".into(),
        },
        source: Source::new("Dukcapil", "kematian", "snap-42", "2026-11-01"),
    };
    let v = evaluate(&program("PKH"), &f);
    let r = &v.reasons[0];
    assert!(
        r.message.id.contains("Dukcapil per 2026-11-01"),
        "{}",
        r.message.id
    );
    assert!(
        r.message.en.contains("as of 2026-11-01"),
        "{}",
        r.message.en
    );
    assert!(r.next_step.id.contains("sanggah"), "{}", r.next_step.id);
    assert_eq!(r.source.version, "snap-42");

    let mut g = clean();
    g.identity.nik_status = NikStatus::ExactMismatch;
    g.identity.link = Some(Link {
        suggested_nik: "3201014507850002".into(),
        score: 0.97,
    });
    let v = evaluate(&program("PKH"), &g);
    let r = &v.reasons[0];
    assert_eq!(r.suggested_nik.as_deref(), Some("3201014507850002"));
    assert!(r.message.id.contains("3201014507850002") && r.message.id.contains("97%"));

    let mut h = clean();
    h.family.dtsen = found(Dtsen { decile: 7 }, "DTSEN (BPS)");
    let v = evaluate(&program("PKH"), &h);
    assert_eq!(v.reasons[0].detail, "desil 7 > batas 4");

    let mut w = clean();
    w.family.head_wage = found(Wage { monthly: 4_500_000 }, "BPJS Ketenagakerjaan");
    let v = evaluate(&program("PKH"), &w);
    assert!(
        v.reasons[0].message.id.contains("Rp4.500.000"),
        "{}",
        v.reasons[0].message.id
    );
    assert!(v.reasons[0].message.en.contains("Rp4,500,000"));
    assert!(v.reasons[0].message.id.contains("kepala keluarga"));
}

#[test]
fn unasked_registries_are_listed_not_guessed() {
    let f = Facts::new(1, src("Daftar (list itself)", "roster"));
    let v = evaluate(&program("PBI_JK"), &f);
    assert_eq!(v.verdict, Decision::Layak);
    assert!(v.reasons.is_empty());
    assert_eq!(
        v.not_checked,
        [
            "NIK_INVALID",
            "NIK_NOT_FOUND",
            "IDENTITY_MISMATCH",
            "KK_MISMATCH",
            "DECEASED",
            "CIVIL_SERVANT",
            "WAGE_ABOVE_MINIMUM",
            "FORMAL_EMPLOYEE_INSURED",
            "DECILE_ABOVE_CUT",
            "NOT_IN_DTSEN",
            "OUT_OF_REGION",
        ]
    );
    assert!(evaluate(&program("PKH"), &clean()).not_checked.is_empty());
}

#[test]
fn severity_overrides_and_disabled_checks() {
    let text = PKH.replace(
        "[reasons.WAGE_ABOVE_MINIMUM]",
        "[reasons.WAGE_ABOVE_MINIMUM]\nseverity = \"TIDAK_LAYAK\"",
    );
    let strict = Program::parse("strict.toml", &text).unwrap();
    let mut f = clean();
    f.person.wage = found(Wage { monthly: 9_000_000 }, "BPJS Ketenagakerjaan");
    check(&f, &strict, Decision::TidakLayak, &["WAGE_ABOVE_MINIMUM"]);

    let text = PKH.replace(
        "[reasons.WAGE_ABOVE_MINIMUM]",
        "[reasons.WAGE_ABOVE_MINIMUM]\nenabled = false",
    );
    let off = Program::parse("off.toml", &text).unwrap();
    check(&f, &off, Decision::Layak, &[]);

    let text = PKH.replace("[reasons.DECEASED]\n", "");
    let no_death = Program::parse("nodeath.toml", &text).unwrap();
    let mut g = clean();
    g.person.death = found(
        Death {
            date: "2026-01-01".into(),
        },
        "Dukcapil",
    );
    check(&g, &no_death, Decision::Layak, &[]);
}

#[test]
fn overrides_simulate_a_rule_change() {
    let pbi = program("PBI_JK");
    let sim = pbi.with_override("decile_cut", "4").unwrap();
    assert_eq!(sim.decile_cut(), 4);
    assert_eq!(sim.version(), "2026.11.1+override(decile_cut=4)");
    let mut f = clean();
    f.family.dtsen = found(Dtsen { decile: 5 }, "DTSEN (BPS)");
    check(&f, &pbi, Decision::Layak, &[]);
    check(&f, &sim, Decision::TidakLayak, &["DECILE_ABOVE_CUT"]);

    let s = pbi
        .with_override("reasons.NOT_IN_DTSEN.severity", "TIDAK_LAYAK")
        .unwrap();
    assert_eq!(
        s.severity(ReasonCode::NotInDtsen),
        Some(Decision::TidakLayak)
    );
    let s = pbi
        .with_override("reasons.DECEASED.enabled", "false")
        .unwrap();
    assert_eq!(s.severity(ReasonCode::Deceased), None);
    let s = program("PKH")
        .with_override("not_combinable_with", "BLT_DD")
        .unwrap();
    assert_eq!(s.not_combinable_with(), ["BLT_DD"]);

    for (k, v, code) in [
        ("decile_cut", "11", "RULES_BAD_VALUE"),
        ("decile_cut", "x", "RULES_BAD_VALUE"),
        ("desil", "4", "RULES_OVERRIDE_UNKNOWN_KEY"),
        ("reasons.DECEASD.severity", "TINJAU", "RULES_UNKNOWN_REASON"),
        ("reasons.DECEASED.severity", "HIGH", "RULES_BAD_SEVERITY"),
        ("exceptions", "DECEASED", "RULES_UNKNOWN_REASON"),
    ] {
        let e = pbi.with_override(k, v).unwrap_err();
        assert_eq!(e.code(), code, "{k}={v}: {e}");
        assert!(e.to_string().contains(code));
    }
}

fn with_custom(custom: &str) -> Program {
    Program::parse("custom.toml", &format!("{PKH}\n{custom}")).unwrap_or_else(|e| panic!("{e}"))
}

const ELDERLY: &str = r#"
[[custom]]
code = "LANSIA_TUNGGAL"
severity = "TINJAU"
when = "has(person.age) && person.age >= 70 && has(family.size) && family.size == 1"
source = "population"
message_id = "Penerima lanjut usia yang tinggal sendiri."
message_en = "An elderly recipient living alone."
next_step_id = "Pendamping mengunjungi rumah untuk verifikasi."
next_step_en = "A facilitator visits the home to verify."
"#;

#[test]
fn custom_cel_conditions() {
    let p = with_custom(ELDERLY);
    let mut f = clean();
    check(&f, &p, Decision::Layak, &[]);
    f.person.age = Some(75);
    f.family.size = Some(1);
    check(&f, &p, Decision::Tinjau, &["LANSIA_TUNGGAL"]);
    let v = evaluate(&p, &f);
    assert_eq!(v.reasons[0].source.agency, "Dukcapil");
    // Unknown age: `has` keeps it false rather than an error.
    f.person.age = None;
    check(&f, &p, Decision::Layak, &[]);

    // Custom reasons come after catalogue reasons.
    f.person.age = Some(80);
    f.family.dtsen = found(Dtsen { decile: 6 }, "DTSEN (BPS)");
    check(
        &f,
        &p,
        Decision::TidakLayak,
        &["DECILE_ABOVE_CUT", "LANSIA_TUNGGAL"],
    );

    // Every variable is reachable.
    let all = with_custom(
        r#"
[[custom]]
code = "ALL_VARS"
severity = "TIDAK_LAYAK"
when = "program.code == 'PKH' && program.decile_cut == 4 && row.number == 7 && person.nik_status == 'VALID' && person.sex == 'P' && person.bpjs_segment == 'PBI_APBN' && family.decile == 2 && family.in_dtsen && !person.deceased && !person.civil_servant && person.monthly_wage == 0 && person.umk > 2000000 && family.other_programs.size() == 0 && person.domicile_region == '32.01.01.2001' && row.list_region == '32.01.01.2001'"
message_id = "x"
message_en = "x"
next_step_id = "x"
next_step_en = "x"
"#,
    );
    check(&clean(), &all, Decision::TidakLayak, &["ALL_VARS"]);
}

#[test]
fn documented_cel_examples_work() {
    let rule = |code: &str, when: &str| {
        format!(
            "[[custom]]\ncode = \"{code}\"\nseverity = \"TINJAU\"\nwhen = '{when}'\nmessage_id = \"x\"\nmessage_en = \"x\"\nnext_step_id = \"x\"\nnext_step_en = \"x\"\n"
        )
    };
    let p = with_custom(&format!(
        "{}{}{}",
        rule(
            "ALSO_BLT",
            r#"family.other_programs.exists(p, p == "BLT_DD")"#
        ),
        rule(
            "SELF_PAYING_POOR",
            r#"person.bpjs_segment in ["PBPU", "BP"] && has(family.decile) && family.decile <= 3"#
        ),
        rule("UNKNOWN_VAR", "nobody.knows"),
    ));
    let mut f = clean();
    f.family.other_programs.as_mut().unwrap().value = vec!["BLT_DD".into()];
    f.person.bpjs = found(
        BpjsMembership {
            segment: BpjsSegment::Bp,
            active: true,
            catastrophic: false,
        },
        "BPJS Kesehatan",
    );
    check(
        &f,
        &p,
        Decision::Tinjau,
        &[
            "PROGRAM_OVERLAP",
            "ALSO_BLT",
            "SELF_PAYING_POOR",
            "RULE_ERROR",
        ],
    );
    f.family.other_programs.as_mut().unwrap().value = vec![];
    f.family.dtsen = found(Dtsen { decile: 4 }, "DTSEN (BPS)");
    check(&f, &p, Decision::Tinjau, &["RULE_ERROR"]);
}

#[test]
fn custom_condition_errors_become_rule_error_not_a_crash() {
    let p = with_custom(
        r#"
[[custom]]
code = "SIZE_CHECK"
severity = "TIDAK_LAYAK"
when = "family.size > 3"
message_id = "x"
message_en = "x"
next_step_id = "x"
next_step_en = "x"

[[custom]]
code = "NOT_BOOL"
severity = "TIDAK_LAYAK"
when = "person.age + 1"
message_id = "x"
message_en = "x"
next_step_id = "x"
next_step_en = "x"
"#,
    );
    let mut f = clean();
    f.family.size = None; // missing key -> evaluation error
    let v = evaluate(&p, &f);
    assert_eq!(v.verdict, Decision::Tinjau, "{v:#?}");
    assert_eq!(v.codes(), ["RULE_ERROR", "RULE_ERROR"]);
    assert!(
        v.reasons[0].detail.starts_with("SIZE_CHECK"),
        "{}",
        v.reasons[0].detail
    );
    assert!(v.reasons[0].message.id.contains("SIZE_CHECK"));
    assert!(v.reasons[1].detail.starts_with("NOT_BOOL"));
    f.family.size = Some(5);
    check(&f, &p, Decision::TidakLayak, &["SIZE_CHECK", "RULE_ERROR"]);
}

#[test]
fn shipped_programmes_load_with_their_documented_settings() {
    let expect = [
        (
            "PKH",
            Unit::Family,
            4,
            750_000,
            Period::Quarter,
            RegionScope::Regency,
        ),
        (
            "BPNT",
            Unit::Family,
            4,
            200_000,
            Period::Month,
            RegionScope::Regency,
        ),
        (
            "PBI_JK",
            Unit::Person,
            5,
            42_000,
            Period::Month,
            RegionScope::Regency,
        ),
        (
            "BLT_DD",
            Unit::Family,
            4,
            300_000,
            Period::Month,
            RegionScope::Village,
        ),
    ];
    for (code, unit, cut, amount, period, scope) in expect {
        let p = program(code);
        assert_eq!(p.code(), code);
        assert_eq!(p.unit(), unit, "{code}");
        assert_eq!(p.decile_cut(), cut, "{code}");
        assert_eq!(
            (p.benefit().amount, p.benefit().period),
            (amount, period),
            "{code}"
        );
        assert_eq!(p.region_scope(), scope, "{code}");
        assert_eq!(p.version(), "2026.11.1");
        assert!(
            p.custom().is_empty(),
            "shipped programmes stay CEL-free (fast path)"
        );
        for c in [
            ReasonCode::NikInvalid,
            ReasonCode::Deceased,
            ReasonCode::DecileAboveCut,
        ] {
            assert_eq!(p.severity(c), Some(c.default_severity()), "{code} {c}");
        }
    }
    assert_eq!(program("BLT_DD").not_combinable_with(), ["BPNT", "PKH"]);
    assert_eq!(
        program("PBI_JK").exceptions(),
        [ReasonCode::ExceptionCatastrophic]
    );
    assert!(
        program("PBI_JK")
            .severity(ReasonCode::FormalEmployeeInsured)
            .is_some()
    );
    assert!(
        program("PKH")
            .severity(ReasonCode::FormalEmployeeInsured)
            .is_none()
    );
}

fn parse_err(text: &str) -> RulesErrors {
    match Program::parse("bad.toml", text) {
        Ok(_) => panic!("should not parse:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn bad_rules_files_are_located_by_file_line_and_column() {
    // (what, edit of PKH.toml, expected code, expected "file:line" prefix)
    let line_of = |needle: &str| PKH.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases: Vec<(&str, String, &str, usize)> = vec![
        (
            "syntax: unclosed string",
            PKH.replace("version = \"2026.11.1\"", "version = \"2026.11.1"),
            "RULES_SYNTAX",
            line_of("version ="),
        ),
        (
            "unknown top-level key",
            PKH.replace("decile_cut = 4", "desil_cut = 4"),
            "RULES_UNKNOWN_FIELD",
            line_of("decile_cut"),
        ),
        (
            "unknown key in a reason",
            PKH.replace(
                "[reasons.DECEASED]",
                "[reasons.DECEASED]\nseverty = \"TINJAU\"",
            ),
            "RULES_UNKNOWN_FIELD",
            line_of("[reasons.DECEASED]") + 1,
        ),
        (
            "unknown reason code",
            PKH.replace("[reasons.DECEASED]", "[reasons.DECEASD]"),
            "RULES_UNKNOWN_REASON",
            line_of("[reasons.DECEASED]"),
        ),
        (
            "bad severity",
            PKH.replace(
                "[reasons.DECEASED]",
                "[reasons.DECEASED]\nseverity = \"BERAT\"",
            ),
            "RULES_BAD_SEVERITY",
            line_of("[reasons.DECEASED]") + 1,
        ),
        (
            "exception listed as a check",
            PKH.replace("[reasons.DECEASED]", "[reasons.EXCEPTION_CATASTROPHIC]"),
            "RULES_UNKNOWN_REASON",
            line_of("[reasons.DECEASED]"),
        ),
        (
            "unknown exception",
            PKH.replace("exceptions = []", "exceptions = [\"EXCEPTION_HAMIL\"]"),
            "RULES_UNKNOWN_REASON",
            line_of("exceptions ="),
        ),
        (
            "decile out of range",
            PKH.replace("decile_cut = 4", "decile_cut = 11"),
            "RULES_BAD_VALUE",
            line_of("decile_cut"),
        ),
        (
            "wrong type",
            PKH.replace("decile_cut = 4", "decile_cut = \"4\""),
            "RULES_BAD_VALUE",
            line_of("decile_cut"),
        ),
        (
            "bad unit",
            PKH.replace("unit = \"family\"", "unit = \"household\""),
            "RULES_BAD_VALUE",
            line_of("unit ="),
        ),
    ];
    for (what, text, code, line) in cases {
        let e = parse_err(&text);
        let first = &e.0[0];
        assert_eq!(first.code(), code, "{what}: {e}");
        assert_eq!(first.line, line, "{what}: {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("bad.toml:{line}:")),
            "{what}: {shown}"
        );
        assert!(shown.contains(code), "{what}: {shown}");
    }
}

#[test]
fn bad_cel_is_located_inside_the_expression() {
    let text = format!(
        "{PKH}\n[[custom]]\ncode = \"X\"\nseverity = \"TINJAU\"\nwhen = \"family.decile > \"\nmessage_id = \"x\"\nmessage_en = \"x\"\nnext_step_id = \"x\"\nnext_step_en = \"x\"\n"
    );
    let e = parse_err(&text);
    let line = text.lines().position(|l| l.starts_with("when =")).unwrap() + 1;
    assert_eq!(e.0[0].code(), "RULES_CEL_SYNTAX", "{e}");
    assert_eq!(e.0[0].line, line, "{e}");
    // `when = "` is 8 characters; the expression's end (where input runs out) is column 25.
    assert_eq!(e.0[0].column, 25, "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("bad.toml:{line}:25: RULES_CEL_SYNTAX")),
        "{e}"
    );

    // Multi-line expressions: the error line is the line inside the file.
    let text = format!(
        "{PKH}\n[[custom]]\ncode = \"X\"\nseverity = \"TINJAU\"\nwhen = '''\nfamily.size > 1 &&\n  person.age >>> 3'''\nmessage_id = \"x\"\nmessage_en = \"x\"\nnext_step_id = \"x\"\nnext_step_en = \"x\"\n"
    );
    let e = parse_err(&text);
    let line = text.lines().position(|l| l.contains(">>>")).unwrap() + 1;
    assert_eq!(
        (e.0[0].code(), e.0[0].line),
        ("RULES_CEL_SYNTAX", line),
        "{e}"
    );
}

#[test]
fn all_problems_of_a_file_are_reported_at_once() {
    let text = PKH
        .replace("[reasons.DECEASED]", "[reasons.DECEASD]")
        .replace(
            "[reasons.KK_MISMATCH]",
            "[reasons.KK_MISMATCH]\nseverity = \"SEDANG\"",
        );
    let e = parse_err(&text);
    let codes: Vec<_> = e.0.iter().map(|e| e.code()).collect();
    assert_eq!(codes, ["RULES_BAD_SEVERITY", "RULES_UNKNOWN_REASON"], "{e}");
}

#[test]
fn custom_codes_must_be_unique_and_not_catalogue_codes() {
    let rule = |code: &str| {
        format!(
            "[[custom]]\ncode = \"{code}\"\nseverity = \"TINJAU\"\nwhen = \"true\"\nmessage_id = \"x\"\nmessage_en = \"x\"\nnext_step_id = \"x\"\nnext_step_en = \"x\"\n"
        )
    };
    let e = parse_err(&format!("{PKH}\n{}", rule("DECEASED")));
    assert_eq!(e.0[0].code(), "RULES_DUPLICATE_CODE");
    let e = parse_err(&format!("{PKH}\n{}\n{}", rule("A"), rule("A")));
    assert_eq!(e.0[0].code(), "RULES_DUPLICATE_CODE");
}

#[test]
fn hostile_rules_text_gives_errors_not_panics() {
    for text in [
        "",
        "\u{feff}code = \"PKH\"",
        "[[[",
        "code = \"PKH\"\ncode = \"BPNT\"",
        &"a".repeat(100_000),
        "\0\0\0",
        "reasons = 5",
    ] {
        assert!(Program::parse("hostile.toml", text).is_err());
    }
}

#[test]
fn same_facts_same_rules_give_byte_identical_json() {
    let p = with_custom(ELDERLY);
    let mut f = clean();
    f.person.age = Some(90);
    f.family.size = Some(1);
    f.family.dtsen = found(Dtsen { decile: 6 }, "DTSEN (BPS)");
    f.row.duplicate_of_row = Some(2);
    f.identity.nik_status = NikStatus::ExactMismatch;
    f.identity.link = Some(Link {
        suggested_nik: "3201014507850002".into(),
        score: 0.912345,
    });
    let a = serde_json::to_vec(&evaluate(&p, &f)).unwrap();
    // A fresh parse of the same text and a round trip of the facts through JSON.
    let p2 = with_custom(ELDERLY);
    let f2: Facts = serde_json::from_slice(&serde_json::to_vec(&f).unwrap()).unwrap();
    let b = serde_json::to_vec(&evaluate(&p2, &f2)).unwrap();
    assert_eq!(a, b);
    let v: Verdict = serde_json::from_slice(&a).unwrap();
    assert_eq!(v, evaluate(&p, &f));
}

fn arb_source() -> impl Strategy<Value = Source> {
    ("[A-Za-z ()]{0,12}", "\\PC{0,6}", "[0-9-]{0,10}")
        .prop_map(|(a, d, v)| Source::new(&a, &d, &v, &v))
}

fn arb_lookup<T: std::fmt::Debug + Clone + 'static>(
    t: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Lookup<T>> {
    prop_oneof![
        Just(Lookup::NotChecked),
        arb_source().prop_map(|source| Lookup::Absent { source }),
        (t, arb_source()).prop_map(|(value, source)| Lookup::Found { value, source }),
    ]
}

fn arb_region() -> impl Strategy<Value = RegionCode> {
    prop_oneof![
        (1u32..99, 1u32..99).prop_map(|(p, k)| RegionCode::from_parts(&[p, k]).unwrap()),
        (1u32..99, 1u32..99, 1u32..99, 1u32..9999)
            .prop_map(|(p, k, c, v)| RegionCode::from_parts(&[p, k, c, v]).unwrap()),
    ]
}

fn arb_facts() -> impl Strategy<Value = Facts> {
    let status = prop_oneof![
        Just(NikStatus::NotChecked),
        Just(NikStatus::Valid),
        proptest::collection::vec("\\PC{0,8}", 0..3)
            .prop_map(|problems| NikStatus::Invalid { problems }),
        Just(NikStatus::Missing),
        Just(NikStatus::NotFound),
        Just(NikStatus::ExactMismatch),
    ];
    let link = proptest::option::of(("[0-9]{0,16}", any::<f64>()).prop_map(
        |(suggested_nik, score)| Link {
            suggested_nik,
            score,
        },
    ));
    let kind = prop_oneof![
        Just(CivilServantKind::Pns),
        Just(CivilServantKind::Pppk),
        Just(CivilServantKind::Tni),
        Just(CivilServantKind::Polri),
        "\\PC{0,10}".prop_map(CivilServantKind::Occupation),
    ];
    let segment = prop_oneof![
        Just(BpjsSegment::PbiApbn),
        Just(BpjsSegment::PbiApbd),
        Just(BpjsSegment::Ppu),
        Just(BpjsSegment::Pbpu),
        Just(BpjsSegment::Bp),
    ];
    let row = (
        any::<u64>(),
        arb_source(),
        any::<Option<u64>>(),
        proptest::option::of(arb_region()),
        any::<bool>(),
    );
    let identity = (
        status,
        arb_source(),
        link,
        any::<Option<bool>>(),
        any::<bool>(),
    );
    let person = (
        any::<Option<u32>>(),
        arb_lookup(arb_region()),
        arb_lookup("\\PC{0,10}".prop_map(|date| Death { date })),
        arb_lookup(kind.clone().prop_map(|kind| CivilServant { kind })),
        arb_lookup(any::<u64>().prop_map(|monthly| Wage { monthly })),
        proptest::option::of(
            (any::<u64>(), arb_source()).prop_map(|(value, source)| Observed { value, source }),
        ),
        arb_lookup((segment, any::<bool>(), any::<bool>()).prop_map(
            |(segment, active, catastrophic)| BpjsMembership {
                segment,
                active,
                catastrophic,
            },
        )),
    );
    let family = (
        any::<Option<u32>>(),
        arb_lookup(any::<u8>().prop_map(|decile| Dtsen { decile })),
        arb_lookup(kind.prop_map(|kind| CivilServant { kind })),
        arb_lookup(any::<u64>().prop_map(|monthly| Wage { monthly })),
        proptest::option::of(
            (proptest::collection::vec("[A-Z_]{0,6}", 0..4), arb_source())
                .prop_map(|(value, source)| Observed { value, source }),
        ),
    );
    (row, identity, person, family).prop_map(|(r, i, p, fa)| Facts {
        row: RowFacts {
            number: r.0,
            source: r.1,
            duplicate_of_row: r.2,
            list_region: r.3,
            duplicate_inferred: r.4,
        },
        identity: IdentityFacts {
            nik_status: i.0,
            source: i.1,
            link: i.2,
            kk_stated_matches: i.3,
            inferred: i.4,
            slips: Vec::new(),
        },
        person: PersonFacts {
            sex: None,
            age: p.0,
            is_family_head: None,
            domicile: p.1,
            death: p.2,
            civil_servant: p.3,
            wage: p.4,
            umk: p.5,
            umk_level: WageLevel::Regency,
            bpjs: p.6,
        },
        family: FamilyFacts {
            kk: None,
            size: fa.0,
            dtsen: fa.1,
            head_civil_servant: fa.2,
            head_wage: fa.3,
            other_programs: fa.4,
        },
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn evaluate_never_panics_and_is_consistent(f in arb_facts()) {
        let progs = [program("PKH"), program("PBI_JK"), program("BLT_DD"), with_custom(ELDERLY)];
        for p in &progs {
            let v = evaluate(p, &f);
            let worst = v.reasons.iter().filter(|r| r.overridden_by.is_none()).map(|r| r.severity).max().unwrap_or(Decision::Layak);
            prop_assert_eq!(v.verdict, worst);
            // Nobody is cut off on a guess: with an inferred identity only the listed NIK's own
            // codes can be TIDAK LAYAK.
            if f.identity.inferred {
                for r in &v.reasons {
                    let listed = ["NIK_INVALID", "NIK_NOT_FOUND", "IDENTITY_MISMATCH"].contains(&r.code.as_str());
                    prop_assert!(listed || r.severity != Decision::TidakLayak, "{:?}", r);
                }
            }
            prop_assert_eq!(serde_json::to_vec(&v).unwrap(), serde_json::to_vec(&evaluate(p, &f)).unwrap());
        }
    }
}
