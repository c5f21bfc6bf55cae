//! Verdict file writing: N verdict rows (default 200,000) shaped like a real run — about 70%
//! LAYAK without reasons, the rest with one to three reasons of real message lengths — written
//! as CSV, JSON and XLSX through `OutputSink`, each format on its own, then all three. Prints
//! rows/s, CPU seconds and file sizes per format.
//!
//! `cargo bench -p sinergi-engine --bench output` — size from `SINERGI_BENCH_ROWS`.

use std::time::Instant;

use sinergi_engine::output::{Manifest, OutputFormat, OutputSink};
use sinergi_engine::verdict::{Decision, NoteOut, ReasonOut, VerdictRow};
use sinergi_model::Lang;

fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn reason(code: &str, severity: Decision) -> ReasonOut {
    ReasonOut {
        code: code.into(),
        severity,
        agency: "DTSEN (BPS)".into(),
        dataset: "dtsen".into(),
        dataset_version: "v3 (snapshot 12)".into(),
        dataset_date: "2026-11-01".into(),
        dataset_loaded: "2026-12-07".into(),
        message_id: "Data DTSEN (BPS) per 2026-11-01: keluarga ini berada pada desil 8, di atas batas desil 4 untuk program PKH.".into(),
        message_en: "DTSEN (BPS) data as of 2026-11-01: this family is in decile 8, above the programme's cut of decile 4 for PKH.".into(),
        next_step_id: "Jika kondisi ekonomi keluarga sebenarnya lebih rendah, ajukan pemutakhiran data DTSEN melalui desa/kelurahan atau Dinas Sosial setempat (sanggah).".into(),
        next_step_en: "If the family's real economic situation is lower, ask for a DTSEN update through the village office or the local Dinas Sosial (objection).".into(),
        detail: "desil 8 > batas 4".into(),
        overridden_by: String::new(),
    }
}

fn row(i: u64) -> VerdictRow {
    let reasons = match i % 10 {
        0..=6 => vec![],
        7 | 8 => vec![reason("DECILE_ABOVE_CUT", Decision::TidakLayak)],
        _ => vec![
            reason("NIK_NOT_FOUND", Decision::Tinjau),
            reason("NOT_IN_DTSEN", Decision::Tinjau),
            reason("OUT_OF_REGION", Decision::Tinjau),
        ],
    };
    let verdict = reasons
        .iter()
        .map(|r| r.severity)
        .max()
        .unwrap_or(Decision::Layak);
    VerdictRow {
        amount_from_rules: false,
        row_id: String::new(),
        row_no: i + 1,
        program: "PKH".into(),
        period: "2026-11".into(),
        nik_listed: format!("32010145089{:05}", i % 100_000),
        name: "SITI AMINAH BINTI ABDULLAH".into(),
        kk_listed: Some("3201010101200001".into()),
        birth_date: Some("1985-08-12".into()),
        address: "DUSUN CIBEUREUM RT 004 RW 005".into(),
        verdict,
        reasons,
        linked_nik: Some(format!("32010145089{:05}", i % 100_000)),
        suggested_nik: (i % 50 == 0).then(|| "3201014508900002".into()),
        suggested_score: (i % 50 == 0).then_some(0.9876),
        amount: Some(750_000),
        region: Some("3201012001".into()),
        not_checked: vec![],
        notes: if i % 20 == 0 {
            vec![NoteOut {
                code: "NAME_DIFFERS".into(),
                message_id: "Nama di daftar ditulis berbeda dari data kependudukan.".into(),
                message_en: "The name in the list is written differently.".into(),
            }]
        } else {
            vec![]
        },
    }
}

fn main() {
    let n: u64 = std::env::var("SINERGI_BENCH_ROWS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(200_000);
    let rows: Vec<VerdictRow> = (0..n).map(row).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("verdict files, {n} rows");
    for formats in [
        vec![OutputFormat::Csv],
        vec![OutputFormat::Json],
        vec![OutputFormat::Xlsx],
        vec![OutputFormat::Csv, OutputFormat::Json, OutputFormat::Xlsx],
    ] {
        let out = dir.path().join(format!("{formats:?}"));
        let (t0, c0) = (Instant::now(), cpu_s());
        let mut sink = OutputSink::create(&out, &formats, "PKH", Lang::Id).expect("create");
        for block in rows.chunks(4096) {
            sink.write_block(block).expect("write");
        }
        let manifest = Manifest {
            sinergi_version: String::new(),
            rules_version: String::new(),
            program: "PKH".into(),
            inputs: vec![],
            datasets: vec![],
            outputs: vec![],
        };
        sink.finish(manifest, &[]).expect("finish");
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_s() - c0);
        let size: u64 = std::fs::read_dir(&out)
            .expect("out dir")
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "{:<22} {:>8.2} s wall {:>8.2} s CPU {:>10.0} rows/s {:>8.1} MB",
            format!("{formats:?}"),
            wall,
            cpu,
            n as f64 / wall,
            size as f64 / 1e6
        );
    }
}
