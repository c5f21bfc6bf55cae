//! Ingestion throughput and memory.
//!
//! Writes a Dukcapil-format file (default 10 million rows, `|`-delimited, one row in 1,000
//! with a bad birth date) and parses it through `config/mappings/dukcapil-penduduk.toml`,
//! printing rows/s and peak RSS (VmHWM). Then the same with the duplicate-key index off, and
//! an XLSX roster (default 200,000 rows) through `roster.toml`.
//!
//! ```text
//! cargo bench -p sinergi-ingest --bench parse            # 10M CSV rows, 200k XLSX rows
//! ROWS=1000000 XLSX_ROWS=50000 cargo bench -p sinergi-ingest --bench parse
//! ```
//!
//! Files go to `$BENCH_DIR` (default: the system temp dir) and are deleted afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sinergi_ingest::{Mapping, ProgressEvent, ReadOptions, read};

fn status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
        .unwrap_or_else(|| "n/a".into())
}

/// User + system CPU seconds of this process (clock ticks of 1/100 s, the Linux default).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn nik_for(i: u64) -> String {
    let serial = i % 9999 + 1;
    let rest = i / 9999;
    let day = rest % 28 + 1 + 40 * (i % 2);
    let rest = rest / 28;
    let month = rest % 12 + 1;
    let year = (rest / 12) % 100;
    format!("320101{day:02}{month:02}{year:02}{serial:04}")
}

/// A valid KK for family `f` (four people per family in the generated file).
fn kk_for(f: u64) -> String {
    let serial = f % 9999 + 1;
    let rest = f / 9999;
    let day = rest % 28 + 1;
    let month = (rest / 28) % 12 + 1;
    let year = (rest / 336) % 100;
    format!("320101{day:02}{month:02}{year:02}{serial:04}")
}

const NAMES: &[&str] = &[
    "SITI AMINAH",
    "BUDI SANTOSO",
    "AGUS SETIAWAN",
    "DEWI LESTARI",
    "MUHAMMAD RIZKI",
    "NUR HIDAYAH",
    "ANDI WIJAYA",
    "RINA MARLINA",
];

fn write_dukcapil(path: &Path, rows: u64) -> std::io::Result<u64> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "NIK|NO_KK|NAMA_LGKP|JENIS_KLMIN|TMPT_LHR|TGL_LHR|STAT_HBKEL|AGAMA|STATUS_KAWIN|JENIS_PKRJN|NO_PROP|NO_KAB|NO_KEC|NO_KEL|ALAMAT|NO_RT|NO_RW"
    )?;
    for i in 0..rows {
        let date = if i % 1000 == 999 {
            "31-02-1980".to_string()
        } else {
            format!("{:02}-{:02}-19{:02}", i % 28 + 1, i % 12 + 1, 40 + i % 60)
        };
        writeln!(
            w,
            "{}|{}|{}|{}|BOGOR|{date}|KEPALA KELUARGA|ISLAM|KAWIN|WIRASWASTA|32|01|01|{}|JL. RAYA BOGOR NO. {}|{:03}|{:03}",
            nik_for(i),
            kk_for(i / 4),
            NAMES[(i % 8) as usize],
            1 + i % 2,
            1001 + (i % 9),
            i % 500,
            i % 20 + 1,
            i % 10 + 1,
        )?;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn parse(mapping: &Mapping, path: PathBuf, opts: &ReadOptions, label: &str) {
    let t = Instant::now();
    let cpu0 = cpu_secs();
    let mut records = 0usize;
    let mut next_mark = 1_000_000u64;
    let mut rss_marks = Vec::new();
    let report = read(
        mapping,
        &[path],
        opts,
        &mut |b| {
            records += b.records.len();
            Ok(())
        },
        &mut |e| {
            if let ProgressEvent::Rows { rows_read, .. } = e {
                if rows_read >= next_mark {
                    rss_marks.push(format!("{}M:{}", rows_read / 1_000_000, status("VmRSS:")));
                    next_mark += 1_000_000;
                }
            }
        },
    )
    .expect("read");
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "{label}: {} rows read, {} loaded, {} rejected in {secs:.2} s wall ({cpu:.2} s CPU) = {:.0} rows/s; VmHWM {}",
        report.rows_read,
        report.loaded,
        report.rejected,
        report.rows_read as f64 / secs,
        status("VmHWM:")
    );
    if !rss_marks.is_empty() {
        println!("  VmRSS by rows read: {}", rss_marks.join(", "));
    }
    assert_eq!(records as u64, report.loaded);
}

