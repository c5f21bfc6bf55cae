//! Evaluations per second of `sinergi_rules::evaluate` on typical rows.
//!
//! `cargo bench -p sinergi-rules` (or `cargo run --release --bench evaluate`). Prints one line
//! per scenario; record the figures in docs/BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sinergi_rules::*;

const PKH: &str = include_str!("../../../config/programs/PKH.toml");
const PBI_JK: &str = include_str!("../../../config/programs/PBI_JK.toml");

fn src(agency: &str) -> Source {
    Source::new(agency, "snapshot", "v1", "2026-11-01")
}

fn clean() -> Facts {
    let region = RegionCode::parse("32.01.01.2001").unwrap();
    let mut f = Facts::new(1, src("Daftar (list itself)"));
    f.row.list_region = Some(region);
    f.identity.nik_status = NikStatus::Valid;
    f.identity.source = src("Dukcapil");
    f.identity.kk_stated_matches = Some(true);
    f.person.domicile = Lookup::Found {
        value: region,
        source: src("Dukcapil"),
    };
    f.person.age = Some(40);
    f.person.death = Lookup::Absent {
        source: src("Dukcapil"),
    };
    f.person.civil_servant = Lookup::Absent { source: src("BKN") };
    f.person.wage = Lookup::Absent {
        source: src("BPJS Ketenagakerjaan"),
    };
    f.person.umk = Some(Observed {
        value: 2_191_232,
        source: src("Kemnaker"),
    });
    f.person.bpjs = Lookup::Found {
        value: BpjsMembership {
            segment: BpjsSegment::PbiApbn,
            active: true,
            catastrophic: false,
        },
        source: src("BPJS Kesehatan"),
    };
    f.family.size = Some(4);
    f.family.dtsen = Lookup::Found {
        value: Dtsen { decile: 2 },
        source: src("DTSEN (BPS)"),
    };
    f.family.head_civil_servant = Lookup::Absent { source: src("BKN") };
    f.family.head_wage = Lookup::Absent {
        source: src("BPJS Ketenagakerjaan"),
    };
    f.family.other_programs = Some(Observed {
        value: vec!["BPNT".into()],
        source: src("rosters"),
    });
    f
}

fn run(name: &str, program: &Program, facts: &Facts) {
    // Warm up, then run for about a second.
    for _ in 0..1000 {
        black_box(evaluate(program, black_box(facts)));
    }
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            black_box(evaluate(program, black_box(facts)));
        }
        n += 1000;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<48} {:>12.0} evaluations/s  {:>8.3} µs/evaluation",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

fn main() {
    let pkh = Program::parse("PKH.toml", PKH).unwrap();
    let pbi = Program::parse("PBI_JK.toml", PBI_JK).unwrap();
    let custom = Program::parse(
        "PKH+custom.toml",
        &format!(
            "{PKH}\n[[custom]]\ncode = \"LANSIA_TUNGGAL\"\nseverity = \"TINJAU\"\nwhen = \"has(person.age) && person.age >= 70 && has(family.size) && family.size == 1\"\nmessage_id = \"x\"\nmessage_en = \"x\"\nnext_step_id = \"x\"\nnext_step_en = \"x\"\n"
        ),
    )
    .unwrap();

    let ok = clean();
    let mut bad = clean();
    bad.person.death = Lookup::Found {
        value: Death {
            date: "2026-05-01".into(),
        },
        source: src("Dukcapil"),
    };
    bad.family.dtsen = Lookup::Found {
        value: Dtsen { decile: 8 },
        source: src("DTSEN (BPS)"),
    };
    bad.row.duplicate_of_row = Some(1);

    run("PKH, LAYAK row (no reasons)", &pkh, &ok);
    run("PBI_JK, LAYAK row", &pbi, &ok);
    run("PKH, TIDAK_LAYAK row (3 reasons)", &pkh, &bad);
    run("PKH + 1 custom CEL condition, LAYAK row", &custom, &ok);
}
