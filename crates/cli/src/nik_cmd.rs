//! `sinergi nik NIK...`: check NIKs and print one JSON object per input.

use std::io::BufRead;
use std::process::ExitCode;

use chrono::NaiveDate;
use serde::Serialize;
use sinergi_model::nik::Nik;
use sinergi_model::{RegionCode, wilayah};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// NIK yang diperiksa; tanpa argumen, satu NIK per baris dari stdin.
    /// [en] NIKs to check; with none, one NIK per line from standard input.
    pub niks: Vec<String>,
    /// Tanggal acuan untuk menentukan abad tahun lahir (YYYY-MM-DD; bawaan: hari ini).
    /// [en] Reference date that decides the century of the birth year (YYYY-MM-DD; default:
    /// today).
    #[arg(long, env = "SINERGI_REFERENCE_DATE")]
    pub reference_date: Option<NaiveDate>,
}

/// A region as printed: code and name, or `null` when the code is not in the current table.
#[derive(Serialize)]
struct RegionOut {
    code: String,
    name: String,
}

fn region(code: RegionCode) -> Option<RegionOut> {
    wilayah().name(code).map(|name| RegionOut {
        code: code.to_string(),
        name: name.to_string(),
    })
}

/// One output line, fields in the documented order.
#[derive(Serialize)]
struct NikReport<'a> {
    input: &'a str,
    nik: Option<String>,
    valid: bool,
    errors: Vec<&'static str>,
    warnings: Vec<&'static str>,
    sex: Option<&'static str>,
    birth_date: Option<String>,
    province: Option<RegionOut>,
    regency: Option<RegionOut>,
    district: Option<RegionOut>,
}

/// Checks one input; returns whether it is valid and its JSON line.
pub fn check(input: &str, reference: NaiveDate) -> (bool, String) {
    let parsed = Nik::parse(input);
    let nik = parsed.nik;
    let report = NikReport {
        input,
        nik: nik.map(|n| n.to_string()),
        valid: nik.is_some(),
        errors: parsed.errors.iter().map(|e| e.code()).collect(),
        warnings: parsed.warnings.iter().map(|w| w.code()).collect(),
        sex: nik.map(|n| n.sex().as_str()),
        birth_date: nik
            .and_then(|n| n.birth_date(reference))
            .map(|d| d.to_string()),
        province: nik.and_then(|n| region(n.province())),
        regency: nik.and_then(|n| region(n.regency())),
        district: nik.and_then(|n| region(n.district())),
    };
    let line = serde_json::to_string(&report).expect("plain data serialises");
    (report.valid, line)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let reference = args.reference_date.unwrap_or_else(crate::today);
    let mut all_valid = true;
    let mut emit = |input: &str| {
        let (valid, line) = check(input, reference);
        all_valid &= valid;
        println!("{line}");
    };
    if args.niks.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            emit(line.trim_end_matches('\r'));
        }
    } else {
        for n in &args.niks {
            emit(n);
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