fn write_roster(path: &Path, rows: u64) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    ws.write_string(0, 0, "DAFTAR KPM PKH").unwrap();
    let header = [
        "No",
        "NIK",
        "No KK",
        "Nama KPM",
        "Tanggal Lahir",
        "Alamat",
        "Kode Desa",
        "Program",
        "Nominal",
        "Periode",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for i in 0..rows {
        let r = 3 + i as u32;
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        ws.write_string(r, 1, nik_for(i)).unwrap();
        ws.write_string(r, 2, kk_for(i / 4)).unwrap();
        ws.write_string(r, 3, NAMES[(i % 8) as usize]).unwrap();
        let d = ExcelDateTime::from_ymd(
            1950 + (i % 50) as u16,
            (i % 12 + 1) as u8,
            (i % 28 + 1) as u8,
        )
        .unwrap();
        ws.write_datetime_with_format(r, 4, d, &date).unwrap();
        ws.write_string(r, 5, format!("JL. MAWAR NO. {}", i % 300))
            .unwrap();
        ws.write_string(r, 6, "3201011001").unwrap();
        ws.write_string(r, 7, "PKH").unwrap();
        ws.write_number(r, 8, 750_000.0).unwrap();
        ws.write_string(r, 9, "2026-Q4").unwrap();
    }
    wb.save(path).unwrap();
}

/// Runs one phase in a child process so that each VmHWM is that phase's own peak.
fn phase(name: &str, file: &Path) {
    let exe = std::env::current_exe().expect("current exe");
    let status = std::process::Command::new(exe)
        .env("PHASE", name)
        .env("PHASE_FILE", file)
        .status()
        .expect("spawn phase");
    assert!(status.success(), "phase {name} failed");
}

fn main() {
    // `cargo bench` passes `--bench`; arguments are ignored, settings come from the
    // environment.
    let rows = env_u64("ROWS", 10_000_000);
    let xlsx_rows = env_u64("XLSX_ROWS", 200_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/mappings");
    if let (Ok(name), Some(file)) = (std::env::var("PHASE"), std::env::var_os("PHASE_FILE")) {
        let file = PathBuf::from(file);
        let dukcapil = Mapping::from_file(root.join("dukcapil-penduduk.toml")).expect("mapping");
        let roster = Mapping::from_file(root.join("roster.toml")).expect("mapping");
        let no_dups = ReadOptions {
            check_duplicates: false,
            ..ReadOptions::default()
        };
        match name.as_str() {
            "csv" => parse(
                &dukcapil,
                file,
                &ReadOptions::default(),
                "dukcapil csv, duplicate check on ",
            ),
            "csv-nodup" => parse(
                &dukcapil,
                file,
                &no_dups,
                "dukcapil csv, duplicate check off",
            ),
            "xlsx-write" => {
                let t = Instant::now();
                write_roster(&file, xlsx_rows);
                println!(
                    "wrote {xlsx_rows} roster rows ({:.1} MB xlsx) in {:.1} s",
                    std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
                    t.elapsed().as_secs_f64()
                );
            }
            "xlsx" => parse(&roster, file, &ReadOptions::default(), "roster xlsx"),
            other => panic!("unknown phase {other}"),
        }
        return;
    }
    let dir = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let csv = dir.join(format!("sinergi-bench-dukcapil-{}.csv", std::process::id()));
    let t = Instant::now();
    let bytes = write_dukcapil(&csv, rows).expect("write");
    println!(
        "wrote {rows} Dukcapil rows ({:.0} MB) in {:.1} s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
    );
    phase("csv", &csv);
    phase("csv-nodup", &csv);
    let _ = std::fs::remove_file(&csv);
    if xlsx_rows > 0 {
        let x = dir.join(format!("sinergi-bench-roster-{}.xlsx", std::process::id()));
        phase("xlsx-write", &x);
        phase("xlsx", &x);
        let _ = std::fs::remove_file(&x);
    }
}
