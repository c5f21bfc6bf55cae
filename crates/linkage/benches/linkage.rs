//! Linkage benchmark: a synthetic registry of N people, a roster of M rows with ~13% NIK
//! anomalies plus name variants, linked; prints timings, peak RSS and accuracy against the
//! known truth.
//!
//! `cargo bench -p sinergi-linkage --bench linkage -- [--persons N] [--rows M] [--seed S]
//! [--no-em] [--large]` (`--large` = 10,000,000 persons).

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use sinergi_linkage::*;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

const MALE: &[&str] = &[
    "BUDI",
    "AGUS",
    "ANDI",
    "BAMBANG",
    "HENDRA",
    "JOKO",
    "WAHYU",
    "YUSUF",
    "RAHMAT",
    "SOLEH",
    "ARIF",
    "DEDI",
    "EKO",
    "FAJAR",
    "GUNAWAN",
    "HADI",
    "IMAM",
    "IRWAN",
    "KURNIA",
    "LUKMAN",
    "MULYADI",
    "NUGROHO",
    "PRIYO",
    "RIZKI",
    "SAPUTRA",
    "SUPARMAN",
    "SUTRISNO",
    "TAUFIK",
    "UMAR",
    "WAWAN",
    "YOGI",
    "ZAINAL",
    "ABDUL",
    "AHMAD",
    "ASEP",
    "DANI",
    "DODI",
    "FIRMAN",
    "HERU",
    "ILHAM",
    "JAJANG",
    "KOMARUDIN",
    "MAMAT",
    "NANANG",
    "OMAN",
    "RUDI",
    "SLAMET",
    "SUGENG",
    "TEGUH",
    "UJANG",
    "WAHID",
    "YANTO",
    "SUPRIYADI",
    "SUHERMAN",
    "SUNARTO",
    "PURNOMO",
    "DARMAWAN",
    "KUSNADI",
    "SURYADI",
    "HARYANTO",
];
const FEMALE: &[&str] = &[
    "SITI",
    "DEWI",
    "NUR",
    "RINA",
    "FITRI",
    "LINA",
    "SRI",
    "AMINAH",
    "AYU",
    "DIAN",
    "ENDANG",
    "FATIMAH",
    "HANI",
    "INDAH",
    "KARTIKA",
    "LESTARI",
    "MAYA",
    "NOVI",
    "PUTRI",
    "RATNA",
    "SARI",
    "TUTI",
    "UMI",
    "WATI",
    "YULI",
    "ZAHRA",
    "ANI",
    "DWI",
    "EVI",
    "HERLINA",
    "IIS",
    "KOMALASARI",
    "LILIS",
    "MARYAM",
    "NENG",
    "OKTAVIA",
    "RAHMAWATI",
    "SUMIATI",
    "TITIN",
    "YANTI",
    "ROSITA",
    "SUSILAWATI",
    "WULANDARI",
    "PURWANTI",
    "SULASTRI",
    "HARTATI",
    "MULYANI",
    "SUHARTINI",
    "JUARIAH",
    "NURHAYATI",
];
const LAST: &[&str] = &[
    "SANTOSO",
    "SETIAWAN",
    "HIDAYAT",
    "KURNIAWAN",
    "PRATAMA",
    "WIJAYA",
    "SARI",
    "LESTARI",
    "NASUTION",
    "HARAHAP",
    "SIREGAR",
    "SIMANJUNTAK",
    "HUTAGALUNG",
    "SITORUS",
    "LUBIS",
    "TANJUNG",
    "RAMADHAN",
    "HERMAWAN",
    "SUSANTO",
    "PURNAMA",
    "SAPUTRI",
    "PERMANA",
    "GUNAWAN",
    "HAKIM",
    "IRAWAN",
    "MAULANA",
    "NUGRAHA",
    "RAHAYU",
    "SURYANA",
    "WIBOWO",
    "YULIANTI",
    "ARIFIN",
    "EFENDI",
    "FIRMANSYAH",
    "HASIBUAN",
    "MARPAUNG",
    "PANJAITAN",
    "SINAGA",
    "TAMBUNAN",
    "HUTAPEA",
    "MANURUNG",
    "PANGARIBUAN",
    "SIHOMBING",
    "SILALAHI",
    "PAKPAHAN",
    "DAMANIK",
    "SARAGIH",
    "GINTING",
    "TARIGAN",
    "SEMBIRING",
    "KARO",
    "SEBAYANG",
    "SUHENDRA",
    "SUPRIATNA",
    "KUSUMA",
    "HANDAYANI",
    "ANGGRAINI",
    "SYAHPUTRA",
    "ISKANDAR",
    "BUDIMAN",
    "HALIM",
    "SALIM",
    "RUSDI",
    "ZULKARNAIN",
    "BAHRI",
    "FAUZI",
    "MUSTOFA",
    "SHOLEH",
    "SYAFII",
    "ANWAR",
];
const MIDDLE: &[&str] = &[
    "ADI", "DWI", "TRI", "EKA", "NUR", "PUTRA", "PUTRI", "INDAH", "SRI", "AJI", "BAYU", "CAHYA",
    "DEWA", "GALIH", "JAYA", "MAULANA", "RIZKY", "WAHYUDI", "YUDHA", "ARUM",
];
const PROVINCES: &[u64] = &[
    11, 12, 13, 14, 16, 18, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 63, 64, 71, 73, 74, 81, 91, 94,
];

