//! Bulk validation benchmark: N people in the registries (default 10 million), a roster of M
//! rows (default 1 million) with ~13% damaged NIKs, validated for PKH. Registries are built in
//! memory from canonical records (the store scan is measured by the store's own bench); the
//! roster rows are synthesised as canonical rows (ingest is measured by its own bench).
//!
//! `cargo bench -p sinergi-engine --bench validate` — sizes from `SINERGI_BENCH_PEOPLE` and
//! `SINERGI_BENCH_ROWS`. Prints registry build time, exact-NIK-share time, total time,
//! validate_one p50/p99 and peak RSS.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use sinergi_engine::facts::RosterRow;
use sinergi_engine::ledger::{Exclusions, LedgerBuilder};
use sinergi_engine::registries::{PartBuilder, Registries};
use sinergi_engine::run::load_programs;
use sinergi_engine::{Provenance, Validator};
use sinergi_model::standard::{Record, Table, Value};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of this process so far (from `/proc/self/stat`, 100 Hz ticks):
/// on a shared machine wall time alone says little.
fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Profiling hook: with `SINERGI_BENCH_PERF_CTL=<fifo>` and `SINERGI_BENCH_PROFILE=<phase>`
/// (`build`, `train`, `exact`, `all`, `one`), writes `enable`/`disable` to the fifo of
/// `perf record --control fifo:<fifo> -D -1` around that phase only.
fn perf_ctl(phase: &str, cmd: &str) {
    let (Ok(fifo), Ok(want)) = (
        std::env::var("SINERGI_BENCH_PERF_CTL"),
        std::env::var("SINERGI_BENCH_PROFILE"),
    ) else {
        return;
    };
    if want == phase {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(fifo) {
            let _ = writeln!(f, "{cmd}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(0.0, |k| k / 1024.0)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FIRST: &[&str] = &[
    "BUDI", "SITI", "AHMAD", "DEWI", "RUDI", "ANI", "JOKO", "SRI", "AGUS", "NUR", "EKO", "RINA",
    "HENDRA", "YULI", "BAMBANG", "WATI", "DIDI", "LINA", "TONO", "IKA", "ARIF", "MAYA", "FAJAR",
    "PUTRI", "HADI", "RATNA", "WAHYU", "DIAN", "IWAN", "FITRI", "SLAMET", "ENDANG",
];
const LAST: &[&str] = &[
    "SANTOSO",
    "AMINAH",
    "DAHLAN",
    "LESTARI",
    "HARTONO",
    "SURYANI",
    "PRASETYO",
    "WAHYUNI",
    "SETIAWAN",
    "HIDAYAT",
    "KURNIAWAN",
    "RAHAYU",
    "SAPUTRA",
    "NINGSIH",
    "SUTRISNO",
    "PURNOMO",
    "WIBOWO",
    "HANDAYANI",
    "GUNAWAN",
    "SUSANTI",
    "NUGROHO",
    "KUSUMA",
    "SIREGAR",
    "NASUTION",
    "SIMANJUNTAK",
    "LUBIS",
    "HASIBUAN",
    "TANJUNG",
    "PANJAITAN",
    "SINAGA",
    "HUTAPEA",
    "DAULAY",
];

struct Person {
    nik: u64,
    kk: u64,
    name: String,
    birth: String,
    village: u64,
}

fn person(i: u64, rng: &mut Rng) -> Person {
    // 34 provinces × 20 regencies × 10 districts; serial unique per district/date.
    let prov = [
        11u64, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63,
        64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 94,
    ][(i % 34) as usize];
    let reg = 1 + (i / 34) % 20;
    let dis = 1 + (i / 680) % 10;
    let female = rng.below(2) == 1;
    let year = 1945 + rng.below(60);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let serial = 1 + (i / 6_800) % 9_999;
    let dd = if female { day + 40 } else { day };
    let nik = ((((prov * 100 + reg) * 100 + dis) * 100 + dd) * 100 + month) * 100 + year % 100;
    let nik = nik * 10_000 + serial;
    let village = ((prov * 100 + reg) * 100 + dis) * 10_000 + 2001 + rng.below(5);
    let name = format!(
        "{} {} {}",
        FIRST[rng.below(FIRST.len() as u64) as usize],
        FIRST[rng.below(FIRST.len() as u64) as usize],
        LAST[rng.below(LAST.len() as u64) as usize]
    );
    Person {
        nik,
        kk: ((prov * 100 + reg) * 100 + dis) * 10_000_000_000 + i / 4,
        name,
        birth: format!("{year:04}-{month:02}-{day:02}"),
        village,
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn prov(table: Table, dataset: &str, agency: &str) -> Provenance {
    Provenance {
        table: table.name().into(),
        agency: agency.into(),
        dataset: dataset.into(),
        snapshot: "bench".into(),
        snapshot_id: 0,
        loaded_at: "2026-11-01T00:00:00Z".into(),
        rows: 0,
        reference_date: Some("2026-11-01".into()),
    }
}

fn main() {
    let people = env("SINERGI_BENCH_PEOPLE", 10_000_000) as u64;
    let rows = env("SINERGI_BENCH_ROWS", 1_000_000) as u64;
    println!(
        "validate bench: {people} people, {rows} roster rows, {} threads",
        rayon::current_num_threads()
    );
    let t0 = Instant::now();
    let mut provenance = BTreeMap::new();
    for (table, ds, ag) in [
        (Table::Person, "dukcapil-penduduk", "Dukcapil"),
        (Table::Death, "dukcapil-kematian", "Dukcapil"),
        (Table::Decile, "dtsen", "BPS"),
        (Table::HealthMembership, "bpjs-kesehatan", "BPJS Kesehatan"),
        (Table::Employment, "bkn-asn", "BKN"),
        (
            Table::Wage,
            "bpjs-ketenagakerjaan-upah",
            "BPJS Ketenagakerjaan",
        ),
    ] {
        provenance.insert(table, vec![prov(table, ds, ag)]);
    }
    let mut builders: Vec<PartBuilder> = [
        Table::Person,
        Table::Death,
        Table::Decile,
        Table::HealthMembership,
        Table::Employment,
        Table::Wage,
    ]
    .iter()
    .map(|t| PartBuilder::new(*t, &provenance[t]).unwrap())
    .collect();
    builders[0].reserve(people as usize);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = std::collections::HashSet::with_capacity(people as usize);
    let mut sample: Vec<Person> = Vec::with_capacity(rows as usize);
    let stride = (people / rows.max(1)).max(1);
    for i in 0..people {
        let p = person(i, &mut rng);
        if !seen.insert(p.nik) {
            continue;
        }
        let rel = if i % 4 == 0 {
            "KEPALA KELUARGA"
        } else {
            "ANAK"
        };
        let r = Record {
            table: Table::Person,
            values: vec![
                t(&format!("{:016}", p.nik)),
                t(&format!("{:016}", p.kk)),
                t(&p.name),
                t(if (p.nik / 1_000_000) % 100 > 40 {
                    "P"
                } else {
                    "L"
                }),
                Value::Null,
                t(&p.birth),
                t(rel),
                Value::Null,
                Value::Null,
                t("WIRASWASTA"),
                t(&format!("{:010}", p.village)),
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        };
        builders[0].add(&r);
        let nik = t(&format!("{:016}", p.nik));
        if i % 100 == 0 {
            builders[1].add(&Record {
                table: Table::Death,
                values: vec![nik.clone(), Value::Null, t("2026-01-01")],
            });
        }
        if i % 3 != 0 {
            builders[2].add(&Record {
                table: Table::Decile,
                values: vec![
                    t(&format!("F{}", p.kk)),
                    t(&format!("{:016}", p.kk)),
                    nik.clone(),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Integer(1 + (p.kk % 10) as i64),
                ],
            });
        }
        if i % 2 == 0 {
            builders[3].add(&Record {
                table: Table::HealthMembership,
                values: vec![
                    t(&format!("C{i}")),
                    nik.clone(),
                    Value::Null,
                    Value::Null,
                    t(if i % 10 == 0 { "PPU" } else { "PBI_APBN" }),
                    Value::Null,
                    Value::Bool(true),
                    Value::Bool(i % 1000 == 0),
                ],
            });
        }
        if i % 50 == 0 {
            builders[4].add(&Record {
                table: Table::Employment,
                values: vec![
                    t(&format!("E{i}")),
                    nik.clone(),
                    Value::Null,
                    Value::Null,
                    t("PNS"),
                ],
            });
        }
        if i % 20 == 0 {
            builders[5].add(&Record {
                table: Table::Wage,
                values: vec![
                    nik,
                    Value::Null,
                    Value::Integer(1_000_000 + (i % 7) as i64 * 1_000_000),
                    t("N"),
                ],
            });
        }
        if i % stride == 0 && (sample.len() as u64) < rows {
            sample.push(p);
        }
    }
    drop(seen);
    let gen_s = t0.elapsed().as_secs_f64();
    perf_ctl("build", "enable");
    let (t1, c1) = (Instant::now(), cpu_s());
    let parts: Vec<_> = {
        use rayon::prelude::*;
        builders.into_par_iter().map(PartBuilder::finish).collect()
    };
    let reg = Arc::new(Registries::assemble(parts, provenance));
    let (build_s, build_c) = (t1.elapsed().as_secs_f64(), cpu_s() - c1);
    perf_ctl("build", "disable");
    println!(
        "records generated in {gen_s:.1}s; registries built in {build_s:.1}s wall, {build_c:.1}s CPU ({} MiB held); peak RSS so far {:.0} MiB",
        reg.heap_bytes() >> 20,
        peak_rss_mib()
    );

    // Roster: 87% exact, 13% damaged (one digit, missing, 15 digits).
    let mut roster: Vec<RosterRow> = Vec::with_capacity(sample.len());
    for (k, p) in sample.iter().enumerate() {
        let mut nik_raw = format!("{:016}", p.nik);
        match rng.below(100) {
            0..=5 => {
                let pos = 12 + rng.below(4) as usize;
                let mut b = nik_raw.into_bytes();
                b[pos] = b'0' + ((b[pos] - b'0' + 1 + rng.below(8) as u8) % 10);
                nik_raw = String::from_utf8(b).unwrap();
            }
            6..=9 => nik_raw.clear(),
            10..=12 => nik_raw.truncate(15),
            _ => {}
        }
        let nik = sinergi_engine::keymap::id16(&nik_raw);
        roster.push(RosterRow {
            row_no: k as u64 + 1,
            program: "PKH".into(),
            period: "2026-Q4".into(),
            nik_raw,
            nik,
            kk: None,
            name: p.name.clone(),
            birth_date: Some(p.birth.clone()),
            address: String::new(),
            village: Some(p.village),
            amount: Some(750_000),
            ..RosterRow::default()
        });
    }
    drop(sample);
    let programs = load_programs(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/programs"),
    )
    .unwrap();
    let pkh = programs.iter().find(|p| p.code() == "PKH").unwrap().clone();
    let ledger = Arc::new(LedgerBuilder::new().finish(Exclusions::default()));
    let mut v = Validator::new(reg.clone(), programs.clone(), ledger);
    perf_ctl("train", "enable");
    let (t2, c2) = (Instant::now(), cpu_s());
    v.train(&roster[..roster.len().min(65_536)]);
    let (train_s, train_c) = (t2.elapsed().as_secs_f64(), cpu_s() - c2);
    perf_ctl("train", "disable");

    // Exact-NIK share alone: rows with a 16-digit NIK (some mistyped), and of those the rows
    // whose NIK is in the registry.
    let exact: Vec<RosterRow> = roster.iter().filter(|r| r.nik.is_some()).cloned().collect();
    let found: Vec<RosterRow> = exact
        .iter()
        .filter(|r| r.nik.is_some_and(|n| !reg.index.lookup_nik(n).is_empty()))
        .cloned()
        .collect();
    let run = |rows: &[RosterRow]| -> usize {
        let mut seen = HashMap::new();
        let mut n = 0usize;
        for block in rows.chunks(65_536) {
            n += v.validate_block(&pkh, block, &mut seen).len();
        }
        n
    };
    perf_ctl("exact", "enable");
    let (t3, c3) = (Instant::now(), cpu_s());
    let n_exact = run(&exact);
    let (exact_s, exact_c) = (t3.elapsed().as_secs_f64(), cpu_s() - c3);
    perf_ctl("exact", "disable");
    perf_ctl("found", "enable");
    let (t3, c3) = (Instant::now(), cpu_s());
    let n_found = run(&found);
    let (found_s, found_c) = (t3.elapsed().as_secs_f64(), cpu_s() - c3);
    perf_ctl("found", "disable");
    drop((exact, found));

    perf_ctl("all", "enable");
    let (t4, c4) = (Instant::now(), cpu_s());
    let mut seen = HashMap::new();
    let mut verdicts = BTreeMap::new();
    for block in roster.chunks(65_536) {
        for r in v.validate_block(&pkh, block, &mut seen) {
            *verdicts.entry(r.verdict.as_str()).or_insert(0u64) += 1;
        }
    }
    let (all_s, all_c) = (t4.elapsed().as_secs_f64(), cpu_s() - c4);
    perf_ctl("all", "disable");

    // One at a time, warm.
    perf_ctl("one", "enable");
    let mut lat: Vec<f64> = Vec::new();
    for r in roster.iter().step_by((roster.len() / 20_000).max(1)) {
        let t = Instant::now();
        std::hint::black_box(v.validate_one(&pkh, r));
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    perf_ctl("one", "disable");
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    let per_row = |c: f64, n: usize| c * 1e6 / n.max(1) as f64;
    println!("linkage training: {train_s:.1}s wall, {train_c:.1}s CPU");
    println!(
        "exact-NIK share: {n_exact} rows in {exact_s:.1}s wall, {exact_c:.1}s CPU ({:.1} us CPU/row)",
        per_row(exact_c, n_exact)
    );
    println!(
        "  of which NIK in registry: {n_found} rows in {found_s:.1}s wall, {found_c:.1}s CPU ({:.1} us CPU/row)",
        per_row(found_c, n_found)
    );
    println!(
        "all rows: {} rows in {all_s:.1}s wall, {all_c:.1}s CPU ({:.1} us CPU/row)  verdicts {verdicts:?}",
        roster.len(),
        per_row(all_c, roster.len())
    );
    println!(
        "validate_one: {} calls, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        lat.len(),
        q(0.5),
        q(0.99),
        lat[lat.len() - 1]
    );
    println!(
        "end to end (registry build + training + all rows): {:.1}s wall, {:.1}s CPU; peak RSS {:.0} MiB",
        build_s + train_s + all_s,
        build_c + train_c + all_c,
        peak_rss_mib()
    );
}
