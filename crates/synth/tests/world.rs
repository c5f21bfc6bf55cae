//! End-to-end tests of `sinergi synth` on small worlds (debug build, ≤ 20k people).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};
use sinergi_synth::{AnomalyLevel, Summary, SynthConfig, SynthError, generate};

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sinergi-synth-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(people: u64, seed: u64, anomalies: AnomalyLevel, dir: &Path) -> Summary {
    let cfg = SynthConfig {
        people,
        seed,
        anomalies,
        ..SynthConfig::default()
    };
    generate(&cfg, dir, &mut |_| {}).expect("generation succeeds")
}

fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

fn csv_rows(path: &Path, delim: u8, text: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let rows: Vec<_> = r
        .records()
        .map(|x| x.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect();
    rows
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

fn sheet(dir: &Path, rel: &str) -> calamine::Range<Data> {
    let mut wb = open_workbook_auto(dir.join(rel)).unwrap();
    wb.worksheet_range_at(0).unwrap().unwrap()
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    run(3000, 7, AnomalyLevel::High, &a);
    run(3000, 7, AnomalyLevel::High, &b);
    let fa = files_under(&a);
    assert_eq!(fa, files_under(&b));
    assert!(fa.len() >= 17, "{fa:?}");
    for f in &fa {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{} differs between two runs", f.display());
    }
    let c = tmp("det-c");
    run(3000, 8, AnomalyLevel::High, &c);
    assert_ne!(
        std::fs::read(a.join("dukcapil/penduduk.csv")).unwrap(),
        std::fs::read(c.join("dukcapil/penduduk.csv")).unwrap(),
        "another seed gives another world"
    );
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// Every file parses with its stated delimiter, encoding and BOM; the manifest's row counts
/// match; the world is consistent across agencies.
#[test]
fn files_parse_and_agree_with_the_manifest() {
    check_world("parse", 12_000, 3, AnomalyLevel::Default);
}

/// The same on a high-anomaly world, which has the error habits of real lists and a NIK
/// space as crowded as the national one: the truth still follows from the files alone.
#[test]
fn a_world_with_error_habits_and_a_crowded_nik_space_keeps_an_honest_truth() {
    check_world("parse-high", 12_000, 9, AnomalyLevel::High);
}

fn check_world(name: &str, people: u64, seed: u64, level: AnomalyLevel) {
    let dir = tmp(name);
    let summary = run(people, seed, level, &dir);
    let manifest: serde_json::Value = serde_json::from_str(&read(&dir, "manifest.json")).unwrap();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for f in manifest["files"].as_array().unwrap() {
        counts.insert(
            f["path"].as_str().unwrap().to_string(),
            f["rows"].as_u64().unwrap(),
        );
    }
    assert_eq!(counts.len(), summary.files.len());

    // Dukcapil population: `|`, CRLF, upper case, quoted ALAMAT with `|` or newlines.
    let raw = read(&dir, "dukcapil/penduduk.csv");
    assert!(raw.starts_with("NIK|NO_KK|NAMA_LGKP|JENIS_KLMIN|TMPT_LHR|TGL_LHR|STAT_HBKEL|AGAMA|STATUS_KAWIN|JENIS_PKRJN|NO_PROP|NO_KAB|NO_KEC|NO_KEL|ALAMAT|NO_RT|NO_RW\r\n"));
    let p = Path::new("penduduk.csv");
    let pend = csv_rows(p, b'|', &raw);
    assert_eq!(pend.len() as u64, counts["dukcapil/penduduk.csv"]);
    assert_eq!(pend.len() as u64, people);
    let mut niks = HashSet::new();
    let mut person: HashMap<String, csv::StringRecord> = HashMap::new();
    let mut heads: HashMap<String, String> = HashMap::new();
    for r in &pend {
        assert_eq!(r.len(), 17);
        assert!(r[0].len() == 16 && r[0].bytes().all(|b| b.is_ascii_digit()));
        assert!(r[1].len() == 16 && r[1].bytes().all(|b| b.is_ascii_digit()));
        assert!(niks.insert(r[0].to_string()), "NIK {} twice", &r[0]);
        assert_eq!(r[2].to_uppercase(), &r[2]);
        assert!(&r[3] == "1" || &r[3] == "2");
        if &r[6] == "KEPALA KELUARGA" {
            assert!(heads.insert(r[1].to_string(), r[0].to_string()).is_none());
        }
        person.insert(r[0].to_string(), r.clone());
    }
    assert!(pend.iter().any(|r| r[14].contains('|')) || pend.iter().any(|r| r[14].contains('\n')));
    for r in &pend {
        assert!(heads.contains_key(&r[1]), "KK {} has no head", &r[1]);
    }

    // Deaths.
    let deaths = csv_rows(p, b',', &read(&dir, "dukcapil/kematian.csv"));
    assert_eq!(deaths.len() as u64, counts["dukcapil/kematian.csv"]);
    let dead: HashSet<String> = deaths.iter().map(|r| r[0].to_string()).collect();
    assert!(dead.iter().all(|n| niks.contains(n)));

    // DTSEN: UTF-8 with BOM, `;`.
    let raw = read(&dir, "dtsen/dtsen.csv");
    let body = raw
        .strip_prefix('\u{feff}')
        .expect("dtsen.csv starts with a BOM");
    let dtsen = csv_rows(p, b';', body);
    assert_eq!(dtsen.len() as u64, counts["dtsen/dtsen.csv"]);
    let mut decile: HashMap<String, u8> = HashMap::new();
    for r in &dtsen {
        assert_eq!(r.len(), 7);
        assert_eq!(r[5].len(), 10);
        let d: u8 = r[6].parse().unwrap();
        assert!((1..=10).contains(&d));
        decile.insert(r[2].to_string(), d);
        assert_eq!(&person[&r[2]][1], &r[1], "DTSEN KK agrees with Dukcapil");
    }

    // BPJS Kesehatan JSON Lines.
    let raw = read(&dir, "bpjs-kesehatan/peserta.jsonl");
    let mut bpjs: HashMap<String, serde_json::Value> = HashMap::new();
    for line in raw.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["noKartu"].as_str().unwrap().len(), 13);
        let seg = v["segmen"].as_str().unwrap();
        assert!(["PBI APBN", "PBI APBD", "PPU", "PBPU", "BP"].contains(&seg));
        bpjs.insert(v["nik"].as_str().unwrap().to_string(), v);
    }
    assert_eq!(
        raw.lines().count() as u64,
        counts["bpjs-kesehatan/peserta.jsonl"]
    );

    // TNI/Polri: Windows-1252, CRLF, quoted commas.
    let bytes = std::fs::read(dir.join("tni-polri/personel.csv")).unwrap();
    let (text, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
    assert!(!bad);
    let personel = csv_rows(p, b',', &text);
    assert_eq!(personel.len() as u64, counts["tni-polri/personel.csv"]);
    assert!(text.contains("\r\n") && text.contains(",\""));
    let mut civil: HashSet<String> = personel.iter().map(|r| r[1].to_string()).collect();

    // BKN: two title rows, header on the third.
    let asn = sheet(&dir, "bkn/asn.xlsx");
    let header: Vec<String> = asn.rows().nth(2).unwrap().iter().map(cell_text).collect();
    assert_eq!(header, ["NIP", "NIK", "NAMA", "INSTANSI", "JENIS"]);
    let asn_rows: Vec<_> = asn.rows().skip(3).collect();
    assert_eq!(asn_rows.len() as u64, counts["bkn/asn.xlsx"]);
    for r in &asn_rows {
        let nip = cell_text(&r[0]);
        assert_eq!(nip.len(), 18);
        civil.insert(cell_text(&r[1]));
    }

    // Wages.
    let upah = csv_rows(p, b',', &read(&dir, "bpjs-ketenagakerjaan/upah.csv"));
    assert_eq!(upah.len() as u64, counts["bpjs-ketenagakerjaan/upah.csv"]);
    let wage: HashMap<String, u64> = upah
        .iter()
        .map(|r| (r[0].to_string(), r[2].parse().unwrap()))
        .collect();

    // Rosters and truth: same row counts; person-level codes re-derived from agency files.
    for (prog, cut) in [("PKH", 4u8), ("BPNT", 4), ("PBI_JK", 5), ("BLT_DD", 4)] {
        let range = sheet(&dir, &format!("rosters/{prog}.xlsx"));
        let header: Vec<String> = range.rows().next().unwrap().iter().map(cell_text).collect();
        assert_eq!(
            header,
            [
                "No",
                "NIK",
                "No KK",
                "Nama KPM",
                "Tanggal Lahir",
                "Alamat",
                "Kode Desa",
                "Program",
                "Nominal",
                "Periode"
            ]
        );
        let rows: Vec<_> = range.rows().skip(1).collect();
        let truth = csv_rows(p, b',', &read(&dir, &format!("truth/{prog}.csv")));
        assert_eq!(rows.len(), truth.len(), "{prog}");
        assert_eq!(truth.len() as u64, counts[&format!("rosters/{prog}.xlsx")]);
        assert!(!rows.is_empty(), "{prog} roster is empty");
        for (row, t) in rows.iter().zip(&truth) {
            let codes: BTreeSet<&str> = t[2].split(';').filter(|s| !s.is_empty()).collect();
            let nik = &t[1];
            if nik.is_empty() {
                continue;
            }
            let me = &person[nik];
            let head = &heads[&me[1]];
            let family = prog != "PBI_JK";
            assert_eq!(
                codes.contains("DECEASED"),
                dead.contains(nik),
                "{prog} {t:?}"
            );
            assert_eq!(
                codes.contains("NOT_IN_DTSEN"),
                !decile.contains_key(nik),
                "{prog} {t:?}"
            );
            assert_eq!(
                codes.contains("DECILE_ABOVE_CUT"),
                decile.get(nik).is_some_and(|&d| d > cut),
                "{prog} {t:?}"
            );
            assert_eq!(
                codes.contains("CIVIL_SERVANT"),
                civil.contains(nik) || (family && civil.contains(head)),
                "{prog} {t:?}"
            );
            let kode = cell_text(&row[6]);
            let umk = sinergi_model::minwage::umk(
                sinergi_model::RegionCode::parse(&format!(
                    "{:02}{:02}",
                    me[10].parse::<u32>().unwrap(),
                    me[11].parse::<u32>().unwrap()
                ))
                .unwrap(),
            )
            .unwrap();
            let above = |n: &str| wage.get(n).is_some_and(|&w| w > umk);
            assert_eq!(
                codes.contains("WAGE_ABOVE_MINIMUM"),
                above(nik) || (family && above(head)),
                "{prog} {t:?}"
            );
            if prog == "PBI_JK" {
                let b = bpjs.get(nik);
                let ppu = b.is_some_and(|b| b["segmen"] == "PPU" && b["status"] == "AKTIF");
                assert_eq!(codes.contains("FORMAL_EMPLOYEE_INSURED"), ppu, "{t:?}");
                let kat = b.is_some_and(|b| b["katastropik"] == true);
                assert_eq!(
                    codes.contains("EXCEPTION_CATASTROPHIC"),
                    kat && codes.contains("DECILE_ABOVE_CUT"),
                    "{t:?}"
                );
            }
            assert_eq!(
                codes.contains("KK_MISMATCH"),
                cell_text(&row[2]) != me[1],
                "{prog} {t:?}"
            );
            let home = format!(
                "{:02}{:02}{:02}{:04}",
                me[10].parse::<u32>().unwrap(),
                me[11].parse::<u32>().unwrap(),
                me[12].parse::<u32>().unwrap(),
                me[13].parse::<u32>().unwrap()
            );
            let out = if prog == "BLT_DD" {
                home != kode
            } else {
                home[..4] != kode[..4]
            };
            assert_eq!(codes.contains("OUT_OF_REGION"), out, "{prog} {t:?}");
        }
        // The listed NIK's own codes follow from the registry and the true person.
        for (row, t) in rows.iter().zip(&truth) {
            let codes: BTreeSet<&str> = t[2].split(';').filter(|s| !s.is_empty()).collect();
            let Data::String(listed) = &row[1] else {
                continue;
            };
            let listed = listed.trim_end();
            if niks.contains(listed) {
                assert_eq!(
                    codes.contains("IDENTITY_MISMATCH"),
                    listed != &t[1],
                    "{prog} {t:?} lists {listed}"
                );
                assert!(!codes.contains("NIK_NOT_FOUND"), "{prog} {t:?}");
            } else {
                assert!(!codes.contains("IDENTITY_MISMATCH"), "{prog} {t:?}");
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Days since 1970-01-01 of a roster's Tanggal Lahir cell (an Excel date or one of the text
/// formats of docs/SYNTH.md).
fn roster_date(d: &Data) -> (i32, u32, u32) {
    use chrono::Datelike;
    let date = match d {
        Data::DateTime(x) => {
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
                + chrono::Duration::days(x.as_f64() as i64)
        }
        Data::String(s) => {
            const MONTHS: [&str; 12] = [
                "Januari",
                "Februari",
                "Maret",
                "April",
                "Mei",
                "Juni",
                "Juli",
                "Agustus",
                "September",
                "Oktober",
                "November",
                "Desember",
            ];
            let mut t = s.clone();
            for (i, m) in MONTHS.iter().enumerate() {
                t = t.replace(&format!(" {m} "), &format!("-{:02}-", i + 1));
            }
            ["%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"]
                .iter()
                .find_map(|f| chrono::NaiveDate::parse_from_str(&t, f).ok())
                .unwrap_or_else(|| panic!("date {s:?}"))
        }
        other => panic!("date cell {other:?}"),
    };
    (date.year(), date.month(), date.day())
}

/// The error habits write what `truth/injected.csv` says they wrote, and nothing else changes
/// a row's name or birth date beyond the spelling variants and formats of docs/TRUTH.md.
#[test]
fn error_habits_write_the_slips_they_claim() {
    let dir = tmp("habits");
    let summary = run(12_000, 13, AnomalyLevel::High, &dir);
    assert!(summary.rates.name_typo > 0.0 && summary.rates.date_default > 0.0);
    let pend = csv_rows(
        Path::new("penduduk.csv"),
        b'|',
        &read(&dir, "dukcapil/penduduk.csv"),
    );
    let person: HashMap<String, csv::StringRecord> =
        pend.iter().map(|r| (r[0].to_string(), r.clone())).collect();
    let injected = csv_rows(
        Path::new("injected.csv"),
        b',',
        &read(&dir, "truth/injected.csv"),
    );
    let kinds: HashMap<(String, u64), String> = injected
        .iter()
        .map(|r| ((r[0].to_string(), r[1].parse().unwrap()), r[3].to_string()))
        .collect();
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for prog in ["PKH", "BPNT", "PBI_JK", "BLT_DD"] {
        let range = sheet(&dir, &format!("rosters/{prog}.xlsx"));
        let truth = csv_rows(
            Path::new("t"),
            b',',
            &read(&dir, &format!("truth/{prog}.csv")),
        );
        for (i, (row, t)) in range.rows().skip(1).zip(&truth).enumerate() {
            let Some(me) = person.get(&t[1]) else {
                continue; // a ghost
            };
            let kind = kinds
                .get(&(prog.to_string(), i as u64 + 1))
                .cloned()
                .unwrap_or_default();
            let has = |k: &str| kind.split(';').any(|x| x == k);
            let (y, m, d) = roster_date(&row[4]);
            let born: Vec<u32> = me[5].split('-').map(|x| x.parse().unwrap()).collect();
            let (by, bm, bd) = (born[2] as i32, born[1], born[0]);
            if has("date_default") {
                *seen.entry("date_default").or_default() += 1;
                assert_eq!(y, by, "{prog} row {}", i + 1);
                assert!(
                    [(1, 1), (31, 12), (1, 7)].contains(&(d, m))
                        || (m == bm && (d == 1 || d == 15)),
                    "{prog} row {}: {d}-{m}-{y}",
                    i + 1
                );
            } else if has("date_day_typo") {
                *seen.entry("date_day_typo").or_default() += 1;
                assert_eq!((y, m), (by, bm), "{prog} row {}", i + 1);
                assert_ne!(d, bd, "{prog} row {}", i + 1);
            } else {
                assert_eq!((y, m, d), (by, bm, bd), "{prog} row {}", i + 1);
            }
            let name = cell_text(&row[3]);
            // Name words: before a degree's comma, titles (`H.`) aside.
            let tokens = |s: &str| {
                s.split(',')
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .filter(|x| !x.is_empty() && !x.ends_with('.'))
                    .count()
            };
            for k in [
                "name_typo",
                "name_bin_binti",
                "name_dropped_token",
                "name_initials",
            ] {
                if has(k) {
                    *seen.entry(k).or_default() += 1;
                }
            }
            if has("name_bin_binti") {
                assert!(name.contains(" BIN ") || name.contains(" BINTI "), "{name}");
            } else if has("name_initials") && tokens(&me[2]) >= 2 {
                assert!(
                    name.split(' ').any(|x| x.len() == 2 && x.ends_with('.')),
                    "{name}"
                );
            } else if has("name_dropped_token") && tokens(&me[2]) >= 2 {
                assert!(tokens(&name) < tokens(&me[2]), "{name} / {}", &me[2]);
            } else if has("name_typo") {
                assert!(name.len().abs_diff(me[2].len()) <= 1, "{name}");
            } else if !has("name_variant") {
                assert_eq!(name, &me[2], "{prog} row {}", i + 1);
            }
        }
    }
    for k in [
        "date_default",
        "date_day_typo",
        "name_typo",
        "name_bin_binti",
        "name_dropped_token",
        "name_initials",
    ] {
        assert!(seen.get(k).copied().unwrap_or(0) > 5, "{k}: {seen:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A national-density world is crowded (tens of registry NIKs one digit from a typical one);
/// a sparse one is not; both hold the same people.
#[test]
fn nik_density_is_measured_and_national_density_is_crowded() {
    let base = tmp("density");
    let mk = |density, dir: &Path| {
        let cfg = SynthConfig {
            people: 20_000,
            seed: 21,
            nik_density: Some(density),
            ..SynthConfig::default()
        };
        generate(&cfg, dir, &mut |_| {}).unwrap()
    };
    let sparse = mk(sinergi_synth::NikDensity::Sparse, &base.join("s"));
    let national = mk(sinergi_synth::NikDensity::National, &base.join("n"));
    assert!(
        sparse.nik_space.one_digit_mean < 1.0,
        "{:?}",
        sparse.nik_space
    );
    assert!(
        national.nik_space.one_digit_mean >= 10.0,
        "{:?}",
        national.nik_space
    );
    assert!(
        national.nik_space.with_neighbour > 0.9,
        "{:?}",
        national.nik_space
    );
    assert!(
        national.nik_space.serial_mean < 5.0,
        "{:?}",
        national.nik_space
    );
    // Same people: names and birth dates agree line by line, only the NIKs differ.
    let cols = |d: &Path| -> Vec<String> {
        read(d, "dukcapil/penduduk.csv")
            .lines()
            .map(|l| l.split('|').skip(2).take(4).collect::<Vec<_>>().join("|"))
            .collect()
    };
    assert_eq!(cols(&base.join("s")), cols(&base.join("n")));
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn no_anomalies_means_every_row_is_layak() {
    let dir = tmp("none");
    let summary = run(8000, 11, AnomalyLevel::None, &dir);
    for prog in ["PKH", "BPNT", "PBI_JK", "BLT_DD"] {
        let truth = read(&dir, &format!("truth/{prog}.csv"));
        let rows: Vec<_> = truth.lines().skip(1).collect();
        assert!(!rows.is_empty(), "{prog}");
        for line in rows {
            let parts: Vec<&str> = line.split(',').collect();
            assert_eq!(parts.len(), 3);
            assert_eq!(parts[1].len(), 16, "{prog}: {line}");
            assert_eq!(parts[2], "", "{prog}: {line}");
        }
    }
    assert!(
        summary
            .truth_code_counts
            .iter()
            .all(|(_, c)| c.iter().all(|(_, n)| *n == 0))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_default_level_injects_every_code() {
    let dir = tmp("codes");
    let summary = run(20_000, 5, AnomalyLevel::High, &dir);
    let mut seen = BTreeSet::new();
    for (_, counts) in &summary.truth_code_counts {
        for (code, n) in counts {
            if *n > 0 {
                seen.insert(code.clone());
            }
        }
    }
    let all: BTreeSet<String> = sinergi_synth::CODE_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    // IDENTITY_MISMATCH needs a typo that hits another real NIK: rare in a small world.
    assert!(
        missing.iter().all(|c| *c == "IDENTITY_MISMATCH"),
        "codes never generated: {missing:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn empty_and_tiny_worlds_are_valid() {
    for people in [0u64, 1, 2] {
        let dir = tmp(&format!("tiny{people}"));
        let s = run(people, 1, AnomalyLevel::Default, &dir);
        assert_eq!(s.people, people);
        let pend = read(&dir, "dukcapil/penduduk.csv");
        assert_eq!(pend.lines().count() as u64, people + 1);
        for prog in ["PKH", "BPNT", "PBI_JK", "BLT_DD"] {
            let range = sheet(&dir, &format!("rosters/{prog}.xlsx"));
            assert!(range.rows().count() >= 1, "header row present");
            assert!(
                read(&dir, &format!("truth/{prog}.csv")).starts_with("row_no,true_nik,codes\n")
            );
        }
        assert!(read(&dir, "dtsen/dtsen.csv").starts_with('\u{feff}'));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let base = tmp("unwritable");
    std::fs::create_dir_all(&base).unwrap();
    let file = base.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let cfg = SynthConfig {
        people: 10,
        ..SynthConfig::default()
    };
    let err = generate(&cfg, &file.join("out"), &mut |_| {}).unwrap_err();
    assert!(matches!(err, SynthError::Io { .. }));
    assert!(err.to_string().contains("not-a-dir"), "{err}");
    assert!("sometimes".parse::<AnomalyLevel>().is_err());
    assert_eq!("HIGH".parse::<AnomalyLevel>().unwrap(), AnomalyLevel::High);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn roster_rows_resizes_one_roster_and_leaves_the_agency_files_alone() {
    let base = tmp("roster-rows");
    let plain = base.join("plain");
    let sized = base.join("sized");
    run(3_000, 5, AnomalyLevel::Default, &plain);
    let cfg = SynthConfig {
        people: 3_000,
        seed: 5,
        roster_rows: [("PBI_JK".to_string(), 500)].into_iter().collect(),
        ..SynthConfig::default()
    };
    generate(&cfg, &sized, &mut |_| {}).unwrap();
    // The PBI_JK roster and its truth have the rows asked for (header + 500).
    assert_eq!(sheet(&sized, "rosters/PBI_JK.xlsx").height(), 501);
    assert_eq!(read(&sized, "truth/PBI_JK.csv").lines().count(), 501);
    // Agency files and the other rosters do not change.
    for rel in [
        "dukcapil/penduduk.csv",
        "dtsen/dtsen.csv",
        "bpjs-kesehatan/peserta.jsonl",
        "truth/PKH.csv",
    ] {
        assert_eq!(read(&plain, rel), read(&sized, rel), "{rel}");
    }
    std::fs::remove_dir_all(base).unwrap();
}