fn gen_name(rng: &mut Rng, sex: Sex) -> String {
    let firsts = if sex == Sex::L { MALE } else { FEMALE };
    let r = rng.f();
    let mut parts: Vec<&str> = Vec::new();
    if sex == Sex::L && rng.f() < 0.15 {
        parts.push("MUHAMMAD");
    }
    parts.push(rng.pick(firsts));
    if r < 0.15 {
        // single name (or MUHAMMAD + one)
    } else if r < 0.65 {
        parts.push(rng.pick(LAST));
    } else {
        parts.push(rng.pick(MIDDLE));
        parts.push(rng.pick(LAST));
    }
    parts.join(" ")
}

fn gen_region(rng: &mut Rng) -> u64 {
    let p = PROVINCES[rng.below(PROVINCES.len() as u64) as usize];
    let k = 1 + rng.below(15);
    let c = 1 + rng.below(12);
    let v = 2001 + rng.below(15);
    ((p * 100 + k) * 100 + c) * 10_000 + v
}

fn nik_prefix(district: u64, birth: NaiveDate, sex: Sex) -> u64 {
    let day = birth.day() as u64 + if sex == Sex::P { 40 } else { 0 };
    district * 1_000_000 + day * 10_000 + birth.month() as u64 * 100 + (birth.year() % 100) as u64
}

fn gen_person(rng: &mut Rng, serials: &mut HashMap<u64, u16>) -> RegistryPerson {
    let sex = if rng.below(2) == 0 { Sex::L } else { Sex::P };
    let birth =
        NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Days::new(rng.below(365 * 70));
    let region = gen_region(rng);
    // Registered in the current district mostly, elsewhere sometimes.
    let district = if rng.f() < 0.85 {
        region / 10_000
    } else {
        gen_region(rng) / 10_000
    };
    let prefix = nik_prefix(district, birth, sex);
    let s = serials.entry(prefix).or_insert(0);
    *s += 1;
    RegistryPerson {
        nik: prefix * 10_000 + *s as u64,
        name_norm: gen_name(rng, sex),
        sex,
        birth_date: birth,
        region,
        kk: rng.below(9_000_000_000_000_000) + 1_000_000_000_000_000,
    }
}

/// Title, degree, old spelling, dropped middle token or initial.
fn vary_name(rng: &mut Rng, name: &str) -> String {
    let mut toks: Vec<String> = name.split(' ').map(str::to_string).collect();
    match rng.below(6) {
        0 => format!("H. {name}"),
        1 => format!("{name}, S.Pd."),
        2 => {
            for t in toks.iter_mut() {
                if t == "MUHAMMAD" {
                    *t = "MOCH.".into();
                } else if t.contains('U') && rng.f() < 0.5 {
                    *t = t.replacen('U', "OE", 1);
                }
            }
            toks.join(" ")
        }
        3 if toks.len() == 3 => {
            toks.remove(1);
            toks.join(" ")
        }
        4 if toks.len() >= 2 => {
            toks[0] = format!("{}.", &toks[0][..1]);
            toks.join(" ")
        }
        _ => name.to_lowercase(),
    }
}

fn digits(n: u64) -> Vec<u8> {
    format!("{n:016}").into_bytes()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Anomaly {
    None,
    Substitution,
    Transposition,
    Missing,
    Truncated,
    OtherPersonsNik,
    NotInRegistry,
    BirthDate,
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds used by this process so far (user + system; 100 ticks per second). On a
/// loaded machine this is steadier than wall time.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let mut n = get("--persons").unwrap_or(1_000_000) as usize;
    if args.iter().any(|a| a == "--large") {
        n = 10_000_000;
    }
    let m = get("--rows").unwrap_or(100_000) as usize;
    let seed = get("--seed").unwrap_or(42);
    let use_em = !args.iter().any(|a| a == "--no-em");
    println!(
        "linkage benchmark: {n} persons, {m} roster rows, seed {seed}, EM {use_em}, {} threads, load {}",
        rayon::current_num_threads(),
        loadavg()
    );

    let t = Instant::now();
    let mut rng = Rng(seed);
    let mut serials = HashMap::with_capacity(n);
    let persons: Vec<RegistryPerson> = (0..n).map(|_| gen_person(&mut rng, &mut serials)).collect();
    let absent: Vec<RegistryPerson> = (0..m / 20 + 1)
        .map(|_| gen_person(&mut rng, &mut serials))
        .collect();
    drop(serials);
    // The roster, with truth.
    let mut roster = Vec::with_capacity(m);
    let mut truth: Vec<Option<u32>> = Vec::with_capacity(m);
    let mut kinds = Vec::with_capacity(m);
    let mut absent_used = 0usize;
    let nik_set: std::collections::HashSet<u64> = persons.iter().map(|p| p.nik).collect();
    for _ in 0..m {
        let r = rng.f();
        let anomaly = match r {
            x if x < 0.03 => Anomaly::Substitution,
            x if x < 0.05 => Anomaly::Transposition,
            x if x < 0.07 => Anomaly::Missing,
            x if x < 0.085 => Anomaly::Truncated,
            x if x < 0.095 => Anomaly::OtherPersonsNik,
            x if x < 0.115 => Anomaly::NotInRegistry,
            x if x < 0.13 => Anomaly::BirthDate,
            _ => Anomaly::None,
        };
        let (p, t) = if anomaly == Anomaly::NotInRegistry && absent_used < absent.len() {
            absent_used += 1;
            (absent[absent_used - 1].clone(), None)
        } else {
            let i = rng.below(n as u64) as u32;
            (persons[i as usize].clone(), Some(i))
        };
        let mut nik_raw = Some(p.nik.to_string());
        let mut birth = Some(p.birth_date);
        let mut name = p.name_norm.clone();
        match anomaly {
            Anomaly::Substitution => {
                let mut d = digits(p.nik);
                let pos = rng.below(16) as usize;
                let old = d[pos];
                while d[pos] == old {
                    d[pos] = b'0' + rng.below(10) as u8;
                }
                nik_raw = Some(String::from_utf8(d).unwrap());
            }
            Anomaly::Transposition => {
                let mut d = digits(p.nik);
                let mut pos = rng.below(15) as usize;
                for _ in 0..15 {
                    if d[pos] != d[pos + 1] {
                        break;
                    }
                    pos = (pos + 1) % 15;
                }
                d.swap(pos, pos + 1);
                nik_raw = Some(String::from_utf8(d).unwrap());
            }
            Anomaly::Missing => nik_raw = None,
            Anomaly::Truncated => {
                let s = p.nik.to_string();
                nik_raw = Some(if rng.below(2) == 0 {
                    s[..15].to_string()
                } else {
                    format!("{}0", &s[..15])
                });
            }
            Anomaly::OtherPersonsNik => {
                let j = rng.below(n as u64) as usize;
                nik_raw = Some(persons[j].nik.to_string());
            }
            Anomaly::NotInRegistry => {
                // Their own NIK (absent from the registry); a third of them one digit away
                // from a real neighbour's NIK by construction of the serial counter.
                if rng.below(3) == 0 {
                    let base = persons[rng.below(n as u64) as usize].nik;
                    let mut cand = base;
                    for k in 0..10u64 {
                        let c = base - base % 10 + (base % 10 + 1 + k) % 10;
                        if !nik_set.contains(&c) {
                            cand = c;
                            break;
                        }
                    }
                    nik_raw = Some(cand.to_string());
                    let (d, mo, y) = {
                        let dmy = (cand / 10_000) % 1_000_000;
                        (dmy / 10_000 % 40, dmy / 100 % 100, dmy % 100)
                    };
                    let year = if y + 1900 >= 1940 { 1900 + y } else { 2000 + y };
                    birth =
                        NaiveDate::from_ymd_opt(year as i32, mo as u32, d.max(1) as u32).or(birth);
                }
            }
            Anomaly::BirthDate => {
                let d = p.birth_date;
                birth = if d.day() <= 12 && d.day() != d.month() {
                    NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
                } else {
                    NaiveDate::from_ymd_opt(d.year() + 1, d.month(), d.day().min(28))
                };
                if rng.below(2) == 0 {
                    nik_raw = None;
                }
            }
            Anomaly::None => {}
        }
        if rng.f() < 0.15 {
            name = vary_name(&mut rng, &name);
        }
        roster.push(Query {
            nik_raw,
            nik: None,
            name,
            birth_date: birth,
            sex: Some(p.sex),
            region: Some(p.region),
            kk: None,
        });
        truth.push(t);
        kinds.push(anomaly);
    }
    drop(nik_set);
    let true_nik: Vec<Option<u64>> = truth
        .iter()
        .map(|t| t.map(|i| persons[i as usize].nik))
        .collect();
    println!(
        "generate: {:.2} s (rss so far {:.0} MiB)",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );

    let t = Instant::now();
    let c = cpu_s();
    let index = RegistryIndex::build(persons);
    let build = t.elapsed().as_secs_f64();
    let stats = index.stats();
    println!(
        "index build: {build:.2} s (cpu {:.1} s); {} persons, {} villages, {:.0} MiB heap ({:.0} bytes/person)",
        cpu_s() - c,
        stats.persons,
        stats.villages,
        stats.heap_bytes as f64 / 1048576.0,
        stats.heap_bytes as f64 / stats.persons.max(1) as f64
    );

    let config = LinkConfig {
        use_em,
        ..LinkConfig::default()
    };
    let mut linker = Linker::new(&index, config);
    let t = Instant::now();
    let c = cpu_s();
    let report = linker.train(&roster);
    println!(
        "train: {:.2} s (cpu {:.1} s); {} candidate pairs, {} EM iterations, converged {}, lambda {:.4}, default m kept for {:?}",
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
        report.pairs,
        report.iterations,
        report.converged,
        report.lambda,
        report.fallback_fields
    );
    for (f, field) in fs::FIELDS.iter().enumerate() {
        let w: Vec<String> = (0..fs::LEVELS[f])
            .map(|l| format!("{:.1}", linker.params().weight(f, l)))
            .collect();
        println!("  weights {:<10} {}", field.label(), w.join(" "));
    }

    if args.iter().any(|a| a == "--probe") {
        let t = Instant::now();
        let mut c = 0u64;
        let mut rows = 0;
        for (k, q) in roster.iter().enumerate() {
            if kinds[k] == Anomaly::Missing {
                c += linker.link(q).candidates as u64;
                rows += 1;
            }
        }
        let el = t.elapsed().as_secs_f64();
        println!(
            "probe: {rows} missing-NIK rows, {c} candidates, {:.1} us/row, {:.2} us/candidate",
            el * 1e6 / rows as f64,
            el * 1e6 / c as f64
        );
    }
    let t = Instant::now();
    let c = cpu_s();
    let links = linker.link_all(&roster);
    let link_s = t.elapsed().as_secs_f64();
    println!(
        "link: {link_s:.2} s (cpu {:.1} s), {:.0} rows/s",
        cpu_s() - c,
        m as f64 / link_s.max(1e-9)
    );
    // The same rows again, split by the path they took: rows answered by the exact NIK
    // (outcome `ExactNik`) and every other row (mismatch, probabilistic search).
    let (exact_rows, other_rows): (Vec<Query>, Vec<Query>) = {
        let mut e = Vec::new();
        let mut o = Vec::new();
        for (q, l) in roster.iter().zip(&links) {
            if l.outcome == LinkOutcome::ExactNik {
                e.push(q.clone());
            } else {
                o.push(q.clone());
            }
        }
        (e, o)
    };
    let t = Instant::now();
    let c = cpu_s();
    let n_exact = linker.link_all(&exact_rows).len();
    let exact_s = t.elapsed().as_secs_f64();
    let exact_cpu = cpu_s() - c;
    let t = Instant::now();
    let c = cpu_s();
    let n_other = linker.link_all(&other_rows).len();
    let other_s = t.elapsed().as_secs_f64();
    let other_cpu = cpu_s() - c;
    println!(
        "  exact-NIK path: {n_exact} rows in {exact_s:.2} s (cpu {exact_cpu:.1} s; {:.1} us/row, {:.0} rows/s)",
        exact_s * 1e6 / n_exact.max(1) as f64,
        n_exact as f64 / exact_s.max(1e-9)
    );
    println!(
        "  other rows (mismatch + probabilistic): {n_other} rows in {other_s:.2} s (cpu {other_cpu:.1} s; {:.1} us/row, {:.0} rows/s)",
        other_s * 1e6 / n_other.max(1) as f64,
        n_other as f64 / other_s.max(1e-9)
    );
    drop((exact_rows, other_rows));

    // Accuracy.
    let mut tp = 0usize;
    let mut fp = 0usize;
    let mut positives = 0usize;
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    let mut typo_rows = 0usize;
    let mut typo_right = 0usize;
    let mut per_kind: HashMap<String, (usize, usize)> = HashMap::new();
    let mut candidates = 0u64;
    for (k, l) in links.iter().enumerate() {
        candidates += l.candidates as u64;
        let label = match l.outcome {
            LinkOutcome::ExactNik => "exact_nik",
            LinkOutcome::ExactNikMismatch => "exact_nik_mismatch",
            LinkOutcome::Probable { .. } => "probable",
            LinkOutcome::Possible => "possible",
            LinkOutcome::NotFound => "not_found",
        };
        *outcomes.entry(label).or_default() += 1;
        let pred = match l.outcome {
            LinkOutcome::ExactNik | LinkOutcome::Probable { .. } => l.person,
            LinkOutcome::ExactNikMismatch => l
                .suggestion
                .as_ref()
                .filter(|s| s.probable)
                .map(|s| s.candidate.person),
            _ => None,
        };
        let e = per_kind.entry(format!("{:?}", kinds[k])).or_default();
        e.0 += 1;
        if pred == truth[k] {
            e.1 += 1;
        }
        if truth[k].is_some() {
            positives += 1;
        }
        if let Some(p) = pred {
            if Some(p) == truth[k] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        if matches!(
            kinds[k],
            Anomaly::Substitution | Anomaly::Transposition | Anomaly::Truncated
        ) {
            typo_rows += 1;
            if pred.map(|p| index.nik(p)) == true_nik[k] {
                typo_right += 1;
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / positives.max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-12);
    let mut o: Vec<_> = outcomes.into_iter().collect();
    o.sort();
    println!("outcomes: {o:?}");
    let mut pk: Vec<_> = per_kind.into_iter().collect();
    pk.sort();
    for (k, (rows, right)) in pk {
        println!(
            "  {k:<16} rows {rows:>7}  right {right:>7}  ({:.2}%)",
            100.0 * right as f64 / rows.max(1) as f64
        );
    }
    println!(
        "candidates compared: {candidates} ({:.1}/row)",
        candidates as f64 / m.max(1) as f64
    );
    println!(
        "precision {precision:.4}  recall {recall:.4}  F1 {f1:.4}  (tp {tp}, fp {fp}, positives {positives})"
    );
    println!(
        "mistyped NIKs recovered: {typo_right}/{typo_rows} ({:.2}%)",
        100.0 * typo_right as f64 / typo_rows.max(1) as f64
    );
    println!("peak RSS (VmHWM): {:.0} MiB", peak_rss_mib());
    println!("load at end: {}", loadavg());
}
